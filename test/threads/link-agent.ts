// What the link tests ask of their workers (link-worker.ts), what the workers report back,
// and the agent that starts one and waits for its reports, each wait bounded.
import { Worker, type ResourceLimits, type Transferable } from "node:worker_threads";
import type { LinkHandle } from "../../src/threads/index.js";
import type { Death, ErrorKind } from "./protocol.js";

/** A value the worker makes itself (it could not travel in workerData, or must be made there). */
export type Make = "transfer" | "shared" | "long-string" | "big-array" | "view-offset" | "two-views" | "rich";

/** What the worker does with the i-th future it receives. */
export type Action =
  | { do: "result"; value: unknown }
  | { do: "make"; make: Make }
  | { do: "error"; error: ErrorKind }
  /** Try values that cannot be cloned, report, then on "go" set 7. */
  | { do: "uncloneable" }
  /** On "go", set `value`. */
  | { do: "after-go"; value: unknown }
  /** Set `value` after `ms`, from the event loop. */
  | { do: "later"; ms: number; value: unknown }
  /** Keep it pending. */
  | { do: "hold" }
  /** Let main complete it; report what this thread sees, with `how`. */
  | { do: "observe"; how: "wait" | "await" };

export type Serve = "receive" | "next" | "for-await";

export type LinkTask =
  /** Open the link and serve: act on every future received (`actions[i]`, else set i * i) until the link ends. */
  | { kind: "serve"; handle: LinkHandle; how: Serve; actions: Action[] }
  /** The same, on a link this worker makes and reports. */
  | { kind: "make"; how: Serve; actions: Action[] }
  /** Send `count` futures to main, one at a time, and report each value, observed with `how`; then close if asked. */
  | { kind: "send"; handle: LinkHandle; count: number; how: "wait" | "await"; close: boolean }
  /** Receive futures and race main to complete each: `rounds` rounds, barrier words 2r, 2r + 1 (arrived, parties). */
  | { kind: "race"; handle: LinkHandle; rounds: number; barrier: SharedArrayBuffer }
  /** Open (or make and report) a link, receive one future and hold it if asked, report "ready", go away as `how`. */
  | { kind: "die"; handle?: LinkHandle; receive: boolean; how: Death; delayMs: number };

export type LinkReport =
  | { event: "ready" }
  | { event: "link"; handle: LinkHandle }
  | { event: "did"; index: number }
  | { event: "value"; index: number; value: unknown; threadId: number; log: string[] }
  | { event: "error"; index: number; name: string; message: string; isBroken: boolean }
  | { event: "refused"; errors: { name: string; message: string }[] }
  | { event: "transferred"; byteLength: number }
  | { event: "raced"; outcomes: string[]; finals: string[] }
  | { event: "ended"; name: string; message: string; received: number };

export class LinkAgent {
  readonly worker: Worker;
  readonly exited: Promise<number>;
  readonly errors: Error[] = [];
  private readonly reports: LinkReport[] = [];
  private readonly waiting: (() => void)[] = [];

  constructor(task: LinkTask, transferList: Transferable[] = [], resourceLimits?: ResourceLimits) {
    this.worker = new Worker(new URL("./link-worker.js", import.meta.url), {
      workerData: task,
      transferList,
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
    });
    this.worker.on("error", (error) => this.errors.push(error));
    this.worker.on("message", (report: LinkReport) => {
      this.reports.push(report);
      for (const wake of this.waiting.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.worker.once("exit", resolve));
  }

  /** The next report of kind `event` (earlier ones of other kinds are kept). */
  async next<E extends LinkReport["event"]>(event: E, timeoutMs = 10_000): Promise<Extract<LinkReport, { event: E }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.reports.findIndex((r) => r.event === event);
      if (index >= 0) return this.reports.splice(index, 1)[0] as Extract<LinkReport, { event: E }>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${event}" report from the worker within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends the worker its "go". */
  go(): void {
    this.worker.postMessage("go");
  }

  /** Waits (bounded) for the worker to exit; terminates it if it does not. */
  async done(timeoutMs = 10_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        void this.worker.terminate().then(() => {
          resolve(-1);
        });
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Waits until every party has arrived (words: arrived, parties). Like racer.ts's, which a worker cannot import. */
export function arrive(barrier: Int32Array): void {
  const arrived = Atomics.add(barrier, 0, 1) + 1;
  const parties = Atomics.load(barrier, 1);
  if (arrived === parties) {
    Atomics.notify(barrier, 0);
    return;
  }
  for (let seen = arrived; seen < parties; seen = Atomics.load(barrier, 0)) Atomics.wait(barrier, 0, seen, 1000);
}

/** Runs `complete`, returning "won" or the name of the error it threw. */
export function race(complete: () => void): string {
  try {
    complete();
    return "won";
  } catch (error) {
    return (error as Error).name;
  }
}

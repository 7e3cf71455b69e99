// What the link tests ask of their workers (link-worker.ts), what the workers report back,
// and the agent that starts one and waits for its reports, each wait bounded.
import type { ResourceLimits, Transferable } from "node:worker_threads";
import { ReportingWorker } from "./harness.js";
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

/** A worker running link-worker.ts: one LinkTask over a FutureLink. */
export class LinkAgent extends ReportingWorker<LinkTask, LinkReport> {
  constructor(task: LinkTask, transferList: Transferable[] = [], resourceLimits?: ResourceLimits) {
    super(new URL("./link-worker.js", import.meta.url), task, transferList, resourceLimits);
  }
}

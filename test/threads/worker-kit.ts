// What the test workers (worker.ts, link-worker.ts, racer.ts) share: waiting, racing, making
// errors, sending what cannot be sent, dying.
import { parentPort } from "node:worker_threads";
import type { Future } from "../../src/index.js";
import type { Death, ErrorKind } from "./protocol.js";

export { sleep } from "./harness.js";

export const go = (): Promise<void> =>
  new Promise((resolve) => {
    parentPort?.once("message", () => {
      resolve();
    });
  });

export function makeError(kind: ErrorKind): unknown {
  switch (kind) {
    case "range-with-cause":
      return new RangeError("out of range", { cause: new TypeError("the cause", { cause: "root" }) });
    case "custom": {
      class HttpError extends TypeError {
        status = 404;
        constructor(message: string) {
          super(message);
          this.name = "HttpError";
        }
      }
      const error = new HttpError("not found");
      Object.assign(error, { url: "/x", socket: () => 1 });
      return error;
    }
    case "aggregate":
      return new AggregateError([new Error("one"), new SyntaxError("two")], "both failed");
    case "type":
      return new TypeError("plain type error");
    case "string":
      return "a string reason";
    case "object":
      return { code: 7, detail: [1, 2] };
  }
}

export function die(how: Death): void {
  switch (how) {
    case "return":
      parentPort?.close();
      return;
    case "process.exit":
      process.exit(3);
      break;
    case "throw":
      throw new Error("worker dies of an uncaught error");
    case "hang":
      setInterval(() => undefined, 1000);
      return;
    case "oom": {
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array<number>(100_000).fill(hoard.length));
    }
  }
}

/** Waits until every party has arrived. */
export function arrive(barrier: Int32Array): void {
  const arrived = Atomics.add(barrier, 0, 1) + 1;
  const parties = Atomics.load(barrier, 1);
  if (arrived === parties) {
    Atomics.notify(barrier, 0);
    return;
  }
  for (let seen = arrived; seen < parties; seen = Atomics.load(barrier, 0)) Atomics.wait(barrier, 0, seen, 1000);
}

/** Completes `fut` with `racer`, returning "won" or the name of the error it threw. */
export function race(complete: () => void): string {
  try {
    complete();
    return "won";
  } catch (error) {
    return (error as Error).name;
  }
}

/** Tries to complete `fut` with three values that cannot be cloned; returns what each call threw. */
export function tryUncloneable(fut: Future): { name: string; message: string }[] {
  const errors: { name: string; message: string }[] = [];
  for (const bad of [() => 1, Symbol("s"), { nested: { f: () => 2 } }]) {
    try {
      fut.setResult(bad);
      errors.push({ name: "none", message: "accepted" });
    } catch (error) {
      errors.push({ name: (error as Error).name, message: (error as Error).message });
    }
  }
  return errors;
}

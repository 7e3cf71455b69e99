// What the test workers (worker.ts, link-worker.ts) share: waiting, making errors, dying.
import { parentPort } from "node:worker_threads";
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

// Run as a program by threads.test.ts, to see when a process with shared futures exits:
//   node exit-check.js unawaited  — a pending shared future nobody awaits: the process exits at once
//   node exit-check.js awaited    — `await` on a future whose worker dies: BrokenFutureError, then exit
// The test runner also loads it as a test file, without an argument: then it does nothing.
import { Worker } from "node:worker_threads";
import { Future } from "../../src/index.js";
import { share } from "../../src/threads/index.js";

const mode = process.argv[2];
if (mode === "unawaited" || mode === "awaited") {
  const fut = new Future();
  const handle = share(fut);
  const worker = new Worker(
    mode === "unawaited" ? "setInterval(() => {}, 1000)" : "setTimeout(() => process.exit(1), 100)",
    { eval: true, workerData: handle, transferList: handle.transferList },
  );
  // Only the future may keep this process alive.
  worker.unref();
  if (mode === "awaited") {
    try {
      await fut;
    } catch (error) {
      console.log((error as Error).name);
    }
  } else {
    console.log("leaving a pending shared future behind");
  }
}

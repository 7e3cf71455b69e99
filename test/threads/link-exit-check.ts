// Run as a program by threads-link.test.ts, to see when a process with a FutureLink exits:
//   node link-exit-check.js unawaited  — a pending link future nobody awaits: the process exits at once
//   node link-exit-check.js awaited    — `await` on a link future whose worker dies: BrokenFutureError, then exit
//   node link-exit-check.js next       — `await link.next()` keeps the process alive until the worker sends
// Without an argument it does nothing.
import { Worker } from "node:worker_threads";
import { Future } from "../../src/index.js";
import { FutureLink } from "../../src/threads/index.js";

const mode = process.argv[2];
if (mode === "unawaited" || mode === "awaited" || mode === "next") {
  const link = new FutureLink<number>();
  const code = {
    unawaited: "setInterval(() => {}, 1000)",
    awaited: "setTimeout(() => process.exit(1), 100)",
    // Opens the link by hand-free means: the test only needs the port kept and a future sent back later.
    next: `
      const { workerData } = require("node:worker_threads");
      import(${JSON.stringify(new URL("../../src/threads/index.js", import.meta.url).href)}).then(async (threads) => {
        const { Future } = await import(${JSON.stringify(new URL("../../src/index.js", import.meta.url).href)});
        const link = threads.openLink(workerData);
        setTimeout(() => { link.send(new Future()); }, 200);
      });`,
  }[mode];
  const worker = new Worker(code, { eval: true, workerData: link.handle, transferList: link.handle.transferList });
  // Only the link may keep this process alive.
  worker.unref();
  if (mode === "next") {
    const next = await link.next();
    console.log(next.done === true ? "ended" : "received a future");
    link.close();
  } else {
    const fut = new Future<number>();
    link.send(fut);
    if (mode === "awaited") {
      try {
        await fut;
      } catch (error) {
        console.log((error as Error).name);
      }
    } else {
      console.log("leaving a pending link future behind");
    }
  }
}

// A FutureLink: main hands futures to a worker over a standing link and blocks
// on each with fut.wait(); the worker receives them in order and completes
// them. Nothing crosses by message: the futures and their results travel
// through the link's shared memory, a round trip of a few microseconds.
//
// Prints:
//   0 squared is 0
//   1 squared is 1
//   2 squared is 4
//   3 squared is 9
//   the worker answered 4 futures
import { once } from "node:events";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { Future } from "../src/index.js";
import { FutureLink, LinkClosedError, isLinkHandle, openLink, type LinkHandle } from "../src/threads/index.js";
import { runIfMain } from "./main.js";

/** The worker: answers the n-th future it receives with n², until main closes the link. */
function serve(link: FutureLink<never, number>): number {
  let n = 0;
  for (;;) {
    let fut: Future<number>;
    try {
      fut = link.receive(); // blocks until main sends one
    } catch (error) {
      if (error instanceof LinkClosedError) return n;
      throw error;
    }
    fut.setResult(n * n);
    n++;
  }
}

export async function main(): Promise<void> {
  // Main sends Future<number>s and receives none.
  const link = new FutureLink<number, never>();
  const worker = new Worker(new URL(import.meta.url), { workerData: link.handle, transferList: link.handle.transferList });
  for (let i = 0; i < 4; i++) {
    const fut = new Future<number>();
    link.send(fut);
    console.log(`${i} squared is ${fut.wait()}`); // blocks until the worker completes it
  }
  link.close(); // the worker's receive() throws LinkClosedError
  const [answered] = (await once(worker, "message")) as [number];
  console.log(`the worker answered ${answered} futures`);
  await once(worker, "exit");
}

if (!isMainThread && isLinkHandle(workerData)) {
  parentPort?.postMessage(serve(openLink(workerData as LinkHandle<never, number>)));
} else {
  runIfMain(import.meta.url, main);
}

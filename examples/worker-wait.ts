// torch's first documentation example, with a real thread. In torch:
//
//   def slow_set_future(fut, value):
//       time.sleep(0.5)
//       fut.set_result(value)
//   fut = torch.futures.Future()
//   t = threading.Thread(target=slow_set_future, args=(fut, torch.ones(2) * 3))
//   t.start()
//   print(fut.wait())  # tensor([3., 3.])
//   t.join()
//
// Here the thread is a worker running this same file: the main thread shares
// the future with it, and blocks in fut.wait() until the worker, half a
// second later, sets the result.
//
// torch's documentation prints: tensor([3., 3.])
import { once } from "node:events";
import { Worker, isMainThread, workerData } from "node:worker_threads";
import { Future } from "../src/index.js";
import { adopt, isFutureHandle, share, type FutureHandle } from "../src/threads/index.js";
import { runIfMain } from "./main.js";

function slowSetFuture(fut: Future<Float32Array>, value: Float32Array): void {
  setTimeout(() => {
    fut.setResult(value);
  }, 500);
}

export async function main(): Promise<void> {
  const fut = new Future<Float32Array>();
  const handle = share(fut);
  const worker = new Worker(new URL(import.meta.url), { workerData: handle, transferList: handle.transferList });
  console.log(fut.wait()); // Float32Array(2) [ 3, 3 ]: torch's tensor([3., 3.])
  await once(worker, "exit"); // t.join()
}

if (!isMainThread && isFutureHandle(workerData)) {
  slowSetFuture(adopt(workerData as FutureHandle<Float32Array>), new Float32Array([1, 1]).map((x) => x * 3));
} else {
  runIfMain(import.meta.url, main);
}

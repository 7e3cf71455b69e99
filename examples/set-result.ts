// torch's `Future.set_result` example: something else completes the future
// half a second later while the main program waits for it. In torch that is a
// threading.Thread and a blocking `fut.wait()`; here a timer completes it and
// `await` waits without blocking (a timer runs on this thread, so a blocking
// wait() could never see it — see examples/worker-wait.ts for a real thread).
//
// torch's documentation prints: tensor([3., 3.])
import { Future } from "../src/index.js";
import { runIfMain } from "./main.js";

function slowSetFuture(fut: Future<Float32Array>, value: Float32Array): void {
  setTimeout(() => {
    fut.setResult(value);
  }, 500);
}

export async function main(): Promise<void> {
  const fut = new Future<Float32Array>();
  slowSetFuture(fut, new Float32Array([1, 1]).map((x) => x * 3));
  console.log(await fut); // Float32Array(2) [ 3, 3 ]: torch's tensor([3., 3.])
}

runIfMain(import.meta.url, main);

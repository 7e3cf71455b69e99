// The worker of examples/browser/page.ts: torch's slow_set_future.
import type { Future } from "../../src/index.js";
import { adopt, isFutureHandle } from "../../src/threads/browser.js";

function slowSetFuture(fut: Future<Float32Array>, value: Float32Array): void {
  setTimeout(() => {
    fut.setResult(value);
  }, 500);
}

self.onmessage = (event: MessageEvent) => {
  const handle: unknown = event.data;
  if (isFutureHandle(handle)) slowSetFuture(adopt(handle) as Future<Float32Array>, new Float32Array([1, 1]).map((x) => x * 3));
};

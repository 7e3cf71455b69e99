// A worker that does one Task (see protocol.ts) with a shared future and reports on it.
// The test runner also loads it as a test file, on the main thread: then it does nothing.
import { parentPort, threadId, workerData, type Transferable } from "node:worker_threads";
import { BrokenFutureError, Future } from "../../src/index.js";
import { adopt, share, type FutureHandle } from "../../src/threads/index.js";
import type { Report, Task } from "./protocol.js";
import { die, go, makeError, sleep, tryUncloneable } from "./worker-kit.js";

const task = workerData as Task;

function report(message: Report, transfer: readonly Transferable[] = []): void {
  parentPort?.postMessage(message, transfer);
}

function reportError(error: unknown): void {
  const e = error as Error;
  report({ event: "error", name: e.name, message: e.message, isBroken: error instanceof BrokenFutureError });
}

async function observe(fut: Future, how: string): Promise<void> {
  const log: string[] = [];
  fut.addDoneCallback(() => log.push(`callback on thread ${threadId}`));
  try {
    const value = how === "wait" ? fut.wait(20_000) : await fut;
    report({ event: "value", value, threadId, log });
  } catch (error) {
    reportError(error);
  }
}

async function main(): Promise<void> {
  switch (task.kind) {
    case "result": {
      const fut = adopt(task.handle);
      if (task.waitForGo === true) await go();
      await sleep(task.delayMs);
      fut.setResult(task.value);
      report({ event: "done" });
      return;
    }
    case "error": {
      const fut = adopt(task.handle);
      await sleep(task.delayMs);
      fut.setException(makeError(task.error));
      report({ event: "done" });
      return;
    }
    case "uncloneable": {
      const fut = adopt(task.handle);
      report({ event: "refused", errors: tryUncloneable(fut) });
      await go();
      fut.setResult(7);
      report({ event: "done" });
      return;
    }
    case "slow-uncloneable": {
      const fut = adopt(task.handle);
      const signal = new Int32Array(task.signal);
      const value = {
        get late(): unknown {
          Atomics.store(signal, 0, 1);
          Atomics.notify(signal, 0);
          Atomics.wait(signal, 1, 0, 300);
          return () => 1;
        },
      };
      try {
        fut.setResult(value);
      } catch (error) {
        reportError(error);
      }
      return;
    }
    case "transfer": {
      const fut = adopt(task.handle as FutureHandle<Float32Array>);
      const data = new Float32Array([1, 2, 3]);
      fut.setResult(data, { transfer: [data.buffer] });
      report({ event: "transferred", byteLength: data.buffer.byteLength });
      return;
    }
    case "shared": {
      const fut = adopt(task.handle as FutureHandle<Int32Array>);
      const data = new Int32Array(new SharedArrayBuffer(8));
      fut.setResult(data);
      await go();
      Atomics.store(data, 0, 42);
      Atomics.notify(data, 0);
      report({ event: "done" });
      return;
    }
    case "die": {
      if (task.adopt) adopt(task.handle);
      report({ event: "ready" });
      await sleep(task.delayMs);
      die(task.how);
      return;
    }
    case "observe":
      await observe(adopt(task.handle), task.how);
      return;
    case "own": {
      const fut = new Future();
      const handle = share(fut);
      report({ event: "handle", handle }, handle.transferList);
      if (task.how === "wait" || task.how === "await") {
        await observe(fut, task.how);
      } else {
        await sleep(task.delayMs);
        die(task.how);
      }
      return;
    }
  }
}

if (parentPort !== null) void main();

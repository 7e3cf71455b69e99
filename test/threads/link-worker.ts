// A worker that does one LinkTask (see link-agent.ts) over a FutureLink and reports on it.
// On the main thread (imported by mistake, or loaded by a test runner) it does nothing.
import { parentPort, threadId, workerData, type Transferable } from "node:worker_threads";
import { BrokenFutureError, Future } from "../../src/index.js";
import { FutureLink, openLink, type LinkHandle } from "../../src/threads/index.js";
import type { Action, LinkReport, LinkTask, Make, Serve } from "./link-agent.js";
import { arrive, die, go, makeError, race, sleep, tryUncloneable } from "./worker-kit.js";

const task = workerData as LinkTask;

function report(message: LinkReport, transfer: readonly Transferable[] = []): void {
  parentPort?.postMessage(message, transfer);
}

function make(what: Make): unknown {
  switch (what) {
    case "long-string":
      return "é".repeat(5000);
    case "big-array":
      return Array.from({ length: 10_000 }, (_, i) => i);
    case "view-offset":
      return new Float32Array(new Float32Array([1, 2, 3, 4]).buffer, 4, 2);
    case "two-views": {
      const buffer = new ArrayBuffer(8);
      return { a: new Uint8Array(buffer), b: new Int32Array(buffer) };
    }
    case "rich":
      return { map: new Map([["k", 1n]]), date: new Date(0), set: new Set([1, "two"]), regexp: /x/g, nan: NaN, neg: -0 };
    case "transfer":
    case "shared":
      throw new Error("made by the action itself");
  }
}

async function observe(fut: Future, index: number, how: "wait" | "await"): Promise<void> {
  const log: string[] = [];
  fut.addDoneCallback(() => log.push(`callback on thread ${threadId}`));
  try {
    const value = how === "wait" ? fut.wait(20_000) : await fut;
    report({ event: "value", index, value, threadId, log });
  } catch (error) {
    const e = error as Error;
    report({ event: "error", index, name: e.name, message: e.message, isBroken: error instanceof BrokenFutureError });
  }
}

async function act(fut: Future, index: number, action: Action | undefined): Promise<void> {
  if (action === undefined) {
    fut.setResult(index * index);
    return;
  }
  switch (action.do) {
    case "result":
      fut.setResult(action.value);
      break;
    case "make":
      if (action.make === "transfer") {
        const data = new Float32Array([1, 2, 3]);
        fut.setResult(data, { transfer: [data.buffer] });
        report({ event: "transferred", byteLength: data.buffer.byteLength });
      } else if (action.make === "shared") {
        const data = new Int32Array(new SharedArrayBuffer(8));
        fut.setResult(data);
        void go().then(() => {
          Atomics.store(data, 0, 42);
          Atomics.notify(data, 0);
        });
      } else {
        fut.setResult(make(action.make));
      }
      break;
    case "error":
      fut.setException(makeError(action.error));
      break;
    case "uncloneable": {
      report({ event: "refused", errors: tryUncloneable(fut) });
      await go();
      fut.setResult(7);
      break;
    }
    case "after-go":
      await go();
      fut.setResult(action.value);
      break;
    case "later":
      setTimeout(() => {
        fut.setResult(action.value);
      }, action.ms);
      break;
    case "hold":
      break;
    case "observe":
      void observe(fut, index, action.how);
      return;
  }
  report({ event: "did", index });
}

async function serve(link: FutureLink, how: Serve, actions: Action[]): Promise<void> {
  let index = 0;
  try {
    if (how === "for-await") {
      for await (const fut of link) {
        await act(fut, index, actions[index]);
        index++;
      }
    } else {
      for (;;) {
        let fut: Future;
        if (how === "receive") {
          fut = link.receive(20_000);
        } else {
          const next = await link.next();
          if (next.done === true) break;
          fut = next.value;
        }
        await act(fut, index, actions[index]);
        index++;
      }
    }
    report({ event: "ended", name: "done", message: "", received: index });
  } catch (error) {
    const e = error as Error;
    report({ event: "ended", name: e.name, message: e.message, received: index });
  }
}

async function main(): Promise<void> {
  switch (task.kind) {
    case "serve":
      await serve(openLink(task.handle), task.how, task.actions);
      return;
    case "make": {
      const link = new FutureLink();
      report({ event: "link", handle: link.handle }, link.handle.transferList);
      await serve(link, task.how, task.actions);
      return;
    }
    case "send": {
      const link = openLink(task.handle);
      for (let i = 0; i < task.count; i++) {
        const fut = new Future();
        link.send(fut);
        await observe(fut, i, task.how);
      }
      if (task.close) link.close();
      return;
    }
    case "race": {
      const link = openLink(task.handle as LinkHandle<string>);
      const outcomes: string[] = [];
      const finals: string[] = [];
      for (let round = 0; round < task.rounds; round++) {
        const fut = link.receive(20_000);
        arrive(new Int32Array(task.barrier, round * 8, 2));
        outcomes.push(
          race(() => {
            fut.setResult("worker");
          }),
        );
        finals.push(fut.wait(20_000));
      }
      report({ event: "raced", outcomes, finals });
      return;
    }
    case "die": {
      let link: FutureLink;
      if (task.handle === undefined) {
        link = new FutureLink();
        report({ event: "link", handle: link.handle }, link.handle.transferList);
      } else {
        link = openLink(task.handle);
      }
      if (task.receive) link.receive(20_000);
      report({ event: "ready" });
      await sleep(task.delayMs);
      die(task.how);
      return;
    }
  }
}

if (parentPort !== null) void main();

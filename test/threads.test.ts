// Cross-thread futures (torch-futures/threads) on worker_threads: handing futures
// over in every direction, blocking wait(), timeouts, callbacks, values and errors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MessageChannel, MessagePort, threadId } from "node:worker_threads";
import {
  BrokenFutureError,
  DerivedFutureError,
  Future,
  FutureAlreadyCompletedError,
  FutureNotCompletedError,
  FutureTimeoutError,
  collectAll,
  waitAll,
} from "../src/index.js";
import { adopt, isFutureHandle, share, type FutureHandle } from "../src/threads/index.js";
import { Agent, assertRefusedUncloneable, sleep, timed } from "./threads/harness.js";

const T = { timeout: 30_000 };

describe("threads: handing a future over", () => {
  it("main → worker: the worker completes it, a blocking wait() on main returns the value", T, async () => {
    const fut = new Future<string>();
    const handle = share(fut);
    const agent = new Agent({ kind: "result", handle, delayMs: 200, value: "from the worker" }, handle.transferList);
    const { ms, value, error } = timed(() => fut.wait(10_000));
    assert.equal(error, undefined);
    assert.equal(value, "from the worker");
    assert.ok(ms >= 150, `wait() returned after ${ms} ms, before the worker completed it`);
    assert.equal(fut.done(), true);
    assert.equal(fut.value(), "from the worker");
    await agent.exited;
  });

  it("main → worker: `await fut` works too, and does not block the event loop", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const agent = new Agent({ kind: "result", handle, delayMs: 300, value: 5 }, handle.transferList);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    assert.equal(await fut, 5);
    clearInterval(timer);
    assert.ok(ticks >= 5, `only ${ticks} timer ticks ran while awaiting`);
    await agent.exited;
  });

  it("worker → main: a worker shares its future, main completes it, the worker's wait() sees it", T, async () => {
    const agent = new Agent({ kind: "own", how: "wait", delayMs: 0 });
    const { handle } = await agent.next("handle");
    const fut = adopt(handle as FutureHandle<{ n: number }>);
    assert.equal(fut.done(), false);
    fut.setResult({ n: 1 });
    assert.deepEqual(fut.value(), { n: 1 });
    const report = await agent.next("value");
    assert.deepEqual(report.value, { n: 1 });
    assert.notEqual(report.threadId, threadId);
    assert.deepEqual(report.log, [`callback on thread ${report.threadId}`]);
    await agent.exited;
  });

  it("worker → main with `await` in the worker: the pending future keeps the worker alive", T, async () => {
    const agent = new Agent({ kind: "own", how: "await", delayMs: 0 });
    const { handle } = await agent.next("handle");
    const fut = adopt(handle);
    await sleep(300); // the worker has nothing else to keep it alive
    fut.setResult("late");
    assert.equal((await agent.next("value")).value, "late");
    await agent.exited;
  });

  it("worker → worker, through main: one worker's future, completed by another", T, async () => {
    const owner = new Agent({ kind: "own", how: "wait", delayMs: 0 });
    const { handle } = await owner.next("handle");
    assert.ok(isFutureHandle(handle));
    // main only passes the handle on, with its transfer list, without adopting it
    const completer = new Agent({ kind: "result", handle, delayMs: 100, value: [1, 2, 3] }, handle.transferList);
    const report = await owner.next("value");
    assert.deepEqual(report.value, [1, 2, 3]);
    await Promise.all([owner.exited, completer.exited]);
  });

  it("the owner completes, the adopting worker observes with wait() and with await", T, async () => {
    for (const how of ["wait", "await"] as const) {
      const fut = new Future<string>();
      const handle = share(fut);
      const agent = new Agent({ kind: "observe", handle, how }, handle.transferList);
      await sleep(100);
      fut.setResult(`set by main for ${how}`);
      assert.equal((await agent.next("value")).value, `set by main for ${how}`);
      await agent.exited;
    }
  });

  it("two adopters: what one worker sets reaches the other through the owner", T, async () => {
    const fut = new Future<string>();
    const h1 = share(fut);
    const h2 = share(fut);
    const observer = new Agent({ kind: "observe", handle: h1, how: "wait" }, h1.transferList);
    const completer = new Agent({ kind: "result", handle: h2, delayMs: 100, value: "relayed" }, h2.transferList);
    assert.equal(await fut, "relayed");
    assert.equal((await observer.next("value")).value, "relayed");
    await Promise.all([observer.exited, completer.exited]);
  });

  it("a handle can ride inside a larger message and be adopted on the same thread", T, () => {
    const fut = new Future<number>();
    const a = share(fut);
    const b = share(fut);
    assert.equal(a.torchFuturesHandle, 1);
    assert.deepEqual(Object.keys(a).sort(), ["cell", "id", "ownerMortal", "port", "torchFuturesHandle", "transferList"]);
    const adopted = adopt(a);
    assert.equal(adopt(a), adopted, "adopting the same handle again gives the same future");
    adopted.setResult(9);
    assert.equal(fut.wait(1000), 9);
    assert.equal(adopt(b).wait(1000), 9);
  });
});

describe("threads: the event loop", () => {
  const run = (mode: string): { status: number | null; stdout: string; ms: number } => {
    const start = performance.now();
    const script = fileURLToPath(new URL("./threads/exit-check.js", import.meta.url));
    const result = spawnSync(process.execPath, [script, mode], { encoding: "utf8", timeout: 20_000 });
    return { status: result.status, stdout: result.stdout.trim(), ms: performance.now() - start };
  };

  it("a pending shared future that nobody waits for does not keep the process alive", T, () => {
    const { status, stdout, ms } = run("unawaited");
    assert.equal(status, 0);
    assert.equal(stdout, "leaving a pending shared future behind");
    assert.ok(ms < 10_000);
  });

  it("`await` on a shared future keeps the process alive until it settles, here with BrokenFutureError", T, () => {
    const { status, stdout } = run("awaited");
    assert.equal(stdout, "BrokenFutureError");
    assert.equal(status, 0);
  });
});

describe("threads: blocking wait()", () => {
  it("wait(timeoutMs) throws FutureTimeoutError; the future stays pending and completes later", T, async () => {
    const fut = new Future<string>();
    const handle = share(fut);
    const agent = new Agent(
      { kind: "result", handle, delayMs: 0, value: "after the timeout", waitForGo: true },
      handle.transferList,
    );
    const { ms, error } = timed(() => fut.wait(100));
    assert.ok(error instanceof FutureTimeoutError, `expected FutureTimeoutError, got ${String(error)}`);
    assert.ok(ms >= 95 && ms < 2000, `timed out after ${ms} ms`);
    assert.equal(fut.done(), false);
    assert.throws(() => fut.value(), FutureNotCompletedError);
    assert.throws(() => fut.wait(0), FutureTimeoutError);
    agent.go();
    assert.equal(fut.wait(10_000), "after the timeout");
    await agent.exited;
  });

  it("callbacks registered on the owner run on the owner, in order, depth-first, inside wait()", T, async () => {
    const fut = new Future<number>();
    const log: string[] = [];
    fut.addDoneCallback((f) => log.push(`first ${f.value()} on ${threadId}`));
    const child = fut.continueWith((f) => f.value() + 1);
    child.addDoneCallback((f) => log.push(`child ${f.value()} on ${threadId}`));
    fut.addDoneCallback(() => log.push(`last on ${threadId}`));
    const handle = share(fut);
    const agent = new Agent({ kind: "result", handle, delayMs: 100, value: 41 }, handle.transferList);
    assert.deepEqual(log, []);
    assert.equal(fut.wait(10_000), 41);
    // already run, before wait() returned
    assert.deepEqual(log, [`first 41 on ${threadId}`, `child 42 on ${threadId}`, `last on ${threadId}`]);
    assert.equal(child.value(), 42);
    await agent.exited;
  });

  it("callbacks run from the event loop when nobody blocks", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const seen = new Promise<number>((resolve) => {
      fut.addDoneCallback((f) => {
        resolve(f.value());
      });
    });
    const agent = new Agent({ kind: "result", handle, delayMs: 50, value: 3 }, handle.transferList);
    assert.equal(await seen, 3);
    await agent.exited;
  });

  it("waitAll() blocks for several workers and throws the first failure at once", T, async () => {
    const a = new Future<string>();
    const b = new Future<string>();
    const ha = share(a);
    const hb = share(b);
    const agents = [
      new Agent({ kind: "result", handle: ha, delayMs: 50, value: "a" }, ha.transferList),
      new Agent({ kind: "result", handle: hb, delayMs: 150, value: "b" }, hb.transferList),
    ];
    assert.deepEqual(waitAll([a, b], 10_000), ["a", "b"]);
    await Promise.all(agents.map((agent) => agent.exited));

    const slow = new Future<string>();
    const failing = new Future<string>();
    const hs = share(slow);
    const hf = share(failing);
    const more = [
      new Agent({ kind: "result", handle: hs, delayMs: 0, value: "slow", waitForGo: true }, hs.transferList),
      new Agent({ kind: "error", handle: hf, delayMs: 50, error: "type" }, hf.transferList),
    ];
    const { ms, error } = timed(() => waitAll([slow, failing], 10_000));
    assert.ok(error instanceof TypeError && error.message === "plain type error", String(error));
    assert.ok(ms < 5000);
    assert.equal(slow.done(), false);
    more[0]?.go();
    assert.equal(await slow, "slow");
    assert.ok((await collectAll([slow, failing])).every((f) => f.done()));
    await Promise.all(more.map((agent) => agent.exited));
  });
});

describe("threads: blocking wait() on futures derived from shared ones", () => {
  it("a continueWith chain on a shared future blocks until the worker completes it", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const last = fut.continueWith((f) => f.value() + 1).continueWith((f) => f.value() * 10);
    const agent = new Agent({ kind: "result", handle, delayMs: 150, value: 4 }, handle.transferList);
    const { ms, value, error } = timed(() => last.wait(10_000));
    assert.equal(error, undefined);
    assert.equal(value, 50);
    assert.ok(ms >= 100, `wait() returned after ${ms} ms, before the worker completed it`);
    assert.equal(fut.value(), 4);
    await agent.exited;
  });

  it("collectAll of shared futures blocks until all complete; waitAll takes derived inputs", T, async () => {
    const a = new Future<string>();
    const b = new Future<string>();
    const ha = share(a);
    const hb = share(b);
    const all = collectAll([a, b]);
    const upper = a.continueWith((f) => f.value().toUpperCase());
    const agents = [
      new Agent({ kind: "result", handle: ha, delayMs: 50, value: "a" }, ha.transferList),
      new Agent({ kind: "result", handle: hb, delayMs: 150, value: "b" }, hb.transferList),
    ];
    assert.deepEqual(waitAll([upper, b], 10_000), ["A", "b"]);
    assert.deepEqual(all.wait(0), [a, b]);
    await Promise.all(agents.map((agent) => agent.exited));
  });

  it("blocks while a shared future feeds it, then throws if what is left only this thread can complete", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const local = new Future<number>();
    const both = collectAll([fut, local]);
    const agent = new Agent({ kind: "result", handle, delayMs: 100, value: 1 }, handle.transferList);
    const { ms, error } = timed(() => both.wait(10_000));
    assert.ok(error instanceof FutureNotCompletedError, `expected FutureNotCompletedError, got ${String(error)}`);
    assert.match(error.message, /only this thread can complete it/);
    assert.ok(ms >= 50, `threw after ${ms} ms, before the shared input completed`);
    assert.equal(fut.value(), 1);
    assert.equal(both.done(), false);
    local.setResult(2);
    assert.deepEqual(both.wait(), [fut, local]);
    await agent.exited;
  });

  it("a callback of the shared future may complete the rest: then the wait returns", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const local = new Future<number>();
    fut.addDoneCallback((f) => {
      local.setResult(f.value() * 2);
    });
    const both = collectAll([fut, local]);
    const agent = new Agent({ kind: "result", handle, delayMs: 50, value: 21 }, handle.transferList);
    assert.deepEqual(waitAll(both.wait(10_000)), [21, 42]);
    await agent.exited;
  });

  it("throws at once for a future no shared one feeds, even while other shared futures are pending", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const watched = fut.continueWith((f) => f.value());
    const agent = new Agent({ kind: "result", handle, delayMs: 0, value: 7, waitForGo: true }, handle.transferList);
    const unrelated = new Future<number>().continueWith((f) => f.value());
    const { ms, error } = timed(() => unrelated.wait(10_000));
    assert.ok(error instanceof FutureNotCompletedError, String(error));
    assert.ok(ms < 1000, `took ${ms} ms`);
    // A then() child is not fed within the completion (its handler runs in a microtask).
    assert.throws(() => fut.then((v) => v).wait(10_000), FutureNotCompletedError);
    agent.go();
    assert.equal(watched.wait(10_000), 7);
    await agent.exited;
  });

  it("wait(timeoutMs) on a derived future times out and leaves it pending", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const child = fut.continueWith((f) => f.value() + 1);
    const agent = new Agent({ kind: "result", handle, delayMs: 0, value: 1, waitForGo: true }, handle.transferList);
    const { ms, error } = timed(() => child.wait(100));
    assert.ok(error instanceof FutureTimeoutError, String(error));
    assert.ok(ms >= 95 && ms < 2000, `timed out after ${ms} ms`);
    assert.equal(child.done(), false);
    assert.throws(() => waitAll([child], 50), FutureTimeoutError);
    agent.go();
    assert.equal(child.wait(10_000), 2);
    await agent.exited;
  });

  it("a worker that dies breaks the derived future too, through its callback", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const child = fut.continueWith((f) => f.value() + 1);
    const agent = new Agent({ kind: "die", handle, adopt: true, how: "return", delayMs: 50 }, handle.transferList);
    await agent.next("ready");
    const { error } = timed(() => child.wait(20_000));
    assert.ok(error instanceof BrokenFutureError, `expected BrokenFutureError, got ${String(error)}`);
    await agent.exited;
  });
});

describe("threads: values", () => {
  it("{ transfer } moves the buffer: the sender's is detached, main gets the data", T, async () => {
    const fut = new Future<Float32Array>();
    const handle = share(fut);
    const agent = new Agent({ kind: "transfer", handle }, handle.transferList);
    assert.deepEqual([...fut.wait(10_000)], [1, 2, 3]);
    assert.equal((await agent.next("transferred")).byteLength, 0);
    await agent.exited;
  });

  it("{ transfer } from the owner detaches the owner's buffer", T, async () => {
    const fut = new Future<Float32Array>();
    const handle = share(fut);
    const agent = new Agent({ kind: "observe", handle, how: "wait" }, handle.transferList);
    const data = new Float32Array([4, 5]);
    fut.setResult(data, { transfer: [data.buffer] });
    assert.equal(data.buffer.byteLength, 0);
    assert.deepEqual([...((await agent.next("value")).value as Float32Array)], [4, 5]);
    await agent.exited;
  });

  it("{ transfer } to several adopting threads is refused, and the future stays pending", T, () => {
    const fut = new Future<Float32Array>();
    const a = adopt(share(fut));
    adopt(share(fut));
    const data = new Float32Array(2);
    assert.throws(() => { fut.setResult(data, { transfer: [data.buffer] }); }, /shared with 2 threads/);
    assert.equal(data.buffer.byteLength, 8);
    assert.equal(fut.done(), false);
    a.setResult(data);
    assert.equal(fut.wait(1000)[0], 0);
  });

  it("a SharedArrayBuffer-backed array is shared: a later write in the worker is visible", T, async () => {
    const fut = new Future<Int32Array>();
    const handle = share(fut);
    const agent = new Agent({ kind: "shared", handle }, handle.transferList);
    const view = fut.wait(10_000);
    assert.ok(view.buffer instanceof SharedArrayBuffer);
    assert.equal(view[0], 0);
    agent.go();
    assert.notEqual(Atomics.wait(view, 0, 0, 10_000), "timed-out");
    assert.equal(view[0], 42);
    await agent.exited;
  });

  it("a value that cannot be cloned throws a clear TypeError in the completer; the future stays pending", T, async () => {
    const fut = new Future<unknown>();
    const handle = share(fut);
    const agent = new Agent({ kind: "uncloneable", handle }, handle.transferList);
    assertRefusedUncloneable((await agent.next("refused")).errors);
    assert.equal(fut.done(), false);
    assert.throws(() => fut.wait(50), FutureTimeoutError);
    agent.go();
    assert.equal(fut.wait(10_000), 7);
    await agent.exited;
  });

  it("a thread that loses to a claim whose value then fails to clone waits, and wins after all", T, async () => {
    const fut = new Future<string>();
    const handle = share(fut);
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const agent = new Agent({ kind: "slow-uncloneable", handle, signal: signal.buffer }, handle.transferList);
    // The worker holds the claim (inside a getter run by the clone) for 300 ms.
    assert.notEqual(Atomics.wait(signal, 0, 0, 10_000), "timed-out");
    const { ms, error } = timed(() => {
      fut.setResult("main");
    });
    assert.equal(error, undefined);
    assert.ok(ms >= 100, `setResult returned after ${ms} ms, without waiting for the claim`);
    assert.equal(fut.value(), "main");
    const report = await agent.next("error");
    assert.equal(report.name, "TypeError");
    assert.match(report.message, /cannot be sent/);
    await agent.exited;
  });

  it("a getter run by the clone that completes the same future is refused at once", T, () => {
    const fut = new Future<unknown>();
    const adopted = adopt(share(fut));
    let inner: unknown;
    adopted.setResult({
      get x(): number {
        try {
          adopted.setResult("again");
        } catch (error) {
          inner = error;
        }
        return 1;
      },
    });
    assert.ok(inner instanceof FutureAlreadyCompletedError);
    assert.match(inner.message, /is being completed by another thread/);
    assert.deepEqual(fut.wait(1000), { x: 1 });
  });

  it("uncloneable values on the same thread: the owner's and the adopter's calls both refuse", T, () => {
    const fut = new Future<unknown>();
    const adopted = adopt(share(fut));
    const cause = (e: unknown): unknown => (e as Error).cause;
    assert.throws(() => { fut.setResult(() => 1); }, (e) => e instanceof TypeError && cause(e) instanceof Error);
    assert.throws(() => { adopted.setResult(Symbol("s")); }, TypeError);
    assert.throws(() => { adopted.setException({ f: () => 1 }); }, /^TypeError: setException\(\): the error cannot be sent/);
    assert.throws(() => { fut.setResult(new Future()); }, /a Future cannot be sent/);
    assert.equal(fut.done(), false);
    assert.equal(adopted.done(), false);
    adopted.setResult("fine");
    assert.equal(fut.wait(1000), "fine");
  });

  it("a MessagePort listed in { transfer } crosses; one not listed is refused", T, () => {
    const fut = new Future<{ port: MessagePort }>();
    const adopted = adopt(share(fut));
    const { port1, port2 } = new MessageChannel();
    assert.throws(() => { adopted.setResult({ port: port1 }); }, TypeError);
    adopted.setResult({ port: port1 }, { transfer: [port1] });
    const received = fut.wait(1000).port;
    assert.ok(received instanceof MessagePort);
    received.close();
    port2.close();
  });
});

describe("threads: errors cross with class, message, stack and cause", () => {
  const failWith = async (error: "range-with-cause" | "custom" | "aggregate" | "string" | "object"): Promise<unknown> => {
    const fut = new Future();
    const handle = share(fut);
    const agent = new Agent({ kind: "error", handle, delayMs: 0, error }, handle.transferList);
    const { error: thrown } = timed(() => fut.wait(10_000));
    await agent.exited;
    assert.ok(thrown !== undefined);
    assert.throws(() => fut.value(), (e) => e === thrown, "the same error object every time");
    return thrown;
  };

  it("a built-in error arrives as that class, with its stack from the worker and its cause chain", T, async () => {
    const error = await failWith("range-with-cause");
    assert.ok(error instanceof RangeError);
    assert.equal(error.name, "RangeError");
    assert.equal(error.message, "out of range");
    assert.match(error.stack ?? "", /worker\.js/);
    assert.ok(error.cause instanceof TypeError);
    assert.equal(error.cause.message, "the cause");
    assert.equal(error.cause.cause, "root");
  });

  it("a custom error keeps its name and cloneable own properties, as its nearest built-in class", T, async () => {
    const error = await failWith("custom");
    assert.ok(error instanceof TypeError);
    assert.equal(error.name, "HttpError");
    assert.equal(error.message, "not found");
    assert.equal((error as unknown as { status: number }).status, 404);
    assert.equal((error as unknown as { url: string }).url, "/x");
    assert.equal("socket" in error, false, "a property that cannot be cloned is left behind");
  });

  it("an AggregateError keeps its errors", T, async () => {
    const error = await failWith("aggregate");
    assert.ok(error instanceof AggregateError);
    assert.equal(error.message, "both failed");
    assert.equal(error.errors.length, 2);
    assert.ok(error.errors[1] instanceof SyntaxError);
    assert.equal((error.errors[0] as Error).message, "one");
  });

  it("a thrown non-error value arrives as that value", T, async () => {
    assert.equal(await failWith("string"), "a string reason");
    assert.deepEqual(await failWith("object"), { code: 7, detail: [1, 2] });
  });

  it("on the same thread: cause cycles end, and the completer keeps its own error object", T, () => {
    const fut = new Future();
    const adopted = adopt(share(fut));
    const error = new Error("loop");
    error.cause = error;
    adopted.setException(error);
    assert.throws(() => adopted.wait(), (e) => e === error);
    assert.throws(() => fut.wait(1000), (e) => e instanceof Error && e !== error && e.message === "loop");
  });
});

describe("threads: share() and adopt() refuse what they cannot take", () => {
  it("refuses derived, completed and adopted futures, and things that are not futures", T, () => {
    assert.throws(() => share(new Future().continueWith(() => 1)), DerivedFutureError);
    const done = new Future();
    done.setResult(1);
    assert.throws(() => share(done), FutureAlreadyCompletedError);
    const notAFuture: unknown = { _state: 0 };
    assert.throws(() => share(notAFuture as Future), /share\(\) expects a Future, got an object/);
    const adopted = adopt(share(new Future()));
    assert.throws(() => share(adopted), /only the thread that created a future can share it/);
    assert.throws(() => adopt({} as FutureHandle), /adopt\(\) expects a FutureHandle/);
    assert.throws(() => adopt(null as unknown as FutureHandle), TypeError);
    assert.equal(isFutureHandle({ torchFuturesHandle: 1 }), false);
  });

  it("a second completion from the same thread is refused as usual", T, () => {
    const fut = new Future<number>();
    const adopted = adopt(share(fut));
    fut.setResult(1);
    assert.throws(() => { fut.setResult(2); }, FutureAlreadyCompletedError);
    assert.throws(() => { adopted.setResult(3); }, FutureAlreadyCompletedError);
    assert.equal(adopted.wait(1000), 1);
  });

  it("BrokenFutureError and FutureTimeoutError are typed FutureErrors", T, () => {
    assert.equal(new BrokenFutureError("x").name, "BrokenFutureError");
    assert.equal(new FutureTimeoutError("x").name, "FutureTimeoutError");
  });
});

// Futures across a page and its Web Workers, checked in a real browser.
// Loaded by threads.html; workers run threads-worker.js.
/* global window, performance */
import { assert, assertEqual, assertJsonEqual, commandWorker, describe, nextTask, rejection, report, runChecks, within } from "./runner.js";

let lib;
let threads;
try {
  lib = await import("/build/src/index.js");
  threads = await import("/build/src/threads/browser.js");
} catch (error) {
  await report({
    userAgent: window.navigator.userAgent,
    checks: [{ name: "the library and its browser threads entry load", ok: false, message: describe(error), ms: 0 }],
  });
  throw error;
}
const { Future, BrokenFutureError, FutureAlreadyCompletedError, FutureNotCompletedError, collectAll, waitAll } = lib;
const { share, adopt, isFutureHandle } = threads;

/** Deaths are noticed within this bound (Web Locks are released at once; the rest is scheduling). */
const DEATH_BOUND_MS = 3000;

const workers = [];
/** A started worker and a way to send it commands. */
const agent = () => commandWorker("threads-worker.js", workers);

const checks = [
  ["the page is cross-origin isolated, so SharedArrayBuffer exists", () => {
    assertEqual(window.crossOriginIsolated, true, "crossOriginIsolated");
    assertEqual(typeof SharedArrayBuffer, "function", "typeof SharedArrayBuffer");
  }],

  ["share() gives a handle; wait() on the page's main thread throws FutureNotCompletedError pointing to await", async () => {
    const fut = new Future();
    const handle = share(fut);
    assert(isFutureHandle(handle), "share() returns a FutureHandle");
    let error;
    try {
      fut.wait(10);
    } catch (e) {
      error = e;
    }
    assert(error instanceof FutureNotCompletedError, `wait() threw ${describe(error)}`);
    assert(/main thread/.test(error.message) && /await/.test(error.message), `message: ${error.message}`);
    assertEqual(fut.done(), false, "still pending");
    const a = await agent();
    const r = await a.send("complete", { handle, value: 7 }, handle.transferList);
    assert(r.ok, describe(r.error));
    assertEqual(await fut, 7, "await after the worker completed it");
    assertEqual(fut.wait(), 7, "wait() on a completed future returns its value");
  }],

  ["waitAll on the main thread throws FutureNotCompletedError for pending shared futures; collectAll of futures completed by two workers can be awaited", async () => {
    const f1 = new Future();
    const f2 = new Future();
    const h1 = share(f1);
    const h2 = share(f2);
    let error;
    try {
      waitAll([f1, f2]);
    } catch (e) {
      error = e;
    }
    assert(error instanceof FutureNotCompletedError, `waitAll threw ${describe(error)}`);
    const all = collectAll([f1, f2]);
    const [a, b] = await Promise.all([agent(), agent()]);
    await Promise.all([
      a.send("complete", { handle: h1, value: "one", delayMs: 20 }, h1.transferList),
      b.send("complete", { handle: h2, value: "two", delayMs: 10 }, h2.transferList),
    ]);
    const futs = await within(5000, all, "collectAll");
    assertJsonEqual(futs.map((f) => f.value()), ["one", "two"], "the values, in input order");
    assertJsonEqual(waitAll([f1, f2]), ["one", "two"], "waitAll once they are complete");
  }],

  ["torch's first example: a worker sets Float32Array [3, 3] after a delay; await on the page gets it, callbacks in order", async () => {
    const fut = new Future();
    const order = [];
    fut.addDoneCallback((f) => order.push(`first ${Array.from(f.value()).join(",")}`));
    const child = fut.continueWith((f) => {
      order.push("second");
      return f.value().length;
    });
    fut.addDoneCallback(() => order.push("third"));
    const handle = share(fut);
    const a = await agent();
    const start = performance.now();
    const sent = a.send("complete", { handle, value: new Float32Array([3, 3]), delayMs: 100 }, handle.transferList);
    const value = await within(5000, fut, "await");
    assert(performance.now() - start >= 90, "it waited for the worker");
    assert(value instanceof Float32Array, `a Float32Array, got ${describe(value)}`);
    assertJsonEqual(Array.from(value), [3, 3], "the value");
    assertJsonEqual(order, ["first 3,3", "second", "third"], "callback order");
    assertEqual(child.value(), 2, "the continueWith child");
    assert((await sent).ok, "the worker's setResult returned");
  }],

  ["a worker blocks in wait() until the page completes the future; its callbacks run before wait() returns", async () => {
    const fut = new Future();
    const handle = share(fut);
    const a = await agent();
    const waited = a.send("wait", { handle, timeoutMs: 5000 }, handle.transferList);
    await nextTask(100);
    fut.setResult({ answer: 42, list: [1, "two", null] });
    const r = await within(5000, waited, "the worker's wait()");
    assert(r.ok, describe(r.error));
    assertJsonEqual(r.value, { answer: 42, list: [1, "two", null] }, "the value in the worker");
    assert(r.ms >= 50, `it blocked (${r.ms} ms)`);
    assertJsonEqual(r.order, ["callback", "returned"], "callback before wait() returned");
  }],

  ["a worker blocks in wait() on a future derived from a shared one; on the page's main thread that wait() throws pointing to await", async () => {
    const fut = new Future();
    const handle = share(fut);
    let error;
    try {
      fut.continueWith((f) => f.value()).wait(10);
    } catch (e) {
      error = e;
    }
    assert(error instanceof FutureNotCompletedError && /main thread/.test(error.message), `wait() threw ${describe(error)}`);
    const a = await agent();
    const waited = a.send("waitDerived", { handle, timeoutMs: 5000 }, handle.transferList);
    await nextTask(100);
    fut.setResult(21);
    const r = await within(5000, waited, "the worker's wait()");
    assert(r.ok, describe(r.error));
    assertEqual(r.value, 42, "the derived value in the worker");
    assert(r.ms >= 50, `it blocked (${r.ms} ms)`);
  }],

  ["wait(timeoutMs) in a worker throws FutureTimeoutError and leaves the future pending", async () => {
    const fut = new Future();
    const handle = share(fut);
    const a = await agent();
    const r = await a.send("wait", { handle, timeoutMs: 50 }, handle.transferList);
    assert(!r.ok, "wait() threw");
    assertEqual(r.error.name, "FutureTimeoutError", "error class");
    assertEqual(r.pending, true, "still pending in the worker");
    assert(r.ms >= 45, `waited about the timeout (${r.ms} ms)`);
    assertEqual(fut.done(), false, "still pending on the page");
    fut.setResult("late");
    assertEqual(fut.value(), "late", "completable afterwards");
  }],

  ["worker → page: a worker shares a future, the page adopts and completes it, the worker's blocking wait() gets it", async () => {
    const a = await agent();
    const { handle } = await a.send("share", { name: "w2p" });
    assert(isFutureHandle(handle), "the worker's handle arrived");
    const fut = adopt(handle);
    assertEqual(adopt(handle), fut, "adopting the same handle again gives the same future");
    const waited = a.send("wait", { name: "w2p", timeoutMs: 5000 });
    await nextTask(50);
    fut.setResult([1, 2, 3]);
    const r = await within(5000, waited, "the worker's wait()");
    assert(r.ok, describe(r.error));
    assertJsonEqual(r.value, [1, 2, 3], "the value in the worker");
  }],

  ["worker → worker: a handle made in one worker, passed on by the page, completed by another while the first blocks", async () => {
    const a = await agent();
    const b = await agent();
    const { handle } = await a.send("share", { name: "w2w" });
    const waited = a.send("wait", { name: "w2w", timeoutMs: 5000 });
    await nextTask(30);
    const c = await b.send("complete", { handle, value: "from b", delayMs: 20 }, handle.transferList);
    assert(c.ok, describe(c.error));
    const r = await within(5000, waited, "a's wait()");
    assert(r.ok, describe(r.error));
    assertEqual(r.value, "from b", "a got b's value");
  }],

  ["one winner: four workers and the page race to complete, 20 rounds; the losers get FutureAlreadyCompletedError", async () => {
    const agents = await Promise.all([agent(), agent(), agent(), agent()]);
    for (let round = 0; round < 20; round++) {
      const fut = new Future();
      const go = new SharedArrayBuffer(4);
      const races = agents.map((a, i) => {
        const handle = share(fut);
        return a.send("race", { handle, value: `worker ${i}`, go }, handle.transferList);
      });
      await nextTask(5);
      Atomics.store(new Int32Array(go), 0, 1);
      Atomics.notify(new Int32Array(go), 0);
      let pageWon = false;
      try {
        fut.setResult("page");
        pageWon = true;
      } catch (e) {
        assert(e instanceof FutureAlreadyCompletedError, `the page lost with ${describe(e)}`);
      }
      const results = await within(5000, Promise.all(races), "the racers");
      const winners = results.filter((r) => r.won).length + (pageWon ? 1 : 0);
      assertEqual(winners, 1, `round ${round}: winners`);
      for (const r of results) {
        assert(r.ok, describe(r.error));
        if (!r.won) assertEqual(r.error.name, "FutureAlreadyCompletedError", `round ${round}: a loser's error`);
      }
      const value = await within(5000, fut, "the outcome");
      assert(value === "page" || /^worker \d$/.test(value), `round ${round}: the value ${value}`);
    }
  }],

  ["an error crosses with its class, message and cause", async () => {
    const fut = new Future();
    const handle = share(fut);
    const a = await agent();
    await a.send("complete", { handle, error: "boom" }, handle.transferList);
    const error = await rejection(within(5000, Promise.resolve(fut), "await"));
    assert(error instanceof RangeError, `a RangeError, got ${describe(error)}`);
    assertEqual(error.message, "boom", "message");
    assert(error.cause instanceof TypeError, `cause: ${describe(error.cause)}`);
    assertEqual(error.cause.message, "inner", "cause message");
  }],

  ["a value that cannot be cloned: the worker's setResult throws a TypeError, the future stays pending and completes later", async () => {
    const fut = new Future();
    const handle = share(fut);
    const a = await agent();
    const r = await a.send("uncloneable", { handle }, handle.transferList);
    assertEqual(r.error?.name, "TypeError", "error class");
    assert(/cannot be sent/.test(r.error.message) && /still pending/.test(r.error.message), `message: ${r.error.message}`);
    assertEqual(r.pendingAfter, true, "pending after the refusal");
    assertEqual(await within(5000, fut, "await"), "second try", "the later value");
  }],

  ["{ transfer }: the worker's buffer is detached, the page gets the bytes", async () => {
    const fut = new Future();
    const handle = share(fut);
    const a = await agent();
    const r = await a.send("complete", { handle, value: new Float64Array([1.5, 2.5, 3.5]), transfer: true }, handle.transferList);
    assert(r.ok, describe(r.error));
    assertEqual(r.detached, true, "the sender's buffer is detached");
    const value = await within(5000, fut, "await");
    assertJsonEqual(Array.from(value), [1.5, 2.5, 3.5], "the bytes");
  }],

  ["a SharedArrayBuffer-backed value goes by message: a blocking wait() says to await it; awaited, it is shared", async () => {
    const a = await agent();
    const { handle } = await a.send("share", { name: "sab" });
    const fut = adopt(handle);
    const shared = new Int32Array(new SharedArrayBuffer(8));
    shared[0] = 5;
    const waited = a.send("waitLate", { name: "sab" });
    await nextTask(50);
    fut.setResult(shared);
    const r = await within(5000, waited, "the worker's wait()");
    assert(r.ok, describe(r.error));
    assertEqual(r.notCompletedError, true, `FutureNotCompletedError, got ${describe(r.error)}`);
    assert(/await/.test(r.error.message), `message: ${r.error.message}`);
    const w = await a.send("awaitAndWrite", { name: "sab" });
    assertEqual(w.first, 5, "the worker read the value");
    assertEqual(shared[1], 99, "the worker's write is seen on the page: the memory is shared");
  }],

  ["a worker terminated while holding a future: the page's await fails with BrokenFutureError", async () => {
    const fut = new Future();
    const handle = share(fut);
    const a = await agent();
    await a.send("hold", { handle }, handle.transferList);
    const start = performance.now();
    a.worker.terminate();
    const error = await rejection(within(DEATH_BOUND_MS, Promise.resolve(fut), "await"));
    assert(error instanceof BrokenFutureError, `BrokenFutureError, got ${describe(error)}`);
    assert(performance.now() - start < DEATH_BOUND_MS, "in bounded time");
  }],

  ["a worker that closes itself: the page's await fails with BrokenFutureError", async () => {
    const fut = new Future();
    const handle = share(fut);
    const a = await agent();
    await a.send("hold", { handle }, handle.transferList);
    await a.send("close");
    const error = await rejection(within(DEATH_BOUND_MS, Promise.resolve(fut), "await"));
    assert(error instanceof BrokenFutureError, `BrokenFutureError, got ${describe(error)}`);
  }],

  ["the worker that created a future is terminated: the page's adopted future fails with BrokenFutureError", async () => {
    const a = await agent();
    const { handle } = await a.send("share", { name: "owner-dies" });
    const fut = adopt(handle);
    a.worker.terminate();
    const error = await rejection(within(DEATH_BOUND_MS, Promise.resolve(fut), "await"));
    assert(error instanceof BrokenFutureError, `BrokenFutureError, got ${describe(error)}`);
  }],

  ["a worker blocked in wait() wakes with BrokenFutureError when the only worker that could complete it is terminated", async () => {
    const a = await agent();
    const b = await agent();
    const { handle } = await a.send("share", { name: "blocked" });
    await b.send("hold", { handle }, handle.transferList);
    const waited = a.send("wait", { name: "blocked", timeoutMs: 20_000 });
    await nextTask(100);
    b.worker.terminate();
    const r = await within(DEATH_BOUND_MS + 1000, waited, "a's wait()");
    assert(!r.ok, "wait() threw");
    assertEqual(r.error.name, "BrokenFutureError", `error class (${r.error.message})`);
    assert(r.ms < 100 + DEATH_BOUND_MS, `woke in bounded time (${r.ms} ms)`);
  }],


  ["a worker blocked in wait() on an adopted future wakes with BrokenFutureError when the worker that created it is terminated", async () => {
    const a = await agent();
    const b = await agent();
    const { handle } = await a.send("share", { name: "owner-blocked" });
    const waited = b.send("wait", { handle, timeoutMs: 20_000 }, handle.transferList);
    await nextTask(100);
    a.worker.terminate();
    const r = await within(DEATH_BOUND_MS + 1000, waited, "b's wait()");
    assert(!r.ok, "wait() threw");
    assertEqual(r.error.name, "BrokenFutureError", `error class (${r.error.message})`);
    assert(r.ms < 100 + DEATH_BOUND_MS, `woke in bounded time (${r.ms} ms)`);
  }],
];

// Each check's workers end with it, so that no check runs among the threads of the ones before.
const isolated = checks.map(([name, fn]) => [
  name,
  async () => {
    try {
      await fn();
    } finally {
      for (const worker of workers.splice(0)) worker.terminate();
    }
  },
]);
await runChecks(isolated, { timeoutMs: 15_000 });

// FutureLink between a page and its Web Workers, and between two workers,
// checked in a real browser. Loaded by link.html; workers run link-worker.js.
/* global window, performance, URLSearchParams */
import { assert, assertEqual, assertJsonEqual, commandWorker, describe, nextTask, okOrThrow, rejection, report, runChecks, within } from "./runner.js";

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
const { Future, BrokenFutureError, FutureNotCompletedError } = lib;
const { FutureLink, LinkClosedError, openLink, isLinkHandle } = threads;

/** Deaths are noticed within this bound (Web Locks are released at once; the rest is scheduling). */
const DEATH_BOUND_MS = 3000;

const workers = [];
/** A started worker and a way to send it commands. */
const agent = () => commandWorker("link-worker.js", workers);

/** A worker that opened `link`'s handle as "link". */
async function opened(link) {
  const a = await agent();
  const r = await a.send("open", { name: "link", handle: link.handle }, link.handle.transferList);
  assert(r.ok, `open: ${describe(r.error)}`);
  assertEqual(r.again, true, "opening the same handle again gives the same link");
  return a;
}

/** Sends `count` futures over `link`, in windows of `windowSize` at most, and checks each answer is its index. */
async function sendInOrder(link, count, windowSize) {
  for (let base = 0; base < count; base += windowSize) {
    const futs = [];
    for (let i = base; i < Math.min(count, base + windowSize); i++) {
      const fut = new Future();
      link.send(fut);
      futs.push(fut);
    }
    for (let k = 0; k < futs.length; k++) {
      const value = await futs[k];
      if (value !== base + k) throw new Error(`future ${base + k} was answered ${describe(value)}`);
    }
  }
}

const checks = [
  ["the browser entry exports FutureLink, openLink, isLinkHandle and LinkClosedError", () => {
    assertEqual(typeof FutureLink, "function", "FutureLink");
    assertEqual(typeof openLink, "function", "openLink");
    assert(LinkClosedError.prototype instanceof lib.FutureError, "LinkClosedError is a FutureError");
    const link = new FutureLink();
    assert(isLinkHandle(link.handle), "link.handle is a LinkHandle");
    assertEqual(link.handle, link.handle, "the same handle every time");
    assertEqual(link.handle.transferList.length, 1, "one port to transfer");
    assertEqual(isLinkHandle({ torchFuturesLink: 1 }), false, "a look-alike is not a handle");
    let error;
    try {
      openLink({ nope: true });
    } catch (e) {
      error = e;
    }
    assert(error instanceof TypeError && /openLink\(\) expects the handle of a FutureLink/.test(error.message), `openLink(bad) threw ${describe(error)}`);
    try {
      new FutureLink({ capacity: 0 });
      error = undefined;
    } catch (e) {
      error = e;
    }
    assert(error instanceof TypeError && /capacity/.test(error.message), `capacity 0 threw ${describe(error)}`);
    link.close();
  }],

  ["page to worker: send, the worker completes with for await, the page awaits; close ends the worker's loop", async () => {
    const link = new FutureLink();
    const a = await opened(link);
    const served = a.send("serveAwait", { name: "link", kind: "text" });
    const futs = [new Future(), new Future(), new Future()];
    for (const fut of futs) link.send(fut);
    assertJsonEqual(await Promise.all(futs), ["#0", "#1", "#2"], "the worker's answers, in order");
    link.close();
    assertEqual(link.closed, true, "closed");
    const r = okOrThrow(await within(5000, served, "the worker's loop"), "serveAwait");
    assertEqual(r.served, 3, "the loop ended after the three futures");
    let error;
    try {
      link.send(new Future());
    } catch (e) {
      error = e;
    }
    assert(error instanceof LinkClosedError, `send() after close threw ${describe(error)}`);
  }],

  ["receive() on the page's main thread throws FutureNotCompletedError pointing to await link.next(); next() and tryReceive() work there", async () => {
    const link = new FutureLink();
    let error;
    try {
      link.receive(10);
    } catch (e) {
      error = e;
    }
    assert(error instanceof FutureNotCompletedError, `receive() threw ${describe(error)}`);
    assert(/main thread/.test(error.message) && /await link\.next\(\)/.test(error.message), `message: ${error.message}`);
    assertEqual(link.tryReceive(), undefined, "nothing has arrived");
    const a = await opened(link);
    // The worker sends 5 futures and blocks in wait() on each; the page completes them with next() and tryReceive().
    const sent = a.send("sendAndWait", { name: "link", count: 5 });
    for (let i = 0; i < 5; i++) {
      let fut = i % 2 === 0 ? link.tryReceive() : undefined;
      if (fut === undefined) {
        const next = await within(5000, link.next(), "next()");
        assertEqual(next.done, false, "not done");
        fut = next.value;
      }
      fut.setResult(i);
    }
    okOrThrow(await within(5000, sent, "the worker's waits"), "sendAndWait");
    link.close();
  }],

  ["a worker serves with blocking receive(): values of every kind cross, errors keep their class and cause, and receive(timeout) times out", async () => {
    for (const kind of ["index", "object", "big", "shared"]) {
      const link = new FutureLink();
      const a = await opened(link);
      const served = a.send("serveBlocking", { name: "link", kind, fail: 2 });
      const futs = [new Future(), new Future(), new Future()];
      for (const fut of futs) link.send(fut);
      const first = await futs[0];
      if (kind === "index") assertEqual(first, 0, "a number");
      if (kind === "object") {
        assertJsonEqual(first, { i: 0, list: [0, 1], when: "1970-01-01T00:00:00.000Z" }, "an object");
        assert(first.when instanceof Date, "a Date stays a Date");
      }
      if (kind === "big") assertEqual(first, "x".repeat(2000) + "0", "a value larger than the berth");
      if (kind === "shared") {
        assert(first instanceof Int32Array && first.buffer instanceof SharedArrayBuffer, "shared memory stays shared");
        assertEqual(first[0], 0, "its contents");
      }
      await futs[1];
      const error = await rejection(futs[2]);
      assert(error instanceof RangeError && error.message === "no 2", `the worker's error: ${describe(error)}`);
      assert(error.cause instanceof TypeError && error.cause.message === "inner", `its cause: ${describe(error.cause)}`);
      link.close();
      const r = await within(5000, served, "the worker's loop");
      assertEqual(r.error.name, "LinkClosedError", `receive() after close: ${r.error.message}`);
      assertEqual(r.served, 3, "served all three");
    }
    const link = new FutureLink();
    const a = await opened(link);
    const r = await a.send("receiveOne", { name: "link", timeoutMs: 50 });
    assertEqual(r.error?.name, "FutureTimeoutError", `receive(50) with nothing sent: ${describe(r.error)}`);
    assert(r.ms >= 45, `it blocked about 50 ms (${r.ms} ms)`);
    link.close();
  }],

  ["10,000 futures from the page to a worker at once (most beyond the link's capacity, by message), answered in order through for await", async () => {
    const link = new FutureLink();
    const a = await opened(link);
    const served = a.send("serveAwait", { name: "link" });
    await sendInOrder(link, 10_000, 10_000);
    link.close();
    assertEqual(okOrThrow(await within(5000, served, "the worker's loop"), "serveAwait").served, 10_000, "served");
  }],

  ["10,000 futures from the page to a worker blocking in receive(), in windows within the link's capacity, answered in order", async () => {
    const link = new FutureLink({ capacity: 64 });
    const a = await opened(link);
    const served = a.send("serveBlocking", { name: "link" });
    await sendInOrder(link, 10_000, 64);
    link.close();
    const r = await within(5000, served, "the worker's loop");
    assertEqual(r.error.name, "LinkClosedError", `how the loop ended: ${r.error.message}`);
    assertEqual(r.served, 10_000, "served");
  }],

  ["a worker blocked in receive() when the next future went by message throws FutureNotCompletedError pointing to await link.next()", async () => {
    const link = new FutureLink({ capacity: 1 });
    const a = await opened(link);
    // The worker blocks in receive() twice in a row; the page sends two futures: the first fills the
    // link's one berth, the second goes by message, which the blocked worker's event loop cannot take.
    const received = a.send("receiveTwice", { name: "link", timeoutMs: 5000 });
    await nextTask(100);
    link.send(new Future());
    link.send(new Future());
    const r = await within(8000, received, "the worker's receives");
    assertEqual(r.first, true, "the first receive() returned the future in the berth");
    assertEqual(r.error?.name, "FutureNotCompletedError", `the second receive(): ${describe(r.error)}`);
    assert(/await link\.next\(\)/.test(r.error.message), `message: ${r.error.message}`);
    assert(r.ms < 4000, `it threw at once rather than time out (${r.ms} ms)`);
    okOrThrow(await a.send("hold", { name: "link", count: 1 }), "await link.next() then takes it");
    link.close();
  }],

  ["between two workers: 10,000 futures, the sender blocking in wait() on each, the receiver blocking in receive(), in order", async () => {
    const a = await agent();
    const b = await agent();
    const { handle } = okOrThrow(await a.send("make", { name: "link" }), "make");
    okOrThrow(await b.send("open", { name: "link", handle }, handle.transferList), "open");
    const served = b.send("serveBlocking", { name: "link" });
    const r = okOrThrow(await within(20_000, a.send("sendAndWait", { name: "link", count: 10_000 }), "the sender"), "sendAndWait");
    okOrThrow(await a.send("close", { name: "link" }), "close");
    const s = await within(5000, served, "the receiver's loop");
    assertEqual(s.error.name, "LinkClosedError", `how the loop ended: ${s.error.message}`);
    assertEqual(s.served, 10_000, "served");
    assert(r.ms > 0, "timed");
  }],

  ["between two workers, sent at once beyond the capacity: the receiver answers through for await, in order", async () => {
    const a = await agent();
    const b = await agent();
    const { handle } = okOrThrow(await a.send("make", { name: "link", capacity: 8 }), "make");
    okOrThrow(await b.send("open", { name: "link", handle }, handle.transferList), "open");
    const served = b.send("serveAwait", { name: "link" });
    const r = okOrThrow(await within(10_000, a.send("sendMany", { name: "link", count: 500 }), "the sender"), "sendMany");
    assertJsonEqual(r.values, Array.from({ length: 500 }, (_, i) => i), "in order");
    okOrThrow(await a.send("close", { name: "link" }), "close");
    assertEqual(okOrThrow(await within(5000, served, "the receiver"), "serveAwait").served, 500, "served");
  }],

  ["the page closes the link: the worker's send() and receive() throw LinkClosedError; futures already received still complete", async () => {
    const link = new FutureLink();
    const a = await opened(link);
    const fut = new Future();
    link.send(fut);
    okOrThrow(await a.send("hold", { name: "link", count: 1 }), "hold");
    link.close();
    const r = await a.send("afterClose", { name: "link" });
    assertEqual(r.closed, true, "closed on the worker's side too");
    assertEqual(r.send?.name, "LinkClosedError", `send(): ${describe(r.send)}`);
    assertEqual(r.receive?.name, "LinkClosedError", `receive(): ${describe(r.receive)}`);
    assertEqual(fut.done(), false, "the future received before the close is still pending");
  }],

  ["a worker terminated with futures of the link: the page's futures and next() fail with BrokenFutureError, send() throws it", async () => {
    const link = new FutureLink();
    const a = await opened(link);
    const futs = [new Future(), new Future()];
    for (const fut of futs) link.send(fut);
    okOrThrow(await a.send("hold", { name: "link", count: 2 }), "hold");
    const next = link.next();
    const start = performance.now();
    a.worker.terminate();
    for (const fut of futs) {
      const error = await rejection(within(DEATH_BOUND_MS, Promise.resolve(fut), "await"));
      assert(error instanceof BrokenFutureError, `BrokenFutureError, got ${describe(error)}`);
    }
    const error = await rejection(within(DEATH_BOUND_MS, next, "next()"));
    assert(error instanceof BrokenFutureError, `next(): BrokenFutureError, got ${describe(error)}`);
    assert(performance.now() - start < DEATH_BOUND_MS, "in bounded time");
    assertEqual(link.closed, true, "closed once the other thread is gone");
    let sendError;
    try {
      link.send(new Future());
    } catch (e) {
      sendError = e;
    }
    assert(sendError instanceof BrokenFutureError, `send(): ${describe(sendError)}`);
  }],

  ["a worker blocked in wait() on a future it sent over a link wakes with BrokenFutureError when the receiving worker is terminated", async () => {
    const a = await agent();
    const b = await agent();
    const { handle } = okOrThrow(await a.send("make", { name: "link" }), "make");
    okOrThrow(await b.send("open", { name: "link", handle }, handle.transferList), "open");
    const holding = b.send("hold", { name: "link", count: 1 });
    const waited = a.send("sendAndWait", { name: "link", count: 1, timeoutMs: 20_000 });
    okOrThrow(await within(5000, holding, "hold"), "hold");
    await nextTask(100);
    b.worker.terminate();
    const r = await within(DEATH_BOUND_MS + 1000, waited, "a's wait()");
    assertEqual(r.error?.name, "BrokenFutureError", `error class (${r.error?.message})`);
    assert(r.ms < 100 + DEATH_BOUND_MS + 1000, `woke in bounded time (${r.ms} ms)`);
  }],

  ["a worker blocked in receive() wakes with BrokenFutureError when the worker at the other end is terminated", async () => {
    const a = await agent();
    const b = await agent();
    const { handle } = okOrThrow(await a.send("make", { name: "link" }), "make");
    okOrThrow(await b.send("open", { name: "link", handle }, handle.transferList), "open");
    // Both directions: the maker blocked while the opener dies, then the opener blocked while the maker dies.
    const waited = a.send("receiveOne", { name: "link", timeoutMs: 20_000 });
    await nextTask(100);
    b.worker.terminate();
    const r = await within(DEATH_BOUND_MS + 1000, waited, "a's receive()");
    assertEqual(r.error?.name, "BrokenFutureError", `the maker's receive() (${r.error?.message})`);
    const c = await agent();
    const d = await agent();
    const made = okOrThrow(await c.send("make", { name: "link" }), "make");
    okOrThrow(await d.send("open", { name: "link", handle: made.handle }, made.handle.transferList), "open");
    const waited2 = d.send("receiveOne", { name: "link", timeoutMs: 20_000 });
    await nextTask(100);
    c.worker.terminate();
    const r2 = await within(DEATH_BOUND_MS + 1000, waited2, "d's receive()");
    assertEqual(r2.error?.name, "BrokenFutureError", `the opener's receive() (${r2.error?.message})`);
  }],
];

// Each check's workers end with it, so that no check runs among the threads of the ones before.
// `link.html?only=4,5` runs those checks alone (by index), when chasing one.
const only = new URLSearchParams(window.location.search).get("only");
const picked = only === null ? checks : checks.filter((_, i) => only.split(",").includes(String(i)));
const isolated = picked.map(([name, fn]) => [
  name,
  async () => {
    try {
      await fn();
    } finally {
      for (const worker of workers.splice(0)) worker.terminate();
    }
  },
]);
await runChecks(isolated, { timeoutMs: 30_000 });

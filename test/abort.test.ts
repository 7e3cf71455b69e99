// failOnAbort, withTimeout and fromPromise: who wins, what is left behind on
// long-lived futures and signals, and argument checks.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DerivedFutureError,
  Future,
  FutureTimeoutError,
  failOnAbort,
  fromPromise,
  withTimeout,
} from "../src/index.js";
import { callbackCount, countedSignal } from "./waits-kit.js";


describe("failOnAbort", () => {
  it("fails the future with the signal's reason when it aborts", () => {
    const controller = new AbortController();
    const fut = failOnAbort(new Future<number>(), controller.signal);
    const reason = new Error("cancelled");
    controller.abort(reason);
    assert.throws(() => fut.value(), (e) => e === reason);
  });

  it("an already-aborted signal fails it at once", () => {
    const signal = AbortSignal.abort("why");
    const fut = failOnAbort(new Future<number>(), signal);
    assert.throws(() => fut.value(), (e) => e === "why");
  });

  it("a completed future is left as it is", () => {
    const fut = new Future<number>();
    fut.setResult(1);
    assert.equal(failOnAbort(fut, AbortSignal.abort()), fut);
    assert.equal(fut.value(), 1);
  });

  it("a long-lived signal used for 10,000 futures keeps no listener once they complete", () => {
    const { controller, listeners } = countedSignal();
    for (let i = 0; i < 10_000; i++) failOnAbort(new Future<number>(), controller.signal).setResult(i);
    assert.equal(listeners(), 0);
  });

  it("refuses a derived future, and bad arguments, changing nothing", () => {
    const controller = new AbortController();
    const parent = new Future<number>();
    const child = parent.continueWith((f) => f.value());
    assert.throws(() => failOnAbort(child, controller.signal), DerivedFutureError);
    assert.throws(() => failOnAbort({} as unknown as Future, controller.signal), /expects a Future/);
    assert.throws(() => failOnAbort(parent, {} as AbortSignal), /AbortSignal/);
    assert.equal(callbackCount(parent), 1);
    assert.equal(child.done(), false);
  });
});

describe("withTimeout", () => {
  it("completes like the input when the input comes first, and clears everything", async () => {
    const { controller, listeners } = countedSignal();
    const fut = new Future<number>();
    const timed = withTimeout(fut, 10_000, { signal: controller.signal });
    fut.setResult(5);
    assert.equal(timed.value(), 5);
    assert.equal(listeners(), 0);
    assert.equal(await timed, 5);
  });

  it("fails with FutureTimeoutError when the time passes first; the input stays pending and clean", async () => {
    const fut = new Future<number>();
    const timed = withTimeout(fut, 10);
    await assert.rejects(Promise.resolve(timed), FutureTimeoutError);
    assert.equal(fut.done(), false);
    assert.equal(callbackCount(fut), 0);
    fut.setResult(1);
    assert.throws(() => timed.value(), FutureTimeoutError);
  });

  it("a timeout of 0 fails in a timer task, not inside the call", async () => {
    const timed = withTimeout(new Future<number>(), 0);
    assert.equal(timed.done(), false);
    await assert.rejects(Promise.resolve(timed), FutureTimeoutError);
  });

  it("fails with the signal's reason when it aborts first; at once if already aborted", async () => {
    const controller = new AbortController();
    const fut = new Future<number>();
    const timed = withTimeout(fut, Infinity, { signal: controller.signal });
    controller.abort("stop");
    await assert.rejects(Promise.resolve(timed), (e) => e === "stop");
    assert.equal(callbackCount(fut), 0);
    assert.throws(() => withTimeout(fut, 5, { signal: controller.signal }).value(), (e) => e === "stop");
  });

  it("passes a failure through, the same object", () => {
    const fut = new Future<number>();
    const boom = new Error("boom");
    fut.setException(boom);
    assert.throws(() => withTimeout(fut, 10).value(), (e) => e === boom);
  });

  it("a long-lived future raced against 10,000 timeouts holds no callbacks afterwards", async () => {
    const { controller, listeners } = countedSignal();
    const fut = new Future<number>();
    const timeds = Array.from({ length: 10_000 }, () => withTimeout(fut, 1, { signal: controller.signal }));
    assert.equal(callbackCount(fut), 10_000);
    const outcomes = await Promise.allSettled(timeds);
    assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason instanceof FutureTimeoutError));
    assert.equal(callbackCount(fut), 0);
    assert.equal(listeners(), 0);
  });

  it("is derived, and checks its arguments", () => {
    const fut = new Future<number>();
    const timed = withTimeout(fut, Infinity);
    assert.throws(() => { timed.setResult(1); }, DerivedFutureError);
    assert.throws(() => withTimeout(fut, -1), /expects a timeout/);
    assert.throws(() => withTimeout(fut, undefined as unknown as number), /expects a timeout/);
    assert.throws(() => withTimeout(fut, 5, { signal: 5 as unknown as AbortSignal }), /AbortSignal/);
    assert.throws(() => withTimeout(null as unknown as Future, 5), /expects a Future/);
    assert.equal(callbackCount(fut), 1);
  });
});

describe("fromPromise, and back", () => {
  it("a future that completes like the promise", async () => {
    const fut = fromPromise(Promise.resolve(42));
    assert.equal(fut.done(), false);
    assert.equal(await fut, 42);
    assert.equal(fut.value(), 42);
    const boom = new Error("boom");
    const failed = fromPromise(Promise.reject(boom));
    await assert.rejects(Promise.resolve(failed), (e) => e === boom);
    assert.throws(() => failed.value(), (e) => e === boom);
  });

  it("takes any thenable, calling its then once; a throwing then fails it", async () => {
    let calls = 0;
    const thenable = {
      then(resolve: (v: string) => void): PromiseLike<never> {
        calls++;
        resolve("x");
        resolve("y");
        return thenable as unknown as PromiseLike<never>;
      },
    };
    assert.equal(await fromPromise(thenable as PromiseLike<string>), "x");
    assert.equal(calls, 1);
    const boom = new Error("then threw");
    const bad = {
      then() {
        throw boom;
      },
    };
    assert.throws(() => fromPromise(bad as PromiseLike<never>).value(), (e) => e === boom);
  });

  it("a Future is returned as it is; Promise.resolve(fut) is the way back", async () => {
    const fut = new Future<number>();
    assert.equal(fromPromise(fut), fut);
    const back = Promise.resolve(fut);
    assert.ok(back instanceof Promise);
    fut.setResult(3);
    assert.equal(await back, 3);
  });

  it("is derived, and refuses what is not a thenable", () => {
    const fut = fromPromise(new Promise<number>(() => undefined));
    assert.throws(() => { fut.setResult(1); }, DerivedFutureError);
    assert.throws(() => fromPromise(5 as unknown as PromiseLike<number>), /expects a Promise or another thenable, got number 5/);
    assert.throws(() => fromPromise({} as PromiseLike<number>), TypeError);
  });
});

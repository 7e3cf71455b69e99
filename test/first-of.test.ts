// collectAny, waitAny, waitFor and waitForAsync: who wins, when, the three
// return_when rules, argument checks, callbacks left behind, and blocking on
// futures another thread completes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ALL_COMPLETED,
  DerivedFutureError,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  FutureNotCompletedError,
  FutureTimeoutError,
  asCompleted,
  collectAny,
  waitAny,
  waitFor,
  waitForAsync,
} from "../src/index.js";
import { FutureLink, share, type LinkHandle } from "../src/threads/index.js";
import { LinkAgent } from "./threads/link-agent.js";
import { Agent, timed } from "./threads/harness.js";
import { callbackCount, countedSignal } from "./waits-kit.js";

function failed(error: unknown): Future<never> {
  const fut = new Future<never>();
  fut.setException(error);
  return fut;
}

function done<T>(value: T): Future<T> {
  const fut = new Future<T>();
  fut.setResult(value);
  return fut;
}

describe("collectAny", () => {
  it("completes with the first input to complete and its index, inside that completion", () => {
    const a = new Future<string>();
    const b = new Future<string>();
    const any = collectAny([a, b]);
    let seenInside: boolean | undefined;
    b.addDoneCallback(() => (seenInside = any.done()));
    assert.equal(any.done(), false);
    b.setResult("b");
    assert.equal(seenInside, true);
    assert.equal(any.value().index, 1);
    assert.equal(any.value().future, b);
    a.setResult("a");
    assert.equal(any.value().index, 1);
  });

  it("among inputs already complete, the first in list order wins at once", () => {
    const pending = new Future<number>();
    const any = collectAny([pending, done(2), done(3)]);
    assert.equal(any.done(), true);
    assert.equal(any.value().index, 1);
    assert.equal(callbackCount(pending), 0);
  });

  it("never fails because the winner failed: the winner is in the value", () => {
    const boom = new Error("boom");
    const a = new Future<number>();
    const any = collectAny([a, new Future<number>()]);
    a.setException(boom);
    const { future } = any.value();
    assert.throws(() => future.value(), (e) => e === boom);
  });

  it("is derived: completing it by hand throws DerivedFutureError and changes nothing", () => {
    const a = new Future<number>();
    const any = collectAny([a]);
    assert.throws(() => { any.setResult({ index: 0, future: a }); }, DerivedFutureError);
    a.setResult(1);
    assert.equal(any.value().future, a);
  });

  it("a future listed twice wins with its first index", () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const any = collectAny([b, a, b]);
    b.setResult(1);
    assert.equal(any.value().index, 0);
  });

  it("can be awaited", async () => {
    const a = new Future<number>();
    setTimeout(() => { a.setResult(7); }, 5);
    const { index, future } = await collectAny([new Future<number>(), a]);
    assert.equal(index, 1);
    assert.equal(future.value(), 7);
  });

  it("takes its callbacks off the losers: a long-lived loser raced 10,000 times holds none", () => {
    const loser = new Future<number>();
    const order: string[] = [];
    loser.addDoneCallback(() => order.push("before"));
    for (let i = 0; i < 10_000; i++) {
      const winner = new Future<number>();
      const any = collectAny([loser, winner, loser]);
      winner.setResult(i);
      assert.equal(any.value().index, 1);
    }
    loser.addDoneCallback(() => order.push("after"));
    assert.equal(callbackCount(loser), 2);
    loser.setResult(0);
    assert.deepEqual(order, ["before", "after"]);
  });

  it("keeps the losers' other callbacks in order when it leaves", () => {
    const loser = new Future<number>();
    const order: number[] = [];
    loser.addDoneCallback(() => order.push(1));
    const winner = new Future<number>();
    collectAny([loser, winner]);
    loser.addDoneCallback(() => order.push(2));
    collectAny([winner, loser]);
    loser.addDoneCallback(() => order.push(3));
    winner.setResult(0);
    assert.equal(callbackCount(loser), 3);
    loser.setResult(0);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it("property: races won elsewhere leave a future's own callbacks, in order, and nothing else", () => {
    // Each step registers a callback, or races the future (listed 1–3 times) against another that wins at once or later.
    const step = fc.oneof(
      fc.constant({ t: "cb" as const }),
      fc.record({ t: fc.constant("race" as const), copies: fc.integer({ min: 1, max: 3 }), winNow: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const fut = new Future<number>();
        const ran: number[] = [];
        const later: Future<number>[] = [];
        let cbs = 0;
        for (const s of steps) {
          if (s.t === "cb") {
            const n = cbs++;
            fut.addDoneCallback(() => ran.push(n));
            continue;
          }
          const other = new Future<number>();
          collectAny([...Array<Future<number>>(s.copies).fill(fut), other]);
          if (s.winNow) other.setResult(0);
          else later.push(other);
        }
        for (const other of later) other.setResult(0);
        assert.equal(callbackCount(fut), cbs);
        fut.setResult(1);
        assert.deepEqual(ran, [...Array(cbs).keys()]);
      }),
      { numRuns: 300 },
    );
  });

  it("bad input is a TypeError and registers nothing", () => {
    const a = new Future<number>();
    assert.throws(() => collectAny([a, null as unknown as Future]), /index 1 is null, not a Future/);
    assert.throws(() => collectAny(42 as unknown as Future[]), TypeError);
    assert.throws(() => collectAny([]), /no futures: there is no first one/);
    assert.equal(callbackCount(a), 0);
  });
});

describe("waitAny", () => {
  it("returns the index and value of the first complete input in list order", () => {
    assert.deepEqual(waitAny([new Future<number>(), done(2), done(3)]), { index: 1, value: 2 });
  });

  it("throws the winner's error, the same object", () => {
    const boom = new RangeError("boom");
    assert.throws(() => waitAny([new Future(), failed(boom), done(1)]), (e) => e === boom);
  });

  it("all pending and completable only on this thread: FutureNotCompletedError pointing to collectAny", () => {
    assert.throws(() => waitAny([new Future(), new Future()]), (e: unknown) => {
      assert.ok(e instanceof FutureNotCompletedError);
      assert.match(e.message, /await collectAny\(futures\)/);
      return true;
    });
    assert.throws(() => waitAny([new Future()], 0), FutureNotCompletedError);
  });

  it("bad input is a TypeError, checked first", () => {
    const a = new Future<number>();
    a.setResult(1);
    assert.throws(() => waitAny([a, "x" as unknown as Future]), /index 1 is the string "x"/);
    assert.throws(() => waitAny([a], -1), /waitAny\(\) expects a timeout/);
    assert.throws(() => waitAny([]), TypeError);
  });
});

describe("waitFor", () => {
  const a = done(1);
  const boom = new Error("boom");
  const b = failed(boom);

  it("returns done and pending sets once the rule is met; each future once", () => {
    const p = new Future<number>();
    const first = waitFor([p, a, a], { returnWhen: FIRST_COMPLETED });
    assert.deepEqual([...first.done], [a]);
    assert.deepEqual([...first.pending], [p]);
    const exc = waitFor([p, a, b], { returnWhen: FIRST_EXCEPTION });
    assert.deepEqual([...exc.done], [a, b]);
    assert.deepEqual([...exc.pending], [p]);
    const all = waitFor([a, b]);
    assert.deepEqual([...all.done], [a, b]);
    assert.equal(all.pending.size, 0);
  });

  it("waitFor([]) returns two empty sets", () => {
    const { done: d, pending } = waitFor([], { returnWhen: FIRST_COMPLETED });
    assert.equal(d.size + pending.size, 0);
  });

  it("a timeout of 0 returns what is done now, without throwing", () => {
    const p = new Future<number>();
    const { done: d, pending } = waitFor([a, p], { timeoutMs: 0 });
    assert.deepEqual([...d], [a]);
    assert.deepEqual([...pending], [p]);
  });

  it("where it would block on futures only this thread completes: FutureNotCompletedError", () => {
    assert.throws(() => waitFor([a, new Future()]), /await waitForAsync/);
    assert.throws(() => waitFor([new Future()], { returnWhen: FIRST_COMPLETED }), FutureNotCompletedError);
    assert.throws(() => waitFor([a, new Future()], { returnWhen: FIRST_EXCEPTION }), FutureNotCompletedError);
  });

  it("bad options are TypeErrors that list what is valid", () => {
    assert.throws(
      () => waitFor([a], { returnWhen: "FIRST" as typeof FIRST_COMPLETED }),
      /returnWhen must be one of FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED/,
    );
    assert.throws(() => waitFor([a], { timeoutMs: Number.NaN }), /expects a timeout/);
    assert.throws(() => waitFor([a], 5 as unknown as object), /options as an object/);
  });
});

describe("waitForAsync", () => {
  it("FIRST_COMPLETED resolves when one completes, and leaves the others' callbacks", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const wait = waitForAsync([a, b], { returnWhen: FIRST_COMPLETED });
    b.setResult(2);
    const { done, pending } = await wait;
    assert.deepEqual([...done], [b]);
    assert.deepEqual([...pending], [a]);
    assert.equal(callbackCount(a), 0);
  });

  it("FIRST_EXCEPTION resolves on the first failure, else once all completed", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const c = new Future<number>();
    const wait = waitForAsync([a, b, c], { returnWhen: FIRST_EXCEPTION });
    a.setResult(1);
    b.setException(new Error("b"));
    const { done, pending } = await wait;
    assert.deepEqual([...done], [a, b]);
    assert.deepEqual([...pending], [c]);
    const all = waitForAsync([a, b], { returnWhen: FIRST_EXCEPTION });
    assert.equal((await all).pending.size, 0);
  });

  it("ALL_COMPLETED (the default) resolves once every input completed, in completion order", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const wait = waitForAsync([a, b]);
    b.setResult(2);
    a.setResult(1);
    assert.deepEqual([...(await wait).done], [b, a]);
  });

  it("a timeout resolves with what is done by then", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const wait = waitForAsync([a, b], { timeoutMs: 20 });
    a.setResult(1);
    const { done, pending } = await wait;
    assert.deepEqual([...done], [a]);
    assert.deepEqual([...pending], [b]);
    assert.equal(callbackCount(b), 0);
  });

  it("rejects with the signal's reason when it aborts, at once if already aborted", async () => {
    const controller = new AbortController();
    const a = new Future<number>();
    const wait = waitForAsync([a], { signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(wait, (e) => e === reason);
    assert.equal(callbackCount(a), 0);
    await assert.rejects(waitForAsync([done(1)], { signal: controller.signal }), (e) => e === reason);
  });

  it("a long-lived signal used by 10,000 waits has no listeners left", async () => {
    const { signal, listeners } = countedSignal();
    const long = new Future<number>();
    for (let i = 0; i < 10_000; i++) {
      const fut = new Future<number>();
      const wait = waitForAsync([long, fut], { returnWhen: FIRST_COMPLETED, signal });
      fut.setResult(i);
      assert.equal((await wait).done.has(fut), true);
    }
    assert.equal(listeners(), 0);
    assert.equal(callbackCount(long), 0);
  });

  it("bad input is a TypeError thrown at once, touching nothing", () => {
    const a = new Future<number>();
    assert.throws(() => waitForAsync([a], { signal: {} as AbortSignal }), /signal` to be an AbortSignal/);
    assert.throws(() => waitForAsync([a], { returnWhen: "ANY" as typeof ALL_COMPLETED }), TypeError);
    assert.throws(() => waitForAsync([a, 1 as unknown as Future]), /index 1/);
    assert.equal(callbackCount(a), 0);
  });
});

describe("waiting on many futures across threads", () => {
  const T = { timeout: 30_000 };

  /** Two shared futures, each completed by its own worker: `a` with 1 after `msA`, `b` with 2 after `msB`. */
  function fromWorkers(msA: number, msB: number): { a: Future<number>; b: Future<number>; exited: Promise<unknown> } {
    const agents = [msA, msB].map((delayMs, i) => {
      const fut = new Future<number>();
      const handle = share(fut);
      return { fut, agent: new Agent({ kind: "result", handle, delayMs, value: i + 1 }, handle.transferList) };
    });
    const [a, b] = agents.map(({ fut }) => fut) as [Future<number>, Future<number>];
    return { a, b, exited: Promise.all(agents.map(({ agent }) => agent.exited)) };
  }

  it("waitAny blocks until a worker completes one of the shared futures", T, async () => {
    const local = new Future<string>();
    const fut = new Future<string>();
    const handle = share(fut);
    const agent = new Agent({ kind: "result", handle, delayMs: 200, value: "from the worker" }, handle.transferList);
    const { ms, value, error } = timed(() => waitAny([local, fut], 10_000));
    assert.equal(error, undefined);
    assert.deepEqual(value, { index: 1, value: "from the worker" });
    assert.ok(ms >= 150, `waitAny() returned after ${ms} ms, before the worker completed it`);
    await agent.exited;
  });

  it("waitAny over shared futures times out with FutureTimeoutError", T, async () => {
    const fut = new Future<number>();
    const handle = share(fut);
    const agent = new Agent({ kind: "result", handle, delayMs: 300, value: 1 }, handle.transferList);
    assert.throws(() => waitAny([fut], 50), FutureTimeoutError);
    assert.throws(() => [...asCompleted([fut], { timeoutMs: 50 })], FutureTimeoutError);
    assert.equal(callbackCount(fut), 0);
    assert.deepEqual(waitAny([fut], 10_000), { index: 0, value: 1 });
    await agent.exited;
  });

  it("waitFor(FIRST_COMPLETED) and the blocking asCompleted block until the worker completes", T, async () => {
    const { a, b, exited } = fromWorkers(600, 100);
    const each = asCompleted([a, b]);
    const { done, pending } = waitFor([a, b], { returnWhen: FIRST_COMPLETED, timeoutMs: 10_000 });
    assert.deepEqual([...done], [b]);
    assert.deepEqual([...pending], [a]);
    assert.deepEqual([...each].map(({ future }) => future.value()), [2, 1]);
    await exited;
  });

  it("await collectAny, waitForAsync and for-await asCompleted resolve for shared futures", T, async () => {
    const { a, b, exited } = fromWorkers(100, 400);
    const each = asCompleted([b, a]);
    const all = waitForAsync([a, b]);
    const { index } = await collectAny([b, a]);
    assert.equal(index, 1);
    const seen: number[] = [];
    for await (const { future } of each) seen.push(future.value());
    assert.deepEqual(seen, [1, 2]);
    assert.equal((await all).done.size, 2);
    await exited;
  });

  it("waitFor over shared futures returns what is done when its timeout passes; collectAny(...).wait() blocks", T, async () => {
    const { a, b, exited } = fromWorkers(300, 300);
    const early = waitFor([a, b], { timeoutMs: 50 });
    assert.equal(early.done.size, 0);
    assert.equal(early.pending.size, 2);
    const { ms, value } = timed(() => collectAny([a, b]).wait(10_000));
    assert.ok(ms >= 150, `wait() returned after ${ms} ms`);
    assert.ok(value !== undefined && [a, b].includes(value.future));
    await exited;
  });

  it("over FutureLink futures: waitAny blocks for the one the worker completes; asCompleted and collectAny resolve", T, async () => {
    const link = new FutureLink<number>();
    const handle = link.handle as LinkHandle;
    const actions = [{ do: "hold" as const }, { do: "later" as const, ms: 200, value: 5 }];
    const agent = new LinkAgent({ kind: "serve", handle, how: "for-await", actions }, handle.transferList);
    const sent = (): Future<number> => {
      const fut = new Future<number>();
      link.send(fut);
      return fut;
    };
    const held = sent();
    const { ms, value } = timed(() => waitAny([held, sent()], 10_000));
    assert.deepEqual(value, { index: 1, value: 5 });
    assert.ok(ms >= 150, `waitAny() returned after ${ms} ms`);
    const c = sent();
    const d = sent();
    const seen: number[] = [];
    for await (const { future } of asCompleted([held, c, d], { timeoutMs: 10_000 })) {
      seen.push(future.value());
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen.sort(), [4, 9]);
    assert.equal((await collectAny([held, c])).index, 1);
    assert.equal(callbackCount(held), 0);
    await agent.worker.terminate();
  });
});

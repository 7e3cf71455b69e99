// asCompleted: completion order (against a model, with fast-check), both
// iterators reading one sequence, timeouts, abort signals, early exits, and
// what it leaves behind; collectAny and waitFor against the same model.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  FutureNotCompletedError,
  FutureTimeoutError,
  asCompleted,
  collectAny,
  waitFor,
} from "../src/index.js";
import { callbackCount, countedSignal } from "./waits-kit.js";
import { modelCompletionOrder, modelRuleMet, modelWinner, type Outcome, type Scenario } from "./first-of-model.js";

const scenario: fc.Arbitrary<Scenario> = fc
  .integer({ min: 1, max: 7 })
  .chain((pool) =>
    fc.record({
      pool: fc.constant(pool),
      list: fc.array(fc.nat(pool - 1), { minLength: 1, maxLength: 10 }),
      order: fc.shuffledSubarray([...Array(pool).keys()], { minLength: pool, maxLength: pool }),
      outcomes: fc.array(fc.constantFrom<Outcome>("ok", "err"), { minLength: pool, maxLength: pool }),
      split: fc.nat(pool),
    }),
  )
  .map(({ pool, list, order, outcomes, split }) => {
    const steps = order.map((i) => ({ i, outcome: outcomes[i] as Outcome }));
    return { pool, list, before: steps.slice(0, split), after: steps.slice(split) };
  });

function complete(fut: Future<number>, i: number, outcome: Outcome): void {
  if (outcome === "ok") fut.setResult(i);
  else fut.setException(new Error(`e${i}`));
}

describe("asCompleted: order against the model", () => {
  it("yields completed ones in list order, then the rest in completion order; collectAny's winner is the first", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const pool = Array.from({ length: s.pool }, () => new Future<number>());
        const list = s.list.map((i) => pool[i] as Future<number>);
        for (const c of s.before) complete(pool[c.i] as Future<number>, c.i, c.outcome);
        const each = asCompleted(list);
        const any = collectAny(list);
        for (const c of s.after) complete(pool[c.i] as Future<number>, c.i, c.outcome);
        const seen = [...each].map(({ index, future }) => {
          assert.equal(list[index], future);
          assert.equal(s.list.indexOf(s.list[index] as number), index);
          return pool.indexOf(future);
        });
        assert.deepEqual(seen, modelCompletionOrder(s));
        const winner = modelWinner(s);
        assert.equal(any.done(), winner !== undefined);
        if (winner !== undefined) assert.equal(any.value().index, winner);
        for (const fut of pool) if (!fut.done()) assert.equal(callbackCount(fut), 0);
      }),
      { numRuns: 300 },
    );
  });

  it("the async iterator yields the same order, with completions between its steps", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.scheduler(), async (s, scheduler) => {
        const pool = Array.from({ length: s.pool }, () => new Future<number>());
        const list = s.list.map((i) => pool[i] as Future<number>);
        for (const c of s.before) complete(pool[c.i] as Future<number>, c.i, c.outcome);
        const each = asCompleted(list);
        // The completions run one by one, in order, at points the scheduler picks among the iterator's steps.
        let chain = Promise.resolve();
        for (const c of s.after) {
          chain = chain.then(() => scheduler.schedule(Promise.resolve(c))).then(() => {
            complete(pool[c.i] as Future<number>, c.i, c.outcome);
          });
        }
        const seen: number[] = [];
        const reading = (async () => {
          for await (const { future } of each) seen.push(pool.indexOf(future));
        })();
        await scheduler.waitFor(Promise.all([reading, chain]));
        assert.deepEqual(seen, modelCompletionOrder(s));
      }),
      { numRuns: 150 },
    );
  });

  it("waitFor's rules match the model after every completion", () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom(FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED), (s, rule) => {
        const pool = Array.from({ length: s.pool }, () => new Future<number>());
        const list = s.list.map((i) => pool[i] as Future<number>);
        const outcomes = new Map<number, Outcome>();
        for (const c of [...s.before, ...s.after]) {
          complete(pool[c.i] as Future<number>, c.i, c.outcome);
          outcomes.set(c.i, c.outcome);
          const met = modelRuleMet(s.list, outcomes, rule);
          try {
            const { done, pending } = waitFor(list, { returnWhen: rule });
            assert.equal(met, true);
            assert.deepEqual(
              [...done].map((f) => pool.indexOf(f)),
              [...new Set(s.list)].filter((i) => outcomes.has(i)),
            );
            assert.equal(pending.size, new Set(s.list).size - done.size);
          } catch (error) {
            if (!(error instanceof FutureNotCompletedError)) throw error;
            assert.equal(met, false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("asCompleted", () => {
  it("both iterators read one sequence: each future comes out once", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const c = new Future<number>();
    const each = asCompleted([a, b, c]);
    b.setResult(2);
    a.setResult(1);
    const sync = each[Symbol.iterator]();
    assert.equal(sync.next().value?.future, b);
    setTimeout(() => { c.setResult(3); }, 5);
    const got: number[] = [];
    for await (const { future } of each) got.push(future.value());
    assert.deepEqual(got, [1, 3]);
    assert.deepEqual(sync.next(), { done: true, value: undefined });
  });

  it("the blocking iterator throws FutureNotCompletedError when only this thread can complete what is left, and stays usable", async () => {
    const a = new Future<number>();
    const each = asCompleted([a]);
    assert.throws(() => [...each], /for await/);
    setTimeout(() => { a.setResult(1); }, 5);
    const it = each[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.future, a);
    assert.equal((await it.next()).done, true);
  });

  it("asCompleted([]) is empty", async () => {
    assert.deepEqual([...asCompleted([])], []);
    const it = asCompleted([])[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, true);
  });

  it("a timeout rejects a waiting step with FutureTimeoutError and ends the iteration", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const each = asCompleted([a, b], { timeoutMs: 20 });
    a.setResult(1);
    const it = each[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.future, a);
    await assert.rejects(it.next(), FutureTimeoutError);
    assert.equal((await it.next()).done, true);
    assert.equal(callbackCount(b), 0);
  });

  it("an aborted signal rejects a waiting step with its reason; already aborted: the first step", async () => {
    const controller = new AbortController();
    const a = new Future<number>();
    const it = asCompleted([a], { signal: controller.signal })[Symbol.asyncIterator]();
    const step = it.next();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(step, (e) => e === reason);
    assert.equal(callbackCount(a), 0);
    const sync = asCompleted([new Future()], { signal: controller.signal })[Symbol.iterator]();
    assert.throws(() => sync.next(), (e) => e === reason);
  });

  it("leaving the loop early takes its callbacks off the pending futures", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    a.setResult(1);
    for (const { index } of asCompleted([a, b])) {
      assert.equal(index, 0);
      break;
    }
    assert.equal(callbackCount(b), 0);
    for await (const { index } of asCompleted([a, b])) {
      assert.equal(index, 0);
      break;
    }
    assert.equal(callbackCount(b), 0);
  });

  it("a long-lived signal used by 10,000 iterations has no listeners left", async () => {
    const { signal, listeners } = countedSignal();
    for (let i = 0; i < 10_000; i++) {
      const a = new Future<number>();
      const it = asCompleted([a, new Future<number>()], { signal })[Symbol.asyncIterator]();
      const step = it.next();
      a.setResult(i);
      assert.equal((await step).value?.index, 0);
      await it.return?.();
    }
    assert.equal(listeners(), 0);
  });

  it("concurrent next() calls each get a future, then the end", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const it = asCompleted([a, b])[Symbol.asyncIterator]();
    const steps = [it.next(), it.next(), it.next()];
    b.setResult(2);
    a.setResult(1);
    const got = await Promise.all(steps);
    assert.deepEqual(got.map((r) => r.value?.index), [1, 0, undefined]);
    assert.equal(got[2]?.done, true);
  });

  it("bad input is a TypeError, registering nothing", () => {
    const a = new Future<number>();
    assert.throws(() => asCompleted([a, {} as unknown as Future]), /index 1 is an object, not a Future/);
    assert.throws(() => asCompleted([a], { timeoutMs: -5 }), /asCompleted\(\) expects a timeout/);
    assert.throws(() => asCompleted([a], { signal: "no" as unknown as AbortSignal }), /AbortSignal/);
    assert.throws(() => asCompleted([a], null as unknown as object), /options as an object/);
    assert.equal(callbackCount(a), 0);
  });
});

// Property tests: random programs against the reference model in ./model.ts,
// and random completion orders for collectAll / waitAll / Promise.all.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DerivedFutureError,
  Future,
  FutureAlreadyCompletedError,
  FutureNotCompletedError,
  collectAll,
  setCallbackErrorHandler,
  waitAll,
} from "../src/index.js";
import { describeState, runModel, type Behaviour, type Program, type Step, type Val } from "./model.js";

const PROGRAM_RUNS = 1000;
const DEEP_RUNS = 200;
const SCHEDULER_RUNS = 500;
const TOKENS = 3;

// ---------------------------------------------------------------------------
// Generators

const valArb: fc.Arbitrary<Val> = fc.oneof(
  fc.integer({ min: 0, max: 9 }).map((n): Val => ({ t: "num", n })),
  fc.integer({ min: 0, max: TOKENS - 1 }).map((k): Val => ({ t: "tok", k })),
);
// Taken modulo the pool size when used; mostly small, to hit the roots (completable) often.
const indexArb = fc.oneof({ arbitrary: fc.nat({ max: 5 }), weight: 3 }, { arbitrary: fc.nat({ max: 11 }), weight: 1 });

const leafBehaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.constant<Behaviour>({ t: "log" }),
  fc.integer({ min: 0, max: 9 }).map((n): Behaviour => ({ t: "const", n })),
  fc.constant<Behaviour>({ t: "plusOne" }),
  valArb.map((v): Behaviour => ({ t: "throw", v })),
  fc
    .record({ target: indexArb, ok: fc.boolean(), v: valArb })
    .map(({ target, ok, v }): Behaviour => ({ t: "complete", target, ok, v })),
);

const behaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  { arbitrary: leafBehaviourArb, weight: 4 },
  {
    arbitrary: fc
      .record({ target: indexArb, how: fc.constantFrom<"adc" | "cw">("adc", "cw"), inner: leafBehaviourArb })
      .map(({ target, how, inner }): Behaviour => ({ t: "register", target, how, inner })),
    weight: 1,
  },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc
      .record({ i: indexArb, ok: fc.boolean(), v: valArb })
      .map(({ i, ok, v }): Step => ({ t: "complete", i, ok, v })),
    weight: 3,
  },
  { arbitrary: fc.record({ i: indexArb, beh: behaviourArb }).map(({ i, beh }): Step => ({ t: "cw", i, beh })), weight: 2 },
  { arbitrary: fc.record({ i: indexArb, beh: behaviourArb }).map(({ i, beh }): Step => ({ t: "adc", i, beh })), weight: 2 },
  { arbitrary: fc.array(indexArb, { maxLength: 4 }).map((is): Step => ({ t: "collect", is })), weight: 1 },
);

const programArb: fc.Arbitrary<Program> = fc.record({
  roots: fc.integer({ min: 1, max: 6 }),
  steps: fc.array(stepArb, { minLength: 2, maxLength: 24, size: "medium" }),
});

// The library keeps torch's exact order while at most this many drains nest
// (MAX_NESTED_DRAINS). A drain nests for each completion made inside a
// callback (a distinct root's) and for each callback registered inside a
// callback on a completed future (which runs inline), so roots plus
// `register` behaviours at most this many keeps a program exact.
const EXACT_NESTING = 64;

const registers = (steps: readonly Step[]): number =>
  steps.filter((s) => (s.t === "adc" || s.t === "cw") && s.beh.t === "register").length;

// A chain of roots, each completing the next inside its callback, reaching the
// documented depth; random steps around it add fan-out and failures.
const deepProgramArb: fc.Arbitrary<Program> = fc
  .record({ before: fc.array(stepArb, { maxLength: 8 }), after: fc.array(stepArb, { maxLength: 8 }) })
  .chain(({ before, after }) => {
    const maxRoots = EXACT_NESTING - registers(before) - registers(after);
    return fc.oneof(fc.integer({ min: 2, max: maxRoots }), fc.constant(maxRoots)).chain((roots) =>
      fc
        .array(fc.record({ how: fc.constantFrom<"adc" | "cw">("adc", "cw"), ok: fc.boolean() }), {
          minLength: roots - 1,
          maxLength: roots - 1,
        })
        .map((links): Program => {
          const chain = links.map(
            ({ how, ok }, k): Step => ({ t: how, i: k, beh: { t: "complete", target: k + 1, ok, v: { t: "num", n: k } } }),
          );
          // The deepest completion must run a callback for its depth to show.
          const last: Step = { t: "adc", i: roots - 1, beh: { t: "log" } };
          const start: Step = { t: "complete", i: 0, ok: true, v: { t: "num", n: 0 } };
          return { roots, steps: [...before, ...chain, last, start, ...after] };
        }),
    );
  });

// ---------------------------------------------------------------------------
// The real run, logged in the model's vocabulary

function errorName(error: unknown): string {
  if (error instanceof DerivedFutureError) return "DerivedFutureError";
  if (error instanceof FutureAlreadyCompletedError) return "FutureAlreadyCompletedError";
  return `other:${String(error)}`;
}

function runReal(program: Program): { log: string[]; finals: string[] } {
  const log: string[] = [];
  const pool: Future[] = [];
  // Fresh per run, so that identity is what the log compares.
  const tokens = Array.from({ length: TOKENS }, (_, k) => new Error(`token ${k}`));
  // Library errors thrown inside callbacks, in order of creation (the model's seq).
  const libErrors: unknown[] = [];
  const collectIndices: number[] = [];
  const collectArgs = new Set<unknown>();
  const at = (i: number): Future => pool[i % pool.length] as Future;
  const concrete = (v: Val): unknown => (v.t === "num" ? v.n : tokens[v.k]);

  function describeValue(v: unknown): string {
    if (typeof v === "number") return `num${v}`;
    const k = tokens.indexOf(v as Error);
    if (k >= 0) return `tok${k}`;
    if (v instanceof FutureAlreadyCompletedError || v instanceof DerivedFutureError) {
      return `lib${libErrors.indexOf(v)}:${errorName(v)}`;
    }
    if (Array.isArray(v)) {
      // The array a collectAll future holds: a new one, of the pool's own futures.
      const owner = collectIndices.find((c) => {
        const f = pool[c] as Future;
        return f.done() && outcome(f).value === v;
      });
      const fresh = collectArgs.has(v) ? "(the argument array!)" : "";
      return `arr(${owner ?? "?"})[${v.map((f) => pool.indexOf(f as Future)).join(",")}]${fresh}`;
    }
    return `other:${String(v)}`;
  }

  function outcome(f: Future): { state: "ok" | "err"; value: unknown } {
    try {
      return { state: "ok", value: f.value() };
    } catch (error) {
      return { state: "err", value: error };
    }
  }

  function describeFuture(f: Future): string {
    if (!f.done()) return describeState("pending", undefined);
    const o = outcome(f);
    return `${o.state}:${describeValue(o.value)}`;
  }

  function makeCallback(id: string, beh: Behaviour): (fut: Future) => unknown {
    return (fut) => {
      log.push(`${id}> @${pool.indexOf(fut)} ${describeFuture(fut)}`);
      let ret: unknown = 0;
      switch (beh.t) {
        case "log":
          break;
        case "const":
          ret = beh.n;
          break;
        case "plusOne": {
          const v = fut.value();
          ret = typeof v === "number" ? v + 1 : v;
          break;
        }
        case "throw":
          throw concrete(beh.v);
        case "complete": {
          const target = at(beh.target);
          try {
            if (beh.ok) target.setResult(concrete(beh.v));
            else target.setException(concrete(beh.v));
          } catch (error) {
            libErrors.push(error);
            throw error;
          }
          break;
        }
        case "register": {
          const target = at(beh.target);
          const inner = makeCallback(`${id}n`, beh.inner);
          if (beh.how === "adc") target.addDoneCallback(inner);
          else target.continueWith(inner);
          break;
        }
      }
      log.push(`<${id}`);
      return ret;
    };
  }

  const previous = setCallbackErrorHandler((error, fut) => {
    log.push(`handler ${describeValue(error)} @${pool.indexOf(fut)}`);
  });
  try {
    for (let r = 0; r < program.roots; r++) pool.push(new Future());
    program.steps.forEach((step, n) => {
      log.push(`step ${n}`);
      try {
        switch (step.t) {
          case "complete": {
            const f = at(step.i);
            if (step.ok) f.setResult(concrete(step.v));
            else f.setException(concrete(step.v));
            break;
          }
          case "adc":
            at(step.i).addDoneCallback(makeCallback(`${n}`, step.beh));
            break;
          case "cw":
            pool.push(at(step.i).continueWith(makeCallback(`${n}`, step.beh)));
            break;
          case "collect": {
            const inputs = step.is.map((i) => at(i));
            collectArgs.add(inputs);
            collectIndices.push(pool.length);
            pool.push(collectAll(inputs));
            break;
          }
        }
      } catch (error) {
        log.push(`step ${n} threw ${errorName(error)}`);
      }
    });
  } finally {
    setCallbackErrorHandler(previous);
  }

  const finals = pool.map((f) => {
    const described = describeFuture(f);
    // wait() and value() must agree on a completed future; both refuse a pending one.
    if (!f.done()) {
      assert.throws(() => f.value(), FutureNotCompletedError);
      assert.throws(() => f.wait(), FutureNotCompletedError);
    } else {
      let waited: { state: string; value: unknown };
      try {
        waited = { state: "ok", value: f.wait() };
      } catch (error) {
        waited = { state: "err", value: error };
      }
      assert.deepEqual(waited.state, outcome(f).state);
      assert.ok(waited.value === outcome(f).value, "wait() and value() give the same object");
    }
    return described;
  });
  return { log, finals };
}

function matchesModel(program: Program): void {
  const expected = runModel(program);
  const actual = runReal(program);
  assert.deepEqual(actual.log, expected.log);
  assert.deepEqual(actual.finals, expected.finals);
}

describe("properties: random programs against the reference model", () => {
  it(`callback log and final states match the model (${PROGRAM_RUNS} programs)`, () => {
    fc.assert(
      fc.property(programArb, matchesModel),
      { numRuns: PROGRAM_RUNS },
    );
  });

  it(`the order stays exact up to ${EXACT_NESTING} nested completions (${DEEP_RUNS} programs)`, () => {
    fc.assert(
      fc.property(deepProgramArb, matchesModel),
      { numRuns: DEEP_RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// Completion order, permuted by the scheduler

describe("properties: collectAll, waitAll and Promise.all under any completion order", () => {
  it(`collectAll completes inside the last completion; waitAll and Promise.all report the right error (${SCHEDULER_RUNS} orders)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.record({ ok: fc.boolean(), n: fc.integer({ min: 0, max: 99 }) }), { minLength: 1, maxLength: 6 }),
        async (s, specs) => {
          const count = specs.length;
          const errors = specs.map((_, i) => new Error(`input ${i}`));
          const futs = specs.map(() => new Future<number>());
          const args = [...futs];
          const combined = collectAll(args);
          const all = Promise.all(futs).then(
            (values) => ({ ok: true as const, values }),
            (error: unknown) => ({ ok: false as const, error }),
          );

          let inside = -1;
          const firedInside: number[] = [];
          combined.addDoneCallback(() => firedInside.push(inside));
          const order: number[] = [];
          const failedInTime: number[] = [];

          const completions = specs.map((spec, i) =>
            s.schedule(Promise.resolve(i)).then(() => {
              assert.equal(combined.done(), false, "collectAll done before its last input");
              order.push(i);
              inside = i;
              const fut = futs[i] as Future<number>;
              if (spec.ok) fut.setResult(spec.n);
              else {
                fut.setException(errors[i]);
                failedInTime.push(i);
              }
              inside = -1;
              assert.equal(combined.done(), order.length === count);

              // The first failed input in list order, else pending, else the values.
              const firstFailed = futs.findIndex((f, j) => f.done() && specs[j]?.ok === false);
              if (firstFailed >= 0) {
                assert.throws(
                  () => waitAll(futs),
                  (e: unknown) => e === errors[firstFailed],
                );
              } else if (order.length < count) {
                assert.throws(() => waitAll(futs), FutureNotCompletedError);
              } else {
                assert.deepEqual(
                  waitAll(futs),
                  specs.map((sp) => sp.n),
                );
              }
            }),
          );
          await s.waitIdle();
          await Promise.all(completions);

          assert.deepEqual(firedInside, [order[count - 1]], "collectAll completes inside the last completion");
          const value = combined.value();
          assert.notEqual(value, args, "collectAll's value is a new array");
          assert.equal(value.length, count);
          value.forEach((f, i) => {
            assert.equal(f, futs[i]);
          });

          const settled = await all;
          if (failedInTime.length > 0) {
            assert.equal(settled.ok, false);
            assert.equal(settled.error, errors[failedInTime[0] as number], "first failure in time");
          } else {
            assert.deepEqual(
              settled,
              { ok: true, values: specs.map((sp) => sp.n) },
            );
          }
        },
      ),
      { numRuns: SCHEDULER_RUNS },
    );
  });
});

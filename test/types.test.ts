// Type tests: tsc checks them when the tests are built; each `it` also checks at
// run time the values that the types describe.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Future,
  asCompleted,
  collectAll,
  collectAny,
  fromPromise,
  waitAll,
  waitAny,
  waitFor,
  waitForAsync,
  withTimeout,
  type Completed,
  type ReturnWhen,
  type WaitForResult,
} from "../src/index.js";

/** true when A and B are the same type (not merely assignable to each other). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the identity trick needs them
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when its type argument is `true`; counts as a run-time assertion too. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller writes the claim as T
function expectTrue<T extends true>(value: T): void {
  assert.equal(value, true);
}

function completed<T>(value: T): Future<T> {
  const fut = new Future<T>();
  fut.setResult(value);
  return fut;
}

describe("types: await and Awaited", () => {
  it("Awaited<Future<number>> is number", async () => {
    expectTrue<Equal<Awaited<Future<number>>, number>>(true);
    const n = await completed(41);
    expectTrue<Equal<typeof n, number>>(true);
    assert.equal(n + 1, 42);
  });

  it("Awaited unwraps a future held by a future, as await does", async () => {
    expectTrue<Equal<Awaited<Future<Future<string>>>, string>>(true);
    const outer = completed(completed("inner"));
    const s = await outer;
    expectTrue<Equal<typeof s, string>>(true);
    assert.equal(s, "inner");
  });

  it("Promise.all over futures gives a typed tuple", async () => {
    const values = await Promise.all([completed(1), completed("two"), Promise.resolve(true)]);
    expectTrue<Equal<typeof values, [number, string, boolean]>>(true);
    assert.deepEqual(values, [1, "two", true]);
  });

  it("new Future() defaults to Future<unknown>", () => {
    const fut = new Future();
    expectTrue<Equal<typeof fut extends Future<infer V> ? V : never, unknown>>(true);
    fut.setResult(Symbol.iterator);
    assert.equal(fut.value(), Symbol.iterator);
  });
});

describe("types: continueWith", () => {
  it("passes the callback a Future<T> and returns Future<S>", () => {
    const fut = completed(20);
    const seen: Future<number>[] = [];
    const child = fut.continueWith((f) => {
      expectTrue<Equal<typeof f, Future<number>>>(true);
      seen.push(f);
      return `${f.value() + 1}`;
    });
    expectTrue<Equal<typeof child, Future<string>>>(true);
    assert.equal(seen[0], fut);
    assert.equal(child.value(), "21");
  });

  it("rejects a callback that expects the value instead of the future", () => {
    const fut = completed(5);
    // @ts-expect-error -- the callback receives the future, not the number
    const child = fut.continueWith((v: number) => v);
    // What the compiler guards against: the "number" would be the future itself.
    assert.equal(child.value(), fut);
  });

  it("does not unwrap a returned promise or future, in the type as at run time", () => {
    const fut = completed(1);
    const promise = Promise.resolve(2);
    const inner = completed(3);
    const holdsPromise = fut.continueWith(() => promise);
    const holdsFuture = fut.continueWith(() => inner);
    expectTrue<Equal<typeof holdsPromise, Future<Promise<number>>>>(true);
    expectTrue<Equal<typeof holdsFuture, Future<Future<number>>>>(true);
    assert.equal(holdsPromise.value(), promise);
    assert.equal(holdsFuture.value(), inner);
  });
});

describe("types: setResult", () => {
  it("accepts only values of the future's type", () => {
    const fut = new Future<number>();
    // @ts-expect-error -- a string is not a number
    fut.setResult("not a number");
    // Only the compiler refuses it: at run time the value is stored as is.
    assert.equal(fut.value(), "not a number");

    const ok = new Future<number | undefined>();
    ok.setResult(undefined);
    assert.equal(ok.value(), undefined);
  });

  it("accepts any error in setException", () => {
    const fut = new Future<number>();
    fut.setException("a string is a valid error");
    assert.throws(() => fut.value(), (e) => e === "a string is a valid error");
  });
});

describe("types: then chains", () => {
  it("infers each link's type", async () => {
    const fut = completed(3);
    const asString = fut.then((v) => `n=${v}`);
    const length = asString.then((s) => s.length);
    expectTrue<Equal<typeof asString, Future<string>>>(true);
    expectTrue<Equal<typeof length, Future<number>>>(true);
    assert.equal(await asString, "n=3");
    assert.equal(await length, 3);
  });

  it("unwraps futures and promises returned by handlers", async () => {
    const fut = completed(1);
    const viaFuture = fut.then((v) => completed(v > 0));
    const viaPromise = fut.then((v) => Promise.resolve([v]));
    expectTrue<Equal<typeof viaFuture, Future<boolean>>>(true);
    expectTrue<Equal<typeof viaPromise, Future<number[]>>>(true);
    assert.equal(await viaFuture, true);
    assert.deepEqual(await viaPromise, [1]);
  });

  it("joins the types of both handlers, and keeps T without handlers", async () => {
    const failed = new Future<number>();
    failed.setException(new Error("x"));
    const recovered = failed.then((v) => v * 2, () => "fallback");
    const passthrough = completed(7).then();
    expectTrue<Equal<typeof recovered, Future<number | string>>>(true);
    expectTrue<Equal<typeof passthrough, Future<number>>>(true);
    assert.equal(await recovered, "fallback");
    assert.equal(await passthrough, 7);
  });

  it("rejects a handler whose parameter does not fit the value", () => {
    const fut = new Future<number>();
    // @ts-expect-error -- the handler receives a number
    const child = fut.then((s: string) => s.toUpperCase());
    assert.ok(child instanceof Future);
    assert.equal(child.done(), false);
  });
});

describe("types: collectAll and waitAll", () => {
  it("collectAll on a tuple keeps each element's type", () => {
    const a = completed(1);
    const b = completed("b");
    const all = collectAll([a, b]);
    expectTrue<Equal<typeof all, Future<[Future<number>, Future<string>]>>>(true);
    const [fa, fb] = all.value();
    assert.equal(fa, a);
    assert.equal(fb, b);
    assert.equal(fa.value() + 1, 2);
    assert.equal(fb.value().toUpperCase(), "B");
  });

  it("collectAll on an array or a Set gives an array of futures", () => {
    const list: Future<number>[] = [completed(1), completed(2)];
    const fromArray = collectAll(list);
    const fromSet = collectAll(new Set(list));
    expectTrue<Equal<typeof fromArray, Future<Future<number>[]>>>(true);
    expectTrue<Equal<typeof fromSet, Future<Future<number>[]>>>(true);
    assert.deepEqual(fromArray.value(), list);
    assert.deepEqual(fromSet.value(), list);
  });

  it("waitAll on a tuple gives a typed tuple of values", () => {
    const values = waitAll([completed(1), completed("two"), completed({ three: 3 })]);
    expectTrue<Equal<typeof values, [number, string, { three: number }]>>(true);
    assert.deepEqual(values, [1, "two", { three: 3 }]);
    const [n, s, o] = values;
    assert.equal(n + s.length + o.three, 7);
  });

  it("waitAll on an iterable gives an array of values", () => {
    const values = waitAll(new Set([completed(1), completed(2)]));
    expectTrue<Equal<typeof values, number[]>>(true);
    assert.deepEqual(values, [1, 2]);
  });

  it("rejects a tuple element that is not a future", () => {
    // @ts-expect-error -- 5 is not a Future
    assert.throws(() => collectAll([completed(1), 5]), TypeError);
  });
});

describe("types: waiting on many futures", () => {
  it("collectAny gives the winner typed as the inputs' union, with its index", () => {
    const any = collectAny([completed(1), completed("b")]);
    expectTrue<Equal<typeof any, Future<Completed<Future<number> | Future<string>>>>>(true);
    const { index, future } = any.value();
    expectTrue<Equal<typeof index, number>>(true);
    assert.equal(index, 0);
    assert.equal(future.value(), 1);
  });

  it("waitAny's value is the union of the inputs' value types", () => {
    const first = waitAny([completed(1), completed("b")]);
    expectTrue<Equal<typeof first.value, number | string>>(true);
    assert.deepEqual(first, { index: 0, value: 1 });
  });

  it("asCompleted yields Completed<F> in for-of and for-await alike (a bare future would be awaited)", async () => {
    const list = [completed(1), completed(2)];
    for (const item of asCompleted(list)) {
      expectTrue<Equal<typeof item, Completed<Future<number>>>>(true);
      assert.equal(typeof item.future.value(), "number");
    }
    for await (const item of asCompleted(list)) {
      expectTrue<Equal<typeof item, Completed<Future<number>>>>(true);
      assert.equal(typeof item.future.value(), "number");
    }
  });

  it("waitFor and waitForAsync give sets of the input futures; returnWhen takes only the three rules", async () => {
    const list = [completed(1)];
    const sync = waitFor(list, { returnWhen: "FIRST_COMPLETED" });
    const async = await waitForAsync(list);
    expectTrue<Equal<typeof sync, WaitForResult<Future<number>>>>(true);
    expectTrue<Equal<typeof async, WaitForResult<Future<number>>>>(true);
    expectTrue<Equal<ReturnWhen, "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED">>(true);
    assert.equal(sync.done.size + async.done.size, 2);
    // @ts-expect-error -- not one of the three rules
    assert.throws(() => waitFor(list, { returnWhen: "FIRST" }), TypeError);
  });

  it("withTimeout keeps the future's type; fromPromise takes the promise's", async () => {
    const timed = withTimeout(completed("x"), 10);
    expectTrue<Equal<typeof timed, Future<string>>>(true);
    const fut = fromPromise(Promise.resolve(4));
    expectTrue<Equal<typeof fut, Future<number>>>(true);
    assert.equal(timed.value() + String(await fut), "x4");
  });
});

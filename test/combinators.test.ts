import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Future, FutureNotCompletedError, collectAll, waitAll } from "../src/index.js";

function completed<T>(value: T): Future<T> {
  const fut = new Future<T>();
  fut.setResult(value);
  return fut;
}

function failed(error: unknown): Future<never> {
  const fut = new Future<never>();
  fut.setException(error);
  return fut;
}

describe("collectAll", () => {
  it("completes when the last input completes, inside that completion, with the inputs themselves", () => {
    const a = new Future<number>();
    const b = new Future<string>();
    const all = collectAll([a, b]);
    const order: string[] = [];
    all.addDoneCallback(() => order.push("all"));
    b.addDoneCallback(() => order.push("b"));
    a.setResult(1);
    assert.equal(all.done(), false);
    b.setResult("two");
    order.push("after setResult");
    assert.deepEqual(order, ["all", "b", "after setResult"]); // FIFO: collectAll registered first
    const [fa, fb] = all.value();
    assert.equal(fa, a);
    assert.equal(fb, b);
    assert.equal(fa.value(), 1);
    assert.equal(fb.value(), "two");
  });

  it("never fails because an input failed", () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const all = collectAll([a, b]);
    const error = new Error("b failed");
    b.setException(error);
    assert.equal(all.done(), false); // no fail-fast: waits for every input
    a.setResult(1);
    assert.equal(all.done(), true);
    const [, fb] = all.value();
    assert.throws(() => fb.value(), (e) => e === error);
  });

  it("returns a new array, and accepts any iterable, read once", () => {
    const input = [completed(1), completed(2)];
    const all = collectAll(input);
    assert.notEqual(all.value(), input);
    assert.deepEqual(all.value(), input);
    const set = new Set([completed("x")]);
    assert.deepEqual(collectAll(set).value(), [...set]);
    function* gen(): Generator<Future<number>> {
      yield completed(1);
      yield completed(2);
    }
    assert.deepEqual(collectAll(gen()).value().map((f) => f.value()), [1, 2]);
  });

  it("reads an array as iteration does: holes are undefined, a subclass's own iterator is used", () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    const sparse = [completed(1), , completed(3)];
    assert.throws(() => collectAll(sparse as never), /the element at index 1 is undefined, not a Future/);
    class Reversed<T> extends Array<T> {
      override *[Symbol.iterator](): ArrayIterator<T> {
        for (let i = this.length - 1; i >= 0; i--) yield this[i] as T;
        return undefined;
      }
    }
    const reversed = new Reversed<Future<string>>();
    reversed.push(completed("a"), completed("b"));
    assert.deepEqual(collectAll(reversed as Iterable<Future<string>>).value().map((f) => f.value()), ["b", "a"]);
  });

  it("is complete at once for [] and for already-completed inputs", () => {
    const empty = collectAll([]);
    assert.equal(empty.done(), true);
    assert.deepEqual(empty.value(), []);
    assert.equal(collectAll([completed(1), failed(2)]).done(), true);
  });

  it("handles the same future twice", () => {
    const d = new Future<number>();
    const all = collectAll([d, d]);
    d.setResult(9);
    assert.deepEqual(all.value().map((f) => f.value()), [9, 9]);
  });

  it("rejects a non-Future element with a TypeError naming its index, registering nothing", () => {
    const a = new Future<number>();
    assert.throws(() => collectAll([a, null] as never), /collectAll\(\): the element at index 1 is null, not a Future/);
    assert.throws(() => collectAll([a, a, 5] as never), /index 2 is number 5/);
    assert.throws(() => collectAll([Promise.resolve(1)] as never), /index 0 is a Promise/);
    assert.throws(() => collectAll([undefined] as never), TypeError);
    const order: string[] = [];
    a.addDoneCallback(() => order.push("only callback"));
    a.setResult(1);
    assert.deepEqual(order, ["only callback"]); // the refused calls left no callback behind
  });

  it("rejects a non-iterable with a TypeError", () => {
    for (const bad of [undefined, null, 5, {}, new Future()]) {
      assert.throws(() => collectAll(bad as never), /collectAll\(\) expects an iterable of Future objects/);
    }
  });

  it("can be awaited", async () => {
    const a = new Future<number>();
    setTimeout(() => {
      a.setResult(5);
    }, 1);
    const [fa] = await collectAll([a]);
    assert.equal(fa.value(), 5);
  });
});

describe("waitAll", () => {
  it("returns the values in input order", () => {
    assert.deepEqual(waitAll([completed(1), completed("b"), completed(null)]), [1, "b", null]);
    assert.deepEqual(waitAll([]), []);
  });

  it("throws the first failed input's error in list order, even while others are pending", () => {
    const first = new Error("first in list");
    const second = new Error("second in list");
    const pending = new Future<number>();
    const b = new Future<number>();
    const a = new Future<number>();
    b.setException(second); // fails first in time
    a.setException(first);
    assert.throws(() => waitAll([pending, a, b]), (e) => e === first);
    assert.equal(pending.done(), false);
  });

  it("throws FutureNotCompletedError, naming the index, when an input is pending and none failed", () => {
    const pending = new Future<number>();
    assert.throws(() => waitAll([completed(1), pending]), FutureNotCompletedError);
    assert.throws(() => waitAll([completed(1), pending]), /index 1 is pending.*await Promise\.all\(futures\)/s);
  });

  it("checks its arguments before anything else", () => {
    const pending = new Future<number>();
    const bad = failed(new Error("x"));
    assert.throws(() => waitAll([pending, bad, "no"] as never), /waitAll\(\): the element at index 2 is the string "no", not a Future/);
    assert.throws(() => waitAll(42 as never), /waitAll\(\) expects an iterable/);
  });
});

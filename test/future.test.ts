import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  DerivedFutureError,
  Future,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  collectAll,
} from "../src/index.js";

describe("Future: completion", () => {
  it("starts pending and is done after setResult", () => {
    const fut = new Future<number>();
    assert.equal(fut.done(), false);
    fut.setResult(1);
    assert.equal(fut.done(), true);
    assert.equal(fut.value(), 1);
    assert.equal(fut.wait(), 1);
  });

  it("stores the result by reference, promises and errors included", () => {
    const obj = { a: 1 };
    const promise = Promise.resolve(3);
    const error = new Error("as a value");
    const futs = [obj, promise, error, undefined, null].map((v) => {
      const fut = new Future<unknown>();
      fut.setResult(v);
      return fut;
    });
    assert.equal(futs[0]?.value(), obj);
    assert.equal(futs[1]?.value(), promise);
    assert.equal(futs[2]?.wait(), error); // a value, not a failure
    assert.equal(futs[3]?.value(), undefined);
    assert.equal(futs[4]?.value(), null);
  });

  it("setException stores any value and wait()/value() throw that very value, every time", () => {
    for (const error of [new TypeError("t"), "a string", 42, undefined, null, { code: 7 }]) {
      const fut = new Future<number>();
      fut.setException(error);
      assert.equal(fut.done(), true);
      for (let i = 0; i < 3; i++) {
        assert.throws(() => fut.wait(), (e) => e === error);
        assert.throws(() => fut.value(), (e) => e === error);
      }
    }
  });

  it("does not touch the stored error on reads (its stack stays as it was)", () => {
    const error = new Error("kept");
    const stack = error.stack;
    const fut = new Future();
    fut.setException(error);
    for (let i = 0; i < 5; i++) assert.throws(() => fut.wait());
    assert.equal(error.stack, stack);
  });

  it("refuses a second completion with FutureAlreadyCompletedError and keeps the first outcome", () => {
    const fut = new Future<number>();
    fut.setResult(5);
    assert.throws(() => { fut.setResult(6); }, FutureAlreadyCompletedError);
    assert.throws(() => { fut.setException(new Error("late")); }, FutureAlreadyCompletedError);
    assert.equal(fut.value(), 5); // torch corrupts this case: wait() then raises TypeError

    const failed = new Future<number>();
    const first = new Error("first");
    failed.setException(first);
    assert.throws(() => { failed.setResult(1); }, FutureAlreadyCompletedError);
    assert.throws(() => { failed.setException(new Error("second")); }, FutureAlreadyCompletedError);
    assert.throws(() => failed.wait(), (e) => e === first);
  });

  it("says in the message what was wrong", () => {
    const fut = new Future<number>();
    fut.setResult(1);
    assert.throws(() => { fut.setResult(2); }, /setResult\(\) was called on a future that is already completed with a result/);
    assert.throws(() => { fut.setException(2); }, /completed only once/);
  });

  it("does not run callbacks again on a refused completion", () => {
    const fut = new Future<number>();
    let calls = 0;
    fut.addDoneCallback(() => calls++);
    fut.setResult(1);
    assert.throws(() => { fut.setResult(2); }, FutureAlreadyCompletedError);
    assert.equal(calls, 1);
  });
});

describe("Future: reading a pending future", () => {
  it("value() throws FutureNotCompletedError and leaves the future pending", () => {
    const fut = new Future<number>();
    assert.throws(() => fut.value(), FutureNotCompletedError);
    assert.throws(() => fut.value(), /never waits.*await fut/s);
    assert.equal(fut.done(), false);
    fut.setResult(2);
    assert.equal(fut.value(), 2);
  });

  it("wait() throws at once, explaining why it cannot block and pointing to await", () => {
    const fut = new Future<number>();
    assert.throws(() => fut.wait(), FutureNotCompletedError);
    assert.throws(() => fut.wait(), /cannot block.*only this thread can complete it.*await fut/s);
    assert.equal(fut.done(), false);
  });

  it("the errors are FutureErrors and Errors, with their own names", () => {
    const fut = new Future();
    try {
      fut.value();
      assert.fail("value() should throw");
    } catch (error) {
      assert.ok(error instanceof FutureNotCompletedError);
      assert.ok(error instanceof FutureError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, "FutureNotCompletedError");
    }
    fut.setResult(0);
    try {
      fut.setResult(1);
    } catch (error) {
      assert.ok(error instanceof FutureError);
      assert.equal((error).name, "FutureAlreadyCompletedError");
    }
  });
});

describe("Future: derived futures complete by themselves", () => {
  it("continueWith, then and collectAll results refuse setResult/setException with DerivedFutureError", () => {
    const root = new Future<number>();
    const derived = [root.continueWith(() => 1), root.then(() => 1), collectAll([root])];
    for (const fut of derived) {
      assert.throws(() => { (fut as Future).setResult(9); }, DerivedFutureError);
      assert.throws(() => { fut.setException(new Error("x")); }, DerivedFutureError);
      assert.throws(() => { fut.setException(1); }, /cannot be completed by hand/);
      assert.equal(fut.done(), false);
    }
    const order: string[] = [];
    root.addDoneCallback(() => order.push("later callback"));
    root.setResult(1); // torch skips the remaining callbacks after a hand-completed child
    assert.deepEqual(order, ["later callback"]);
    assert.equal(derived[0]?.value(), 1);
  });
});

describe("Future: argument checks", () => {
  it("continueWith and addDoneCallback reject non-functions with a TypeError and change nothing", () => {
    const fut = new Future<number>();
    for (const bad of [undefined, null, 5, "f", {}, Promise.resolve()]) {
      assert.throws(() => fut.continueWith(bad as never), TypeError);
      assert.throws(() => { fut.addDoneCallback(bad as never); }, TypeError);
    }
    assert.throws(() => fut.continueWith(5 as never), /continueWith\(\) expects a function that receives the future, got number 5/);
    assert.throws(() => { fut.addDoneCallback(null as never); }, /addDoneCallback\(\) expects a function.*got null/);
    let ran = 0;
    fut.addDoneCallback(() => ran++);
    fut.setResult(1);
    assert.equal(ran, 1);
  });
});

describe("Future: serialization and display", () => {
  it("JSON.stringify throws a clear TypeError instead of printing {}", () => {
    const fut = new Future<number>();
    fut.setResult(1);
    assert.throws(() => JSON.stringify(fut), TypeError);
    assert.throws(() => JSON.stringify({ nested: fut }), /cannot be converted to JSON.*JSON\.stringify\(fut\.value\(\)\)/s);
    assert.equal(JSON.stringify(fut.value()), "1");
  });

  it("shows its state in util.inspect and its tag in toString", () => {
    const pending = new Future();
    const ok = new Future<number>();
    ok.setResult(42);
    const failed = new Future();
    failed.setException(new RangeError("r"));
    assert.equal(inspect(pending), "Future { <pending> }");
    assert.equal(inspect(ok), "Future { 42 }");
    assert.match(inspect(failed), /^Future \{ <failed> RangeError: r/);
    assert.equal(Object.prototype.toString.call(ok), "[object Future]");
  });
});

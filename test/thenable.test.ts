import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as nextMacrotask } from "node:timers/promises";
import { DerivedFutureError, Future } from "../src/index.js";

/** Lets `count` macrotasks pass, so that every pending microtask has run. */
async function macrotasks(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await nextMacrotask();
}

/** Completes `fut` from a timer, after the caller has started waiting. */
function resultLater<T>(fut: Future<T>, value: T, ms = 5): void {
  setTimeout(() => {
    fut.setResult(value);
  }, ms);
}

function exceptionLater(fut: Future, error: unknown, ms = 5): void {
  setTimeout(() => {
    fut.setException(error);
  }, ms);
}

/** What `await` throws, so that its identity can be checked (assert.rejects cannot for non-objects). */
async function rejectionOf(thenable: PromiseLike<unknown>): Promise<unknown> {
  try {
    await thenable;
  } catch (error) {
    return error;
  }
  assert.fail("expected the await to throw");
}

describe("await fut", () => {
  it("waits for a pending future and gives its value", async () => {
    const fut = new Future<string>();
    resultLater(fut, "late");
    assert.equal(fut.done(), false);
    assert.equal(await fut, "late");
    assert.equal(fut.done(), true);
  });

  it("gives the value of a completed future, by reference", async () => {
    const fut = new Future<{ n: number }>();
    const value = { n: 1 };
    fut.setResult(value);
    assert.equal(await fut, value);
  });

  it("throws the very error object of a failed future", async () => {
    const error = new RangeError("boom");
    const fut = new Future<number>();
    fut.setException(error);
    assert.equal(await rejectionOf(fut), error);
  });

  it("throws the very error object when a pending future fails later", async () => {
    const error = new Error("later");
    const fut = new Future<number>();
    exceptionLater(fut, error);
    assert.equal(await rejectionOf(fut), error);
  });

  it("throws non-Error values unchanged, undefined included", async () => {
    const reason = { code: 42 };
    const a = new Future();
    a.setException(reason);
    assert.equal(await rejectionOf(a), reason);

    const b = new Future();
    b.setException(undefined);
    const caught = await Promise.resolve(b).then(
      () => "fulfilled",
      (r: unknown) => ["rejected", r],
    );
    assert.deepEqual(caught, ["rejected", undefined]);
  });
});

describe("Promise combinators accept futures", () => {
  it("Promise.all mixes futures and promises, in input order", async () => {
    const fut = new Future<number>();
    const done = new Future<boolean>();
    done.setResult(true);
    resultLater(fut, 1);
    const values = await Promise.all([fut, Promise.resolve("two"), done]);
    assert.deepEqual(values, [1, "two", true]);
  });

  it("Promise.all rejects with the error of a failed future", async () => {
    const error = new Error("one failed");
    const failing = new Future<number>();
    const pending = new Future<number>();
    exceptionLater(failing, error);
    assert.equal(await rejectionOf(Promise.all([pending, failing, Promise.resolve(3)])), error);
  });

  it("Promise.race settles with the first future to complete", async () => {
    const slow = new Future<string>();
    const fast = new Future<string>();
    resultLater(slow, "slow", 30);
    resultLater(fast, "fast", 1);
    assert.equal(await Promise.race([slow, fast, new Promise<string>(() => undefined)]), "fast");
  });

  it("Promise.race lets a promise win over a pending future", async () => {
    const never = new Future<string>();
    assert.equal(await Promise.race([never, Promise.resolve("promise")]), "promise");
    assert.equal(never.done(), false);
  });

  it("Promise.race rejects with the error of the first future to fail", async () => {
    const error = new Error("first");
    const failing = new Future<number>();
    exceptionLater(failing, error, 1);
    assert.equal(await rejectionOf(Promise.race([failing, new Future<number>()])), error);
  });

  it("Promise.allSettled reports fulfilled and failed futures", async () => {
    const error = new TypeError("bad");
    const ok = new Future<number>();
    const bad = new Future<number>();
    resultLater(ok, 7);
    exceptionLater(bad, error);
    const settled = await Promise.allSettled([ok, bad, Promise.resolve("p")]);
    assert.deepEqual(settled, [
      { status: "fulfilled", value: 7 },
      { status: "rejected", reason: error },
      { status: "fulfilled", value: "p" },
    ]);
    const second = settled[1];
    assert.ok(second.status === "rejected");
    assert.equal(second.reason, error);
  });

  it("Promise.resolve(fut) makes a native promise that follows the future", async () => {
    const fut = new Future<number>();
    const promise = Promise.resolve(fut);
    assert.ok(promise instanceof Promise);
    assert.notEqual(promise, fut);
    resultLater(fut, 9);
    assert.equal(await promise, 9);
  });

  it("Promise.resolve(fut) rejects with the very error of a failed future", async () => {
    const error = new Error("resolve-fail");
    const fut = new Future<number>();
    fut.setException(error);
    assert.equal(await rejectionOf(Promise.resolve(fut)), error);
  });
});

describe("then() returns a derived Future", () => {
  it("returns a Future instance, not a native promise", () => {
    const fut = new Future<number>();
    const child = fut.then((v) => v + 1);
    assert.ok(child instanceof Future);
    assert.equal(Object.getPrototypeOf(child), Future.prototype);
    assert.equal(child instanceof Promise, false);
    assert.notEqual(child, fut);
  });

  it("cannot be completed by hand", () => {
    const fut = new Future<number>();
    const child = fut.then((v) => v + 1);
    assert.throws(() => {
      child.setResult(5);
    }, DerivedFutureError);
    assert.throws(() => {
      child.setException(new Error("no"));
    }, DerivedFutureError);
    assert.equal(child.done(), false);
  });

  it("completes with the handler's result and can be read synchronously afterwards", async () => {
    const fut = new Future<number>();
    const child = fut.then((v) => v * 2);
    fut.setResult(21);
    assert.equal(child.done(), false, "the handler has not run yet");
    await macrotasks(1);
    assert.equal(child.done(), true);
    assert.equal(child.value(), 42);
  });

  it("fails with the error the handler throws", async () => {
    const error = new Error("from handler");
    const fut = new Future<number>();
    fut.setResult(1);
    const child = fut.then(() => {
      throw error;
    });
    assert.equal(await rejectionOf(child), error);
    assert.throws(() => child.value(), (e) => e === error);
  });

  it("recovers in onRejected: the child fulfils with its return value", async () => {
    const error = new Error("recoverable");
    const fut = new Future<number>();
    fut.setException(error);
    const seen: unknown[] = [];
    const child = fut.then(
      () => -1,
      (reason) => {
        seen.push(reason);
        return 0;
      },
    );
    assert.equal(await child, 0);
    assert.deepEqual(seen, [error]);
  });

  it("passes the value or the error through when a handler is missing", async () => {
    const error = new Error("through");
    const ok = new Future<string>();
    const bad = new Future<string>();
    ok.setResult("v");
    bad.setException(error);
    assert.equal(await ok.then(null, () => "x").then(), "v");
    assert.equal(await rejectionOf(bad.then((v) => v + "!").then(undefined, null)), error);
  });
});

describe("then-handlers run asynchronously", () => {
  it("does not run the handler before then() returns on a completed future", async () => {
    const fut = new Future<number>();
    fut.setResult(1);
    const log: string[] = [];
    fut.then(() => log.push("handler"));
    log.push("after then()");
    await macrotasks(1);
    assert.deepEqual(log, ["after then()", "handler"]);
  });

  it("does not run onRejected before then() returns on a failed future", async () => {
    const fut = new Future<number>();
    fut.setException(new Error("x"));
    const log: string[] = [];
    fut.then(undefined, () => log.push("onRejected"));
    log.push("after then()");
    await macrotasks(1);
    assert.deepEqual(log, ["after then()", "onRejected"]);
  });

  it("does not run the handler inside setResult, unlike addDoneCallback", async () => {
    const fut = new Future<number>();
    const log: string[] = [];
    fut.then((v) => log.push(`then ${v}`));
    fut.addDoneCallback((f) => log.push(`done-callback ${f.value()}`));
    fut.setResult(3);
    log.push("after setResult()");
    await macrotasks(1);
    assert.deepEqual(log, ["done-callback 3", "after setResult()", "then 3"]);
  });

  it("runs the handler in a microtask, before the next macrotask", async () => {
    const fut = new Future<number>();
    fut.setResult(1);
    const log: string[] = [];
    setImmediate(() => log.push("macrotask"));
    fut.then(() => log.push("handler"));
    await macrotasks(2);
    assert.deepEqual(log, ["handler", "macrotask"]);
  });
});

describe("then-handlers adopt what they return", () => {
  it("adopts a pending Future returned by the handler", async () => {
    const fut = new Future<number>();
    fut.setResult(1);
    const inner = new Future<string>();
    const child = fut.then(() => inner);
    await macrotasks(2);
    assert.equal(child.done(), false, "the child waits for the returned future");
    inner.setResult("inner");
    assert.equal(await child, "inner");
    assert.equal(child.value(), "inner");
  });

  it("adopts a completed Future returned by the handler", async () => {
    const fut = new Future<number>();
    fut.setResult(1);
    const inner = new Future<number>();
    inner.setResult(2);
    const child = fut.then(() => inner);
    assert.equal(await child, 2);
    assert.equal(child.value(), 2, "the value, not the future");
  });

  it("adopts the error of a failed Future returned by the handler", async () => {
    const error = new Error("inner failed");
    const fut = new Future<number>();
    fut.setResult(1);
    const inner = new Future<number>();
    const child = fut.then(() => inner);
    exceptionLater(inner, error);
    assert.equal(await rejectionOf(child), error);
  });

  it("adopts a native Promise returned by the handler", async () => {
    const fut = new Future<number>();
    const child = fut.then((v) => new Promise<number>((resolve) => setTimeout(() => {
      resolve(v + 100);
    }, 5)));
    fut.setResult(1);
    assert.equal(await child, 101);
    assert.equal(child.value(), 101);
  });

  it("adopts the reason of a rejected native Promise returned by the handler", async () => {
    const error = new Error("promise rejected");
    const fut = new Future<number>();
    fut.setResult(1);
    const child = fut.then(() => Promise.reject(error));
    assert.equal(await rejectionOf(child), error);
  });

  it("rejects with a TypeError when the handler returns the child itself", async () => {
    const fut = new Future<number>();
    fut.setResult(1);
    const child: Future = fut.then(() => child);
    assert.ok((await rejectionOf(child)) instanceof TypeError);
  });
});

describe("errors stored in futures are not unhandled rejections", () => {
  it("raises no unhandledRejection for failed futures that nobody reads", async () => {
    // Detached so that the control rejection below does not fail this test.
    const saved = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const reasons: unknown[] = [];
    const listener = (reason: unknown): void => {
      reasons.push(reason);
    };
    process.on("unhandledRejection", listener);
    try {
      const failed = new Future<number>();
      failed.setException(new Error("set, never read"));

      const later = new Future<number>();
      later.then((v) => v + 1); // a derived future that fails, unread
      later.setException(new Error("fails after then()"));

      const ok = new Future<number>();
      ok.setResult(1);
      ok.then(() => {
        throw new Error("thrown by a then-handler, unread");
      });
      ok.continueWith(() => {
        throw new Error("thrown by continueWith, unread");
      });

      // A native rejection nobody handles: shows that the wait below is long enough to see one.
      const control = new Error("control");
      void Promise.reject(control);

      await macrotasks(5);
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(reasons, [control]);
    } finally {
      process.removeListener("unhandledRejection", listener);
      for (const l of saved) process.on("unhandledRejection", l);
    }
  });
});

describe("ordering", () => {
  it("runs then-handlers of one future in registration order", async () => {
    const fut = new Future<number>();
    const order: number[] = [];
    for (let i = 0; i < 10; i++) fut.then(() => order.push(i));
    fut.setResult(0);
    for (let i = 10; i < 20; i++) fut.then(() => order.push(i));
    await macrotasks(1);
    assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i));
  });

  it("runs onRejected handlers of one failed future in registration order", async () => {
    const fut = new Future<number>();
    const order: string[] = [];
    fut.then(undefined, () => order.push("a"));
    fut.then(() => order.push("never"), () => order.push("b"));
    fut.then(undefined, () => order.push("c"));
    fut.setException(new Error("x"));
    await macrotasks(1);
    assert.deepEqual(order, ["a", "b", "c"]);
  });

  it("interleaves with native promises in the order the reactions were queued", async () => {
    const fut = new Future<string>();
    fut.setResult("future");
    const order: string[] = [];
    void Promise.resolve().then(() => order.push("promise 1"));
    fut.then(() => order.push("future"));
    void Promise.resolve().then(() => order.push("promise 2"));
    await macrotasks(1);
    assert.deepEqual(order, ["promise 1", "future", "promise 2"]);
  });
});

describe("then: futures that hold thenables", () => {
  it("a handler returning a future that holds a promise gives the promise's result, as Promise.then does", async () => {
    const holder = new Future<Promise<number>>();
    holder.setResult(Promise.resolve(7));
    const root = new Future<number>();
    root.setResult(0);
    assert.equal(await root.then(() => holder), 7);
    const pending = new Future<Promise<number>>();
    const adopted = root.then(() => pending);
    setTimeout(() => {
      pending.setResult(Promise.resolve(8));
    }, 1);
    assert.equal(await adopted, 8);
  });

  it("a handler returning futures that hold each other fails with a TypeError instead of looping", async () => {
    const a = new Future<unknown>();
    const b = new Future<unknown>();
    a.setResult(b);
    b.setResult(a);
    const root = new Future<number>();
    root.setResult(0);
    await assert.rejects(async () => root.then(() => a), /holds itself \(a cycle\)/);
  });
});

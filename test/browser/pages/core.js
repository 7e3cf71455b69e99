// The core API, checked in a real browser. Loaded by core.html; the library
// comes from the compiled tree the harness serves.
/* global window, setTimeout */
import {
  assert,
  assertEqual,
  assertJsonEqual,
  assertThrows,
  captureUncaught,
  describe,
  report,
  runChecks,
} from "./runner.js";

const LIBRARY = "/build/src/index.js";

let lib;
try {
  lib = await import(LIBRARY);
} catch (error) {
  // Without the library there is nothing else to check: say why.
  await report({
    userAgent: window.navigator.userAgent,
    checks: [{ name: `${LIBRARY} loads as a browser ES module`, ok: false, message: describe(error), ms: 0 }],
  });
  throw error;
}

const {
  DerivedFutureError,
  Future,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  collectAll,
  setCallbackErrorHandler,
  waitAll,
} = lib;

const LINKS = 1_000_000;

await runChecks([
  [
    `${LIBRARY} loads as a browser ES module with the public exports`,
    () => {
      for (const name of [
        "Future",
        "collectAll",
        "waitAll",
        "setCallbackErrorHandler",
        "FutureError",
        "FutureAlreadyCompletedError",
        "FutureNotCompletedError",
        "DerivedFutureError",
      ]) {
        assertEqual(typeof lib[name], "function", `typeof ${name}`);
      }
    },
  ],
  [
    "crossOriginIsolated is true",
    () => {
      assertEqual(window.crossOriginIsolated, true, "crossOriginIsolated");
    },
  ],
  [
    "SharedArrayBuffer is a function and works with Atomics",
    () => {
      assertEqual(typeof SharedArrayBuffer, "function", "typeof SharedArrayBuffer");
      const cells = new Int32Array(new SharedArrayBuffer(8));
      Atomics.add(cells, 1, 7);
      assertEqual(Atomics.load(cells, 1), 7, "Atomics.load");
    },
  ],
  [
    "setResult runs addDoneCallback and continueWith callbacks synchronously, first in first out",
    () => {
      const fut = new Future();
      const order = [];
      fut.addDoneCallback((f) => order.push(`a:${f.value()}`));
      const child = fut.continueWith((f) => {
        order.push("b");
        return f.value() * 2;
      });
      fut.addDoneCallback(() => order.push("c"));
      assertEqual(fut.done(), false, "done() before setResult");
      fut.setResult(21);
      order.push("returned");
      assertJsonEqual(order, ["a:21", "b", "c", "returned"], "callback order");
      assertEqual(fut.done(), true, "done() after setResult");
      assertEqual(child.value(), 42, "continueWith result");
    },
  ],
  [
    "callbacks run depth-first: what a callback completes runs before the parent's next callback",
    () => {
      const fut = new Future();
      const other = new Future();
      const order = [];
      const child = fut.continueWith(() => {
        order.push("parent-1");
        return 1;
      });
      child.addDoneCallback(() => order.push("child-1"));
      other.addDoneCallback(() => order.push("other-1"));
      fut.addDoneCallback(() => {
        order.push("parent-2");
        other.setResult(0);
        order.push("parent-2-end");
      });
      fut.addDoneCallback(() => order.push("parent-3"));
      fut.setResult(0);
      assertJsonEqual(
        order,
        ["parent-1", "child-1", "parent-2", "other-1", "parent-2-end", "parent-3"],
        "callback order",
      );
    },
  ],
  [
    "continueWith on a completed future runs inline and keeps a returned Promise as the value",
    () => {
      const fut = new Future();
      fut.setResult(1);
      const promise = Promise.resolve(5);
      let ran = false;
      const child = fut.continueWith(() => {
        ran = true;
        return promise;
      });
      assertEqual(ran, true, "callback ran before continueWith returned");
      assertEqual(child.done(), true, "child done");
      assertEqual(child.value(), promise, "child value is the Promise itself");
    },
  ],
  [
    "continueWith runs on failure too and stores the thrown value itself",
    () => {
      const error = new RangeError("parent failed");
      const fut = new Future();
      const passed = fut.continueWith((f) => f.value());
      const recovered = fut.continueWith(() => "recovered");
      fut.setException(error);
      assertThrows(() => passed.wait(), (e) => e === error, "passed.wait()");
      assertEqual(recovered.value(), "recovered", "recovered value");
      const thrown = { code: 7 };
      const failed = recovered.continueWith(() => {
        throw thrown;
      });
      assertThrows(() => failed.value(), (e) => e === thrown, "failed.value()");
    },
  ],
  [
    "await fut gives the value, and throws the stored error itself",
    async () => {
      const fut = new Future();
      setTimeout(() => fut.setResult("late"), 0);
      assertEqual(await fut, "late", "await fut");
      const error = new Error("stored");
      const bad = new Future();
      bad.setException(error);
      let caught;
      try {
        await bad;
      } catch (e) {
        caught = e;
      }
      assertEqual(caught, error, "await on a failed future");
    },
  ],
  [
    "then() is Promises/A+: handlers run asynchronously, it returns a Future, thenables are adopted",
    async () => {
      const fut = new Future();
      fut.setResult(1);
      let called = false;
      const next = fut.then((v) => {
        called = true;
        return Promise.resolve(v + 1);
      });
      assertEqual(called, false, "handler ran synchronously");
      assert(next instanceof Future, "then() did not return a Future");
      assertEqual(await next, 2, "adopted value");
      assertEqual(await Promise.resolve(fut), 1, "Promise.resolve(fut)");
    },
  ],
  [
    "Promise.all and Promise.allSettled accept futures",
    async () => {
      const a = new Future();
      const b = new Future();
      const all = Promise.all([a, Promise.resolve("p"), b]);
      a.setResult(1);
      setTimeout(() => b.setResult(3), 0);
      assertJsonEqual(await all, [1, "p", 3], "Promise.all values");

      const error = new Error("c failed");
      const c = new Future();
      const rejected = Promise.all([c, new Future()]);
      c.setException(error);
      let caught;
      try {
        await rejected;
      } catch (e) {
        caught = e;
      }
      assertEqual(caught, error, "Promise.all rejection");

      const settled = await Promise.allSettled([a, c]);
      assertJsonEqual(
        settled.map((s) => s.status),
        ["fulfilled", "rejected"],
        "Promise.allSettled statuses",
      );
    },
  ],
  [
    "collectAll completes inside the last completion, with the input futures in order, even on failure",
    async () => {
      const a = new Future();
      const b = new Future();
      const inputs = [a, b];
      const all = collectAll(inputs);
      b.setException(new Error("b failed"));
      assertEqual(all.done(), false, "done with a pending input");
      a.setResult(1);
      assertEqual(all.done(), true, "done right after the last input completed");
      const value = all.value();
      assert(value !== inputs, "the value is the input array itself, not a new one");
      assertEqual(value.length, 2, "length");
      assertEqual(value[0], a, "value[0]");
      assertEqual(value[1], b, "value[1]");
      assertEqual((await collectAll([a])).at(0), a, "await collectAll([a])");
      const empty = collectAll([]);
      assertEqual(empty.done(), true, "collectAll([]) done");
      assertEqual(empty.value().length, 0, "collectAll([]) value length");
    },
  ],
  [
    "collectAll and waitAll throw a TypeError naming the index of a non-Future",
    () => {
      assertThrows(
        () => collectAll([new Future(), null]),
        (e) => e instanceof TypeError && e.message.includes("index 1"),
        "collectAll([fut, null])",
      );
      assertThrows(
        () => waitAll([new Future(), 5]),
        (e) => e instanceof TypeError && e.message.includes("index 1"),
        "waitAll([pending, 5])",
      );
    },
  ],
  [
    "waitAll returns the values in order, and throws FutureNotCompletedError where it cannot block",
    () => {
      const a = new Future();
      const b = new Future();
      a.setResult(1);
      b.setResult(2);
      assertJsonEqual(waitAll([a, b]), [1, 2], "waitAll values");
      assertThrows(
        () => waitAll([a, new Future()]),
        (e) => e instanceof FutureNotCompletedError,
        "waitAll with a pending input",
      );
    },
  ],
  [
    "waitAll throws a failed input's error even while an earlier input is pending",
    () => {
      const error = new Error("failed input");
      const failed = new Future();
      failed.setException(error);
      assertThrows(() => waitAll([new Future(), failed]), (e) => e === error, "waitAll([pending, failed])");
    },
  ],
  [
    "errors are FutureError subclasses with their own names",
    () => {
      const fut = new Future();
      fut.setResult(1);
      const already = assertThrows(
        () => fut.setResult(2),
        (e) => e instanceof FutureAlreadyCompletedError,
        "second setResult",
      );
      assertEqual(fut.value(), 1, "first result kept");
      const derived = assertThrows(
        () => new Future().continueWith(() => 0).setResult(3),
        (e) => e instanceof DerivedFutureError,
        "setResult on a continueWith child",
      );
      const pending = assertThrows(
        () => new Future().value(),
        (e) => e instanceof FutureNotCompletedError,
        "value() on a pending future",
      );
      for (const error of [already, derived, pending]) {
        assert(error instanceof FutureError, `${error.name} is not a FutureError`);
        assert(error instanceof Error, `${error.name} is not an Error`);
        assertEqual(error.name, error.constructor.name, "name");
        assertEqual(typeof error.stack, "string", "stack");
      }
    },
  ],
  [
    "wait() on a pending future throws FutureNotCompletedError at once, pointing to await",
    () => {
      const fut = new Future();
      const error = assertThrows(() => fut.wait(), (e) => e instanceof FutureNotCompletedError, "wait()");
      assert(error.message.includes("await"), `the message does not mention await: ${error.message}`);
      assertEqual(fut.done(), false, "still pending");
    },
  ],
  [
    "a throwing addDoneCallback reaches window's 'error' event, asynchronously, and the others still run",
    async () => {
      const error = new Error("from a callback");
      const fut = new Future();
      const order = [];
      let seenAtReturn = -1;
      const { errors } = await captureUncaught((seen) => {
        fut.addDoneCallback(() => order.push(1));
        fut.addDoneCallback(() => {
          throw error;
        });
        fut.addDoneCallback(() => order.push(3));
        fut.setResult(0);
        seenAtReturn = seen.errors.length;
      });
      assertJsonEqual(order, [1, 3], "the other callbacks");
      assertEqual(seenAtReturn, 0, "errors reported before setResult returned");
      assertEqual(errors.length, 1, "error events");
      assertEqual(errors[0], error, "event.error");
    },
  ],
  [
    "a throwing callback added to a completed future: addDoneCallback returns, the error is reported",
    async () => {
      const fut = new Future();
      fut.setResult(0);
      let ran = false;
      const { errors } = await captureUncaught(() => {
        fut.addDoneCallback(() => {
          ran = true;
          throw "not an Error";
        });
      });
      assertEqual(ran, true, "ran inline");
      assertJsonEqual(errors, ["not an Error"], "error events");
    },
  ],
  [
    "setCallbackErrorHandler gets (error, future) synchronously; what it throws reaches window's 'error' event",
    async () => {
      const calls = [];
      const previous = setCallbackErrorHandler((error, fut) => calls.push([error, fut]));
      try {
        assertEqual(previous, undefined, "default handler");
        const error = new Error("handled");
        const fut = new Future();
        fut.addDoneCallback(() => {
          throw error;
        });
        fut.setResult(0);
        assertEqual(calls.length, 1, "handler calls");
        assertEqual(calls[0][0], error, "handler error");
        assertEqual(calls[0][1], fut, "handler future");

        const handlerError = new Error("the handler threw");
        setCallbackErrorHandler(() => {
          throw handlerError;
        });
        const { errors } = await captureUncaught(() => {
          const f = new Future();
          f.addDoneCallback(() => {
            throw new Error("replaced by the handler's");
          });
          f.setResult(0);
        });
        assertEqual(errors.length, 1, "error events");
        assertEqual(errors[0], handlerError, "event.error");
      } finally {
        setCallbackErrorHandler(previous);
      }
    },
  ],
  [
    "a failed future that nobody reads raises no unhandled rejection or error",
    async () => {
      const { errors, rejections } = await captureUncaught(() => {
        const fut = new Future();
        fut.then((v) => v);
        fut.continueWith((f) => f.value());
        fut.setException(new Error("never read"));
      }, 100);
      assertEqual(errors.length, 0, `error events (${errors.map(describe).join(", ")})`);
      assertEqual(rejections.length, 0, `unhandled rejections (${rejections.map(describe).join(", ")})`);
    },
  ],
  [
    `a chain of ${LINKS} continueWith links completes without a stack overflow`,
    () => {
      const head = new Future();
      let tail = head;
      for (let i = 0; i < LINKS; i++) tail = tail.continueWith((f) => f.value() + 1);
      head.setResult(0);
      assertEqual(tail.value(), LINKS, "tail value");
    },
  ],
  [
    `${LINKS} addDoneCallback -> setResult hops complete without a stack overflow`,
    () => {
      const futs = Array.from({ length: LINKS + 1 }, () => new Future());
      for (let i = 0; i < LINKS; i++) {
        const next = futs[i + 1];
        futs[i].addDoneCallback((f) => next.setResult(f.value() + 1));
      }
      futs[0].setResult(0);
      assertEqual(futs[LINKS].value(), LINKS, "last value");
    },
  ],
]);

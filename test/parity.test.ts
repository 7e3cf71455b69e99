// Parity with PyTorch's test/test_futures.py (class TestFuture, 22 cases in the
// newest version): one `it` per torch test, named after it. torch.ones(2, 2)
// becomes a nested number array; torch's ValueError/RuntimeError become local
// Error subclasses. Where the contract differs from torch, the test asserts the
// contract and a comment names the difference.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Future,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  collectAll,
  setCallbackErrorHandler,
  waitAll,
} from "../src/index.js";

type Tensor = number[][];

function ones(): Tensor {
  return [
    [1, 1],
    [1, 1],
  ];
}

function add(t: Tensor, n: number): Tensor {
  return t.map((row) => row.map((x) => x + n));
}

// torch's test module uses `add_one` for its chained-then test.
function addOne(fut: Future<Tensor>): Tensor {
  return add(fut.wait(), 1);
}

class ValueError extends Error {
  override name = "ValueError";
}

class RuntimeError extends Error {
  override name = "RuntimeError";
}

interface Reported {
  error: unknown;
  future: Future;
}

/** Runs `body` with a callback-error handler that records every report, then restores the previous handler. */
function withCallbackErrors(body: (reported: Reported[]) => void): void {
  const reported: Reported[] = [];
  const previous = setCallbackErrorHandler((error, future) => {
    reported.push({ error, future });
  });
  try {
    body(reported);
  } finally {
    setCallbackErrorHandler(previous);
  }
}

/** torch's `_test_then_error`: the child of a callback that fails on a future completed with 5. */
function thenError<S>(cb: (fut: Future<number>) => S): Future<S> {
  const fut = new Future<number>();
  const thenFut = fut.continueWith(cb);
  fut.setResult(5);
  assert.equal(fut.wait(), 5);
  return thenFut;
}

/** torch's `_test_add_done_callback_error_ignored`. */
function addDoneCallbackErrorIgnored(cb: (fut: Future<number>) => void): { fut: Future<number>; reported: Reported[] } {
  const fut = new Future<number>();
  let seen: Reported[] = [];
  withCallbackErrors((reported) => {
    seen = reported;
    fut.addDoneCallback(cb);
    fut.setResult(5); // returns normally: callback errors never escape setResult
  });
  assert.equal(fut.wait(), 5);
  return { fut, reported: seen };
}

describe("parity with torch test/test_futures.py (TestFuture)", () => {
  it("test_set_exception", () => {
    const valueError = new ValueError("Intentional Value Error");

    let f = new Future<number>();
    f.setException(valueError);
    assert.throws(() => f.wait(), (e: unknown) => e === valueError);

    f = new Future<number>();
    f.setException(valueError);
    assert.throws(() => f.value(), (e: unknown) => e === valueError);

    f = new Future<number>();
    f.setException(valueError);
    const cbFut = f.continueWith((fut) => {
      fut.value();
    });
    assert.equal(cbFut.done(), true);
    // Differs from torch: the child holds the thrown value itself, not a RuntimeError "Got the following error…".
    assert.throws(
      () => {
        cbFut.wait();
      },
      (e: unknown) => e === valueError,
    );
  });

  it("test_set_exception_multithreading", async () => {
    const valueError = new ValueError("Intentional Value Error");

    // The waiting thread becomes an awaiting task: wait() cannot block for a future only this thread completes.
    let f = new Future<number>();
    assert.throws(() => f.wait(), FutureNotCompletedError);
    const waiter = assert.rejects(
      async () => {
        await f;
      },
      (e: unknown) => e === valueError,
    );
    f.setException(valueError);
    await waiter;

    const thenFuture = async (parent: Future<number>): Promise<void> => {
      const fut = parent.continueWith((x) => {
        x.value();
      });
      // Differs from torch: the thrown value itself reaches the child, not a RuntimeError wrapper.
      await assert.rejects(
        async () => {
          await fut;
        },
        (e: unknown) => e === valueError,
      );
      assert.throws(
        () => {
          fut.wait();
        },
        (e: unknown) => e === valueError,
      );
    };
    f = new Future<number>();
    const task = thenFuture(f);
    f.setException(valueError);
    await task;
  });

  it("test_done", () => {
    const f = new Future<Tensor>();
    assert.equal(f.done(), false);
    f.setResult(ones());
    assert.equal(f.done(), true);
  });

  it("test_done_exception", () => {
    const err = new RuntimeError("Intentional Value Error");
    const raiseException = (): never => {
      throw err;
    };

    const f1 = new Future<Tensor>();
    assert.equal(f1.done(), false);
    const t = ones();
    f1.setResult(t);
    assert.equal(f1.done(), true);

    // On a completed future the callback runs inline, so the child is done at once.
    const f2 = f1.continueWith(raiseException);
    assert.equal(f2.done(), true);
    // Differs from torch: the thrown value itself, not a new RuntimeError carrying its message.
    assert.throws(() => f2.wait(), (e: unknown) => e === err);
    assert.equal(f1.wait(), t);
  });

  it("test_wait", () => {
    const f = new Future<Tensor>();
    const t = ones();
    f.setResult(t);
    assert.equal(f.wait(), t);
    assert.deepEqual(f.wait(), ones());
  });

  it("test_wait_multi_thread", async () => {
    const f = new Future<Tensor>();
    const t = ones();
    // Differs from torch: wait() cannot block on a future only this thread completes; it throws and points to await.
    assert.throws(
      () => f.wait(),
      (e: unknown) => e instanceof FutureNotCompletedError && e instanceof FutureError && /await/.test(e.message),
    );
    assert.equal(f.done(), false);

    // The slow setter thread becomes a timer; `await` is the non-blocking wait.
    setTimeout(() => {
      f.setResult(t);
    }, 20);
    const got = await f;
    assert.equal(got, t);
    assert.deepEqual(got, ones());
    assert.equal(f.wait(), t);
  });

  it("test_mark_future_twice", () => {
    const fut = new Future<number>();
    fut.setResult(1);
    // Differs from torch: a typed FutureAlreadyCompletedError instead of RuntimeError.
    assert.throws(
      () => {
        fut.setResult(1);
      },
      (e: unknown) => e instanceof FutureAlreadyCompletedError && e instanceof FutureError && /only once/.test(e.message),
    );
    assert.equal(fut.wait(), 1);

    // Differs from torch: a refused setException leaves the result intact (in torch it corrupts the stored value).
    assert.throws(() => {
      fut.setException(new ValueError("late"));
    }, FutureAlreadyCompletedError);
    assert.equal(fut.done(), true);
    assert.equal(fut.wait(), 1);
    assert.equal(fut.value(), 1);
  });

  it("test_pickle_future", () => {
    // No pickling in JS: JSON serialization is the analogue, and it is refused (TypeError, not RuntimeError).
    const fut = new Future<number>();
    assert.throws(() => JSON.stringify(fut), (e: unknown) => e instanceof TypeError && /JSON/.test(e.message));
    assert.throws(() => JSON.stringify({ nested: [fut] }), TypeError);
    assert.equal(fut.done(), false);
  });

  it("test_then", () => {
    const fut = new Future<Tensor>();
    const thenFut = fut.continueWith((x) => add(x.wait(), 1));
    assert.equal(thenFut.done(), false);

    const t = ones();
    fut.setResult(t);
    assert.equal(fut.wait(), t);
    assert.deepEqual(fut.wait(), ones());
    assert.equal(thenFut.done(), true);
    assert.deepEqual(thenFut.wait(), add(ones(), 1));
  });

  it("test_chained_then", () => {
    const fut = new Future<Tensor>();
    const futs: Future<Tensor>[] = [];
    let lastFut = fut;
    for (let i = 0; i < 20; i++) {
      lastFut = lastFut.continueWith(addOne);
      futs.push(lastFut);
    }
    assert.equal(futs.some((f) => f.done()), false);

    fut.setResult(ones());

    futs.forEach((f, i) => {
      assert.deepEqual(f.wait(), add(ones(), i + 1));
    });
  });

  it("test_then_wrong_arg", () => {
    // Using the future as if it were its value fails with a TypeError, as in torch (there wrapped in RuntimeError).
    const wrongArg = (tensor: Tensor): Tensor => add(tensor, 1);
    const thenFut = thenError(wrongArg as unknown as (fut: Future<number>) => Tensor);
    assert.equal(thenFut.done(), true);
    assert.throws(
      () => thenFut.wait(),
      (e: unknown) => e instanceof TypeError && /is not a function/.test(e.message),
    );
  });

  it("test_then_no_arg", () => {
    // Differs from torch: JS ignores extra arguments, so a zero-parameter callback is valid and runs.
    const noArg = (): boolean => true;
    const thenFut = thenError(noArg);
    assert.equal(thenFut.done(), true);
    assert.equal(thenFut.wait(), true);

    // The closest failure: a non-function callback is a TypeError, thrown by continueWith itself.
    const fut = new Future<number>();
    assert.throws(() => fut.continueWith(true as unknown as () => boolean), TypeError);
    fut.setResult(5);
    assert.equal(fut.wait(), 5);
  });

  it("test_then_raise", () => {
    const expected = new ValueError("Expected error");
    const raiseValueError = (): never => {
      throw expected;
    };
    const thenFut = thenError(raiseValueError);
    // Differs from torch: the ValueError itself, not a RuntimeError whose message contains it.
    assert.throws(() => thenFut.wait(), (e: unknown) => e === expected);
    assert.throws(() => thenFut.value(), (e: unknown) => e instanceof ValueError && e.message === "Expected error");
  });

  it("test_add_done_callback_simple", () => {
    let callbackResult = false;
    const callback = (fut: Future<Tensor>): void => {
      fut.wait();
      callbackResult = true;
    };

    const fut = new Future<Tensor>();
    fut.addDoneCallback(callback);

    assert.equal(callbackResult, false);
    const t = ones();
    fut.setResult(t);
    assert.equal(fut.wait(), t);
    assert.equal(callbackResult, true);
  });

  it("test_add_done_callback_maintains_callback_order", () => {
    let callbackResult = 0;
    const order: string[] = [];
    const callbackSet1 = (fut: Future<Tensor>): void => {
      fut.wait();
      callbackResult = 1;
      order.push("set1");
    };
    const callbackSet2 = (fut: Future<Tensor>): void => {
      fut.wait();
      callbackResult = 2;
      order.push("set2");
    };

    const fut = new Future<Tensor>();
    fut.addDoneCallback(callbackSet1);
    fut.addDoneCallback(callbackSet2);

    const t = ones();
    fut.setResult(t);
    assert.equal(fut.wait(), t);
    // set2 is called last.
    assert.equal(callbackResult, 2);
    assert.deepEqual(order, ["set1", "set2"]);
  });

  it("test_add_done_callback_error_is_ignored", () => {
    const expected = new ValueError("Expected error");
    const raiseValueError = (): never => {
      throw expected;
    };
    const { fut, reported } = addDoneCallbackErrorIgnored(raiseValueError);
    // Differs from torch: the error goes to the callback-error handler instead of a log line.
    assert.equal(reported.length, 1);
    const [first] = reported;
    assert.ok(first !== undefined);
    assert.equal(first.error, expected);
    assert.equal(first.future, fut);

    // Registering on a completed future runs inline; addDoneCallback does not throw either.
    withCallbackErrors((again) => {
      fut.addDoneCallback(raiseValueError);
      assert.equal(again.length, 1);
      const [inline] = again;
      assert.ok(inline !== undefined);
      assert.equal(inline.error, expected);
      assert.equal(inline.future, fut);
    });
    assert.equal(fut.wait(), 5);
  });

  it("test_add_done_callback_no_arg_error_is_ignored", () => {
    // Differs from torch: JS ignores extra arguments, so the zero-parameter callback runs without error.
    let calls = 0;
    const noArg = (): boolean => {
      calls++;
      return true;
    };
    const { reported } = addDoneCallbackErrorIgnored(noArg);
    assert.equal(calls, 1);
    assert.deepEqual(reported, []);

    // The closest failure: a non-function callback is a TypeError, thrown by addDoneCallback itself.
    const fut = new Future<number>();
    assert.throws(() => {
      fut.addDoneCallback(null as unknown as () => void);
    }, TypeError);
    fut.setResult(5);
    assert.equal(fut.wait(), 5);
  });

  it("test_interleaving_then_and_add_done_callback_maintains_callback_order", () => {
    let callbackResult = 0;
    const order: string[] = [];
    const callbackSet1 = (fut: Future<Tensor>): void => {
      fut.wait();
      callbackResult = 1;
      order.push("set1");
    };
    const callbackSet2 = (fut: Future<Tensor>): void => {
      fut.wait();
      callbackResult = 2;
      order.push("set2");
    };
    const callbackThen = (fut: Future<Tensor>): Tensor => {
      order.push("then");
      return add(fut.wait(), callbackResult);
    };

    const fut = new Future<Tensor>();
    fut.addDoneCallback(callbackSet1);
    const thenFut = fut.continueWith(callbackThen);
    fut.addDoneCallback(callbackSet2);

    const t = ones();
    fut.setResult(t);
    assert.equal(fut.wait(), t);
    // thenFut's callback ran with callbackResult = 1.
    assert.deepEqual(thenFut.wait(), add(ones(), 1));
    // set2 is called last.
    assert.equal(callbackResult, 2);
    assert.deepEqual(order, ["set1", "then", "set2"]);
  });

  it("test_interleaving_then_and_add_done_callback_propagates_error", () => {
    const raised: ValueError[] = [];
    const raiseValueError = (): never => {
      const error = new ValueError("Expected error");
      raised.push(error);
      throw error;
    };

    const fut = new Future<Tensor>();
    const t = ones();
    let thenFut: Future<never> | undefined;
    withCallbackErrors((reported) => {
      thenFut = fut.continueWith(raiseValueError);
      fut.addDoneCallback(raiseValueError);
      fut.setResult(t);
      assert.equal(raised.length, 2);
      // Differs from torch: the addDoneCallback error is reported to the handler, not swallowed into a log.
      assert.equal(reported.length, 1);
      const [first] = reported;
      assert.ok(first !== undefined);
      assert.equal(first.error, raised[1]);
      assert.equal(first.future, fut);
    });

    assert.equal(fut.wait(), t);
    assert.ok(thenFut !== undefined);
    const child = thenFut;
    // Differs from torch: the then-callback's own ValueError, not a RuntimeError wrapper.
    assert.throws(() => child.wait(), (e: unknown) => e === raised[0]);
  });

  it("test_collect_all", async () => {
    const fut1 = new Future<number>();
    const fut2 = new Future<number>();
    const futAll = collectAll([fut1, fut2]);

    fut2.setResult(2);
    assert.equal(futAll.done(), false);
    // Differs from torch: wait() on the pending result throws instead of blocking; await is the wait.
    assert.throws(() => futAll.wait(), FutureNotCompletedError);
    // The slow thread becomes a timer.
    setTimeout(() => {
      fut1.setResult(1);
    }, 10);

    const res = await futAll;
    assert.equal(res.length, 2);
    assert.equal(res[0].wait(), 1);
    assert.equal(res[1].wait(), 2);
    // Differs from torch: the elements are the input futures themselves, not new wrappers.
    assert.equal(res[0], fut1);
    assert.equal(res[1], fut2);
    assert.equal(futAll.wait(), res);
  });

  it("test_wait_all", () => {
    const fut1 = new Future<number>();
    const fut2 = new Future<number>();

    fut1.setResult(1);
    fut2.setResult(2);
    const res = waitAll([fut1, fut2]);
    assert.deepEqual(res, [1, 2]);

    const expected = new ValueError("Expected error");
    const raiseInFut = (): never => {
      throw expected;
    };
    const fut3 = fut1.continueWith(raiseInFut);
    // Differs from torch: the ValueError itself, not a RuntimeError carrying its message.
    assert.throws(() => waitAll([fut3, fut2]), (e: unknown) => e === expected);

    // Differs from torch: one error rule for callback and setException errors — a failed input
    // throws even while another is pending, and among failed ones the first in list order wins.
    const pending = new Future<number>();
    const fut4 = new Future<number>();
    const other = new ValueError("set later, listed first");
    fut4.setException(other);
    assert.throws(() => waitAll([pending, fut3]), (e: unknown) => e === expected);
    assert.throws(() => waitAll([pending, fut4, fut3]), (e: unknown) => e === other);
    assert.throws(() => waitAll([fut2, pending]), FutureNotCompletedError);
    assert.equal(pending.done(), false);
  });

  it("test_wait_none", () => {
    const fut1 = new Future<number>();
    // torch.jit.wait(None) has no equivalent (there is no free wait function); the other two checks map.
    // Differs from torch: a TypeError naming the index, not RuntimeError "Future can't be None".
    assert.throws(
      () => waitAll([null] as unknown as Future[]),
      (e: unknown) => e instanceof TypeError && /index 0/.test(e.message),
    );
    assert.throws(
      () => collectAll([fut1, null] as unknown as Future[]),
      (e: unknown) => e instanceof TypeError && /index 1/.test(e.message),
    );
    // Argument checks come first: a bad element wins over a pending input.
    assert.throws(
      () => waitAll([fut1, undefined] as unknown as Future[]),
      (e: unknown) => e instanceof TypeError && /index 1/.test(e.message),
    );

    // The refused calls left fut1 untouched.
    assert.equal(fut1.done(), false);
    fut1.setResult(1);
    assert.deepEqual(waitAll([fut1]), [1]);
  });
});

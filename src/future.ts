/**
 * The `Future`: torch's `torch.futures.Future` with TypeScript names, and a
 * Promises/A+ `then` so that `await` and `Promise.all` accept it.
 *
 * @module
 */
import {
  enqueue,
  feeding,
  isDerived,
  isDone,
  isShared,
  run,
  settle,
  type Entry,
  type Producer,
  type Slot,
} from "./callback-queue.js";
import type * as states from "./states.js";
import {
  DerivedFutureError,
  FutureAlreadyCompletedError,
  FutureNotCompletedError,
  FutureTimeoutError,
} from "./errors.js";
import { remote, remoteIfAny } from "./remote.js";
import { ThenReaction } from "./thenable.js";
import { describeValue } from "./describe.js";

// Module-local copies of the states: V8 folds these, never an imported binding (see states.ts).
const PENDING: typeof states.PENDING = 0;
const PENDING_DERIVED: typeof states.PENDING_DERIVED = 1;
const PENDING_SHARED: typeof states.PENDING_SHARED = 2;
const FULFILLED: typeof states.FULFILLED = 3;
const REJECTED: typeof states.REJECTED = 4;

/**
 * Options for `setResult` and `setException`. They matter only for a future
 * that another thread may complete or observe (see `torch-futures/threads`).
 */
export interface CompleteOptions {
  /**
   * `ArrayBuffer`s (or `MessagePort`s) to transfer rather than copy when the
   * value crosses to another thread: zero-copy, and the sender loses them, as
   * with `postMessage(value, transfer)`. Ignored for a future only this
   * thread knows.
   */
  readonly transfer?: readonly object[];
}

/**
 * A value that will be set later, by hand: torch's `torch.futures.Future`.
 *
 * Complete it once with {@link Future.setResult} or {@link Future.setException};
 * callbacks registered with {@link Future.continueWith} (torch's `then`) or
 * {@link Future.addDoneCallback} run synchronously, in registration order,
 * before that call returns. Read it synchronously with {@link Future.done},
 * {@link Future.value} and {@link Future.wait}, or asynchronously with
 * `await fut` — a `Future` is a Promises/A+ thenable, so `Promise.all`,
 * `Promise.race` and `Promise.resolve` accept it too.
 *
 * An error stored in a future is never an unhandled rejection: a failed future
 * that nobody reads is simply garbage-collected, as in torch.
 *
 * @typeParam T - the type of the result.
 *
 * @example
 * ```ts
 * const fut = new Future<number>();
 * const doubled = fut.continueWith((f) => f.value() * 2);
 * fut.setResult(21);      // runs the callback before it returns
 * doubled.value();        // 42
 * await doubled;          // 42
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  /**
   * @internal PENDING, PENDING_DERIVED, PENDING_SHARED, FULFILLED or REJECTED — or,
   * for a pending `continueWith` child, the callback that will produce its result.
   */
  declare _state: number | Producer;
  /** @internal Callbacks while pending (one entry or a list); the result or error once done. */
  declare _value: unknown;

  /**
   * Creates a pending future. Complete it with `setResult` or `setException`.
   *
   * @example
   * ```ts
   * const fut = new Future<string>();
   * fut.done(); // false
   * ```
   */
  constructor() {
    this._state = PENDING;
    this._value = undefined;
  }

  /**
   * Whether the future is completed, with a result or with an error. It is
   * already `true` inside the future's own callbacks.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * fut.done(); // false
   * fut.setResult(1);
   * fut.done(); // true
   * ```
   */
  done(): boolean {
    const state = this._state;
    if (isDone(state)) return true;
    if (!isShared(state)) return false;
    // Another thread may have completed it already: take that in now.
    remote().poll(this);
    return isDone(this._state);
  }

  /**
   * Completes the future with `result` (stored by reference, never copied or
   * unwrapped, even if it is a promise) and runs every pending callback,
   * synchronously, before returning. Errors thrown by callbacks do not escape.
   *
   * @throws {@link FutureAlreadyCompletedError} if the future is already
   * completed; its result or error stays as it was.
   * @throws {@link DerivedFutureError} on a future returned by `continueWith`,
   * `then` or `collectAll`, which completes by itself.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * fut.addDoneCallback((f) => console.log("got", f.value()));
   * fut.setResult(7); // prints "got 7" before returning
   * ```
   */
  setResult(result: T, options?: CompleteOptions): void {
    if (this._state !== PENDING) {
      this._completeSlow("setResult", FULFILLED, result, options);
      return;
    }
    const cbs = this._value;
    this._state = FULFILLED;
    this._value = result;
    if (cbs !== undefined) run(this, cbs);
  }

  /**
   * Completes the future with an error — any value, as with `throw` — and runs
   * every pending callback, synchronously, before returning. `wait()` and
   * `value()` then throw this very value.
   *
   * @throws {@link FutureAlreadyCompletedError} if the future is already
   * completed; its result or error stays as it was.
   * @throws {@link DerivedFutureError} on a future returned by `continueWith`,
   * `then` or `collectAll`.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * const boom = new RangeError("out of range");
   * fut.setException(boom);
   * try { fut.wait(); } catch (e) { e === boom; } // true
   * ```
   */
  setException(error: unknown, options?: CompleteOptions): void {
    if (this._state !== PENDING) {
      this._completeSlow("setException", REJECTED, error, options);
      return;
    }
    settle(this, REJECTED, error);
  }

  /**
   * torch's `then`: returns a new future that completes with what `callback`
   * returns once this future is complete — or with the very value it throws.
   * The callback receives this future and runs whether it succeeded or failed;
   * an error passes on only if the callback reads it with `value()`/`wait()`.
   * The return value is stored as is: returning a promise or a future gives a
   * future holding that object, as in torch. On a completed future the
   * callback runs before `continueWith` returns.
   *
   * @throws TypeError if `callback` is not a function.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * const chained = fut
   *   .continueWith((f) => f.value() + 1)
   *   .continueWith((f) => `got ${f.value()}`);
   * fut.setResult(1);
   * chained.value(); // "got 2"
   * ```
   */
  continueWith<S>(callback: (fut: Future<T>) => S): Future<S> {
    if (typeof callback !== "function") throw callbackTypeError("continueWith", callback);
    const child = new Future<S>();
    child._state = callback;
    const state = this._state;
    // Completed, shared or derived-by-then: through _register. A plain pending future or a pending
    // continueWith child (a chain link) takes its first callback right here (chains 7–12% faster than
    // through _register, 2–3% faster than through enqueue, whose first branch this repeats).
    if (typeof state === "number" && state !== PENDING) this._register(child);
    else if (this._value === undefined) this._value = child;
    else enqueue(this, child);
    return child;
  }

  /**
   * Registers `callback` to run with this future once it completes —
   * synchronously, in registration order with `continueWith` callbacks — or at
   * once if it is already complete. An error thrown by the callback does not
   * stop the other callbacks and does not escape `setResult` (nor
   * `addDoneCallback`); it is reported like an error thrown by an event
   * listener: raised as an uncaught error from a microtask, unless a handler is
   * installed with {@link setCallbackErrorHandler}.
   *
   * @throws TypeError if `callback` is not a function.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * fut.addDoneCallback((f) => console.log("first", f.value()));
   * fut.addDoneCallback((f) => console.log("second", f.value()));
   * fut.setResult(3); // prints "first 3", then "second 3"
   * ```
   */
  addDoneCallback(callback: (fut: Future<T>) => void): void {
    if (typeof callback !== "function") throw callbackTypeError("addDoneCallback", callback);
    // The hot path, a plain pending future, appends right here; the rest goes through _register.
    if (this._state === PENDING) enqueue(this, callback);
    else this._register(callback);
  }

  /**
   * Returns the result, or throws the stored error (the same value, untouched).
   * As in torch, `wait()` blocks until the future completes: a future that
   * another thread can complete (see `torch-futures/threads`) blocks this
   * thread for real, running the future's callbacks before returning — and so
   * does a future derived from one through `continueWith` or `collectAll` (it
   * completes inside that future's completion). But a
   * future that only this thread can complete would never complete while the
   * thread is blocked, so on such a pending future `wait()` throws at once
   * instead of hanging: use `await fut` to wait without blocking.
   *
   * @param timeoutMs - how long to block at most, in milliseconds; none by default.
   * @throws the stored error, if the future failed.
   * @throws {@link FutureNotCompletedError} if the future is pending and only
   * this thread can complete it.
   * @throws {@link FutureTimeoutError} if `timeoutMs` passed first; the future
   * stays pending.
   * @throws TypeError if `timeoutMs` is not a number >= 0.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * fut.setResult(5);
   * fut.wait(); // 5
   * ```
   */
  wait(timeoutMs?: number): T {
    if (timeoutMs !== undefined) deadlineOf(timeoutMs, "wait");
    const state = this._state;
    if (typeof state === "number") {
      if (state === FULFILLED) return this._value as T;
      if (state === REJECTED) throw this._value;
    }
    return this._block(timeoutMs);
  }

  /**
   * Returns the result of a completed future, or throws its error (the same
   * value, untouched). Never waits.
   *
   * @throws the stored error, if the future failed.
   * @throws {@link FutureNotCompletedError} if the future is pending.
   *
   * @example
   * ```ts
   * const fut = new Future<string>();
   * fut.setResult("ready");
   * fut.value(); // "ready"
   * ```
   */
  value(): T {
    const state = this._state;
    // typeof first: a pending continueWith child holds a function here (see isDone).
    if (typeof state === "number") {
      if (state === FULFILLED) return this._value as T;
      if (state === REJECTED) throw this._value;
      if (state === PENDING_SHARED && this.done()) return this.value();
    }
    throw new FutureNotCompletedError(
      "value() was called on a pending future; value() never waits. Check done() first, read it " +
        "inside a callback (addDoneCallback/continueWith), or use `await fut` to wait for it.",
    );
  }

  /**
   * Promises/A+ `then`, so that `await fut`, `Promise.all([fut])` and
   * `Promise.resolve(fut)` work. The handlers run asynchronously (in a
   * microtask) with the result or the error; thenables they return are
   * adopted. Returns a new `Future`. For torch's `then`, see
   * {@link Future.continueWith}.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * setTimeout(() => fut.setResult(42), 10);
   * const n = await fut; // 42
   * const [a, b] = await Promise.all([fut, Promise.resolve("x")]); // [42, "x"]
   * ```
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Future<R1 | R2> {
    const child = new Future<R1 | R2>();
    child._state = PENDING_DERIVED;
    this._register(new ThenReaction(onFulfilled, onRejected, child));
    return child;
  }

  /**
   * Refuses serialization: a future is a handle to a value that may not exist
   * yet, so `JSON.stringify(fut)` throws instead of printing `{}` (torch
   * refuses to pickle one). Serialize the value instead.
   *
   * @throws TypeError always.
   *
   * @example
   * ```ts
   * const fut = new Future<number>();
   * fut.setResult(1);
   * JSON.stringify(fut.value()); // "1"
   * JSON.stringify(fut);         // throws TypeError
   * ```
   */
  toJSON(): never {
    throw new TypeError(
      "A Future cannot be converted to JSON: it is a handle to a value, not the value. " +
        "Serialize its value instead: JSON.stringify(fut.value()) or JSON.stringify(await fut).",
    );
  }

  /**
   * `"Future"`, so that `Object.prototype.toString.call(fut)` is `"[object Future]"`.
   *
   * @example
   * ```ts
   * String(new Future()); // "[object Future]"
   * ```
   */
  get [Symbol.toStringTag](): string {
    return "Future";
  }

  /** @internal Shows the state in Node's `util.inspect` and `console.log`. */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    const state = this._state;
    if (state === FULFILLED) return `Future { ${inspect(this._value, options)} }`;
    if (state === REJECTED) return `Future { <failed> ${inspect(this._value, options)} }`;
    return "Future { <pending> }";
  }

  /** @internal Queues `entry`, or runs it now if the future is done (inline, as in torch). */
  _register(entry: Entry): void {
    const state = this._state;
    if (isDone(state)) {
      run(this, entry);
    } else {
      enqueue(this, entry);
      // Someone on this thread now waits for a cross-thread future: the layer keeps the event loop alive.
      if (isShared(state)) remote().watch(this);
    }
  }

  /** @internal `wait()` on a pending future: blocks if another thread can complete it, else throws. */
  _block(timeoutMs: number | undefined): T {
    const deadline = deadlineOf(timeoutMs, "wait");
    for (;;) {
      const sources = sourcesOf(this);
      if (sources === undefined) {
        throw new FutureNotCompletedError(
          "wait() cannot block on this pending future: only this thread can complete it, so blocking " +
            "would wait forever. Use `await fut` (or fut.then(...)) to wait without blocking, or " +
            "complete it first with setResult()/setException().",
        );
      }
      remote().blockUntilAny(sources, deadline);
      if (isDone(this._state)) return this.value();
      if (performance.now() >= deadline) {
        throw new FutureTimeoutError(
          `wait(${String(timeoutMs)}) timed out: the future is still pending, and can still complete. ` +
            "Wait again, or use `await fut` to wait without blocking.",
        );
      }
    }
  }

  /** @internal setResult/setException on a future that is not a plain pending one. */
  _completeSlow(method: string, state: number, value: unknown, options: CompleteOptions | undefined): void {
    if (this._state === PENDING_SHARED) remote().complete(this, state, value, options?.transfer);
    else this._refuse(method);
  }

  /** @internal Throws the right error for a completion that is not allowed. */
  _refuse(method: string): never {
    if (isDerived(this._state)) {
      throw new DerivedFutureError(
        `${method}() was called on a future returned by continueWith(), then() or collectAll(); ` +
          "it completes by itself, with the outcome of its callback or inputs, and cannot be " +
          "completed by hand. Create a new Future() to complete one yourself.",
      );
    }
    const held = this._state === FULFILLED ? "a result" : "an error";
    throw new FutureAlreadyCompletedError(
      `${method}() was called on a future that is already completed with ${held}. A Future can ` +
        "be completed only once; its first result or error is kept unchanged.",
    );
  }
}

/**
 * The pending futures that other threads complete and whose completion
 * completes `fut` (`fut` itself if it is shared; for a derived future, the
 * shared futures that feed it), or `undefined` if there are none: then only
 * this thread can complete it, and blocking would wait forever. Callers
 * that ask for several futures at once pass one `known` object, so that the
 * thread's pending shared futures are listed once, not once per future.
 *
 * @internal
 */
export function sourcesOf(fut: Future, known: { shared?: Slot[] } = {}): Slot[] | undefined {
  if (isShared(fut._state)) return [fut];
  const sources = feeding((known.shared ??= remoteIfAny()?.pendingShared() ?? []), fut);
  return sources.length > 0 ? sources : undefined;
}

/**
 * Checks a `wait`/`waitAll` timeout (milliseconds; `undefined` for none) and
 * returns its deadline on the `performance.now()` clock.
 *
 * @internal
 */
export function deadlineOf(timeoutMs: number | undefined, method: string): number {
  if (timeoutMs === undefined) return Infinity;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new TypeError(
      `${method}() expects a timeout in milliseconds (a number >= 0, or undefined for none), got ${describeValue(timeoutMs)}.`,
    );
  }
  return performance.now() + timeoutMs;
}

function callbackTypeError(method: string, callback: unknown): TypeError {
  return new TypeError(
    `${method}() expects a function that receives the future, got ${describeValue(callback)}.`,
  );
}

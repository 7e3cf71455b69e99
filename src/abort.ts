/**
 * Giving up on futures: an `AbortSignal` that fails a future, a timeout that
 * fails a derived one, and the bridge from a Promise (the way back needs
 * nothing: a `Future` is a thenable, so `Promise.resolve(fut)` is a Promise).
 * The timer and signal helpers the waits share live here too.
 *
 * @module
 */
import { dequeue, enqueue, isDerived, isDone, settle, settleInLoop, type Reaction, type Slot } from "./callback-queue.js";
import type * as states from "./states.js";
import { DerivedFutureError, FutureAlreadyCompletedError, FutureTimeoutError } from "./errors.js";
import { Future, deadlineOf } from "./future.js";
import { describeValue } from "./describe.js";

const PENDING_DERIVED: typeof states.PENDING_DERIVED = 1;
const FULFILLED: typeof states.FULFILLED = 3;
const REJECTED: typeof states.REJECTED = 4;

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** Fails the returned future with `signal.reason` when it aborts first. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Makes `fut` fail with `signal.reason` when `signal` aborts before `fut`
 * completes — at once if it has already aborted. Once `fut` completes by
 * other means, the listener is taken off the signal, so a long-lived signal
 * keeps no listener per future. A future another thread completes first
 * keeps that thread's outcome. Returns `fut`.
 *
 * @param fut - a future completed by hand (`new Future()`, or a shared one);
 * a completed one is left as it is.
 * @throws TypeError if `fut` is not a `Future` or `signal` not an `AbortSignal`.
 * @throws {@link DerivedFutureError} if `fut` is a pending future the library
 * completes (`continueWith`, `collectAll`…): use `withTimeout(fut, Infinity,
 * { signal })` for a derived future that fails on abort.
 *
 * @example
 * ```ts
 * import { Future, failOnAbort } from "torch-futures";
 *
 * const controller = new AbortController();
 * const reply = failOnAbort(new Future<string>(), controller.signal);
 * controller.abort(new Error("user cancelled"));
 * reply.done(); // true; reply.wait() throws the Error "user cancelled"
 * ```
 */
export function failOnAbort<T>(fut: Future<T>, signal: AbortSignal): Future<T> {
  if (!(fut instanceof Future)) {
    throw new TypeError(`failOnAbort() expects a Future as its first argument, got ${describeValue(fut)}.`);
  }
  checkSignal(signal, "failOnAbort", true);
  if (fut.done()) return fut;
  if (isDerived(fut._state)) {
    throw new DerivedFutureError(
      "failOnAbort() cannot fail a future returned by continueWith(), then(), collectAll() or another " +
        "combinator: it completes by itself. Use `withTimeout(fut, Infinity, { signal })` to get a future " +
        "that fails on abort instead.",
    );
  }
  if (signal.aborted) {
    fut.setException(signal.reason);
    return fut;
  }
  const unlisten = onAbort(signal, () => {
    try {
      fut.setException(signal.reason);
    } catch (error) {
      // Another thread completed it first: its outcome stands.
      if (!(error instanceof FutureAlreadyCompletedError)) throw error;
    }
  });
  // Not _register: for a shared future that would keep the event loop alive just for the listener.
  enqueue(fut, new Unlisten(unlisten));
  return fut;
}

/** Takes an abort listener off its signal when the future completes. */
class Unlisten implements Reaction {
  private declare readonly unlisten: () => void;

  constructor(unlisten: () => void) {
    this.unlisten = unlisten;
  }

  _run(): void {
    this.unlisten();
  }

  _completes(): undefined {
    return undefined;
  }
}

/**
 * Returns a future that completes like `fut`, unless `timeoutMs` passes first
 * (it fails with {@link FutureTimeoutError}) or `options.signal` aborts first
 * (it fails with `signal.reason`; at once if it has already aborted). `fut`
 * itself is never touched: it stays pending and can still complete. Whichever
 * comes first, the rest is cleaned up — the timer cleared, the listener taken
 * off the signal, the callback taken off `fut` — so a long-lived `fut` or
 * signal collects nothing. The returned future is derived: completing it by
 * hand throws {@link DerivedFutureError}.
 *
 * A timer cannot fire while the thread is blocked: to block with a timeout, use
 * `fut.wait(timeoutMs)`; this is for `await` and callbacks.
 *
 * @param timeoutMs - milliseconds, a number >= 0; `Infinity` for none.
 * @throws TypeError if `fut` is not a `Future`, `timeoutMs` is not a number
 * >= 0, or `options.signal` is not an `AbortSignal`.
 *
 * @example
 * ```ts
 * import { Future, FutureTimeoutError, withTimeout } from "torch-futures";
 *
 * const reply = new Future<string>();
 * try {
 *   await withTimeout(reply, 50);
 * } catch (error) {
 *   error instanceof FutureTimeoutError; // true; reply is still pending
 * }
 * ```
 */
export function withTimeout<T>(fut: Future<T>, timeoutMs: number, options?: WithTimeoutOptions): Future<T> {
  if (!(fut instanceof Future)) {
    throw new TypeError(`withTimeout() expects a Future as its first argument, got ${describeValue(fut)}.`);
  }
  if ((timeoutMs as unknown) === undefined) {
    throw new TypeError("withTimeout() expects a timeout in milliseconds (a number >= 0, or Infinity for none), got undefined.");
  }
  const deadline = deadlineOf(timeoutMs, "withTimeout");
  const signal = checkSignal(options?.signal, "withTimeout", false);
  const result = new Future<T>();
  if (signal?.aborted === true) {
    result._state = REJECTED;
    result._value = signal.reason;
    return result;
  }
  if (fut.done()) {
    result._state = fut._state;
    result._value = fut._value;
    return result;
  }
  result._state = PENDING_DERIVED;
  const race = new TimeoutRace(fut, result);
  race.stopTimer = startTimer(deadline, () => {
    race.giveUp(new FutureTimeoutError(
      `withTimeout(…, ${String(timeoutMs)}) timed out: the future is still pending, and can still complete. ` +
        "Wait for it again, or with a longer timeout.",
    ));
  });
  if (signal !== undefined) {
    race.unlisten = onAbort(signal, () => {
      race.giveUp(signal.reason);
    });
  }
  fut._register(race);
  return result;
}

/** The callback `withTimeout` puts on its input, and what its timer and signal do. */
class TimeoutRace implements Reaction {
  private declare readonly input: Future;
  private declare readonly result: Slot;
  declare stopTimer: () => void;
  declare unlisten: () => void;

  constructor(input: Future, result: Slot) {
    this.input = input;
    this.result = result;
    this.stopTimer = noop;
    this.unlisten = noop;
  }

  _run(parent: Slot): void {
    this.stopTimer();
    this.unlisten();
    settleInLoop(this.result, parent._state as number, parent._value);
  }

  _completes(): Slot {
    return this.result;
  }

  /** The timer fired or the signal aborted: fail the result, and leave the input alone. */
  giveUp(error: unknown): void {
    if (isDone(this.result._state)) return;
    this.stopTimer();
    this.unlisten();
    dequeue(this.input, this);
    settle(this.result, REJECTED, error);
  }
}

/**
 * A future that completes like `promise` — with its value, or failing with its
 * reason (which makes the rejection handled: the future holds the error, as
 * every future does). A `Future` is returned as it is. The returned future is
 * derived: completing it by hand throws {@link DerivedFutureError}. The way back
 * is `Promise.resolve(fut)`, since a `Future` is a thenable.
 *
 * @param promise - a Promise, or any thenable (its `then` is called once).
 * @throws TypeError if `promise` is not a thenable (an object with a `then` method).
 *
 * @example
 * ```ts
 * import { fromPromise } from "torch-futures";
 *
 * const fut = fromPromise(Promise.resolve(42));
 * fut.continueWith((f) => console.log(f.value())); // prints 42, a microtask later
 * const back: Promise<number> = Promise.resolve(fut);
 * ```
 */
export function fromPromise<T>(promise: PromiseLike<T>): Future<T> {
  if (promise instanceof Future) return promise;
  const result = new Future<T>();
  const candidate: unknown = promise;
  if ((typeof candidate !== "object" || candidate === null) && typeof candidate !== "function") throw notThenable(promise);
  let then: unknown;
  try {
    then = (promise as { then?: unknown }).then;
  } catch (error) {
    // Reading `then` threw: the future fails with it, as Promise.resolve(x) rejects.
    result._state = REJECTED;
    result._value = error;
    return result;
  }
  if (typeof then !== "function") throw notThenable(promise);
  result._state = PENDING_DERIVED;
  let settled = false;
  const finish = (state: number, value: unknown): void => {
    if (settled) return;
    settled = true;
    settle(result, state, value);
  };
  try {
    (then as PromiseLike<T>["then"]).call(
      promise,
      (value) => {
        finish(FULFILLED, value);
      },
      (reason: unknown) => {
        finish(REJECTED, reason);
      },
    );
  } catch (error) {
    finish(REJECTED, error);
  }
  return result;
}

function notThenable(value: unknown): TypeError {
  return new TypeError(
    `fromPromise() expects a Promise or another thenable, got ${describeValue(value)}. For a plain value, ` +
      "make a `new Future()` and call setResult(value).",
  );
}

/**
 * Does nothing: the cleanup of a wait that had no timer or listener to undo.
 *
 * @internal
 */
export function noop(): void {
  // Nothing to clean up.
}

/**
 * A promise rejected with `error`, whatever it is (a signal's reason need not be an Error).
 *
 * @internal
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async only to turn the throw into a rejection
export async function rejected(error: unknown): Promise<never> {
  throw error;
}

/**
 * Checks a `signal` argument: an `AbortSignal`, or (unless `required`)
 * `undefined`.
 *
 * @internal
 */
export function checkSignal(signal: unknown, fn: string, required: boolean): AbortSignal | undefined {
  if (signal === undefined && !required) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(
      `${fn}() expects \`signal\` to be an AbortSignal (from an AbortController, or AbortSignal.timeout()), ` +
        `got ${describeValue(signal)}.`,
    );
  }
  return signal;
}

/**
 * Calls `listener` once when `signal` aborts; returns the function that takes
 * it off again, which every wait calls when it ends by other means.
 *
 * @internal
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  signal.addEventListener("abort", listener, { once: true });
  return () => {
    signal.removeEventListener("abort", listener);
  };
}

// setTimeout takes at most 2^31 - 1 ms; a longer delay fires at once.
const MAX_DELAY = 0x7fffffff;

/**
 * Calls `fire`, from a timer task, once the `performance.now()` clock reaches
 * `deadline` (never for `Infinity`); returns the function that cancels it.
 *
 * @internal
 */
export function startTimer(deadline: number, fire: () => void): () => void {
  if (deadline === Infinity) return noop;
  let handle: ReturnType<typeof setTimeout> | undefined;
  // Never fires inside the call that starts it: a timeout of 0 fires in a timer task.
  const arm = (): void => {
    handle = setTimeout(check, Math.min(Math.max(0, Math.ceil(deadline - performance.now())), MAX_DELAY));
  };
  const check = (): void => {
    if (performance.now() < deadline) {
      arm();
      return;
    }
    handle = undefined;
    fire();
  };
  arm();
  return () => {
    if (handle !== undefined) clearTimeout(handle);
    handle = undefined;
  };
}

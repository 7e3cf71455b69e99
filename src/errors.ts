/**
 * The errors torch-futures throws. Every error that concerns a future's state
 * extends {@link FutureError}; bad arguments are plain `TypeError`s, as in the
 * rest of JavaScript.
 *
 * @module
 */

/**
 * The base class of every error about a future's state. Catch it to handle any
 * of them at once.
 *
 * @example
 * ```ts
 * declare const fut: Future<number>;
 * try {
 *   fut.setResult(1);
 * } catch (error) {
 *   if (error instanceof FutureError) console.log("the future refused:", error.message);
 * }
 * ```
 */
export class FutureError extends Error {
  /** Creates the error; `options.cause` is kept as `error.cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // Subclasses get their own name without repeating it in each constructor.
    this.name = new.target.name;
  }
}

/**
 * Thrown by `setResult()` or `setException()` on a future that is already
 * completed. The future keeps its first result or error, and its state is
 * unchanged. torch raises a `RuntimeError` here.
 *
 * @example
 * ```ts
 * const fut = new Future<number>();
 * fut.setResult(1);
 * try { fut.setResult(2); } catch (e) { e instanceof FutureAlreadyCompletedError; } // true
 * fut.value(); // still 1
 * ```
 */
export class FutureAlreadyCompletedError extends FutureError {}

/**
 * Thrown by `value()`, `wait()` or `waitAll()` when a future they need is still
 * pending and cannot be waited for synchronously: `value()` never waits, and
 * `wait()` cannot block for a future that only the calling thread can complete
 * (it would hang forever). Use `await fut` to wait without blocking.
 *
 * @example
 * ```ts
 * const fut = new Future<number>();
 * try { fut.value(); } catch (e) { e instanceof FutureNotCompletedError; } // true
 * setTimeout(() => fut.setResult(1), 10);
 * await fut; // 1
 * ```
 */
export class FutureNotCompletedError extends FutureError {}

/**
 * Thrown by `setResult()` or `setException()` on a future that the library
 * completes itself: one returned by `continueWith()`, `then()` or
 * `collectAll()`. Such a future holds the outcome of its callback or of its
 * inputs, so completing it by hand would lie about them (in torch it corrupts
 * the parent's callback list). Create a `new Future()` to complete by hand.
 *
 * @example
 * ```ts
 * const child = new Future<number>().continueWith((f) => f.value() + 1);
 * try { child.setResult(5); } catch (e) { e instanceof DerivedFutureError; } // true
 * ```
 */
export class DerivedFutureError extends FutureError {}

/**
 * Thrown by `wait(timeoutMs)` (and `waitAll`) when the timeout passes before the
 * future completes. The future stays pending: it can still complete, and be
 * waited for again.
 *
 * @example
 * ```ts
 * declare const fut: Future<number>; // shared with another thread
 * try {
 *   fut.wait(100);
 * } catch (e) {
 *   if (e instanceof FutureTimeoutError) console.log("not yet; still pending:", !fut.done());
 * }
 * ```
 */
export class FutureTimeoutError extends FutureError {}

/**
 * The error a shared future fails with when every thread that could complete
 * it has gone away without completing it (the thread exited, threw an uncaught
 * error, or was terminated). `await` and a blocking `wait()` both see it.
 *
 * @example
 * ```ts
 * declare const fut: Future<number>; // shared with a worker
 * try {
 *   fut.wait();
 * } catch (e) {
 *   if (e instanceof BrokenFutureError) console.log("the worker died:", e.message);
 * }
 * ```
 */
export class BrokenFutureError extends FutureError {}

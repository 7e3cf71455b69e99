/**
 * Where errors thrown by `addDoneCallback` callbacks go.
 *
 * @module
 */
import type { Future } from "./future.js";

/**
 * A handler for errors thrown by `addDoneCallback` callbacks. It receives the
 * thrown value and the future whose callback threw.
 */
export type CallbackErrorHandler = (error: unknown, future: Future) => void;

let handler: CallbackErrorHandler | undefined;

/**
 * Installs the handler for errors thrown by `addDoneCallback` callbacks, and
 * returns the one it replaces (`undefined` for the default).
 *
 * By default such an error is reported the way an error thrown by an event
 * listener is: raised as an uncaught error from a microtask — Node.js emits
 * `'uncaughtException'` (and exits if nothing listens), a browser reports it to
 * `window.onerror` and the console — while the other callbacks still run and
 * `setResult` returns normally. An installed handler is called synchronously
 * instead, in the middle of the dispatch; if it throws, what it throws is
 * raised as above. Pass `undefined` to restore the default.
 *
 * Errors thrown by `continueWith` callbacks are never reported here: they
 * complete the returned future.
 *
 * @example
 * ```ts
 * const previous = setCallbackErrorHandler((error, fut) => {
 *   console.error("a done-callback failed:", error);
 * });
 * const fut = new Future<number>();
 * fut.addDoneCallback(() => { throw new Error("oops"); });
 * fut.setResult(1); // logs "a done-callback failed: Error: oops"
 * setCallbackErrorHandler(previous);
 * ```
 */
export function setCallbackErrorHandler(next: CallbackErrorHandler | undefined): CallbackErrorHandler | undefined {
  if (next !== undefined && typeof next !== "function") {
    throw new TypeError("setCallbackErrorHandler() expects a function (error, future) => void, or undefined.");
  }
  const previous = handler;
  handler = next;
  return previous;
}

/**
 * Reports a callback's error to the handler, or else raises it as an uncaught
 * error from a microtask, so that the rest of the dispatch goes on.
 *
 * @internal
 */
export function reportCallbackError(error: unknown, fut: unknown): void {
  if (handler !== undefined) {
    try {
      handler(error, fut as Future);
      return;
    } catch (handlerError) {
      error = handlerError;
    }
  }
  queueMicrotask(() => {
    throw error;
  });
}

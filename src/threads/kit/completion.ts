/**
 * What every protocol's completion shares: refusing a future as a value, and
 * the errors for a completion that lost the race or whose value cannot
 * cross.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { FutureAlreadyCompletedError } from "../../errors.js";
import { Future } from "../../future.js";
import { FULFILLED } from "../../states.js";
import * as cells from "./shared-cell.js";

/** A future is not a value: it cannot be cloned into another thread. */
export function refuseFuture(method: string, value: unknown): void {
  if (value instanceof Future) {
    throw new TypeError(
      `${method}(): a Future cannot be sent to another thread as a value. share() it and send its handle instead.`,
    );
  }
}

/** The error for a completion that lost; `state` as in a cell (only its kind is read). */
export function alreadyCompleted(method: string, state: number): FutureAlreadyCompletedError {
  const kind = cells.kindOf(state);
  const how =
    kind === cells.CLAIMED
      ? "is being completed by another thread"
      : kind === cells.BROKEN
        ? "has failed with BrokenFutureError (the threads that could complete it went away)"
        : `was already completed with ${kind === cells.FULFILLED ? "a result" : "an error"}`;
  return new FutureAlreadyCompletedError(
    `${method}() was called on a shared future that ${how}. A Future can be completed only once, by one thread; ` +
      "the first completion is kept.",
  );
}

/** "result" or "error", for a completion's `state`. */
export function what(state: number): string {
  return state === FULFILLED ? "result" : "error";
}

/** An error's message, or whatever was thrown as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error for a value that cannot cross; the future is still pending. */
export function cloneError(method: string, state: number, error: unknown): TypeError {
  return new TypeError(
    `${method}(): the ${what(state)} cannot be sent to the other thread sharing this future: ${errorText(error)} ` +
      "Only what structured clone accepts crosses threads (not functions, symbols, or objects holding them; " +
      "MessagePorts must be listed in { transfer }). The future is still pending: complete it with another value.",
    { cause: error },
  );
}

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
import * as reasons from "./reasons.js";
import * as cells from "./shared-cell.js";

/** A future is not a value: it cannot be cloned into another thread. */
export function refuseFuture(method: string, value: unknown): void {
  if (value instanceof Future) {
    throw new TypeError(reasons.futureAsValue(method));
  }
}

/** The error for a completion that lost; `state` as in a cell (only its kind is read). */
export function alreadyCompleted(method: string, state: number): FutureAlreadyCompletedError {
  const kind = cells.kindOf(state);
  const how =
    kind === cells.CLAIMED
      ? reasons.BEING_COMPLETED
      : kind === cells.BROKEN
        ? reasons.HAS_BROKEN
        : reasons.completedWith(kind === cells.FULFILLED);
  return new FutureAlreadyCompletedError(reasons.lostCompletion(method, how));
}

/** The error for a value that cannot cross; the future is still pending. */
export function cloneError(method: string, state: number, error: unknown): TypeError {
  return new TypeError(reasons.uncloneable(method, state, error), { cause: error });
}

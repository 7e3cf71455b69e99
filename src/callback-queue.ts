/**
 * The callback queue: how a completion runs its callbacks.
 *
 * torch runs callbacks inline and recursively: completing a future runs its
 * callbacks, a callback that completes another future runs that future's
 * callbacks before it returns, and so on — depth-first, first in first out, and
 * (in torch) a stack overflow past about 8,000 links. Here one explicit work
 * stack replaces the recursion, so the order is the same and no depth can
 * overflow:
 *
 * - Completing a future pushes its callbacks, first on top, and drains the
 *   stack down to where it was. Whatever a callback completes is pushed above
 *   the rest and so runs before the next callback of the first future.
 * - A `continueWith` child is completed by the queue itself after its callback
 *   returns (as in torch), so its callbacks are pushed, never recursed into:
 *   chains of any length run in constant stack, in exactly torch's order.
 * - A completion made by user code inside a callback (`setResult` in an
 *   `addDoneCallback`) drains at once, nested, as torch does, while fewer than
 *   {@link MAX_NESTED_DRAINS} drains are nested. Deeper than that, its
 *   callbacks are pushed and run as soon as the callback that completed it
 *   returns, still before anything queued earlier.
 *
 * @internal
 * @module
 */

import { reportCallbackError } from "./callback-errors.js";

/** Pending, completed by `setResult`/`setException`. */
export const PENDING: number = 0;
/** Pending, completed only by the library (`continueWith`, `then`, `collectAll`). */
export const PENDING_DERIVED: number = 1;
/** Pending, and other threads may complete it: the cross-thread layer (`remote.ts`) handles it. */
export const PENDING_SHARED: number = 2;
/** Completed with a result. Every state at or above it is "done". */
export const FULFILLED: number = 3;
/** Completed with an error. */
export const REJECTED: number = 4;

/**
 * What the queue needs of a future: its state, and a slot that holds its
 * callbacks while it is pending and its result or error once it is done.
 */
export interface Slot {
  _state: number;
  _value: unknown;
}

/** A queued callback that is not a plain `addDoneCallback` function. */
export interface Reaction {
  /** Runs inside a drain; completes derived futures with {@link settleInLoop}; never throws. */
  _run(parent: Slot): void;
}

/** One registration: an `addDoneCallback` function or an internal reaction. */
export type Entry = ((fut: never) => unknown) | Reaction;

/**
 * How many drains may nest — one per `setResult`/`setException` called inside
 * a callback, and one per registration on a completed future made inside a
 * callback (it runs inline) — before they are queued instead of run inline. 64 levels of torch's
 * exact order, well under Node's default stack with room for the callbacks'
 * own frames.
 */
export const MAX_NESTED_DRAINS = 64;

// Flat pairs (future, entry); the top pair runs next.
let work: unknown[] = [];
let nested = 0;
// The work stack keeps its grown backing store; drop it after a huge burst.
const SHRINK_ABOVE = 1 << 14;
let highWater = 0;

/** Adds a callback to a pending future's slot; `_value` holds one entry or an array. */
export function enqueue(fut: Slot, entry: Entry): void {
  const cbs = fut._value;
  if (cbs === undefined) fut._value = entry;
  else if (Array.isArray(cbs)) cbs.push(entry);
  else fut._value = [cbs, entry];
}

function push(fut: Slot, cbs: unknown): void {
  if (Array.isArray(cbs)) {
    for (let i = cbs.length - 1; i >= 0; i--) work.push(fut, cbs[i]);
    // Only fan-out grows the stack (a chain pushes one pair and pops it).
    if (work.length > highWater) highWater = work.length;
  } else {
    work.push(fut, cbs);
  }
}

/**
 * Completes `fut` and runs its callbacks now (nested) if the nesting allows,
 * otherwise queues them above everything queued before. For completions that
 * user code makes.
 */
export function settle(fut: Slot, state: number, value: unknown): void {
  const cbs = fut._value;
  fut._state = state;
  fut._value = value;
  if (cbs !== undefined) run(fut, cbs);
}

/**
 * Completes `fut` from inside a drain (a reaction's `_run`): its callbacks are
 * pushed, and the running drain reaches them next. Never recurses.
 */
export function settleInLoop(fut: Slot, state: number, value: unknown): void {
  const cbs = fut._value;
  fut._state = state;
  fut._value = value;
  if (cbs !== undefined) push(fut, cbs);
}

/** Runs `cbs` (one entry or an array) for the completed `fut`, depth-first. */
export function run(fut: Slot, cbs: unknown): void {
  const base = work.length;
  push(fut, cbs);
  // Too deep: the innermost running drain takes them when the current callback returns.
  if (nested >= MAX_NESTED_DRAINS) return;
  nested++;
  try {
    drain(base);
  } finally {
    nested--;
    if (nested === 0 && highWater > SHRINK_ABOVE) {
      work = [];
      highWater = 0;
    }
  }
}

function drain(base: number): void {
  while (work.length > base) {
    const entry = work.pop() as Entry;
    const fut = work.pop() as Slot;
    if (typeof entry === "function") {
      try {
        (entry as (fut: Slot) => unknown)(fut);
      } catch (error) {
        reportCallbackError(error, fut);
      }
    } else {
      entry._run(fut);
    }
  }
}

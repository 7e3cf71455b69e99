/**
 * The states of a future.
 *
 * A future's `_state` is one of these numbers — or, for a pending
 * `continueWith` child, the callback that will produce its result: one field
 * less on every future. So test states with `===` (or `isDone`), never `<`/`>=`
 * on a value that may be a function.
 *
 * V8 reads an imported (or exported) binding through a cell on every use and
 * never folds it into a constant: comparing against these from another module
 * measured ~13% slower on fan-out than comparing against a literal. So the
 * modules with hot paths keep module-local copies, each typed against the
 * constant here (`const FULFILLED: typeof states.FULFILLED = 3`), which keeps
 * them from drifting: a copy with another value does not compile.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** Pending, completed by `setResult`/`setException`. */
export const PENDING = 0;
/** Pending, completed only by the library (`then`, `collectAll`; a `continueWith` child holds its producer instead). */
export const PENDING_DERIVED = 1;
/** Pending, and other threads may complete it: the cross-thread layer (`remote.ts`) handles it. */
export const PENDING_SHARED = 2;
/** Completed with a result. */
export const FULFILLED = 3;
/** Completed with an error. */
export const REJECTED = 4;

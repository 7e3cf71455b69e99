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
 * - Completing a future runs its callbacks in order; whatever a callback
 *   completes is pushed as a frame (the future, its callbacks, the index of
 *   the next one) and the stack is drained back down before the next
 *   callback of the first future.
 * - A `continueWith` child is completed by the queue itself after its callback
 *   returns (as in torch), so its callbacks are pushed, never recursed into:
 *   chains of any length run in constant stack, in exactly torch's order.
 * - A completion made by user code inside a callback (`setResult` in an
 *   `addDoneCallback`) drains at once, nested, as torch does, while fewer than
 *   {@link MAX_NESTED_DRAINS} drains are nested. Deeper than that, its
 *   callbacks are pushed and run as soon as the callback that completed it
 *   returns, still before anything queued earlier.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

import { reportCallbackError } from "./callback-errors.js";
import type * as states from "./states.js";

// Module-local copies of the states, typed against states.ts: V8 folds these into
// constants, never an imported binding (see states.ts).
const PENDING_DERIVED: typeof states.PENDING_DERIVED = 1;
const PENDING_SHARED: typeof states.PENDING_SHARED = 2;
const FULFILLED: typeof states.FULFILLED = 3;
const REJECTED: typeof states.REJECTED = 4;

/** A `continueWith` callback, held in its pending child's `_state`. */
export type Producer = (parent: never) => unknown;

/**
 * What the queue needs of a future: its state, and a slot that holds its
 * callbacks while it is pending and its result or error once it is done.
 */
export interface Slot {
  _state: number | Producer;
  _value: unknown;
}

/** Whether a state is a completed one. */
export function isDone(state: number | Producer): boolean {
  // `typeof` first: `===` on a slot that may hold a function compiles to a generic
  // strict-equality call; on a known number it is an integer compare.
  return typeof state === "number" && state >= FULFILLED;
}

/** Whether a state is {@link PENDING_SHARED} (`typeof` first, as in {@link isDone}). */
export function isShared(state: number | Producer): boolean {
  return typeof state === "number" && state === PENDING_SHARED;
}

/** Whether a pending future completes only by the library (`continueWith`, `then`, `collectAll`). */
export function isDerived(state: number | Producer): boolean {
  return state === PENDING_DERIVED || typeof state === "function";
}

/** A queued callback that is not a plain `addDoneCallback` function. */
export interface Reaction {
  /** Runs inside a drain; completes derived futures with {@link settleInLoop}; never throws. */
  _run(parent: Slot): void;
  /**
   * The future this reaction may complete while it runs (for {@link feeding}),
   * or `undefined` if it completes nothing then (a `then` handler runs later).
   */
  _completes(): Slot | undefined;
}

/**
 * One registration: an `addDoneCallback` function, a pending `continueWith`
 * child (its `_state` holds its producer), or an internal reaction.
 */
export type Entry = ((fut: never) => unknown) | Slot | Reaction;

/**
 * How many drains may nest — one per `setResult`/`setException` called inside
 * a callback, and one per registration on a completed future made inside a
 * callback (it runs inline) — before they are queued instead of run inline.
 * 64 levels of torch's exact order, well under Node's default stack with room
 * for the callbacks' own frames.
 */
export const MAX_NESTED_DRAINS = 64;
// Read on every completion: a module-local copy, for the reason in states.ts.
const maxNested: typeof MAX_NESTED_DRAINS = 64;

// Frames of three slots (future, callbacks: one entry or a list, index of the next); `sp` is the top.
let stack: unknown[] = [];
let sp = 0;
let nested = 0;
// The stack keeps its grown backing store; drop it after a deep burst.
const SHRINK_ABOVE = 3 << 12;

/**
 * Adds a callback to a pending future's slot. `_value` holds one entry, or a
 * list: slot 0 is the end of the entries, which follow from slot 1.
 */
export function enqueue(fut: Slot, entry: Entry): void {
  const cbs = fut._value;
  if (cbs === undefined) fut._value = entry;
  else if (Array.isArray(cbs)) {
    const end = cbs[0] as number;
    if (end < cbs.length) cbs[end] = entry;
    else cbs.push(entry);
    cbs[0] = end + 1;
  } else {
    // Room for 8 callbacks without growing: measured smaller and faster (less to collect)
    // than a list grown by push, which V8 gives 19 slots at once.
    fut._value = [3, cbs, entry, undefined, undefined, undefined, undefined, undefined, undefined];
  }
}

/**
 * Removes one registration of `entry` from a pending future's slot, if it is
 * there, keeping the others in order: a combinator that has finished
 * (`collectAny`'s winner found, a wait given up) takes its callbacks off the
 * inputs that are still pending, so a long-lived future does not collect them.
 * Never called on a completed future, whose slot holds its result. A list left
 * empty becomes `undefined`, the empty slot every other path expects.
 */
export function dequeue(fut: Slot, entry: Entry): void {
  const cbs = fut._value;
  if (cbs === entry) {
    fut._value = undefined;
    return;
  }
  if (!Array.isArray(cbs)) return;
  const end = cbs[0] as number;
  // From the end: a combinator's entry is among the latest on a long-lived future.
  let i = end - 1;
  while (i > 0 && cbs[i] !== entry) i--;
  if (i === 0) return;
  if (end === 2) {
    fut._value = undefined;
    return;
  }
  cbs.copyWithin(i, i + 1, end);
  cbs[end - 1] = undefined;
  cbs[0] = end - 1;
}

function pushFrame(fut: Slot, cbs: unknown): void {
  stack[sp] = fut;
  stack[sp + 1] = cbs;
  stack[sp + 2] = 1;
  sp += 3;
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
  if (cbs === undefined) return;
  // Handed to the drain that called the reaction, which follows a single callback
  // straight on (a continueWith chain) instead of pushing and popping a frame.
  if (handFut !== undefined) pushFrame(handFut, handCbs);
  handFut = fut;
  handCbs = cbs;
}

// A future completed by the reaction that just ran, and its callbacks: run next.
let handFut: Slot | undefined;
let handCbs: unknown;

function pushHandoff(): void {
  pushFrame(handFut as Slot, handCbs);
  handFut = undefined;
  handCbs = undefined;
}

/** Runs `cbs` (one entry or an array) for the completed `fut`, depth-first. */
export function run(fut: Slot, cbs: unknown): void {
  // Too deep: the innermost running drain takes them when the current callback returns.
  if (nested >= maxNested) {
    pushFrame(fut, cbs);
    return;
  }
  const base = sp;
  // Only at the nesting limit can a plain callback leave frames above `base` (its
  // completions queue instead of draining): below it, skip the check per callback.
  const atLimit = ++nested >= maxNested;
  try {
    // This future's own callbacks run straight from its list; whatever one of them
    // queues (a continueWith child's callbacks) is drained before the next.
    if (Array.isArray(cbs)) {
      const end = cbs[0] as number;
      for (let i = 1; i < end; i++) {
        const entry = cbs[i] as Entry;
        // The common entry, called right here: a plain callback never leaves a handoff.
        if (typeof entry === "function") {
          callSafely(fut, entry);
          if (atLimit && sp !== base) drain(base);
        } else {
          invoke(fut, entry);
          if (handFut !== undefined) pushHandoff();
          if (sp !== base) drain(base);
        }
      }
    } else {
      invoke(fut, cbs as Entry);
      if (handFut !== undefined) pushHandoff();
      if (sp !== base) drain(base);
    }
  } finally {
    nested--;
  }
}

function drain(base: number): void {
  while (sp > base) {
    const top = sp - 3;
    let fut = stack[top] as Slot;
    const cbs = stack[top + 1];
    let entry: Entry;
    if (Array.isArray(cbs)) {
      const next = stack[top + 2] as number;
      entry = cbs[next] as Entry;
      if (next + 1 < (cbs[0] as number)) stack[top + 2] = next + 1;
      else pop(top);
    } else {
      entry = cbs as Entry;
      pop(top);
    }
    // The frame is gone before its last callback runs: what that callback queues runs next.
    // A continueWith child, or a reaction that completes one future, is followed straight
    // on when that future has a single callback (a chain): no frame pushed and popped.
    for (;;) {
      let next: unknown;
      if (typeof entry === "function") {
        callSafely(fut, entry);
        break;
      }
      const producer = (entry as Partial<Slot>)._state;
      if (typeof producer === "function") {
        next = runChild(fut, entry as Slot, producer);
        fut = entry as Slot;
      } else {
        (entry as Reaction)._run(fut);
        if (handFut === undefined) break;
        next = handCbs;
        fut = handFut;
        handFut = undefined;
        handCbs = undefined;
      }
      if (next === undefined) break;
      if (Array.isArray(next)) {
        pushFrame(fut, next);
        break;
      }
      entry = next as Entry;
    }
  }
  // The stack is empty at base 0 (nothing below is running from it): drop a backing store a deep burst grew.
  if (base === 0 && stack.length > SHRINK_ABOVE) stack = [];
}

/**
 * Runs a `continueWith` child's producer with its parent and completes the
 * child with what it returns or throws — the very value, as torch's `then`
 * would if it did not wrap it. Returns the child's callbacks, for the caller
 * to run next.
 */
function runChild(parent: Slot, child: Slot, producer: Producer): unknown {
  let state: number = FULFILLED;
  let value: unknown;
  try {
    value = (producer as (parent: Slot) => unknown)(parent);
  } catch (error) {
    state = REJECTED;
    value = error;
  }
  const cbs = child._value;
  child._state = state;
  child._value = value;
  return cbs;
}

function invoke(fut: Slot, entry: Entry): void {
  if (typeof entry === "function") {
    callSafely(fut, entry);
    return;
  }
  const producer = (entry as Partial<Slot>)._state;
  if (typeof producer === "function") {
    const cbs = runChild(fut, entry as Slot, producer);
    if (cbs !== undefined) pushFrame(entry as Slot, cbs);
  } else {
    (entry as Reaction)._run(fut);
  }
}

/** Calls an `addDoneCallback` callback; what it throws is reported, never propagated. */
function callSafely(fut: Slot, callback: (fut: never) => unknown): void {
  try {
    (callback as (fut: Slot) => unknown)(fut);
  } catch (error) {
    reportCallbackError(error, fut);
  }
}

function pop(top: number): void {
  stack[top] = undefined;
  stack[top + 1] = undefined;
  sp = top;
}

/**
 * The futures among `sources` (pending ones) whose completion completes
 * `target` within the same call: through `continueWith` children and
 * reactions that complete a future as they run (`collectAll`'s), never through
 * an `addDoneCallback` function (it may do anything) nor a `then` (its handler
 * runs later, in a microtask). A blocking wait on a derived future waits for these.
 */
export function feeding(sources: readonly Slot[], target: Slot): Slot[] {
  return sources.filter((source) => reaches(source, target));
}

function reaches(from: Slot, target: Slot): boolean {
  const seen = new Set<Slot>();
  const todo: Slot[] = [from];
  for (let fut = todo.pop(); fut !== undefined; fut = todo.pop()) {
    if (fut === target) return true;
    // A completed future's slot holds its value, not callbacks.
    if (isDone(fut._state) || seen.has(fut)) continue;
    seen.add(fut);
    const cbs = fut._value;
    if (cbs === undefined) continue;
    const entries = Array.isArray(cbs) ? cbs.slice(1, cbs[0] as number) : [cbs];
    for (const entry of entries as Entry[]) {
      if (typeof entry === "function") continue;
      const next = typeof (entry as Partial<Slot>)._state === "function" ? (entry as Slot) : (entry as Reaction)._completes();
      if (next !== undefined) todo.push(next);
    }
  }
  return false;
}

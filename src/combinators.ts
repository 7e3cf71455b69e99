/**
 * torch's `collect_all` and `wait_all`.
 *
 * @module
 */
import {
  enqueue,
  isDone,
  isShared,
  settleInLoop,
  type Reaction,
  type Slot,
} from "./callback-queue.js";
import type * as states from "./states.js";
import { FutureNotCompletedError, FutureTimeoutError } from "./errors.js";
import { Future, deadlineOf, sourcesOf } from "./future.js";
import { remote } from "./remote.js";
import { describeValue } from "./describe.js";

// Module-local copies of the states: V8 folds these, never an imported binding (see states.ts).
const PENDING_DERIVED: typeof states.PENDING_DERIVED = 1;
const FULFILLED: typeof states.FULFILLED = 3;
const REJECTED: typeof states.REJECTED = 4;

/**
 * The value type of `collectAll(futures)` for a tuple: the same futures,
 * element by element.
 *
 * @example
 * ```ts
 * type T = CollectedFutures<[Future<number>, Future<string>]>; // [Future<number>, Future<string>]
 * ```
 */
export type CollectedFutures<F extends readonly Future[]> = { -readonly [K in keyof F]: F[K] };

/**
 * The return type of `waitAll(futures)` for a tuple: each future's value type.
 *
 * @example
 * ```ts
 * type T = FutureValues<[Future<number>, Future<string>]>; // [number, string]
 * ```
 */
export type FutureValues<F extends readonly Future[]> = {
  -readonly [K in keyof F]: F[K] extends Future<infer V> ? V : never;
};

/**
 * Returns a future that completes once every input future has completed, with
 * a result or with an error. Its value is a new array of the input futures
 * themselves, in input order; read each with `value()`. It never fails because
 * an input failed. It completes synchronously, inside the completion of the
 * last input, like any callback; `collectAll([])` is complete at once.
 *
 * @param futures - any iterable of futures; it is read once, at once.
 * @throws TypeError if `futures` is not iterable or holds something that is
 * not a `Future` (the message names its index); no future is touched then.
 *
 * @example
 * ```ts
 * const a = new Future<number>();
 * const b = new Future<string>();
 * const all = collectAll([a, b]);
 * a.setResult(1);
 * b.setResult("two");
 * const [fa, fb] = all.value();
 * fa.value(); // 1
 * fb.value(); // "two"
 * ```
 */
export function collectAll<const F extends readonly Future[]>(futures: F): Future<CollectedFutures<F>>;
export function collectAll<F extends Future>(futures: Iterable<F>): Future<F[]>;
export function collectAll(futures: Iterable<Future>): Future<Future[]> {
  const inputs = toFutureArray(futures, "collectAll");
  const combined = new Future<Future[]>();
  // Registering runs nothing on a pending input, so the count can be set after one pass.
  const collector = new Collector(inputs, combined);
  let pending = 0;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as Future;
    const state = input._state;
    if (isDone(state)) continue;
    pending++;
    enqueue(input, collector);
    if (isShared(state)) remote().watch(input);
  }
  if (pending === 0) {
    combined._state = FULFILLED;
    combined._value = inputs;
  } else {
    combined._state = PENDING_DERIVED;
    collector.remaining = pending;
  }
  return combined;
}

/** One object registered on every pending input; the last completion completes the result. */
class Collector implements Reaction {
  declare remaining: number;
  private declare readonly inputs: Future[];
  private declare readonly combined: Slot;

  constructor(inputs: Future[], combined: Slot) {
    // Set by collectAll once it has counted the pending inputs.
    this.remaining = 0;
    this.inputs = inputs;
    this.combined = combined;
  }

  _run(): void {
    if (--this.remaining === 0) settleInLoop(this.combined, FULFILLED, this.inputs);
  }

  _completes(): Slot {
    return this.combined;
  }
}

/**
 * Returns the values of all the input futures, in input order. If any input
 * has failed, throws that input's error (among several failed inputs, the
 * first in list order) even while others are pending. Otherwise it would block
 * like `wait()` until all complete (futures that other threads complete, or
 * derived from such by `continueWith`/`collectAll`), or
 * — like `wait()` — throws {@link FutureNotCompletedError} at once where
 * blocking could only hang. Use `await Promise.all(futures)` to wait without
 * blocking.
 *
 * @param futures - any iterable of futures; it is read once, at once.
 * @param timeoutMs - how long to block at most, in milliseconds; none by default.
 * @throws {@link FutureTimeoutError} if `timeoutMs` passed while inputs were pending.
 * @throws TypeError if `futures` is not iterable or holds something that is
 * not a `Future` (the message names its index), checked before anything else.
 * @throws the error of the first failed input.
 * @throws {@link FutureNotCompletedError} if an input is pending.
 *
 * @example
 * ```ts
 * const a = new Future<number>();
 * const b = new Future<number>();
 * a.setResult(1);
 * b.setResult(2);
 * waitAll([a, b]); // [1, 2]
 * ```
 */
export function waitAll<const F extends readonly Future[]>(futures: F, timeoutMs?: number): FutureValues<F>;
export function waitAll<V>(futures: Iterable<Future<V>>, timeoutMs?: number): V[];
export function waitAll(futures: Iterable<Future>, timeoutMs?: number): unknown[] {
  const inputs = toFutureArray(futures, "waitAll");
  const deadline = deadlineOf(timeoutMs, "waitAll");
  for (;;) {
    let pending: number[] | undefined;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as Future;
      if (input._state === REJECTED) throw input._value;
      if (input._state !== FULFILLED) (pending ??= []).push(i);
    }
    if (pending === undefined) break;
    // Every pending input must be one that other threads complete, or derived from such (as in wait()).
    const sources = new Set<Slot>();
    const known = {};
    for (const i of pending) {
      const fed = sourcesOf(inputs[i] as Future, known);
      if (fed === undefined) {
        throw new FutureNotCompletedError(
          `waitAll() cannot block: the future at index ${i} is pending and only this thread ` +
            "can complete it, so blocking would wait forever. Use `await Promise.all(futures)` (or " +
            "`await collectAll(futures)`) to wait without blocking.",
        );
      }
      for (const source of fed) sources.add(source);
    }
    remote().blockUntilAny([...sources], deadline);
    const left = pending.filter((i) => !isDone((inputs[i] as Future)._state)).length;
    if (left > 0 && performance.now() >= deadline) {
      throw new FutureTimeoutError(
        `waitAll(…, ${String(timeoutMs)}) timed out with ${left} future(s) still pending; ` +
          "they can still complete. Wait again, or use `await Promise.all(futures)`.",
      );
    }
  }
  const values = new Array<unknown>(inputs.length);
  for (let i = 0; i < inputs.length; i++) values[i] = (inputs[i] as Future)._value;
  return values;
}

/**
 * Reads `futures` into a new array, checking that it is iterable and holds only
 * futures; `fn` names the caller in the messages.
 *
 * @internal
 */
export function toFutureArray(futures: unknown, fn: string): Future[] {
  if (
    futures === null ||
    futures === undefined ||
    typeof (futures as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `${fn}() expects an iterable of Future objects (an array, a Set, a generator…), got ${describeValue(futures)}.`,
    );
  }
  // A plain array iterates as its elements in order: copied at once rather than pushed one by one.
  const inputs: unknown[] = isPlainArray(futures) ? futures.slice() : [...(futures as Iterable<unknown>)];
  for (let i = 0; i < inputs.length; i++) {
    const item = inputs[i];
    if (!(item instanceof Future)) {
      throw new TypeError(
        `${fn}(): the element at index ${i} is ${describeValue(item)}, not a Future. Pass only Future objects.`,
      );
    }
  }
  return inputs as Future[];
}

const arrayIterator = Array.prototype[Symbol.iterator];

function isPlainArray(value: unknown): value is unknown[] {
  return (
    Array.isArray(value) &&
    Object.getPrototypeOf(value) === Array.prototype &&
    (value as unknown[])[Symbol.iterator] === arrayIterator
  );
}

/**
 * Waiting on the first of many futures: torch C++'s `collectAny`, a blocking
 * `waitAny`, and Python's `concurrent.futures.wait` with its three
 * `return_when` rules (`waitFor`, and `waitForAsync` for `await`).
 *
 * @module
 */
import { dequeue, enqueue, isDone, isShared, settleInLoop, type Reaction, type Slot } from "./callback-queue.js";
import type * as states from "./states.js";
import { FutureNotCompletedError, FutureTimeoutError } from "./errors.js";
import { Future, deadlineOf, sourcesOf } from "./future.js";
import { remote } from "./remote.js";
import { toFutureArray } from "./combinators.js";
import { checkSignal, noop, onAbort, rejected, startTimer } from "./abort.js";
import { describeValue } from "./describe.js";

const PENDING_DERIVED: typeof states.PENDING_DERIVED = 1;
const FULFILLED: typeof states.FULFILLED = 3;
const REJECTED: typeof states.REJECTED = 4;

/**
 * `waitFor` returns as soon as any future completes (Python's `FIRST_COMPLETED`).
 *
 * @example
 * ```ts
 * import { FIRST_COMPLETED, Future, waitFor } from "torch-futures";
 * declare const calls: Future<string>[];
 * const { done, pending } = waitFor(calls, { returnWhen: FIRST_COMPLETED });
 * ```
 */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/**
 * `waitFor` returns as soon as any future fails, or once all have completed
 * (Python's `FIRST_EXCEPTION`).
 *
 * @example
 * ```ts
 * import { FIRST_EXCEPTION, Future, waitForAsync } from "torch-futures";
 * declare const calls: Future<string>[];
 * const { done, pending } = await waitForAsync(calls, { returnWhen: FIRST_EXCEPTION });
 * ```
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/**
 * `waitFor` returns once every future has completed (Python's
 * `ALL_COMPLETED`, the default).
 *
 * @example
 * ```ts
 * import { ALL_COMPLETED, Future, waitForAsync } from "torch-futures";
 * declare const calls: Future<string>[];
 * const { done } = await waitForAsync(calls, { returnWhen: ALL_COMPLETED, timeoutMs: 1000 });
 * ```
 */
export const ALL_COMPLETED = "ALL_COMPLETED";

/**
 * When `waitFor`/`waitForAsync` return: {@link FIRST_COMPLETED},
 * {@link FIRST_EXCEPTION} or {@link ALL_COMPLETED}.
 *
 * @example
 * ```ts
 * import { FIRST_COMPLETED, type ReturnWhen } from "torch-futures";
 * const rule: ReturnWhen = FIRST_COMPLETED;
 * ```
 */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

const RULES: readonly string[] = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED];

/**
 * A completed input future and its index in the input list: the value of
 * `collectAny(futures)`, and what `asCompleted(futures)` yields.
 *
 * @example
 * ```ts
 * import { Future, collectAny, type Completed } from "torch-futures";
 * declare const calls: Future<number>[];
 * const first: Completed<Future<number>> = await collectAny(calls);
 * first.future.value(); // its value (or its error, thrown)
 * ```
 */
export interface Completed<F extends Future = Future> {
  /** The future's index in the input list (its first, if it was listed more than once). */
  readonly index: number;
  /** The future itself, completed: read it with `value()`. */
  readonly future: F;
}

/**
 * The return value of `waitAny(futures)`: the index of the first input to
 * complete, and its value.
 *
 * @example
 * ```ts
 * import { Future, waitAny, type FirstValue } from "torch-futures";
 * declare const calls: Future<number>[];
 * const { index, value }: FirstValue<number> = waitAny(calls, 1000);
 * ```
 */
export interface FirstValue<V = unknown> {
  /** The index of the first future to complete (its first, if it was listed more than once). */
  readonly index: number;
  /** Its value. */
  readonly value: V;
}

/**
 * The value type of a future type (distributes over a union of futures).
 *
 * @example
 * ```ts
 * import type { Future, ValueOf } from "torch-futures";
 * type V = ValueOf<Future<number> | Future<string>>; // number | string
 * ```
 */
export type ValueOf<F> = F extends Future<infer V> ? V : never;

/**
 * What `waitFor`/`waitForAsync` return: the input futures, split into those
 * completed and those still pending (each future once, however often it was
 * listed).
 *
 * @example
 * ```ts
 * import { Future, waitFor, type WaitForResult } from "torch-futures";
 * declare const calls: Future<number>[];
 * const { done, pending }: WaitForResult<Future<number>> = waitFor(calls, { timeoutMs: 100 });
 * ```
 */
export interface WaitForResult<F extends Future = Future> {
  /**
   * The completed futures: in list order from `waitFor`; from `waitForAsync`, those complete at
   * the call in list order, then the others in completion order.
   */
  readonly done: Set<F>;
  /** The futures still pending, in list order. */
  readonly pending: Set<F>;
}

/**
 * Options of {@link waitFor}.
 *
 * @example
 * ```ts
 * import { FIRST_COMPLETED, type WaitForOptions } from "torch-futures";
 * const options: WaitForOptions = { returnWhen: FIRST_COMPLETED, timeoutMs: 500 };
 * ```
 */
export interface WaitForOptions {
  /** When to return; {@link ALL_COMPLETED} by default. */
  readonly returnWhen?: ReturnWhen | undefined;
  /** Return after this many milliseconds at most, with what is done by then; none by default. */
  readonly timeoutMs?: number | undefined;
}

/**
 * Options of {@link waitForAsync}.
 *
 * @example
 * ```ts
 * import { type WaitForAsyncOptions } from "torch-futures";
 * const options: WaitForAsyncOptions = { timeoutMs: 500, signal: AbortSignal.timeout(1000) };
 * ```
 */
export interface WaitForAsyncOptions extends WaitForOptions {
  /** Rejects the wait with `signal.reason` when it aborts first; the futures are left as they are. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Returns a future that completes with the first input future to complete and
 * its index: torch C++'s `collectAny`. It completes synchronously, inside the
 * completion of that input, like any callback; if some inputs are already
 * complete, the first of them in list order wins at once. It never fails
 * because the winner failed: read the winner with `future.value()`. Once it
 * has a winner it takes its callbacks off the other inputs, so a long-lived
 * future raced many times collects nothing. The returned future is derived:
 * completing it by hand throws {@link DerivedFutureError}.
 *
 * "First" is the order in which the inputs' callbacks run, which is the order
 * they complete — except that an input completed inside another's callback (one
 * registered before `collectAny`'s) runs its callbacks first, depth-first, as
 * in torch.
 *
 * @param futures - a non-empty iterable of futures; it is read once, at once.
 * @throws TypeError if `futures` is not iterable, is empty (there is no first
 * to wait for; `waitFor([])` returns empty sets), or holds something that is
 * not a `Future` (the message names its index); no future is touched then.
 *
 * @example
 * ```ts
 * import { Future, collectAny } from "torch-futures";
 *
 * const a = new Future<string>();
 * const b = new Future<string>();
 * const first = collectAny([a, b]);
 * b.setResult("b wins");
 * first.value().index;          // 1
 * first.value().future.value(); // "b wins"
 * ```
 */
export function collectAny<F extends Future>(futures: Iterable<F>): Future<Completed<F>> {
  const inputs = toFutureArray(futures, "collectAny") as F[];
  if (inputs.length === 0) throw emptyError("collectAny");
  const result = new Future<Completed<F>>();
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as F;
    if (isDone(input._state)) {
      result._state = FULFILLED;
      result._value = { index: i, future: input };
      return result;
    }
  }
  result._state = PENDING_DERIVED;
  const race = new AnyRace(inputs, result);
  for (const input of inputs) {
    enqueue(input, race);
    if (isShared(input._state)) remote().watch(input);
  }
  return result;
}

/** One object registered on every input; the first to run completes the result and leaves the others. */
class AnyRace implements Reaction {
  private declare inputs: readonly Future[];
  private declare readonly result: Slot;

  constructor(inputs: readonly Future[], result: Slot) {
    this.inputs = inputs;
    this.result = result;
  }

  _run(parent: Future): void {
    // A later input completing within the same drain (or one listed twice) finds it won already.
    if (isDone(this.result._state)) return;
    const inputs = this.inputs;
    this.inputs = [];
    for (const input of inputs) if (!isDone(input._state)) dequeue(input, this);
    settleInLoop(this.result, FULFILLED, { index: inputs.indexOf(parent), future: parent });
  }

  _completes(): Slot {
    return this.result;
  }
}

/**
 * Returns the index and value of the first input future to complete — among
 * those already complete, the first in list order — or throws its error (the
 * same object). While all are pending it blocks, like `wait()`, until another
 * thread completes one (a shared future, or one derived from such); where no
 * input can complete while this thread blocks, it throws
 * {@link FutureNotCompletedError} at once: use `await collectAny(futures)`.
 *
 * @param futures - a non-empty iterable of futures; it is read once, at once.
 * @param timeoutMs - how long to block at most, in milliseconds; none by default.
 * @throws the error of the first input to complete, if it failed.
 * @throws {@link FutureTimeoutError} if `timeoutMs` passed with all still pending.
 * @throws {@link FutureNotCompletedError} if all are pending and only this thread can complete them.
 * @throws TypeError if `futures` is not iterable, is empty or holds a
 * non-`Future` (named by index), or `timeoutMs` is not a number >= 0 —
 * checked before anything else.
 *
 * @example
 * ```ts
 * import { Future, waitAny } from "torch-futures";
 *
 * const a = new Future<number>();
 * const b = new Future<number>();
 * b.setResult(2);
 * waitAny([a, b]); // { index: 1, value: 2 }
 * ```
 */
export function waitAny<F extends Future>(futures: Iterable<F>, timeoutMs?: number): FirstValue<ValueOf<F>> {
  const inputs = toFutureArray(futures, "waitAny");
  const deadline = deadlineOf(timeoutMs, "waitAny");
  if (inputs.length === 0) throw emptyError("waitAny");
  for (let blocked = false; ; blocked = true) {
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as Future;
      if (input._state === FULFILLED) return { index: i, value: input._value as ValueOf<F> };
      if (input._state === REJECTED) throw input._value;
    }
    if (blocked && performance.now() >= deadline) {
      throw new FutureTimeoutError(
        `waitAny(…, ${String(timeoutMs)}) timed out with all ${inputs.length} future(s) still pending; ` +
          "they can still complete. Wait again, or use `await collectAny(futures)`.",
      );
    }
    if (!blockOnAny(inputs, deadline, false)) {
      throw new FutureNotCompletedError(
        "waitAny() cannot block: every future is pending and only this thread can complete them, so " +
          "blocking would wait forever. Use `await collectAny(futures)` to wait without blocking.",
      );
    }
  }
}

/**
 * Python's `concurrent.futures.wait`: splits the input futures into those
 * completed and those pending, once `returnWhen` is met — {@link ALL_COMPLETED}
 * (the default), {@link FIRST_COMPLETED} or {@link FIRST_EXCEPTION} — or once
 * `timeoutMs` has passed, returning what is done by then (no error, as in
 * Python). Until then it blocks like `waitAll()`: for futures other threads
 * complete (or derived from such). Where the rule cannot be met while this
 * thread blocks — `FIRST_COMPLETED` with no pending future another thread
 * completes; the other rules with any such one missing — it throws
 * {@link FutureNotCompletedError} at once: use `await waitForAsync(...)`.
 * `waitFor([])` returns two empty sets.
 *
 * @param futures - any iterable of futures; it is read once, at once. A future
 * listed twice appears once in the sets.
 * @throws {@link FutureNotCompletedError} if it would have to block on futures only this thread completes.
 * @throws TypeError if `futures` is not iterable or holds a non-`Future`
 * (named by index), or an option is wrong — checked before anything else.
 *
 * @example
 * ```ts
 * import { FIRST_EXCEPTION, Future, waitFor } from "torch-futures";
 *
 * const a = new Future<number>();
 * const b = new Future<number>();
 * b.setException(new Error("b failed"));
 * const { done, pending } = waitFor([a, b], { returnWhen: FIRST_EXCEPTION });
 * done.has(b);    // true
 * pending.has(a); // true
 * ```
 */
export function waitFor<F extends Future>(futures: Iterable<F>, options?: WaitForOptions): WaitForResult<F> {
  const inputs = toFutureArray(futures, "waitFor") as F[];
  const { rule, deadline } = checkOptions(options, "waitFor");
  const unique = new Set(inputs);
  for (;;) {
    const split = new Split(unique);
    if (split.met(rule) || performance.now() >= deadline) return split.result();
    if (!blockOnAny([...split.pending], deadline, rule !== FIRST_COMPLETED)) {
      throw new FutureNotCompletedError(
        `waitFor(…, ${rule}) cannot block: it needs a pending future that only this thread can complete, ` +
          "so blocking would wait forever. Use `await waitForAsync(futures, options)` to wait without blocking.",
      );
    }
  }
}

/**
 * {@link waitFor} for `await`: resolves with the completed and pending
 * futures once `returnWhen` is met or `timeoutMs` has passed (resolving, not
 * rejecting, as in Python), and never blocks. It rejects with `signal.reason`
 * if `options.signal` aborts first — at once if it has already aborted. When
 * the wait ends, its callbacks leave the pending futures and its listener
 * leaves the signal, so long-lived ones collect nothing.
 *
 * @param futures - any iterable of futures; it is read once, at once.
 * @throws TypeError (synchronously, nothing touched) if `futures` is not
 * iterable or holds a non-`Future` (named by index), or an option is wrong.
 *
 * @example
 * ```ts
 * import { FIRST_COMPLETED, Future, waitForAsync } from "torch-futures";
 *
 * const a = new Future<number>();
 * const b = new Future<number>();
 * setTimeout(() => a.setResult(1), 10);
 * const { done, pending } = await waitForAsync([a, b], { returnWhen: FIRST_COMPLETED });
 * done.has(a); // true
 * ```
 */
export function waitForAsync<F extends Future>(
  futures: Iterable<F>,
  options?: WaitForAsyncOptions,
): Promise<WaitForResult<F>> {
  const inputs = toFutureArray(futures, "waitForAsync") as F[];
  const { rule, deadline } = checkOptions(options, "waitForAsync");
  const signal = checkSignal(options?.signal, "waitForAsync", false);
  if (signal?.aborted === true) return rejected(signal.reason);
  const split = new Split(new Set(inputs));
  if (split.met(rule) || performance.now() >= deadline) return Promise.resolve(split.result());
  return new Promise((resolve, reject) => {
    const waiter = new SetWaiter(split, rule, resolve, reject);
    for (const input of split.pending) {
      enqueue(input, waiter);
      if (isShared(input._state)) remote().watch(input);
    }
    waiter.stopTimer = startTimer(deadline, () => {
      waiter.finish(false, undefined);
    });
    if (signal !== undefined) {
      waiter.unlisten = onAbort(signal, () => {
        waiter.finish(true, signal.reason);
      });
    }
  });
}

/** The inputs of a wait, split into done and pending, and whether one of the done failed. */
class Split<F extends Future> {
  readonly done = new Set<F>();
  readonly pending = new Set<F>();
  failed = false;

  constructor(unique: Iterable<F>) {
    for (const fut of unique) this.add(fut);
  }

  add(fut: F): void {
    // done(), not the state: a shared future may hold a completion another thread made (a timeout of 0 sees it).
    if (fut.done()) {
      this.pending.delete(fut);
      this.done.add(fut);
      if (fut._state === REJECTED) this.failed = true;
    } else {
      this.pending.add(fut);
    }
  }

  met(rule: ReturnWhen): boolean {
    if (this.pending.size === 0) return true;
    if (rule === FIRST_COMPLETED) return this.done.size > 0;
    return rule === FIRST_EXCEPTION && this.failed;
  }

  result(): WaitForResult<F> {
    return { done: this.done, pending: this.pending };
  }
}

/** `waitForAsync`'s callback on every pending input: moves each to `done` and checks the rule. */
class SetWaiter<F extends Future> implements Reaction {
  declare stopTimer: () => void;
  declare unlisten: () => void;
  private declare finished: boolean;
  private declare readonly split: Split<F>;
  private declare readonly rule: ReturnWhen;
  private declare readonly resolve: (result: WaitForResult<F>) => void;
  private declare readonly reject: (reason: unknown) => void;

  constructor(
    split: Split<F>,
    rule: ReturnWhen,
    resolve: (result: WaitForResult<F>) => void,
    reject: (reason: unknown) => void,
  ) {
    this.split = split;
    this.rule = rule;
    this.resolve = resolve;
    this.reject = reject;
    this.finished = false;
    this.stopTimer = noop;
    this.unlisten = noop;
  }

  _run(parent: F): void {
    if (this.finished) return;
    this.split.add(parent);
    if (this.split.met(this.rule)) this.finish(false, undefined);
  }

  _completes(): undefined {
    // It resolves a promise, whose reactions run later.
    return undefined;
  }

  finish(aborted: boolean, reason: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.stopTimer();
    this.unlisten();
    for (const fut of this.split.pending) dequeue(fut, this);
    if (aborted) this.reject(reason);
    else this.resolve(this.split.result());
  }
}

/**
 * Blocks until one of `pending` completes, or `deadline`, through the futures
 * other threads complete that feed them. Returns `false` at once, without
 * blocking, if none of them can complete while this thread blocks — or, with
 * `all`, if any of them cannot.
 *
 * @internal
 */
export function blockOnAny(pending: readonly Future[], deadline: number, all: boolean): boolean {
  const sources = new Set<Slot>();
  const known = {};
  for (const fut of pending) {
    if (isDone(fut._state)) continue;
    const fed = sourcesOf(fut, known);
    if (fed === undefined) {
      if (all) return false;
      continue;
    }
    for (const source of fed) sources.add(source);
  }
  if (sources.size === 0) return false;
  remote().blockUntilAny([...sources], deadline);
  return true;
}

function checkOptions(options: WaitForOptions | undefined, fn: string): { rule: ReturnWhen; deadline: number } {
  if (options === undefined) return { rule: ALL_COMPLETED, deadline: Infinity };
  if (typeof (options as unknown) !== "object" || (options as unknown) === null) {
    throw new TypeError(`${fn}() expects its options as an object (or undefined), got ${describeValue(options)}.`);
  }
  const rule = options.returnWhen ?? ALL_COMPLETED;
  if (!RULES.includes(rule)) {
    throw new TypeError(
      `${fn}(): returnWhen must be one of ${RULES.join(", ")} (exported as constants), got ${describeValue(rule)}.`,
    );
  }
  return { rule, deadline: deadlineOf(options.timeoutMs, fn) };
}

function emptyError(fn: string): TypeError {
  return new TypeError(
    `${fn}() was given no futures: there is no first one to wait for. Pass at least one Future ` +
      "(waitFor([]) returns two empty sets, if that is what you need).",
  );
}

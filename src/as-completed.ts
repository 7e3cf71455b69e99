/**
 * Python's `concurrent.futures.as_completed`: the futures, in the order they
 * complete, as a blocking iterator and as an async one.
 *
 * @module
 */
import { dequeue, enqueue, isDone, isShared, type Reaction } from "./callback-queue.js";
import { FutureNotCompletedError, FutureTimeoutError } from "./errors.js";
import { Future, deadlineOf } from "./future.js";
import { remote } from "./remote.js";
import { toFutureArray } from "./combinators.js";
import { checkSignal, onAbort, rejected, startTimer } from "./abort.js";
import { blockOnAny, type Completed } from "./first-of.js";
import { describeValue } from "./describe.js";

/**
 * Options of {@link asCompleted}.
 *
 * @example
 * ```ts
 * import { type AsCompletedOptions } from "torch-futures";
 * const options: AsCompletedOptions = { timeoutMs: 5000, signal: new AbortController().signal };
 * ```
 */
export interface AsCompletedOptions {
  /**
   * Milliseconds from the `asCompleted` call after which a step that would
   * wait throws (or rejects with) {@link FutureTimeoutError}; none by default.
   */
  readonly timeoutMs?: number | undefined;
  /** A step throws (or rejects with) `signal.reason` once it has aborted. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * What `asCompleted` returns: `{ index, future }` for each input future in
 * completion order, through `for (const … of …)` (blocking) or
 * `for await (const … of …)`. Both read one sequence: each future comes out
 * once, whichever way it is read.
 *
 * @example
 * ```ts
 * import { Future, asCompleted, type AsCompleted } from "torch-futures";
 * declare const calls: Future<number>[];
 * const each: AsCompleted<Future<number>> = asCompleted(calls);
 * for await (const { index, future } of each) console.log(index, future.value());
 * ```
 */
export interface AsCompleted<F extends Future = Future> extends Iterable<Completed<F>>, AsyncIterable<Completed<F>> {
  /** A blocking iterator over the futures as they complete. */
  [Symbol.iterator](): IterableIterator<Completed<F>, undefined>;
  /** An async iterator over the futures as they complete. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Completed<F>, undefined>;
}

/**
 * Yields the input futures as they complete, each as `{ index, future }` (its
 * first index in the list, and the future; read it with `future.value()`):
 * first those already complete, in list order, then the others in the order
 * their completions run their callbacks (depth-first, as everywhere in torch)
 * — each future once, however often it was listed. The order is recorded from
 * this call on, whenever the iteration runs.
 *
 * Python's `as_completed` yields the futures themselves; here they come
 * wrapped, with their index, because a `Future` is a thenable: `for await`
 * (and TypeScript's type for it) would take a yielded future for its value.
 *
 * - `for await (const fut of asCompleted(futures))` never blocks.
 * - `for (const fut of asCompleted(futures))` blocks, like `wait()`, until
 *   another thread completes one (a shared future, or one derived from such);
 *   where none of the pending ones can complete while the thread blocks, the
 *   step throws {@link FutureNotCompletedError} and the iterator stays usable,
 *   for `for await`.
 *
 * With `timeoutMs`, a step that would wait past that many milliseconds from
 * this call throws {@link FutureTimeoutError}; with `signal`, a step throws
 * `signal.reason` once it has aborted. Either ends the iteration, and so does
 * leaving the loop early (`break`): its callbacks then leave the pending
 * futures and its listener the signal.
 *
 * @param futures - any iterable of futures; it is read once, at once.
 * @throws TypeError if `futures` is not iterable or holds a non-`Future`
 * (named by index), or an option is wrong — checked before anything else.
 *
 * @example
 * ```ts
 * import { Future, asCompleted } from "torch-futures";
 *
 * const a = new Future<string>();
 * const b = new Future<string>();
 * setTimeout(() => b.setResult("b"), 10);
 * setTimeout(() => a.setResult("a"), 20);
 * for await (const { future } of asCompleted([a, b])) console.log(future.value()); // "b", then "a"
 * ```
 */
export function asCompleted<F extends Future>(futures: Iterable<F>, options?: AsCompletedOptions): AsCompleted<F> {
  const inputs = toFutureArray(futures, "asCompleted") as F[];
  if (options !== undefined && (typeof (options as unknown) !== "object" || (options as unknown) === null)) {
    throw new TypeError(`asCompleted() expects its options as an object (or undefined), got ${describeValue(options)}.`);
  }
  const deadline = deadlineOf(options?.timeoutMs, "asCompleted");
  const signal = checkSignal(options?.signal, "asCompleted", false);
  return new Completions(inputs, deadline, options?.timeoutMs, signal);
}

interface Waiter<F> {
  resolve(result: IteratorResult<F, undefined>): void;
  reject(reason: unknown): void;
}

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };

/** The sequence both iterators read: one callback on every pending input, pushing it as it completes. */
class Completions<F extends Future> implements AsCompleted<F>, Reaction {
  private declare queue: Completed<F>[];
  private declare head: number;
  /** The pending inputs that still hold this callback, and their first index. */
  private declare readonly waiting: Map<F, number>;
  private declare readonly waiters: Waiter<Completed<F>>[];
  private declare closed: boolean;
  private declare readonly deadline: number;
  private declare readonly timeoutMs: number | undefined;
  private declare readonly signal: AbortSignal | undefined;
  private declare stopTimer: (() => void) | undefined;
  private declare unlisten: (() => void) | undefined;

  constructor(inputs: readonly F[], deadline: number, timeoutMs: number | undefined, signal: AbortSignal | undefined) {
    this.queue = [];
    this.head = 0;
    this.waiting = new Map();
    this.waiters = [];
    this.closed = false;
    this.deadline = deadline;
    this.timeoutMs = timeoutMs;
    this.signal = signal;
    this.stopTimer = undefined;
    this.unlisten = undefined;
    const seen = new Set<F>();
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index] as F;
      if (seen.has(input)) continue;
      seen.add(input);
      if (isDone(input._state)) {
        this.queue.push({ index, future: input });
        continue;
      }
      this.waiting.set(input, index);
      enqueue(input, this);
      if (isShared(input._state)) remote().watch(input);
    }
  }

  [Symbol.iterator](): IterableIterator<Completed<F>, undefined> {
    const iterator: IterableIterator<Completed<F>, undefined> = {
      next: () => this.nextSync(),
      return: () => {
        this.close();
        return DONE;
      },
      [Symbol.iterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Completed<F>, undefined> {
    const iterator: AsyncIterableIterator<Completed<F>, undefined> = {
      next: () => this.nextAsync(),
      return: () => {
        this.close();
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  _run(parent: F): void {
    const index = this.waiting.get(parent);
    if (index === undefined) return;
    this.waiting.delete(parent);
    this.queue.push({ index, future: parent });
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.resolve({ done: false, value: this.take() });
    // The last one out: a second next() still waiting gets the end.
    if (this.waiting.size === 0 && this.head === this.queue.length) this.close();
    else if (this.waiters.length === 0) this.endAsyncWait();
  }

  _completes(): undefined {
    return undefined;
  }

  private nextSync(): IteratorResult<Completed<F>, undefined> {
    for (let blocked = false; ; blocked = true) {
      const ready = this.ready();
      if (ready !== undefined) return ready;
      if (blocked && performance.now() >= this.deadline) throw this.fail(this.timeoutError());
      if (!blockOnAny([...this.waiting.keys()], this.deadline, false)) {
        throw new FutureNotCompletedError(
          "asCompleted(): the blocking iterator cannot block: every future left is pending and only this thread " +
            "can complete them, so blocking would wait forever. Use `for await (const fut of asCompleted(futures))`.",
        );
      }
    }
  }

  private nextAsync(): Promise<IteratorResult<Completed<F>, undefined>> {
    // Earlier next() calls still waiting come first.
    if (this.waiters.length === 0) {
      try {
        const ready = this.ready();
        if (ready !== undefined) return Promise.resolve(ready);
      } catch (error) {
        return rejected(error);
      }
      if (performance.now() >= this.deadline) return rejected(this.fail(this.timeoutError()));
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.waiters.length > 1) return;
      // Armed only while a step waits: an iterator left unfinished holds no timer and no listener.
      this.stopTimer = startTimer(this.deadline, () => {
        this.stopTimer = undefined;
        this.failWaiters(this.timeoutError());
      });
      const signal = this.signal;
      if (signal !== undefined) {
        this.unlisten = onAbort(signal, () => {
          this.unlisten = undefined;
          this.failWaiters(signal.reason);
        });
      }
    });
  }

  /** The next step if it needs no waiting (a future, the end, or the signal's abort); else `undefined`. */
  private ready(): IteratorResult<Completed<F>, undefined> | undefined {
    if (this.closed) return DONE;
    if (this.signal?.aborted === true) throw this.fail(this.signal.reason);
    if (this.head < this.queue.length) return { done: false, value: this.take() };
    if (this.waiting.size === 0) {
      this.close();
      return DONE;
    }
    return undefined;
  }

  private take(): Completed<F> {
    const next = this.queue[this.head] as Completed<F>;
    this.queue[this.head++] = undefined as unknown as Completed<F>;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return next;
  }

  private timeoutError(): FutureTimeoutError {
    return new FutureTimeoutError(
      `asCompleted(…, { timeoutMs: ${String(this.timeoutMs)} }) timed out with ${this.waiting.size} future(s) ` +
        "still pending; they can still complete. Iterate again over what is left, with a longer timeout.",
    );
  }

  /** Ends the iteration with `error` (returned, for the caller to throw). */
  private fail(error: unknown): unknown {
    this.close();
    return error;
  }

  private failWaiters(error: unknown): void {
    const waiters = this.waiters.splice(0);
    this.close();
    for (const waiter of waiters) waiter.reject(error);
  }

  private endAsyncWait(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
    this.unlisten?.();
    this.unlisten = undefined;
  }

  /** Ends the iteration: takes its callbacks off the pending futures; next steps are done. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fut of this.waiting.keys()) dequeue(fut, this);
    this.waiting.clear();
    this.queue = [];
    this.head = 0;
    this.endAsyncWait();
    for (const waiter of this.waiters.splice(0)) waiter.resolve(DONE);
  }
}

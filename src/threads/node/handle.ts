/**
 * The public face of cross-thread futures on Node.js: {@link share},
 * {@link adopt} and the {@link FutureHandle} that travels between them.
 *
 * @module
 */
import type { MessagePort } from "node:worker_threads";
import { reasons } from "../kit/index.js";
import type { Future } from "../../future.js";
import { adoptHandle, shareFuture, type HandleData } from "../share/protocol.js";

/**
 * A future on its way to another thread: what {@link share} returns and
 * {@link adopt} takes. Send it with `postMessage` — or as `workerData` — and
 * list its {@link FutureHandle.transferList} in the transfer list: that is
 * the one step. It may ride inside a larger message, and may be passed on
 * from thread to thread (with its `transferList` each time) until one thread
 * adopts it. One handle serves one adopting thread; call `share()` again for
 * another.
 *
 * @typeParam T - the type of the future's result.
 *
 * @example
 * ```ts
 * // main.ts
 * import { Worker } from "node:worker_threads";
 * const worker = new Worker(new URL("./worker.js", import.meta.url));
 * const fut = new Future<number>();
 * const handle = share(fut);
 * worker.postMessage({ job: "count", result: handle }, handle.transferList);
 * console.log(fut.wait(5_000)); // blocks until the worker completes it
 *
 * // worker.ts
 * import { parentPort } from "node:worker_threads";
 * parentPort?.on("message", (msg: { job: string; result: FutureHandle<number> }) => {
 *   adopt(msg.result).setResult(42);
 * });
 * ```
 */
export interface FutureHandle<T = unknown> {
  /**
   * Marks the object as a handle (and its format version); see {@link isFutureHandle}.
   *
   * @example
   * ```ts
   * share(new Future()).torchFuturesHandle; // 1
   * ```
   */
  readonly torchFuturesHandle: 1;
  /**
   * What `postMessage` must transfer for the handle to arrive: pass it as the
   * transfer list (or spread it into a longer one). It still holds the same
   * ports after the handle has been received, so a thread can pass the
   * handle on the same way.
   *
   * @example
   * ```ts
   * import { Worker } from "node:worker_threads";
   * declare const worker: Worker, url: URL, port: MessagePort;
   * declare const handle: FutureHandle<number>, a: FutureHandle, b: FutureHandle;
   * worker.postMessage(handle, handle.transferList);
   * new Worker(url, { workerData: handle, transferList: handle.transferList });
   * port.postMessage({ a, b }, [...a.transferList, ...b.transferList]);
   * ```
   */
  readonly transferList: MessagePort[];
  /** @internal The future's shared cell. */
  readonly cell: SharedArrayBuffer;
  /** @internal The adopter's participant number. */
  readonly id: number;
  /** @internal The adopter's end of the link to the owner. */
  readonly port: MessagePort;
  /** @internal Whether the owner is a worker (so its death must be watched). */
  readonly ownerMortal: boolean;
  /**
   * Carries `T` for the type checker only; never present at runtime.
   *
   * @example
   * ```ts
   * const h: FutureHandle<number> = share(new Future<number>());
   * // adopt(h) is a Future<number>
   * ```
   */
  readonly __valueType?: () => T;
}

/**
 * Makes `fut` completable — and observable — from one other thread, and
 * returns the handle to send there (see {@link FutureHandle}). From then on,
 * whichever thread completes it first wins; the others' `setResult` and
 * `setException` throw `FutureAlreadyCompletedError`. On this thread, `fut`
 * stays the same object: its callbacks run here, `await fut` works as
 * before, and `fut.wait()` now blocks until the future is completed
 * (optionally with a timeout). Call `share()` once per thread that should
 * receive it.
 *
 * If every thread a handle went to goes away — it exits, throws an uncaught
 * error, is terminated, or is killed for running out of memory under
 * `resourceLimits` — before the future completes, `fut` fails with
 * `BrokenFutureError`, for `await` and for a blocked `wait()` alike (within
 * milliseconds; Node.js closes a dead worker's ports in all these cases). A
 * thread that is alive but never completes it (stuck in a loop, waiting on
 * something else) is not gone: bound such waits with `wait(timeoutMs)`, which
 * throws `FutureTimeoutError` and leaves the future pending.
 *
 * A pending shared future keeps this thread's event loop alive only while
 * someone waits for it here (a callback, an `await`), like a pending request.
 *
 * Importing `torch-futures/threads` costs nothing to futures that are never
 * shared.
 *
 * @param fut - a pending future created on this thread with `new Future()`.
 * @returns a handle for one receiving thread.
 * @throws TypeError if `fut` is not a `Future`, or is one this thread adopted
 * (only the creating thread shares; pass the handle on instead).
 * @throws `DerivedFutureError` if `fut` came from `continueWith`, `then` or
 * `collectAll` (it completes by itself, on this thread).
 * @throws `FutureAlreadyCompletedError` if `fut` is already completed.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads";
 * import { Future } from "torch-futures";
 * import { share } from "torch-futures/threads";
 *
 * const fut = new Future<Float32Array>();
 * fut.addDoneCallback((f) => console.log("on the main thread:", f.value()));
 * const handle = share(fut);
 * const worker = new Worker(new URL("./worker.js", import.meta.url), {
 *   workerData: handle,
 *   transferList: handle.transferList,
 * });
 * const result = fut.wait(); // blocks; the callback runs before wait() returns
 * ```
 */
export function share<T>(fut: Future<T>): FutureHandle<T> {
  const data = shareFuture<MessagePort>(fut);
  const port = data.port;
  return {
    torchFuturesHandle: 1,
    transferList: [port],
    cell: data.cell,
    id: data.id,
    port,
    ownerMortal: data.ownerMortal,
  };
}

/**
 * Takes in a handle that another thread made with {@link share}, and returns
 * this thread's `Future` for it: an ordinary `Future` that this thread can
 * complete (`setResult`, `setException`; exactly one thread wins) and observe
 * (`wait()` blocks until some thread completes it, `await` and callbacks run
 * here). Adopting the same handle object again returns the same future.
 *
 * Values cross by structured clone. Pass `{ transfer: [buffer] }` to
 * `setResult` to move `ArrayBuffer`s instead (zero-copy; the sender's become
 * detached); a typed array over a `SharedArrayBuffer` is shared, not copied.
 * A value that cannot be cloned (a function, a symbol…) makes the call throw
 * a `TypeError`, and the future stays pending. Errors arrive with their
 * class (built-in classes as themselves, others as the nearest built-in class
 * they extend, keeping their `name`), message, stack, `cause`, and own
 * enumerable properties that can be cloned.
 *
 * If the thread that created the future goes away before it completes, the
 * adopted future fails with `BrokenFutureError`.
 *
 * @param handle - a handle received through `postMessage` or `workerData`.
 * @throws TypeError if `handle` is not a {@link FutureHandle}.
 *
 * @example
 * ```ts
 * // worker.ts
 * import { workerData } from "node:worker_threads";
 * import { adopt, type FutureHandle } from "torch-futures/threads";
 *
 * const fut = adopt(workerData as FutureHandle<Float32Array>);
 * const data = new Float32Array([3, 3]);
 * fut.setResult(data, { transfer: [data.buffer] });
 * ```
 */
export function adopt<T>(handle: FutureHandle<T>): Future<T> {
  if (!isFutureHandle(handle)) {
    throw new TypeError(reasons.notAHandle(handle));
  }
  const data: HandleData<MessagePort> = { cell: handle.cell, id: handle.id, port: handle.port, ownerMortal: handle.ownerMortal };
  return adoptHandle(data) as Future<T>;
}

/**
 * Whether `value` is a {@link FutureHandle} (as received from another
 * thread, or before sending it).
 *
 * @example
 * ```ts
 * import { parentPort } from "node:worker_threads";
 * parentPort?.on("message", (msg: unknown) => {
 *   if (isFutureHandle(msg)) adopt(msg).setResult("done");
 * });
 * ```
 */
export function isFutureHandle(value: unknown): value is FutureHandle {
  if (typeof value !== "object" || value === null) return false;
  const h = value as Partial<FutureHandle>;
  return (
    h.torchFuturesHandle === 1 &&
    h.cell instanceof SharedArrayBuffer &&
    typeof h.id === "number" &&
    typeof h.port === "object" &&
    typeof h.port.postMessage === "function" &&
    typeof h.ownerMortal === "boolean"
  );
}

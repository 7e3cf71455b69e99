/**
 * The public face of cross-thread futures in browsers: {@link share},
 * {@link adopt} and the {@link FutureHandle} that travels between a page and
 * its Web Workers.
 *
 * @module
 */
import { reasons } from "../kit/index.js";
import type { Future } from "../../future.js";
import { MailPort, sentinelPort } from "./platform.js";
import { isLifeToken, type LifeToken } from "./life.js";
import { adoptHandle, shareFuture } from "../share/protocol.js";

/**
 * A future on its way to another thread (browsers): what {@link share}
 * returns and {@link adopt} takes. Send it with `postMessage` and list its
 * {@link FutureHandle.transferList} in the transfer list: that is the one
 * step. It may ride inside a larger message, and may be passed on from
 * thread to thread (with its `transferList` each time) until one thread
 * adopts it. One handle serves one adopting thread; call `share()` again for
 * another.
 *
 * @typeParam T - the type of the future's result.
 *
 * @example
 * ```ts
 * // page.ts
 * const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
 * const fut = new Future<number>();
 * const handle = share(fut);
 * worker.postMessage({ job: "count", result: handle }, handle.transferList);
 * console.log(await fut);
 *
 * // worker.ts
 * self.onmessage = (e: MessageEvent<{ job: string; result: FutureHandle<number> }>) => {
 *   adopt(e.data.result).setResult(42);
 * };
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
   * transfer list (or spread it into a longer one).
   *
   * @example
   * ```ts
   * declare const worker: Worker, port: MessagePort;
   * declare const handle: FutureHandle<number>, a: FutureHandle, b: FutureHandle;
   * worker.postMessage(handle, handle.transferList);
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
  /** @internal The mailbox the adopter writes. */
  readonly out: SharedArrayBuffer;
  /** @internal The mailbox the adopter reads. */
  readonly in: SharedArrayBuffer;
  /** @internal The owner's life token, if it has one. */
  readonly owner: LifeToken | undefined;
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
 * Makes `fut` completable — and observable — from one other thread (a Web
 * Worker, or the page from a worker), and returns the handle to send there
 * (see {@link FutureHandle}). Whichever thread completes it first wins; the
 * others' `setResult` and `setException` throw `FutureAlreadyCompletedError`.
 * On this thread `fut` stays the same object: its callbacks run here, and
 * `await fut` works as before. In a worker, `fut.wait()` now blocks until the
 * future is completed (optionally with a timeout); on a page's main thread,
 * where browsers forbid blocking, `wait()` throws `FutureNotCompletedError`
 * pointing to `await`.
 *
 * Needs a cross-origin isolated page (`crossOriginIsolated`, served with
 * `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`), where `SharedArrayBuffer`
 * exists. If every thread a handle went to goes away (its worker was
 * terminated or closed itself) before the future completes, `fut` fails with
 * `BrokenFutureError`; browsers tell it through Web Locks, within
 * milliseconds. A worker that is alive but never completes it is not gone:
 * bound such waits with `wait(timeoutMs)`.
 *
 * @param fut - a pending future created on this thread with `new Future()`.
 * @returns a handle for one receiving thread.
 * @throws TypeError if `fut` is not a `Future`, or is one this thread adopted,
 * or if the page is not cross-origin isolated.
 * @throws `DerivedFutureError` if `fut` came from `continueWith`, `then` or `collectAll`.
 * @throws `FutureAlreadyCompletedError` if `fut` is already completed.
 *
 * @example
 * ```ts
 * import { Future } from "torch-futures";
 * import { share } from "torch-futures/threads";
 *
 * const fut = new Future<Float32Array>();
 * const handle = share(fut);
 * const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
 * worker.postMessage(handle, handle.transferList);
 * console.log(await fut); // Float32Array(2) [3, 3]
 * ```
 */
export function share<T>(fut: Future<T>): FutureHandle<T> {
  prepareThread("share");
  const data = shareFuture<MailPort>(fut);
  const mail = data.port.data();
  return {
    torchFuturesHandle: 1,
    transferList: [mail.port],
    cell: data.cell,
    id: data.id,
    port: mail.port,
    out: mail.out,
    in: mail.in,
    owner: mail.peerLife,
    ownerMortal: data.ownerMortal,
  };
}

/** Checks that this page can share memory (throws a TypeError saying how if not), and starts this worker's sentinel. */
export function prepareThread(method: string): void {
  if (typeof SharedArrayBuffer === "function") {
    // A worker may block later; its sentinel must be up by then.
    sentinelPort();
    return;
  }
  throw new TypeError(reasons.noSharedMemory(method));
}

// Adopting the same handle again gives the same port, so the share protocol gives the same future.
const ports = new WeakMap<MessagePort, MailPort>();

/**
 * Takes in a handle that another thread made with {@link share}, and returns
 * this thread's `Future` for it: an ordinary `Future` that this thread can
 * complete (exactly one thread wins) and observe (`await`, callbacks; in a
 * worker, `wait()` blocks until some thread completes it). Adopting the same
 * handle object again returns the same future.
 *
 * Values cross by structured clone. In browsers they are written to shared
 * memory, so that a worker blocked in `wait()` can read them: `{ transfer:
 * [buffer] }` still leaves the sender's buffers detached, but copies the
 * bytes once. A value holding a `SharedArrayBuffer` or a `MessagePort`, or
 * bigger than 64 MiB, goes by message instead: `await` receives it, while a
 * blocking `wait()` for it throws `FutureNotCompletedError` saying so. A
 * value that cannot be cloned makes the call throw a `TypeError`, and the
 * future stays pending.
 *
 * @param handle - a handle received through `postMessage`.
 * @throws TypeError if `handle` is not a {@link FutureHandle}, or if the
 * page is not cross-origin isolated.
 *
 * @example
 * ```ts
 * // worker.ts
 * import { adopt, type FutureHandle } from "torch-futures/threads";
 *
 * self.onmessage = (e: MessageEvent<FutureHandle<Float32Array>>) => {
 *   setTimeout(() => adopt(e.data).setResult(new Float32Array([3, 3])), 500);
 * };
 * ```
 */
export function adopt<T>(handle: FutureHandle<T>): Future<T> {
  prepareThread("adopt");
  if (!isFutureHandle(handle)) {
    throw new TypeError(reasons.notAHandle(handle));
  }
  let port = ports.get(handle.port);
  if (port === undefined) {
    port = new MailPort({ port: handle.port, out: handle.out, in: handle.in, peerLife: handle.owner });
    ports.set(handle.port, port);
    port.hello();
  }
  return adoptHandle({ cell: handle.cell, id: handle.id, port, ownerMortal: handle.ownerMortal }) as Future<T>;
}

/**
 * Whether `value` is a {@link FutureHandle} (as received from another
 * thread, or before sending it).
 *
 * @example
 * ```ts
 * self.onmessage = (e: MessageEvent) => {
 *   if (isFutureHandle(e.data)) adopt(e.data).setResult("done");
 * };
 * ```
 */
export function isFutureHandle(value: unknown): value is FutureHandle {
  if (typeof value !== "object" || value === null) return false;
  const h = value as Partial<FutureHandle>;
  return (
    h.torchFuturesHandle === 1 &&
    h.cell instanceof SharedArrayBuffer &&
    h.out instanceof SharedArrayBuffer &&
    h.in instanceof SharedArrayBuffer &&
    (h.owner === undefined || isLifeToken(h.owner)) &&
    typeof h.id === "number" &&
    typeof h.port === "object" &&
    typeof h.port.postMessage === "function" &&
    typeof h.ownerMortal === "boolean"
  );
}

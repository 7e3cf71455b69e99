/**
 * The public face of links on Node.js: {@link FutureLink}, {@link openLink}
 * and the {@link LinkHandle} that travels between them once.
 *
 * @module
 */
import type { MessagePort } from "node:worker_threads";
import { reasons } from "../kit/index.js";
import type { Future } from "../../future.js";
import { closeLink, isEnded, nextFuture, sendFuture, take } from "../link/protocol.js";
import type { LinkEnd } from "../link/end.js";
import { endOf, openWith, receiveOn } from "../link/face.js";

/**
 * Sizes of a new {@link FutureLink}. The defaults suit most uses; neither
 * limits what the link can carry, only what goes the fastest way.
 *
 * @example
 * ```ts
 * // many futures in flight at once, results of up to 4 KiB in shared memory
 * const link = new FutureLink<Uint8Array>({ capacity: 1024, inlineBytes: 4096 });
 * ```
 */
export interface LinkOptions {
  /**
   * How many futures each side can have in flight through shared memory
   * (sent and not yet completed and seen by both sides); rounded up to a
   * power of two. Default 64, at most 65,536. Beyond it, `send()` still
   * works: the future travels the slower way, by message, in order.
   *
   * @example
   * ```ts
   * new FutureLink({ capacity: 256 });
   * ```
   */
  readonly capacity?: number;
  /**
   * The largest value, serialized, that completes a future through shared
   * memory; larger ones go by message (zero-copy for the serialized bytes).
   * Numbers, booleans, `null` and `undefined` always fit. Default 512 bytes,
   * at most 65,536. The link's memory is about `2 × capacity × (inlineBytes + 32)` bytes.
   *
   * @example
   * ```ts
   * new FutureLink({ inlineBytes: 64 }); // small link: ~12 KiB of shared memory
   * ```
   */
  readonly inlineBytes?: number;
}

/**
 * The other end of a {@link FutureLink}, on its way to the thread that will
 * {@link openLink} it: `link.handle`. Send it once, with its
 * {@link LinkHandle.transferList}, through `postMessage` or as `workerData`.
 *
 * @typeParam Out - the result type of the futures the opening thread sends.
 * @typeParam In - the result type of the futures the opening thread receives.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads";
 * declare const url: URL;
 * const link = new FutureLink<number>();
 * new Worker(url, { workerData: link.handle, transferList: link.handle.transferList });
 * // worker.ts
 * import { workerData } from "node:worker_threads";
 * const link = openLink(workerData as LinkHandle<number>);
 * ```
 */
export interface LinkHandle<Out = unknown, In = Out> {
  /**
   * Marks the object as a link handle (and its format version); see {@link isLinkHandle}.
   *
   * @example
   * ```ts
   * new FutureLink().handle.torchFuturesLink; // 1
   * ```
   */
  readonly torchFuturesLink: 1;
  /**
   * What `postMessage` must transfer for the handle to arrive: pass it as the
   * transfer list (or spread it into a longer one).
   *
   * @example
   * ```ts
   * import type { Worker } from "node:worker_threads";
   * declare const worker: Worker, link: FutureLink<number>;
   * worker.postMessage({ link: link.handle }, link.handle.transferList);
   * ```
   */
  readonly transferList: MessagePort[];
  /** @internal The link's shared memory. */
  readonly memory: SharedArrayBuffer;
  /** @internal The opener's end of the link's port. */
  readonly port: MessagePort;
  /**
   * Carries `Out` and `In` for the type checker only; never present at runtime.
   *
   * @example
   * ```ts
   * const h: LinkHandle<number, string> = new FutureLink<string, number>().handle;
   * // openLink(h) is a FutureLink<number, string>
   * ```
   */
  readonly __linkTypes?: () => [sent: Out, received: In];
}

/**
 * A standing link between two threads, over which futures cross — and
 * complete — through shared memory alone: no `postMessage` and no new port
 * per future, so a round trip (hand a future over, the other thread
 * completes it, this thread's blocking `wait()` returns) costs a few
 * microseconds instead of the tens that messages cost. Make it once with
 * `new FutureLink()`, hand `link.handle` to the other thread once, and
 * {@link openLink} it there; then either side can {@link FutureLink.send}
 * futures to the other, which takes them in order with
 * {@link FutureLink.receive} (blocking), {@link FutureLink.tryReceive}, or
 * `await link.next()` / `for await (const fut of link)`.
 *
 * A future received is an ordinary `Future`, and so is the one sent: both
 * keep every rule of `share()`/`adopt()` — exactly one completion wins,
 * `wait(timeoutMs)` blocks (and throws `FutureTimeoutError`, leaving it
 * pending), callbacks run on the thread that registered them, values cross
 * by structured clone (`{ transfer }` moves buffers, `SharedArrayBuffer`s are
 * shared), a value that cannot be cloned makes the completer's call throw a
 * `TypeError` and leaves the future pending, errors keep their class,
 * message, stack and `cause`, and when the other thread goes away every
 * pending future of the link fails with `BrokenFutureError`.
 *
 * Small results (numbers, booleans, short strings, and anything whose
 * serialized form fits {@link LinkOptions.inlineBytes}) complete in shared
 * memory; larger ones, `{ transfer }` and `SharedArrayBuffer`s go by message,
 * as with `share()`. While the other thread is awake, a blocking `wait()` or
 * `receive()` spins for up to 50 µs before it sleeps, since waking a sleeping
 * thread can cost more than a whole answer.
 *
 * A link holds one port and a block of shared memory (about 70 KiB by
 * default) until {@link FutureLink.close} or the end of either thread.
 *
 * @typeParam Out - the result type of the futures this thread sends.
 * @typeParam In - the result type of the futures this thread receives.
 *
 * @example
 * ```ts
 * // main.ts
 * import { Worker } from "node:worker_threads";
 * import { Future } from "torch-futures";
 * import { FutureLink } from "torch-futures/threads";
 *
 * const link = new FutureLink<number>();
 * const worker = new Worker(new URL("./worker.js", import.meta.url), {
 *   workerData: link.handle,
 *   transferList: link.handle.transferList,
 * });
 * for (let i = 0; i < 3; i++) {
 *   const fut = new Future<number>();
 *   link.send(fut);
 *   console.log(fut.wait()); // 0, 1, 4: blocks until the worker completes it
 * }
 * link.close();
 *
 * // worker.ts
 * import { workerData } from "node:worker_threads";
 * import { openLink, type LinkHandle } from "torch-futures/threads";
 *
 * const link = openLink(workerData as LinkHandle<number>);
 * let n = 0;
 * for await (const fut of link) {
 *   fut.setResult(n * n); // ends when main closes the link
 *   n++;
 * }
 * ```
 */
export class FutureLink<Out = unknown, In = Out> implements AsyncIterable<Future<In>, undefined> {
  /** @internal This thread's end. */
  readonly _end: LinkEnd;
  #handle: LinkHandle<In, Out> | undefined;

  /**
   * Makes a link whose other end, {@link FutureLink.handle}, goes to one
   * other thread.
   *
   * @param options - sizes of the link's shared memory; see {@link LinkOptions}.
   * @throws TypeError if an option is not an integer in its range.
   *
   * @example
   * ```ts
   * const link = new FutureLink<Float32Array, string>(); // sends Future<Float32Array>, receives Future<string>
   * ```
   */
  constructor(options?: LinkOptions) {
    const { end, handle } = endOf<MessagePort, LinkHandle<In, Out>>(options, (data) => ({
      torchFuturesLink: 1,
      transferList: [data.port],
      memory: data.memory,
      port: data.port,
    }));
    this._end = end;
    this.#handle = handle;
  }

  /**
   * The other end of the link, to hand to one other thread (with its
   * `transferList`), which passes it to {@link openLink}. The same object
   * every time; it can be sent once.
   *
   * @throws TypeError on a link opened with `openLink()`: its handle is the
   * one it was opened from.
   *
   * @example
   * ```ts
   * import type { Worker } from "node:worker_threads";
   * declare const worker: Worker;
   * const link = new FutureLink<number>();
   * worker.postMessage(link.handle, link.handle.transferList);
   * ```
   */
  get handle(): LinkHandle<In, Out> {
    if (this.#handle === undefined) {
      throw new TypeError(reasons.OPENED_LINK_HANDLE);
    }
    return this.#handle;
  }

  /**
   * Hands `fut`, a pending future created on this thread, to the other
   * thread, which receives it with `receive()`/`next()` in sending order.
   * `fut` stays the same object here: `wait()` blocks until either thread
   * completes it, `await` and callbacks work as before. No message and no
   * port are involved while the link's shared memory has room for it (see
   * {@link LinkOptions.capacity}); beyond that the future goes by message.
   *
   * @param fut - a pending future created on this thread (or one it shared
   * with `share()`, which then goes by message).
   * @throws TypeError if `fut` is not a `Future`, is one this thread received
   * or adopted, or was already sent over a link.
   * @throws `DerivedFutureError` if `fut` came from `continueWith`, `then` or `collectAll`.
   * @throws `FutureAlreadyCompletedError` if `fut` is already completed.
   * @throws {@link LinkClosedError} if either side closed the link.
   * @throws `BrokenFutureError` if the other thread has gone away; `fut` was
   * not sent and stays pending.
   *
   * @example
   * ```ts
   * declare const link: FutureLink<number>;
   * const fut = new Future<number>();
   * link.send(fut);
   * const n = fut.wait(1_000); // the other thread's answer, or FutureTimeoutError
   * ```
   */
  send(fut: Future<Out>): void {
    sendFuture(this._end, fut);
  }

  /**
   * Blocks until the other thread sends a future, and returns it: this
   * thread's `Future` for it, which this thread can complete (exactly one
   * thread wins) or wait for. Futures arrive in the order they were sent.
   *
   * @param timeoutMs - how long to block at most, in milliseconds; none by default.
   * @throws `FutureTimeoutError` if `timeoutMs` passed first.
   * @throws {@link LinkClosedError} once either side has closed the link and
   * every future sent before was received.
   * @throws `BrokenFutureError` once the other thread has gone away (in
   * bounded time, also while blocked) and every future it sent was received.
   * @throws TypeError if `timeoutMs` is not a number >= 0.
   *
   * @example
   * ```ts
   * import { workerData } from "node:worker_threads";
   * // worker.ts: serve until main closes the link
   * const link = openLink(workerData as LinkHandle<string>);
   * for (;;) {
   *   const fut = link.receive(); // throws LinkClosedError at the end
   *   fut.setResult("done");
   * }
   * ```
   */
  receive(timeoutMs?: number): Future<In> {
    return receiveOn(this._end, timeoutMs) as Future<In>;
  }

  /**
   * The next future the other thread sent, if one has arrived; `undefined`
   * otherwise. Never blocks.
   *
   * @throws {@link LinkClosedError} or `BrokenFutureError`, as `receive()` does.
   *
   * @example
   * ```ts
   * declare const link: FutureLink<number>;
   * for (let fut = link.tryReceive(); fut !== undefined; fut = link.tryReceive()) fut.setResult(0);
   * ```
   */
  tryReceive(): Future<In> | undefined {
    return take(this._end) as Future<In> | undefined;
  }

  /**
   * Waits without blocking for the next future the other thread sends:
   * `{ value: fut, done: false }`, or `{ done: true }` once either side has
   * closed the link and every future sent before was received. Rejects with
   * `BrokenFutureError` once the other thread has gone away. While a call is
   * pending, the link keeps this thread's event loop alive.
   *
   * @example
   * ```ts
   * declare const link: FutureLink<number>;
   * const next = await link.next();
   * if (next.done !== true) next.value.setResult(1);
   * ```
   */
  next(): Promise<IteratorResult<Future<In>, undefined>> {
    return nextFuture(this._end) as Promise<IteratorResult<Future<In>, undefined>>;
  }

  /**
   * `for await (const fut of link)`: every future the other thread sends, in
   * order, until either side closes the link (the loop ends) or the other
   * thread goes away (the loop throws `BrokenFutureError`). Leaving the loop
   * early does not close the link.
   *
   * @example
   * ```ts
   * declare const link: FutureLink<number>;
   * declare function compute(): Promise<number>;
   * for await (const fut of link) fut.setResult(await compute());
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Future<In>, undefined> {
    return { next: () => this.next() };
  }

  /**
   * Closes the link for both sides: neither sends any more (`send()` throws
   * {@link LinkClosedError}), and the other side's `receive()` throws it (its
   * `for await` ends) once it has received every future sent before. Futures
   * already received are not affected: they still complete across the link.
   * A future this thread never received fails on its sender's side with
   * `BrokenFutureError`. Lets go of the link's port once no future of it is
   * pending here. Calling it again does nothing.
   *
   * @example
   * ```ts
   * declare const link: FutureLink<number>, fut: Future<number>;
   * link.send(fut);
   * link.close();      // fut can still be completed by the other thread
   * fut.wait();
   * ```
   */
  close(): void {
    closeLink(this._end);
  }

  /**
   * Whether the link is closed (by either side) or the other thread has gone away.
   *
   * @example
   * ```ts
   * declare const link: FutureLink<number>;
   * link.close();
   * link.closed; // true
   * ```
   */
  get closed(): boolean {
    return isEnded(this._end);
  }
}

/**
 * Opens, on the receiving thread, the other end of a {@link FutureLink}
 * made on another thread: `handle` is that link's `handle`, received through
 * `postMessage` or `workerData`. Opening the same handle object again gives
 * the same link.
 *
 * @typeParam Out - the result type of the futures this thread sends.
 * @typeParam In - the result type of the futures this thread receives.
 * @param handle - the link's handle, received with its `transferList`.
 * @throws TypeError if `handle` is not a {@link LinkHandle}.
 *
 * @example
 * ```ts
 * // worker.ts
 * import { workerData } from "node:worker_threads";
 * import { openLink, type LinkHandle } from "torch-futures/threads";
 *
 * const link = openLink(workerData as LinkHandle<number>);
 * link.receive().setResult(42);
 * ```
 */
export function openLink<Out, In>(handle: LinkHandle<Out, In>): FutureLink<Out, In> {
  if (!isLinkHandle(handle)) {
    throw new TypeError(reasons.notALinkHandle(handle));
  }
  return openWith({ memory: handle.memory, port: handle.port }, () => new FutureLink<Out, In>());
}

/**
 * Whether `value` is a {@link LinkHandle} (as received from another thread,
 * or before sending it).
 *
 * @example
 * ```ts
 * import { parentPort } from "node:worker_threads";
 * declare function serve(link: FutureLink): void;
 * parentPort?.on("message", (msg: unknown) => {
 *   if (isLinkHandle(msg)) serve(openLink(msg));
 * });
 * ```
 */
export function isLinkHandle(value: unknown): value is LinkHandle {
  if (typeof value !== "object" || value === null) return false;
  const h = value as Partial<LinkHandle>;
  return (
    h.torchFuturesLink === 1 &&
    h.memory instanceof SharedArrayBuffer &&
    typeof h.port === "object" &&
    typeof h.port.postMessage === "function"
  );
}

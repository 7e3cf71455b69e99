/**
 * The public face of links in browsers: {@link FutureLink}, {@link openLink}
 * and the {@link LinkHandle} that travels between a page and a Web Worker,
 * or between two workers, once.
 *
 * @module
 */
import { reasons } from "../kit/index.js";
import type { Future } from "../../future.js";
import { closeLink, isEnded, nextFuture, sendFuture, take } from "../link/protocol.js";
import type { LinkEnd } from "../link/end.js";
import { endOf, openWith, receiveOn } from "../link/face.js";
import { MailPort } from "./platform.js";
import { isLifeToken, type LifeToken } from "./life.js";
import { prepareThread } from "./handle.js";

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
   * works: the future travels the slower way, by message, in order — which
   * in browsers only the receiver's event loop takes (`await link.next()`),
   * not a blocking `receive()`.
   *
   * @example
   * ```ts
   * new FutureLink({ capacity: 256 });
   * ```
   */
  readonly capacity?: number;
  /**
   * The largest value, serialized, that completes a future through shared
   * memory; larger ones go by message. Numbers, booleans, `null` and
   * `undefined` always fit. Default 512 bytes, at most 65,536. The link's
   * memory is about `2 × capacity × (inlineBytes + 32)` bytes.
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
 * {@link LinkHandle.transferList}, through `postMessage` (to a worker, from
 * a worker to the page, or on to another worker).
 *
 * @typeParam Out - the result type of the futures the opening thread sends.
 * @typeParam In - the result type of the futures the opening thread receives.
 *
 * @example
 * ```ts
 * // page.ts
 * const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
 * const link = new FutureLink<number>();
 * worker.postMessage(link.handle, link.handle.transferList);
 *
 * // worker.ts
 * self.onmessage = (e: MessageEvent<LinkHandle<number>>) => {
 *   const link = openLink(e.data);
 *   link.receive().setResult(1);
 * };
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
   * declare const worker: Worker, link: FutureLink<number>;
   * worker.postMessage({ link: link.handle }, link.handle.transferList);
   * ```
   */
  readonly transferList: MessagePort[];
  /** @internal The link's shared memory. */
  readonly memory: SharedArrayBuffer;
  /** @internal The opener's end of the link's port. */
  readonly port: MessagePort;
  /** @internal The mailbox the opener writes. */
  readonly out: SharedArrayBuffer;
  /** @internal The mailbox the opener reads. */
  readonly in: SharedArrayBuffer;
  /** @internal The life token of the thread that made the link, if it has one. */
  readonly maker: LifeToken | undefined;
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
 * A standing link between two browser threads (a page and a Web Worker, or
 * two workers), over which futures cross — and complete — through shared
 * memory alone: no `postMessage` and no new port per future. Make it once
 * with `new FutureLink()`, hand `link.handle` to the other thread once, and
 * {@link openLink} it there; then either side can {@link FutureLink.send}
 * futures to the other, which takes them in order with
 * `await link.next()` / `for await (const fut of link)`,
 * {@link FutureLink.tryReceive}, or, in a worker, {@link FutureLink.receive}
 * (blocking).
 *
 * A future received is an ordinary `Future`, and so is the one sent: both
 * keep every rule of `share()`/`adopt()` — exactly one completion wins,
 * callbacks run on the thread that registered them, `wait(timeoutMs)` blocks
 * in a worker (and throws `FutureNotCompletedError` pointing to `await` on
 * the page's main thread, where browsers forbid blocking), values cross by
 * structured clone, a value that cannot be cloned makes the completer's call
 * throw a `TypeError` and leaves the future pending, errors keep their
 * class, message, stack and `cause`, and when the other thread goes away
 * (its worker terminated or closed itself) every pending future of the link
 * fails with `BrokenFutureError`, within milliseconds (browsers tell it
 * through Web Locks).
 *
 * Small results (numbers, booleans, short strings, and anything whose
 * serialized form fits {@link LinkOptions.inlineBytes}) complete in shared
 * memory; larger ones go through the link's mailboxes, also shared memory.
 * What bytes cannot carry — a `SharedArrayBuffer`, a `MessagePort` — and a
 * future sent while the link's berths are full go by message, which only
 * the receiving thread's event loop takes.
 *
 * Needs a cross-origin isolated page, as `share()` does. A link holds one
 * port and about 70 KiB of shared memory by default until
 * {@link FutureLink.close} or the end of either thread.
 *
 * @typeParam Out - the result type of the futures this thread sends.
 * @typeParam In - the result type of the futures this thread receives.
 *
 * @example
 * ```ts
 * // page.ts
 * import { Future } from "torch-futures";
 * import { FutureLink } from "torch-futures/threads";
 *
 * const link = new FutureLink<number>();
 * const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
 * worker.postMessage(link.handle, link.handle.transferList);
 * for (let i = 0; i < 3; i++) {
 *   const fut = new Future<number>();
 *   link.send(fut);
 *   console.log(await fut); // 0, 1, 4
 * }
 * link.close();
 *
 * // worker.ts
 * import { openLink, type LinkHandle } from "torch-futures/threads";
 *
 * self.onmessage = async (e: MessageEvent<LinkHandle<number>>) => {
 *   const link = openLink(e.data);
 *   let n = 0;
 *   for await (const fut of link) {
 *     fut.setResult(n * n); // ends when the page closes the link
 *     n++;
 *   }
 * };
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
   * @throws TypeError if an option is not an integer in its range, or if
   * the page is not cross-origin isolated.
   *
   * @example
   * ```ts
   * const link = new FutureLink<Float32Array, string>(); // sends Future<Float32Array>, receives Future<string>
   * ```
   */
  constructor(options?: LinkOptions) {
    prepareThread("new FutureLink");
    const { end, handle } = endOf<MailPort, LinkHandle<In, Out>>(options, (data) => {
      const mail = data.port.data();
      return {
        torchFuturesLink: 1,
        transferList: [mail.port],
        memory: data.memory,
        port: mail.port,
        out: mail.out,
        in: mail.in,
        maker: mail.peerLife,
      };
    });
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
   * thread, which receives it with `next()`/`receive()` in sending order.
   * `fut` stays the same object here: `await` and callbacks work as before,
   * and in a worker `wait()` blocks until either thread completes it. No
   * message and no port are involved while the link's shared memory has room
   * for it (see {@link LinkOptions.capacity}); beyond that the future goes by
   * message.
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
   * const n = await fut; // the other thread's answer
   * ```
   */
  send(fut: Future<Out>): void {
    sendFuture(this._end, fut);
  }

  /**
   * In a Web Worker: blocks until the other thread sends a future, and
   * returns it — this thread's `Future` for it, which this thread can
   * complete (exactly one thread wins) or wait for. Futures arrive in the
   * order they were sent. A future that went by message (see
   * {@link LinkOptions.capacity}) reaches a browser thread through its event
   * loop only: take it with `await link.next()`.
   *
   * @param timeoutMs - how long to block at most, in milliseconds; none by default.
   * @throws `FutureNotCompletedError` on the page's main thread, where
   * browsers forbid blocking (use `await link.next()` or `tryReceive()`), or
   * when the next future can reach this thread only through its event loop.
   * @throws `FutureTimeoutError` if `timeoutMs` passed first.
   * @throws {@link LinkClosedError} once either side has closed the link and
   * every future sent before was received.
   * @throws `BrokenFutureError` once the other thread has gone away (in
   * bounded time, also while blocked) and every future it sent was received.
   * @throws TypeError if `timeoutMs` is not a number >= 0.
   *
   * @example
   * ```ts
   * // worker.ts: serve until the page closes the link
   * self.onmessage = (e: MessageEvent<LinkHandle<string>>) => {
   *   const link = openLink(e.data);
   *   for (;;) {
   *     const fut = link.receive(); // throws LinkClosedError at the end
   *     fut.setResult("done");
   *   }
   * };
   * ```
   */
  receive(timeoutMs?: number): Future<In> {
    return receiveOn(this._end, timeoutMs) as Future<In>;
  }

  /**
   * The next future the other thread sent, if one has arrived; `undefined`
   * otherwise. Never blocks, on any thread.
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
   * `BrokenFutureError` once the other thread has gone away. Works on every
   * thread, the page's main thread included.
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
   * await fut;
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

// Opening the same handle again gives the same port, so the protocol gives the same end.
const ports = new WeakMap<MessagePort, MailPort>();

/**
 * Opens, on the receiving thread, the other end of a {@link FutureLink}
 * made on another thread: `handle` is that link's `handle`, received through
 * `postMessage`. Opening the same handle object again gives the same link.
 *
 * @typeParam Out - the result type of the futures this thread sends.
 * @typeParam In - the result type of the futures this thread receives.
 * @param handle - the link's handle, received with its `transferList`.
 * @throws TypeError if `handle` is not a {@link LinkHandle}, or if the page
 * is not cross-origin isolated.
 *
 * @example
 * ```ts
 * // worker.ts
 * import { openLink, type LinkHandle } from "torch-futures/threads";
 *
 * self.onmessage = (e: MessageEvent<LinkHandle<number>>) => {
 *   openLink(e.data).receive().setResult(42);
 * };
 * ```
 */
export function openLink<Out, In>(handle: LinkHandle<Out, In>): FutureLink<Out, In> {
  prepareThread("openLink");
  if (!isLinkHandle(handle)) {
    throw new TypeError(reasons.notALinkHandle(handle));
  }
  let port = ports.get(handle.port);
  if (port === undefined) {
    port = new MailPort({ port: handle.port, out: handle.out, in: handle.in, peerLife: handle.maker });
    ports.set(handle.port, port);
    // Tells the link's maker who this thread is, so that it notices this thread's death.
    port.hello();
  }
  return openWith({ memory: handle.memory, port }, () => new FutureLink<Out, In>());
}

/**
 * Whether `value` is a {@link LinkHandle} (as received from another thread,
 * or before sending it).
 *
 * @example
 * ```ts
 * declare function serve(link: FutureLink): void;
 * self.onmessage = (e: MessageEvent) => {
 *   if (isLinkHandle(e.data)) serve(openLink(e.data));
 * };
 * ```
 */
export function isLinkHandle(value: unknown): value is LinkHandle {
  if (typeof value !== "object" || value === null) return false;
  const h = value as Partial<LinkHandle>;
  return (
    h.torchFuturesLink === 1 &&
    h.memory instanceof SharedArrayBuffer &&
    h.out instanceof SharedArrayBuffer &&
    h.in instanceof SharedArrayBuffer &&
    (h.maker === undefined || isLifeToken(h.maker)) &&
    typeof h.port === "object" &&
    typeof h.port.postMessage === "function"
  );
}

/**
 * The worker-threads transport's logic, the same on Node.js and in browsers:
 * what differs (the link classes, `MessageChannel`, how a port is listened to,
 * how a peer that dies during the rendezvous is noticed, whether this thread
 * may block) comes in a {@link ThreadsPlatform}. `threads.ts` is the Node.js
 * one, `threads-browser.ts` the browser one. See `threads.ts` for how calls
 * travel over the links.
 *
 * Internal: not an entry point.
 *
 * @module
 */
import { Future } from "../future.js";
import { BrokenFutureError, FutureAlreadyCompletedError, FutureTimeoutError } from "../errors.js";
import { LinkClosedError } from "../threads/link/protocol.js";
import { atDeadline, type Bucket } from "./deadlines.js";
import { Queue } from "./queue.js";
import { RpcCannotBlockError, RpcError, RpcWorkerGoneError, markRaisedOn } from "./errors.js";
import type { CallOptions, RequestHandler, RpcRequest, Transport } from "./transport.js";
import { settleWith } from "./agent.js";

/**
 * Request futures each callee keeps in each caller's hands: as many calls as can be in flight
 * before later ones wait their turn. Just under the link's capacity, so that they and their reply
 * futures stay in shared memory (256 measured 23k calls/s with 20,000 in flight, 1,000 51–72k).
 */
export const SLOTS = 1000;
/** How long a serving thread looks for the next call before it waits on its event loop. */
const SERVE_SPIN_MS = 0.05;
/** Futures in flight per link through shared memory before the link falls back to messages. */
const CAPACITY = 1024;

/** What the transport uses of a `FutureLink` (the Node.js and the browser class both fit). */
export interface RpcLink<Out, In> {
  readonly handle: { readonly transferList: readonly unknown[] };
  readonly closed: boolean;
  send(fut: Future<Out>): void;
  receive(timeoutMs?: number): Future<In>;
  tryReceive(): Future<In> | undefined;
  next(): Promise<IteratorResult<Future<In>, undefined>>;
  close(): void;
}

/** A group handle, whatever its ports' class. */
export interface GroupHandleOf<P> {
  readonly torchFuturesRpcGroup: 1;
  readonly name: string;
  readonly workers: readonly string[];
  readonly ports: Readonly<Record<string, P>>;
  readonly transferList: P[];
}

/** What differs between the platforms the transport runs on. */
export interface ThreadsPlatform<P> {
  /** A new entangled pair of ports. */
  channel(): { port1: P; port2: P };
  /** Posts `message` on `port`, moving `transfer`. */
  post(port: P, message: unknown, transfer: readonly unknown[]): void;
  /** Calls `listener` with the next rendezvous message on `port` (once). */
  onceMessage(port: P, listener: (message: unknown) => void): void;
  /**
   * Watches the rendezvous with `peer` on `port`: calls `fail` with the error the
   * rendezvous fails with if the peer goes away (or never comes) before `stop()`.
   */
  watch(port: P, me: string, peer: string, fail: (error: Error) => void): () => void;
  /** Closes the rendezvous port. */
  closePort(port: P): void;
  /** Whether this thread may block (false on a browser page's main thread). */
  readonly canBlock: boolean;
}

/** The handles of a group, one per name: each pair of names shares one channel. */
export function createGroup<P>(platform: ThreadsPlatform<P>, names: readonly string[]): Record<string, GroupHandleOf<P>> {
  const given: unknown = names;
  if (!Array.isArray(given) || given.length === 0 || given.some((n) => typeof n !== "string" || n === "")) {
    throw new TypeError("createThreadGroup() expects an array of one or more worker names (non-empty strings).");
  }
  if (new Set(names).size !== names.length) {
    throw new TypeError(`createThreadGroup(): worker names must be unique, got ${names.map((n) => `"${n}"`).join(", ")}.`);
  }
  const ports = new Map<string, Record<string, P>>(names.map((n) => [n, {}]));
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const { port1, port2 } = platform.channel();
      const a = names[i] ?? "";
      const b = names[j] ?? "";
      (ports.get(a) ?? {})[b] = port1;
      (ports.get(b) ?? {})[a] = port2;
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const own = ports.get(name) ?? {};
      return [name, { torchFuturesRpcGroup: 1, name, workers: [...names], ports: own, transferList: Object.values(own) }];
    }),
  );
}

/**
 * Whether `value` is an RPC group handle.
 *
 * @example
 * ```ts
 * import { isRpcGroupHandle, threadsTransport } from "torch-futures/rpc";
 * declare const data: unknown;
 * if (isRpcGroupHandle(data)) await threadsTransport(data);
 * ```
 */
export function isRpcGroupHandle(value: unknown): value is GroupHandleOf<unknown> {
  const h = value as Partial<GroupHandleOf<unknown>> | null;
  return typeof h === "object" && h !== null && h.torchFuturesRpcGroup === 1 && typeof h.name === "string" && Array.isArray(h.workers);
}

/**
 * How the two threads of a pair talk once met: the lower-ranked side makes
 * the channel and sends its offer, the other opens it; the transport is made
 * from every pair's channel.
 */
export interface Connector<C> {
  make(peer: string): { channel: C; offer: unknown; transfer: readonly unknown[] };
  open(peer: string, offer: unknown): C;
  transport(name: string, workers: readonly string[], channels: Map<string, C>, canBlock: boolean): Transport;
}

/** How the link connector makes links: the platform's `FutureLink` class. */
export interface LinkMaker {
  /** A new link (the lower-ranked side of a pair makes both). */
  makeLink(capacity: number): RpcLink<unknown, unknown>;
  /** Opens a link from the handle the peer sent. */
  openLink(handle: unknown): RpcLink<unknown, unknown>;
}

/** Two `FutureLink`s per pair (one each way), as the browser transport uses them. */
export function linkConnector(platform: LinkMaker): Connector<Peer> {
  const peer = (name: string, out: RpcLink<unknown, unknown>, inn: RpcLink<unknown, unknown>): Peer => ({
    name,
    out: out as RpcLink<unknown, RpcRequest>,
    in: inn,
    slots: new Queue(),
    waiting: new Queue(),
    pumping: false,
    sent: new Queue(),
    pending: new Set(),
    gone: false,
  });
  return {
    make(name) {
      const out = platform.makeLink(CAPACITY);
      const inn = platform.makeLink(CAPACITY);
      return { channel: peer(name, out, inn), offer: { out: inn.handle, in: out.handle }, transfer: [...inn.handle.transferList, ...out.handle.transferList] };
    },
    open(name, offer) {
      const o = offer as Offer;
      return peer(name, platform.openLink(o.out), platform.openLink(o.in));
    },
    transport: (name, workers, channels, canBlock) => new ThreadsTransport(name, workers, channels, canBlock),
  };
}

/** Meets every other worker of the group through the handle's ports, then makes the transport. */
export async function joinGroup<P, C>(platform: ThreadsPlatform<P>, handle: GroupHandleOf<P>, connect: Connector<C>): Promise<Transport> {
  if (!isRpcGroupHandle(handle)) {
    throw new TypeError("threadsTransport() expects the RpcGroupHandle that createThreadGroup() made for this thread.");
  }
  const me = handle.name;
  const channels = new Map<string, C>();
  await Promise.all(
    handle.workers
      .filter((w) => w !== me)
      .map(async (w) => {
        const port = handle.ports[w];
        if (port === undefined) throw new RpcError(`The group handle for "${me}" has no port to "${w}".`);
        channels.set(w, await meet(platform, connect, me, w, port, handle.workers.indexOf(me) < handle.workers.indexOf(w)));
      }),
  );
  return connect.transport(me, handle.workers, channels, platform.canBlock);
}

/** The links' handles as the lower-ranked side sends them. */
interface Offer {
  readonly out: unknown;
  readonly in: unknown;
}

/**
 * Sets up the channel with one peer over their rendezvous port: the
 * lower-ranked side makes it and sends its offer.
 */
function meet<P, C>(platform: ThreadsPlatform<P>, connect: Connector<C>, me: string, peer: string, port: P, first: boolean): Promise<C> {
  return new Promise<C>((resolve, reject) => {
    let stop = (): void => undefined;
    const done = (channel: C): void => {
      stop();
      platform.closePort(port);
      resolve(channel);
    };
    stop = platform.watch(port, me, peer, (error) => {
      platform.closePort(port);
      reject(error);
    });
    if (first) {
      const { channel, offer, transfer } = connect.make(peer);
      platform.post(port, offer, transfer);
      // Joined once the peer has opened it: a peer that dies before that is caught by watch().
      platform.onceMessage(port, () => {
        done(channel);
      });
    } else {
      platform.onceMessage(port, (m) => {
        const channel = connect.open(peer, m);
        platform.post(port, "opened", []);
        done(channel);
      });
    }
  });
}

/** A call waiting for a request future: `run` sends it with the one it is given, or fails it. */
interface Waiter {
  readonly reply: Future;
  (slot: Future<RpcRequest> | undefined, error?: unknown): void;
}

/** The two links with one peer: the one this thread calls it on, and the one it serves it on. */
export interface Peer {
  readonly name: string;
  readonly out: RpcLink<unknown, RpcRequest>;
  readonly in: RpcLink<RpcRequest, unknown>;
  /** Request futures the peer handed us, oldest first, taken by calls. */
  readonly slots: Queue<Future<RpcRequest>>;
  /** Calls waiting for a request future: each sends with the one it is given, or fails. */
  readonly waiting: Queue<Waiter>;
  pumping: boolean;
  /** Request futures we handed the peer, oldest first, paired with its reply futures in order. */
  readonly sent: Queue<Future<RpcRequest>>;
  /** Reply futures we sent that are still pending, to fail on close. */
  readonly pending: Set<Future>;
  gone: boolean;
}

export class ThreadsTransport implements Transport {
  readonly name: string;
  readonly workers: readonly string[];
  readonly #peers: ReadonlyMap<string, Peer>;
  readonly #goneListeners: ((peer: string, cause: unknown) => void)[] = [];
  readonly #canBlock: boolean;
  #closed = false;

  constructor(name: string, workers: readonly string[], peers: ReadonlyMap<string, Peer>, canBlock: boolean) {
    this.name = name;
    this.workers = workers;
    this.#peers = peers;
    this.#canBlock = canBlock;
  }

  alive(peer: string): boolean {
    const p = this.#peers.get(peer);
    return p !== undefined && !p.gone && !this.#closed;
  }

  onGone(listener: (peer: string, cause: unknown) => void): void {
    this.#goneListeners.push(listener);
  }

  serve(handler: RequestHandler): void {
    for (const p of this.#peers.values()) {
      for (let i = 0; i < SLOTS; i++) this.#offerSlot(p);
      void this.#serveLoop(p, handler);
    }
  }

  call(to: string, request: RpcRequest, options: CallOptions): Future {
    const p = this.#peer(to);
    const reply = new Future<unknown>();
    const slot = p.slots.shift() ?? (p.pumping ? undefined : this.#tryTake(p));
    if (slot !== undefined) {
      this.#send(p, slot, reply, request, options);
    } else {
      // No request future in hand: the call waits for the next one the peer sends, in order.
      checkSendable(request);
      const waiter = (s: Future<RpcRequest> | undefined, error?: unknown): void => {
        if (reply.done()) {
          // Timed out or aborted while waiting: nothing is sent, and the request future stays first in line.
          if (s !== undefined) p.slots.unshift(s);
          return;
        }
        try {
          if (s === undefined) throw error;
          this.#send(p, s, reply, request, options);
        } catch (e) {
          reply.setException(e);
        }
      };
      p.waiting.push(Object.assign(waiter, { reply }));
      this.#pump(p);
    }
    return this.#result(p, reply, options);
  }

  callSync(to: string, request: RpcRequest, options: CallOptions): unknown {
    if (!this.#canBlock) {
      throw new RpcCannotBlockError(
        `rpc worker "${this.name}" cannot block for a call to "${to}": this thread may not block (a page's main thread); use await agent.rpcAsync(...) or await rref.toHereAsync() instead.`,
      );
    }
    const p = this.#peer(to);
    // Earlier calls waiting for their turn go first, in order: this thread takes their request
    // futures itself, blocking, since its event loop cannot run while it blocks.
    for (let w = p.waiting.shift(); w !== undefined; w = p.waiting.shift()) w(p.slots.shift() ?? this.#receiveSlot(p, options));
    const slot = p.slots.shift() ?? this.#receiveSlot(p, options);
    const reply = new Future<unknown>();
    this.#send(p, slot, reply, request, options);
    try {
      reply.wait(options.timeoutMs);
    } catch (error) {
      if (error instanceof FutureTimeoutError && !reply.done()) {
        try {
          reply.setException(options.timeoutError());
        } catch (late) {
          if (!(late instanceof FutureAlreadyCompletedError)) throw late;
          return this.#unwrap(p, reply, options);
        }
        p.pending.delete(reply);
        throw options.timeoutError();
      }
    }
    // Through #unwrap on success too: it lets go of the reply and revives RRefs in it.
    return this.#unwrap(p, reply, options);
  }

  async close(error: Error): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#peers.values()) {
      for (const r of p.pending) {
        try {
          r.setException(error);
        } catch {
          // Completed meanwhile by the peer: its reply stands.
        }
      }
      for (const w of p.waiting.drain()) w(undefined, error);
      p.out.close();
      p.in.close();
    }
    await Promise.resolve();
  }

  #peer(to: string): Peer {
    const p = this.#peers.get(to);
    if (p === undefined) throw new RpcError(`no worker named "${to}" in this group`);
    return p;
  }

  /** Completes the request future with the request, then hands the peer the reply future. */
  #send(p: Peer, slot: Future<RpcRequest>, reply: Future, request: RpcRequest, options: CallOptions): void {
    try {
      slot.setResult(request, options.transfer === undefined ? undefined : { transfer: options.transfer });
    } catch (error) {
      // Not sent (a value that cannot be cloned): the request future goes back first in line.
      p.slots.unshift(slot);
      throw error;
    }
    try {
      p.out.send(reply);
    } catch (error) {
      // The peer closed its links or went away meanwhile: this call, and every later one, fails as gone.
      const gone = this.#goneFrom(p, error);
      reply.setException(gone);
      return;
    }
    p.pending.add(reply);
  }

  /** Blocks until the peer hands over a request future (it sends one as each call it serves arrives). */
  #receiveSlot(p: Peer, options: CallOptions): Future<RpcRequest> {
    try {
      return p.out.receive(options.timeoutMs);
    } catch (error) {
      if (error instanceof FutureTimeoutError) throw options.timeoutError();
      throw this.#goneFrom(p, error);
    }
  }

  /** A request future the peer has handed over, if one has arrived; a broken link counts the peer gone. */
  #tryTake(p: Peer): Future<RpcRequest> | undefined {
    try {
      return p.out.tryReceive();
    } catch (error) {
      throw this.#goneFrom(p, error);
    }
  }

  /** The caller's future of a call: the reply, with remote errors marked, deaths typed, deadline kept. */
  #result(p: Peer, reply: Future, options: CallOptions): Future {
    let bucket: Bucket<Future> | undefined;
    if (options.timeoutMs !== undefined) {
      timeouts.set(reply, options);
      bucket = atDeadline(options.timeoutMs, reply, expire);
    }
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => {
        failHere(reply, signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      reply.addDoneCallback(() => {
        signal.removeEventListener("abort", onAbort);
      });
    }
    return reply.continueWith((f) => {
      bucket?.delete(f);
      return this.#unwrap(p, f, options);
    });
  }

  /** A completed reply's value; its error marked with the worker, or typed if the link broke. */
  #unwrap(p: Peer, reply: Future, options: CallOptions): unknown {
    p.pending.delete(reply);
    try {
      const value = reply.value();
      return options.decode === undefined ? value : options.decode(value);
    } catch (error) {
      if (this.#closed || (failedHere.has(reply) && failedHere.get(reply) === error)) throw error;
      if (error instanceof BrokenFutureError && (p.gone || p.out.closed)) throw this.#goneFrom(p, error);
      throw markRaisedOn(error, p.name);
    }
  }

  #goneFrom(p: Peer, cause: unknown): unknown {
    if (this.#closed || cause instanceof RpcWorkerGoneError || !(cause instanceof BrokenFutureError || cause instanceof LinkClosedError)) {
      return cause;
    }
    this.#markGone(p, cause);
    return new RpcWorkerGoneError(p.name, cause instanceof LinkClosedError ? "it shut down" : "its thread went away", cause);
  }

  #markGone(p: Peer, cause: unknown): void {
    if (p.gone) return;
    p.gone = true;
    const gone = new RpcWorkerGoneError(p.name, "its thread went away", cause);
    for (const w of p.waiting.drain()) w(undefined, gone);
    for (const l of this.#goneListeners) l(p.name, cause);
  }

  /** Waits for request futures from the peer while calls are waiting for one. */
  #pump(p: Peer): void {
    if (p.pumping) return;
    p.pumping = true;
    void (async () => {
      try {
        while (p.waiting.length > 0) {
          const next = await p.out.next();
          if (next.done === true) break;
          p.slots.push(next.value);
          for (let s = p.out.tryReceive(); s !== undefined; s = p.out.tryReceive()) p.slots.push(s);
          while (p.slots.length > 0 && p.waiting.length > 0) p.waiting.shift()?.(p.slots.shift());
        }
      } catch (error) {
        this.#goneFrom(p, error);
      } finally {
        p.pumping = false;
        // Calls still waiting when the link ended fail as gone.
        const gone = new RpcWorkerGoneError(p.name, "its links closed");
        for (const w of p.waiting.drain()) w(undefined, gone);
      }
    })();
  }

  #offerSlot(p: Peer): void {
    const slot = new Future<RpcRequest>();
    try {
      p.in.send(slot);
    } catch (error) {
      // The peer closed its links or went away: it makes no more calls here.
      this.#markGone(p, error);
      return;
    }
    p.sent.push(slot);
  }

  /** Serves the peer's calls: each reply future it sends pairs with our oldest request future. */
  async #serveLoop(p: Peer, handler: RequestHandler): Promise<void> {
    try {
      for (;;) {
        const next = await p.in.next();
        if (next.done === true) break;
        let r: Future | undefined = next.value;
        while (r !== undefined) {
          for (; r !== undefined; r = p.in.tryReceive()) {
            const slot = p.sent.shift();
            if (slot === undefined) break;
            const reply = r;
            slot.addDoneCallback((s) => {
              this.#answer(s.value(), reply, p.name, handler);
            });
            if (!this.#closed) this.#offerSlot(p);
          }
          // A caller that just had an answer often calls again at once: look for a moment before
          // going back to the event loop, whose wake-up costs more than a whole call.
          const until = performance.now() + SERVE_SPIN_MS;
          do r = p.in.tryReceive();
          while (r === undefined && performance.now() < until);
        }
      }
      // The peer closed its links (its shutdown): it makes no more calls here.
      this.#markGone(p, new LinkClosedError(`rpc worker "${p.name}" shut down`));
    } catch (error) {
      if (!this.#closed) this.#markGone(p, error);
    }
  }

  #answer(request: RpcRequest, reply: Future, from: string, handler: RequestHandler): void {
    const out = new Future<unknown>();
    settleWith(out, () => handler(request, from));
    out.addDoneCallback((f) => {
      let value: unknown;
      try {
        value = f.value();
      } catch (error) {
        complete(reply, false, error);
        return;
      }
      if (!complete(reply, true, value)) {
        // The value cannot be cloned: the caller learns why instead of waiting.
        complete(reply, false, new RpcError(`rpc worker "${this.name}" could not send the result of "${request.fn ?? request.kind}" back: it cannot be cloned`));
      }
    });
  }
}

/**
 * Completes a reply future; false if the value cannot be sent. A reply the
 * caller already failed (timeout, abort), or whose caller has gone, is dropped.
 */
function complete(reply: Future, ok: boolean, value: unknown): boolean {
  try {
    if (ok) reply.setResult(value);
    else reply.setException(value);
    return true;
  } catch (error) {
    if (error instanceof FutureAlreadyCompletedError || error instanceof BrokenFutureError || error instanceof LinkClosedError) return true;
    if (error instanceof TypeError) return false;
    throw error;
  }
}

/** The options of each pending call with a deadline, for its shared expiry handler. */
const timeouts = new WeakMap<Future, CallOptions>();
/** The error this thread failed a reply with (timeout, abort): it is not the peer's. */
const failedHere = new WeakMap<Future, unknown>();

/** Fails a reply here with `error`, unless the peer's answer got there first. */
function failHere(reply: Future, error: unknown): void {
  if (reply.done()) return;
  failedHere.set(reply, error); // before: setException runs the caller's callbacks at once
  try {
    reply.setException(error);
  } catch {
    failedHere.delete(reply); // the reply won the race
  }
}

/** A call's deadline passed. */
function expire(reply: Future): void {
  const options = timeouts.get(reply);
  if (options !== undefined) failHere(reply, options.timeoutError());
}

/** Throws the TypeError a request would throw when sent, before a call waits for a request future. */
function checkSendable(request: RpcRequest): void {
  try {
    structuredClone(request); // a copy, never a transfer: the buffers must stay for the real send
  } catch (error) {
    throw new TypeError(`The arguments cannot be sent to another thread: ${String(error)}`, { cause: error });
  }
}


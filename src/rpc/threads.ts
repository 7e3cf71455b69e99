/**
 * The worker-threads transport: an RPC group whose workers are threads of one
 * Node.js process, calling each other through `FutureLink`s — shared memory,
 * no `postMessage` per call while the links have room.
 *
 * Each ordered pair of workers (caller → callee) has a link of its own. The
 * callee keeps {@link SLOTS} pending *request* futures in the caller's hands;
 * a call takes the oldest, completes it with the request, and sends a pending
 * *reply* future, which the callee completes with the function's result. The
 * callee pairs the n-th reply future it receives with the n-th request future
 * it sent, so neither carries an id. Exactly one thread completes a future,
 * so a reply that comes after the caller failed the call (timeout, abort) is
 * refused on the callee and dropped. A thread that goes away breaks its links:
 * every reply future pending on them fails (`BrokenFutureError`), which the
 * transport reports as {@link RpcWorkerGoneError}.
 *
 * @module
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { Future } from "../future.js";
import { BrokenFutureError, FutureAlreadyCompletedError, FutureTimeoutError } from "../errors.js";
import { FutureLink, LinkClosedError, openLink, type LinkHandle } from "../threads/index.js";
import { atDeadline, type Bucket } from "./deadlines.js";
import { Queue } from "./queue.js";
import { RpcError, RpcWorkerGoneError, markRaisedOn } from "./errors.js";
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

/**
 * What one thread needs to join a worker-threads RPC group: its name, the
 * group's names, and a port to each other worker for the links' rendezvous.
 * Made by {@link createThreadGroup}; send it once, with its `transferList`,
 * as `workerData` or by `postMessage`.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads";
 * import { createThreadGroup } from "torch-futures/rpc";
 * const group = createThreadGroup(["main", "worker1"]);
 * const h = group["worker1"]!;
 * new Worker(new URL("./worker.js", import.meta.url), { workerData: h, transferList: h.transferList });
 * ```
 */
export interface RpcGroupHandle {
  /** Marks the object as an RPC group handle (and its format version). */
  readonly torchFuturesRpcGroup: 1;
  /** The name of the worker this handle is for. */
  readonly name: string;
  /** Every worker of the group, in rank order. */
  readonly workers: readonly string[];
  /** A port to each other worker, by name. */
  readonly ports: Readonly<Record<string, MessagePort>>;
  /** What `postMessage` must transfer for the handle to arrive. */
  readonly transferList: MessagePort[];
}

/**
 * Makes the handles of a worker-threads RPC group, one per name: keep the
 * one for this thread, and hand each other one to the thread that will be
 * that worker. Every thread then calls {@link threadsTransport} with its
 * handle, and `initRpc` with the transport.
 *
 * @param names - the workers' names, unique, in rank order.
 * @throws TypeError if `names` is not an array of at least one unique, non-empty string.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads";
 * import { createThreadGroup, initRpc, threadsTransport } from "torch-futures/rpc";
 * const group = createThreadGroup(["main", "worker1", "worker2"]);
 * for (const name of ["worker1", "worker2"]) {
 *   const h = group[name]!;
 *   new Worker(new URL("./worker.js", import.meta.url), { workerData: h, transferList: h.transferList });
 * }
 * const agent = initRpc({ transport: await threadsTransport(group["main"]!) });
 * ```
 */
export function createThreadGroup(names: readonly string[]): Record<string, RpcGroupHandle> {
  const given: unknown = names;
  if (!Array.isArray(given) || given.length === 0 || given.some((n) => typeof n !== "string" || n === "")) {
    throw new TypeError("createThreadGroup() expects an array of one or more worker names (non-empty strings).");
  }
  if (new Set(names).size !== names.length) {
    throw new TypeError(`createThreadGroup(): worker names must be unique, got ${names.map((n) => `"${n}"`).join(", ")}.`);
  }
  const ports = new Map<string, Record<string, MessagePort>>(names.map((n) => [n, {}]));
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const { port1, port2 } = new MessageChannel();
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
 * Whether `value` is an {@link RpcGroupHandle}.
 *
 * @example
 * ```ts
 * import { workerData } from "node:worker_threads";
 * import { isRpcGroupHandle, threadsTransport } from "torch-futures/rpc";
 * if (isRpcGroupHandle(workerData)) await threadsTransport(workerData);
 * ```
 */
export function isRpcGroupHandle(value: unknown): value is RpcGroupHandle {
  const h = value as Partial<RpcGroupHandle> | null;
  return typeof h === "object" && h !== null && h.torchFuturesRpcGroup === 1 && typeof h.name === "string" && Array.isArray(h.workers);
}

/** A call waiting for a request future: `run` sends it with the one it is given, or fails it. */
interface Waiter {
  readonly reply: Future;
  (slot: Future<RpcRequest> | undefined, error?: unknown): void;
}

/** The two links with one peer: the one this thread calls it on, and the one it serves it on. */
interface Peer {
  readonly name: string;
  readonly out: FutureLink<unknown, RpcRequest>;
  readonly in: FutureLink<RpcRequest, unknown>;
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

/**
 * Joins this thread to a worker-threads RPC group: meets every other worker
 * through its handle's ports (each pair sets up its links), and resolves
 * once all are linked — torch's `init_rpc` rendezvous. Pass the transport to
 * `initRpc`.
 *
 * Deaths: a worker thread that exits, throws, is terminated or runs out of
 * memory fails every call in flight to it with {@link RpcWorkerGoneError}
 * within the threads layer's bound (at once from the event loop, within a
 * few milliseconds for a thread blocked in `rpcSync`), and later calls at once.
 *
 * @param handle - this thread's handle from {@link createThreadGroup}.
 * @throws TypeError if `handle` is not an {@link RpcGroupHandle}.
 *
 * @example
 * ```ts
 * import { workerData } from "node:worker_threads";
 * import { initRpc, threadsTransport, type RpcGroupHandle } from "torch-futures/rpc";
 * const agent = initRpc({ functions: { ping: () => "pong" }, transport: await threadsTransport(workerData as RpcGroupHandle) });
 * ```
 */
export async function threadsTransport(handle: RpcGroupHandle): Promise<Transport> {
  if (!isRpcGroupHandle(handle)) {
    throw new TypeError("threadsTransport() expects the RpcGroupHandle that createThreadGroup() made for this thread.");
  }
  const me = handle.name;
  const peers = new Map<string, Peer>();
  await Promise.all(
    handle.workers
      .filter((w) => w !== me)
      .map(async (w) => {
        const port = handle.ports[w];
        if (port === undefined) throw new RpcError(`The group handle for "${me}" has no port to "${w}".`);
        peers.set(w, await meet(me, w, port, handle.workers.indexOf(me) < handle.workers.indexOf(w)));
      }),
  );
  return new ThreadsTransport(me, handle.workers, peers);
}

/**
 * Sets up the two links with one peer over their rendezvous port: the
 * lower-ranked side makes both and sends their handles.
 */
function meet(me: string, peer: string, port: MessagePort, first: boolean): Promise<Peer> {
  return new Promise<Peer>((resolve, reject) => {
    const done = (out: FutureLink<unknown, RpcRequest>, inn: FutureLink<RpcRequest, unknown>): void => {
      port.close();
      resolve({ name: peer, out, in: inn, slots: new Queue(), waiting: new Queue(), pumping: false, sent: new Queue(), pending: new Set(), gone: false });
    };
    const onClose = (): void => { reject(new RpcWorkerGoneError(peer, `it went away before the group was set up with "${me}"`)); };
    port.once("close", onClose);
    if (first) {
      const out = new FutureLink<unknown, RpcRequest>({ capacity: CAPACITY });
      const inn = new FutureLink<RpcRequest, unknown>({ capacity: CAPACITY });
      port.postMessage({ out: inn.handle, in: out.handle }, [...inn.handle.transferList, ...out.handle.transferList]);
      // Joined once the peer has opened both links: a peer that dies before that closes the port instead.
      port.once("message", () => {
        port.off("close", onClose);
        done(out, inn);
      });
    } else {
      port.once("message", (m: { out: LinkHandle<unknown, RpcRequest>; in: LinkHandle<RpcRequest, unknown> }) => {
        port.off("close", onClose);
        const opened = [openLink(m.out), openLink(m.in)] as const;
        port.postMessage("opened");
        done(...opened);
      });
    }
  });
}

class ThreadsTransport implements Transport {
  readonly name: string;
  readonly workers: readonly string[];
  readonly #peers: Map<string, Peer>;
  readonly #goneListeners: ((peer: string, cause: unknown) => void)[] = [];
  #closed = false;

  constructor(name: string, workers: readonly string[], peers: Map<string, Peer>) {
    this.name = name;
    this.workers = workers;
    this.#peers = peers;
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


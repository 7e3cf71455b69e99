/**
 * `torch-futures/rpc/nats`: the NATS transport of `torch-futures/rpc`, for
 * groups whose workers are processes or hosts that share a NATS server. A
 * subpath of its own, so that programs without NATS never load the `nats`
 * package (an optional peer dependency).
 *
 * Wire: requests to a worker go to `<group>.rpc.<name>`, each with its call
 * id as the last token of its reply subject (`<inbox>.<id>`, one inbox per
 * worker), so that the server's "no responders" status, which has no payload,
 * still names the call. Heartbeats go to `<group>.hb.<name>` (with the
 * sending process's instance id), a joining process asks
 * `<group>.claim.<name>` whether its name is taken, and a worker tells one it
 * dropped so on `<group>.drop.<name>`. Payloads are the
 * library's structured-clone bytes; errors keep their class (built-in ones and
 * the library's), message, stack, `cause` and own properties.
 *
 * @example
 * ```ts
 * import { initRpc } from "torch-futures/rpc";
 * import { natsTransport } from "torch-futures/rpc/nats";
 *
 * const transport = await natsTransport({ servers: "nats://127.0.0.1:4222", name: "worker1", workers: ["main", "worker1"] });
 * const agent = initRpc({ functions: { add: (a: number, b: number) => a + b }, transport });
 * ```
 *
 * @module
 */
import { connect, createInbox, ErrorCode, Events, type Msg, type NatsConnection } from "nats";
import { Future } from "../future.js";
import { describeValue } from "../describe.js";
import { decode, encode } from "../threads/codecs/clone-codec.js";
import { decodeReason, encodeReason } from "../threads/codecs/error-codec.js";
import { atDeadline, type Bucket } from "./deadlines.js";

/** Runs a deadline's own closure (the NATS transport keeps one per timed call). */
const run = (expire: () => void): void => {
  expire();
};
import { RpcCannotBlockError, RpcConnectionLostError, RpcDuplicateWorkerError, RpcError, RpcShutdownError, RpcWorkerGoneError, markRaisedOn } from "./errors.js";
import { settleWith } from "./agent.js";
import type { CallOptions, RequestHandler, RpcRequest, Transport } from "./transport.js";

/**
 * Options of {@link natsTransport}.
 *
 * @example
 * ```ts
 * import type { NatsTransportOptions } from "torch-futures/rpc/nats";
 * const options: NatsTransportOptions = {
 *   servers: ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"],
 *   name: "worker1",
 *   workers: ["main", "worker1", "worker2"],
 *   heartbeatMs: 500,
 * };
 * ```
 */
export interface NatsTransportOptions {
  /** The NATS server(s) to connect to, as the `nats` client takes them. */
  readonly servers: string | readonly string[];
  /** This worker's name: one of `workers`. */
  readonly name: string;
  /** Every worker of the group, this one included, in rank order (the same list on every worker). */
  readonly workers: readonly string[];
  /** The prefix of the group's subjects, so that several groups can share a server. Default `"torch-futures"`. */
  readonly group?: string;
  /** Milliseconds between two heartbeats of this worker. Default 250. */
  readonly heartbeatMs?: number;
  /**
   * Milliseconds without a heartbeat after which a peer counts as gone.
   * Default 4 × `heartbeatMs`. Requests and replies count as heartbeats, and
   * a busy worker beats between its calls. A peer whose event loop is blocked
   * (a long synchronous function) for longer than this cannot, and counts as
   * gone for good (see {@link natsTransport}): raise it for such functions.
   */
  readonly deadAfterMs?: number;
  /** Milliseconds to connect and hear from every worker before giving up. Default 30,000. */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_GROUP = "torch-futures";
const DEFAULT_HEARTBEAT_MS = 250;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/**
 * A heartbeat's first byte: leaving (its transport closed), still here, or
 * claiming its name (joining, not there yet). The process's instance id follows.
 */
const BYE = 0;
const BEAT = 1;
const CLAIM = 2;
/** The first element of the reply to a worker this one counts as gone: refused, not served. */
const DROPPED = "dropped";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Joins this process to an RPC group over NATS: connects, subscribes to its
 * requests, starts its heartbeats, and resolves once it has heard from every
 * worker of `workers` — torch's `init_rpc` rendezvous. Pass the transport to
 * `initRpc`. `rpcSync` cannot block on NATS (its replies need the event
 * loop): it throws {@link RpcCannotBlockError}; use `await agent.rpcAsync(...)`.
 *
 * Deaths: a peer whose heartbeats stop (its process was killed, its host or
 * link went down) counts as gone at most `deadAfterMs + heartbeatMs` after
 * its last heartbeat: every call in flight to it fails with
 * {@link RpcWorkerGoneError}, later calls fail at once. A request that the
 * server finds no subscriber for ("no responders": the peer's connection has
 * closed) and a peer that closes its transport count it gone at once.
 *
 * Gone is for good, as in torch, where a dead worker stays dead: a peer that
 * was only stopped or cut off (`SIGSTOP` longer than `deadAfterMs`, then
 * `SIGCONT`) and beats again is not taken back — the calls it had in flight
 * have failed already, and may or may not have run. Each worker that dropped
 * it tells it so when it hears from it again, and refuses its requests; the
 * resumed worker then counts each of those workers as gone in turn (its calls
 * to them fail with {@link RpcWorkerGoneError}), rather than serving a group
 * that has forgotten it. Each worker decides by its own heartbeat window. A
 * process started later under a dropped worker's name is refused too:
 * `natsTransport()` rejects with {@link RpcError} naming who dropped it.
 * Start the whole group again (under another `group`) to bring it back.
 *
 * Connection drops: the client reconnects by itself, every `heartbeatMs` for
 * about `connectTimeoutMs` (a server restart), then gives up: then every peer
 * counts as gone. While the connection is down, calls that were in flight
 * fail at once with {@link RpcConnectionLostError} (their replies may be
 * lost; they may or may not have run), new calls wait for the connection
 * (their timeouts run), and the silence of peers does not count: once back,
 * each peer has a fresh `deadAfterMs` to beat again, and a "no responders"
 * within that window means not back yet (the request is sent again, as
 * nobody got it). A worker whose own link stays down longer than its peers'
 * `deadAfterMs` while theirs is up is dropped by them, as above.
 *
 * Names: one process per worker name. Before it serves, a transport makes
 * sure no other process holds its name in the group (one that has joined, or
 * one claiming it at the same moment: the joining takes about `heartbeatMs`
 * longer for it); if one does, it rejects with
 * {@link RpcDuplicateWorkerError} naming the worker, without having served a
 * call or sent a heartbeat, and the process that joined first keeps working.
 *
 * Sizes: a message holds at most the server's `max_payload` (1 MiB unless
 * configured). A call whose request is larger throws {@link RpcError} and
 * sends nothing; a result or error too large fails the call at once with an
 * {@link RpcError} raised on the callee, saying so.
 *
 * @param options - the server(s), this worker's name, the group's workers; see {@link NatsTransportOptions}.
 * @throws TypeError (in the promise) for bad options;
 * {@link RpcDuplicateWorkerError} if another process holds this name;
 * {@link RpcError} if the connection fails, if a worker of the group dropped
 * this name earlier, or if some workers were not heard from within
 * `connectTimeoutMs` (the message names them).
 *
 * @example
 * ```ts
 * import { initRpc } from "torch-futures/rpc";
 * import { natsTransport } from "torch-futures/rpc/nats";
 *
 * const transport = await natsTransport({ servers: "nats://127.0.0.1:4222", name: "main", workers: ["main", "worker1"] });
 * const agent = initRpc<{}, { add(a: number, b: number): number }>({ transport });
 * console.log(await agent.rpcAsync("worker1", "add", [1, 2])); // 3
 * await agent.shutdown();
 * ```
 */
export async function natsTransport(options: NatsTransportOptions): Promise<Transport> {
  const o = checkOptions(options);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: o.servers,
      name: `${o.group}:${o.name}`,
      timeout: o.connectTimeoutMs,
      // After a drop, try again every heartbeat for about connectTimeoutMs (a server restart), then give up.
      reconnectTimeWait: o.heartbeatMs,
      maxReconnectAttempts: Math.max(1, Math.ceil(o.connectTimeoutMs / o.heartbeatMs)),
    });
  } catch (error) {
    throw new RpcError(`natsTransport(): could not connect to ${o.servers.join(", ")} as "${o.name}": ${String(error)}`, { cause: error });
  }
  const transport = new NatsTransport(nc, o);
  try {
    await transport.claim();
    transport.join();
    await transport.rendezvous(o.connectTimeoutMs);
  } catch (error) {
    await transport.close(error as Error);
    throw error;
  }
  return transport;
}

interface Checked {
  servers: string[];
  name: string;
  workers: string[];
  group: string;
  heartbeatMs: number;
  deadAfterMs: number;
  connectTimeoutMs: number;
}

function checkOptions(options: NatsTransportOptions): Checked {
  if (typeof (options as unknown) !== "object" || (options as unknown) === null) {
    throw new TypeError(`natsTransport() expects options { servers, name, workers }, got ${describeValue(options)}.`);
  }
  const { servers, name, workers, group = DEFAULT_GROUP, heartbeatMs = DEFAULT_HEARTBEAT_MS, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS } = options;
  const serverList: unknown[] = typeof servers === "string" ? [servers] : Array.isArray(servers) ? (servers as unknown[]) : [];
  if (serverList.length === 0 || serverList.some((s) => typeof s !== "string" || s === "")) {
    throw new TypeError(`natsTransport() expects servers as a URL or an array of URLs, got ${describeValue(servers)}.`);
  }
  const given: unknown = workers;
  if (!Array.isArray(given) || given.length === 0 || given.some((w) => !isToken(w))) {
    throw new TypeError(
      `natsTransport() expects workers as an array of names (non-empty, without spaces, dots, "*" or ">"), got ${describeValue(workers)}.`,
    );
  }
  if (new Set(workers).size !== workers.length) {
    throw new TypeError(`natsTransport(): worker names must be unique, got ${workers.map((w) => `"${w}"`).join(", ")}.`);
  }
  if (typeof name !== "string" || !workers.includes(name)) {
    throw new TypeError(`natsTransport() expects name to be one of workers (${workers.map((w) => `"${w}"`).join(", ")}), got ${describeValue(name)}.`);
  }
  if (typeof group !== "string" || group === "" || group.split(".").some((t) => !isToken(t))) {
    throw new TypeError(`natsTransport() expects group as a subject prefix (dot-separated names), got ${describeValue(group)}.`);
  }
  checkMs("heartbeatMs", heartbeatMs);
  const deadAfterMs = options.deadAfterMs ?? 4 * heartbeatMs;
  checkMs("deadAfterMs", deadAfterMs);
  checkMs("connectTimeoutMs", connectTimeoutMs);
  if (deadAfterMs <= heartbeatMs) {
    throw new TypeError(`natsTransport() expects deadAfterMs (${deadAfterMs}) above heartbeatMs (${heartbeatMs}), or every peer would seem gone.`);
  }
  return { servers: serverList as string[], name, workers: [...workers], group, heartbeatMs, deadAfterMs, connectTimeoutMs };
}

function isToken(value: unknown): boolean {
  return typeof value === "string" && value !== "" && !/[\s.*>]/.test(value);
}

function checkMs(key: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`natsTransport() expects ${key} in milliseconds (a number > 0), got ${describeValue(value)}.`);
  }
}

/** A call in flight: its future, the worker it went to, and how its deadline and abort are undone. */
interface Pending {
  readonly future: Future;
  readonly peer: string;
  /** The request, kept to send it again to a peer not back yet after a reconnect. */
  readonly bytes: Uint8Array;
  bucket: Bucket<() => void> | undefined;
  expire: (() => void) | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
  readonly decode: ((value: unknown) => unknown) | undefined;
}

class NatsTransport implements Transport {
  readonly name: string;
  readonly workers: readonly string[];
  readonly #nc: NatsConnection;
  readonly #o: Checked;
  readonly #inbox = createInbox();
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  /** When each peer was last heard from (performance.now()). */
  readonly #lastSeen = new Map<string, number>();
  readonly #gone = new Set<string>();
  readonly #goneListeners: ((peer: string, cause: unknown) => void)[] = [];
  #handler: RequestHandler | undefined;
  /** Requests that arrived before serve(): answered once it is called. */
  readonly #early: Msg[] = [];
  #beat: ReturnType<typeof setInterval> | undefined;
  #heardAll: (() => void) | undefined;
  #closed = false;
  /** This process's transport, told apart from another one that claims the same name. */
  readonly #id = globalThis.crypto.randomUUID();
  #joined = false;
  /** Set while claiming the name if another process holds it or wins it: who. */
  #lostTo: string | undefined;
  /** The instance id of each peer, from its first heartbeat: beats of another process under its name are ignored. */
  readonly #peerIds = new Map<string, string>();
  /** Why each gone peer counts as gone, for the notice it gets if it beats again. */
  readonly #goneDetail = new Map<string, string>();
  /** Processes told they were dropped ("<name> <id>"): once each. */
  readonly #told = new Set<string>();
  /** Set while claiming the name if a peer counts this name as gone: which, and why. */
  #droppedBy: string | undefined;
  /** While the connection to NATS is down (the client reconnects), and when it last came back. */
  #disconnected = false;
  #reconnectedAt = Number.NEGATIVE_INFINITY;
  /** Calls made while the connection is down, sent once it is back (the client drops what is published meanwhile). */
  readonly #unsent = new Set<number>();
  #beatBytes: Uint8Array = new Uint8Array(0);
  #lastBeat = 0;

  constructor(nc: NatsConnection, o: Checked) {
    this.#nc = nc;
    this.#o = o;
    this.name = o.name;
    this.workers = o.workers;
    nc.subscribe(`${this.#inbox}.*`, { callback: (_err, msg) => { this.#onReply(msg); } });
    nc.subscribe(`${o.group}.hb.*`, { callback: (_err, msg) => { this.#onBeat(msg); } });
    // Subscribed before the first claim beat: a peer that dropped this name answers that one.
    nc.subscribe(`${o.group}.drop.${o.name}`, { callback: (_err, msg) => { this.#onDropped(msg); } });
    void this.#watchConnection();
    // A connection that ends for good (not a reconnect) takes every peer with it.
    void nc.closed().then((error) => {
      if (this.#closed) return;
      for (const w of this.workers) if (w !== this.name) this.#markGone(w, "the connection to NATS closed", error);
    });
  }

  /**
   * Makes sure no other process holds this worker's name: one that has joined
   * answers on the claim subject (or, blocked, does not answer in time); one
   * that claims it at the same moment is met through claim beats, and the
   * lower instance id keeps the name. Rejects with RpcDuplicateWorkerError.
   */
  async claim(): Promise<void> {
    const o = this.#o;
    const subject = `${o.group}.claim.${o.name}`;
    let holder: string | undefined;
    try {
      const reply = await this.#nc.request(subject, this.#beatOf(CLAIM), { timeout: o.deadAfterMs });
      holder = describeHolder(reply.data);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === ErrorCode.Timeout) {
        holder = `a process that did not answer within ${o.deadAfterMs} ms (blocked or stopped, yet still connected)`;
      } else if (code !== ErrorCode.NoResponders) {
        throw new RpcError(`natsTransport(): "${o.name}" could not check that its name is free in group "${o.group}": ${String(error)}`, {
          cause: error,
        });
      }
    }
    if (holder === undefined) {
      const pid = (globalThis as { process?: { pid?: number } }).process?.pid;
      const self = encode(`process ${pid ?? "?"} at ${this.#nc.info?.client_ip ?? "?"}`);
      this.#nc.subscribe(subject, { callback: (_err, msg) => { msg.respond(self); } });
      // One that asked at the same moment met no responders too: its claim beats reach us before the flush returns.
      this.#publish(`${o.group}.hb.${o.name}`, this.#beatOf(CLAIM));
      await new Promise((resolve) => setTimeout(resolve, o.heartbeatMs));
      this.#publish(`${o.group}.hb.${o.name}`, this.#beatOf(CLAIM));
      await this.#nc.flush();
      holder = this.#lostTo;
      if (holder === undefined && this.#droppedBy !== undefined) {
        throw new RpcError(
          `natsTransport(): "${o.name}" cannot join group "${o.group}": ${this.#droppedBy}. A worker dropped from a group does not ` +
            `come back under its name (its calls in flight failed already): start the whole group again, under another group.`,
        );
      }
    }
    if (holder !== undefined) {
      throw new RpcDuplicateWorkerError(
        o.name,
        `natsTransport(): the worker name "${o.name}" in group "${o.group}" is already held by ${holder}; the process that ` +
          `joined first keeps it. Start this process under a name of workers that no other process uses, or stop the other one first.`,
      );
    }
  }

  /** Starts serving and beating, once the name is ours. */
  join(): void {
    const o = this.#o;
    this.#joined = true;
    // Subscribed before the first heartbeat: a peer that hears us can call us at once.
    this.#nc.subscribe(`${o.group}.rpc.${o.name}`, { callback: (_err, msg) => { this.#onRequest(msg); } });
    this.#beatBytes = this.#beatOf(BEAT);
    this.#beat = setInterval(() => {
      this.#beatNow();
      this.#checkPeers();
    }, o.heartbeatMs);
    this.#beatNow();
  }

  #beatNow(): void {
    if (this.#disconnected) return;
    this.#lastBeat = performance.now();
    this.#publish(`${this.#o.group}.hb.${this.name}`, this.#beatBytes);
  }

  /** Beats between two timer beats if a flood of calls holds the timer back, so that peers do not take a busy worker for gone. */
  #beatIfDue(): void {
    if (this.#joined && performance.now() - this.#lastBeat >= this.#o.heartbeatMs) this.#beatNow();
  }

  #beatOf(kind: number): Uint8Array {
    const id = utf8.encode(this.#id);
    const bytes = new Uint8Array(1 + id.length);
    bytes[0] = kind;
    bytes.set(id, 1);
    return bytes;
  }

  /** Resolves once every worker has been heard from; rejects after `timeoutMs` naming the missing ones. */
  rendezvous(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#heardAll = undefined;
        const missing = this.workers.filter((w) => w !== this.name && !this.#lastSeen.has(w));
        reject(
          new RpcError(
            `natsTransport(): "${this.name}" did not hear from ${missing.map((w) => `"${w}"`).join(", ")} within ${timeoutMs} ms; ` +
              `start every worker of the group with the same servers and group ("${this.#o.group}").`,
          ),
        );
      }, timeoutMs);
      this.#heardAll = () => {
        clearTimeout(timer);
        this.#heardAll = undefined;
        resolve();
      };
      this.#checkHeardAll();
    });
  }

  alive(peer: string): boolean {
    return !this.#closed && this.workers.includes(peer) && !this.#gone.has(peer);
  }

  onGone(listener: (peer: string, cause: unknown) => void): void {
    this.#goneListeners.push(listener);
  }

  serve(handler: RequestHandler): void {
    this.#handler = handler;
    for (const msg of this.#early.splice(0)) this.#onRequest(msg);
  }

  call(to: string, request: RpcRequest, options: CallOptions): Future {
    if (to === this.name || !this.workers.includes(to)) throw new RpcError(`no other worker named "${to}" in this group`);
    let bytes: Uint8Array;
    try {
      bytes = encode([this.name, request]);
    } catch (error) {
      throw new TypeError(`The arguments cannot be sent over NATS: ${String(error)}`, { cause: error });
    }
    // Checked before anything changes: the client would refuse it, and the peer is not gone.
    const limit = this.#maxPayload();
    if (bytes.length > limit) {
      throw new RpcError(
        `the request to rpc worker "${to}" is ${bytes.length} bytes, above the NATS server's max_payload (${limit} bytes); ` +
          `send less per call (split it, or leave the data where it is behind an RRef), or raise max_payload in the server's configuration.`,
      );
    }
    const future = new Future<unknown>();
    if (this.#closed) {
      future.setException(new RpcShutdownError(`rpc worker "${this.name}" has closed its NATS transport`));
      return future;
    }
    if (this.#gone.has(to)) {
      future.setException(new RpcWorkerGoneError(to, "it went away earlier"));
      return future;
    }
    const id = this.#nextId++;
    const call: Pending = { future, peer: to, bytes, bucket: undefined, expire: undefined, onAbort: undefined, signal: undefined, decode: options.decode };
    this.#pending.set(id, call);
    if (options.timeoutMs !== undefined) {
      const expire = (): void => { this.#settle(id, false, options.timeoutError()); };
      call.expire = expire;
      call.bucket = atDeadline(options.timeoutMs, expire, run);
    }
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => { this.#settle(id, false, signal.reason); };
      call.onAbort = onAbort;
      call.signal = signal;
      signal.addEventListener("abort", onAbort, { once: true });
    }
    this.#send(id, call);
    return future;
  }

  #send(id: number, call: Pending): void {
    if (this.#disconnected) {
      this.#unsent.add(id);
      return;
    }
    try {
      this.#nc.publish(`${this.#o.group}.rpc.${call.peer}`, call.bytes, { reply: `${this.#inbox}.${id}` });
      this.#beatIfDue();
    } catch (error) {
      // Closed for good (its closed() handler reports every peer gone), or reconnecting with a full buffer.
      this.#settle(
        id,
        false,
        this.#nc.isClosed()
          ? new RpcWorkerGoneError(call.peer, "the connection to NATS has closed", error)
          : new RpcConnectionLostError(call.peer, `the call to rpc worker "${call.peer}" could not be sent while the connection to NATS is down (${String(error)}); try again once it is back.`),
      );
    }
  }

  callSync(to: string): never {
    throw new RpcCannotBlockError(
      `rpcSync() to "${to}" cannot block over NATS: its replies need this thread's event loop. Use await agent.rpcAsync(...) instead.`,
    );
  }

  async close(error: Error): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#beat);
    for (const id of [...this.#pending.keys()]) this.#settle(id, false, error);
    try {
      // Peers learn at once that this worker has left, rather than a heartbeat window later
      // (not from one that never joined: the name is another process's).
      if (this.#joined) this.#nc.publish(`${this.#o.group}.hb.${this.name}`, this.#beatOf(BYE));
      await this.#nc.drain();
    } catch {
      // Already closed (the server went away): nothing left to let go of.
    }
  }

  #publish(subject: string, data: Uint8Array): void {
    try {
      this.#nc.publish(subject, data);
    } catch {
      // A closed connection: its closed() handler reports the peers gone.
    }
  }

  /** Completes call `id` (once: later completions, like a late reply, are dropped). */
  #settle(id: number, ok: boolean, value: unknown): void {
    const call = this.#pending.get(id);
    if (call === undefined) return;
    this.#pending.delete(id);
    this.#unsent.delete(id);
    if (call.expire !== undefined) call.bucket?.delete(call.expire);
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    if (ok) call.future.setResult(value);
    else call.future.setException(value);
  }

  #onReply(msg: Msg): void {
    const id = Number(msg.subject.slice(this.#inbox.length + 1));
    const call = this.#pending.get(id);
    if (call === undefined) return; // late (timed out, aborted) or already failed: dropped
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      // No subscriber for the peer's subject: its connection is gone, or, just after a reconnect
      // of ours, not back yet: nobody got the request, so it goes again while the peer has time.
      if (performance.now() - this.#reconnectedAt < this.#o.deadAfterMs) {
        setTimeout(() => {
          if (this.#pending.get(id) === call && !this.#closed) this.#send(id, call);
        }, this.#o.heartbeatMs);
        return;
      }
      this.#markGone(call.peer, "NATS has no responders for it");
      return;
    }
    this.#lastSeen.set(call.peer, performance.now());
    this.#beatIfDue();
    let reply: [boolean | typeof DROPPED, unknown];
    try {
      reply = decode(msg.data) as [boolean | typeof DROPPED, unknown];
    } catch (error) {
      this.#settle(id, false, new RpcError(`the reply of rpc worker "${call.peer}" could not be decoded: ${String(error)}`, { cause: error }));
      return;
    }
    if (reply[0] === DROPPED) this.#markGone(call.peer, `it dropped "${this.name}" from the group: ${String(reply[1])}`);
    else if (reply[0]) this.#settle(id, true, call.decode === undefined ? reply[1] : call.decode(reply[1]));
    else this.#settle(id, false, markRaisedOn(decodeReason(reply[1]), call.peer));
  }

  #onRequest(msg: Msg): void {
    if (this.#closed) return;
    if (this.#handler === undefined) {
      this.#early.push(msg);
      return;
    }
    const handler = this.#handler;
    let from = "";
    let refused: string | undefined;
    const out = new Future<unknown>();
    settleWith(out, () => {
      const [sender, request] = decode(msg.data) as [string, RpcRequest];
      from = sender;
      // A worker counted as gone is not served again: it learns so from the reply.
      refused = this.#goneDetail.get(sender);
      // A request is a sign of life, as a heartbeat is (its heartbeats may queue behind a flood of them).
      if (refused === undefined && this.workers.includes(sender) && sender !== this.name) this.#lastSeen.set(sender, performance.now());
      return refused === undefined ? handler(request, sender) : undefined;
    });
    out.addDoneCallback((f) => {
      if (msg.reply === undefined || msg.reply === "") return;
      this.#publish(msg.reply, refused === undefined ? this.#replyBytes(f, from) : encode([DROPPED, refused]));
      this.#beatIfDue();
    });
  }

  /** A served call's reply: its result or error, or an RpcError saying why neither can be sent. */
  #replyBytes(f: Future, from: string): Uint8Array {
    let what = "result";
    let bytes: Uint8Array;
    try {
      const value = f.value();
      try {
        bytes = encode([true, value]);
      } catch (error) {
        return encodeFailure(
          new RpcError(`rpc worker "${this.name}" could not send the result back to "${from}": it cannot be encoded (${String(error)})`),
        );
      }
    } catch (error) {
      what = "error";
      bytes = encodeFailure(error);
    }
    const limit = this.#maxPayload();
    if (bytes.length <= limit) return bytes;
    // The client would refuse it, and the caller learn nothing before its timeout: tell it now.
    return encodeFailure(
      new RpcError(
        `rpc worker "${this.name}" could not send the ${what} back to "${from}": it is ${bytes.length} bytes, above the NATS ` +
          `server's max_payload (${limit} bytes); return less per call (split it, or return an RRef), or raise max_payload in the server's configuration.`,
      ),
    );
  }

  /** The largest payload the server takes (the client refuses larger ones). */
  #maxPayload(): number {
    return this.#nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
  }

  #onBeat(msg: Msg): void {
    const peer = msg.subject.slice(this.#o.group.length + 4);
    const kind = msg.data[0];
    const id = fromUtf8.decode(msg.data.subarray(1));
    if (peer === this.name) {
      if (id !== this.#id) this.#onNamesake(kind, id);
      return;
    }
    if (!this.workers.includes(peer)) return;
    if (this.#gone.has(peer)) {
      // Gone is for good: a process beating or claiming under that name learns it was dropped.
      if (kind !== BYE) this.#tellDropped(peer, id);
      return;
    }
    // A claim is not a presence: the peer is there once it beats.
    if (kind === CLAIM) return;
    const known = this.#peerIds.get(peer);
    if (known === undefined && kind === BEAT) this.#peerIds.set(peer, id);
    else if (known !== id) return; // another process under its name, not the peer this group knows
    if (kind === BYE) {
      this.#markGone(peer, "it shut down");
      return;
    }
    this.#lastSeen.set(peer, performance.now());
    this.#checkHeardAll();
  }

  /** Tells the process `id` under the name `peer` that this worker counts that name as gone. */
  #tellDropped(peer: string, id: string): void {
    const key = `${peer} ${id}`;
    if (this.#told.has(key)) return;
    this.#told.add(key);
    this.#publish(`${this.#o.group}.drop.${peer}`, encode([this.name, id, this.#goneDetail.get(peer) ?? "it went away"]));
  }

  /** A peer counts this worker as gone: this worker counts it as gone too (or, joining, gives up). */
  #onDropped(msg: Msg): void {
    let notice: [string, string, string];
    try {
      notice = decode(msg.data) as [string, string, string];
    } catch {
      return;
    }
    const [from, id, detail] = notice;
    if (id !== this.#id || from === this.name || !this.workers.includes(from)) return;
    if (!this.#joined) this.#droppedBy ??= `"${from}" dropped it from the group (${detail})`;
    else this.#markGone(from, `it dropped "${this.name}" from the group: ${detail}`);
  }

  /** Follows the client's reconnects: a drop fails the calls in flight, a reconnect gives every peer a fresh window. */
  async #watchConnection(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (this.#closed) return;
      if (status.type === Events.Disconnect) {
        this.#disconnected = true;
        // Their replies may be published while this worker is not subscribed, and be lost.
        for (const [id, call] of [...this.#pending]) {
          if (this.#unsent.has(id)) continue;
          this.#settle(
            id,
            false,
            new RpcConnectionLostError(
              call.peer,
              `the connection to NATS dropped while the call to rpc worker "${call.peer}" was in flight: its reply may be lost, ` +
                `and it may or may not have run there. Later calls go through once the connection is back; retry only calls safe to run twice.`,
            ),
          );
        }
      } else if (status.type === Events.Reconnect) {
        this.#disconnected = false;
        this.#reconnectedAt = performance.now();
        // Silence while this worker was cut off says nothing about the peers.
        for (const peer of this.#lastSeen.keys()) if (!this.#gone.has(peer)) this.#lastSeen.set(peer, this.#reconnectedAt);
        for (const id of [...this.#unsent]) {
          this.#unsent.delete(id);
          const call = this.#pending.get(id);
          if (call !== undefined) this.#send(id, call);
        }
      }
    }
  }

  /** A beat under this worker's own name from another process. */
  #onNamesake(kind: number | undefined, id: string): void {
    const subject = `${this.#o.group}.hb.${this.name}`;
    if (this.#joined) {
      // Tell a claimant at once that the name is held, rather than at the next beat.
      if (kind === CLAIM) this.#publish(subject, this.#beatOf(BEAT));
      return;
    }
    if (kind === BEAT) this.#lostTo ??= "a process that has joined the group under it";
    else if (kind === CLAIM) {
      if (id < this.#id) this.#lostTo ??= "another process that claimed it at the same moment";
      // The winner says so, in case the other one has not heard it yet.
      else this.#publish(subject, this.#beatOf(CLAIM));
    }
  }

  #checkHeardAll(): void {
    if (this.#heardAll !== undefined && this.workers.every((w) => w === this.name || this.#lastSeen.has(w))) this.#heardAll();
  }

  /** Peers not heard from for deadAfterMs count as gone: checked again after pending I/O, so that a busy loop is not taken for deaths. */
  #checkPeers(): void {
    if (this.#disconnected) return;
    const stale = (): string[] => {
      const now = performance.now();
      return [...this.#lastSeen].filter(([peer, seen]) => !this.#gone.has(peer) && now - seen > this.#o.deadAfterMs).map(([p]) => p);
    };
    if (stale().length === 0) return;
    // A timer runs before the socket is read: let queued heartbeats in first.
    setImmediate(() => {
      if (this.#closed || this.#disconnected) return;
      for (const peer of stale()) this.#markGone(peer, `no heartbeat for more than ${this.#o.deadAfterMs} ms`);
    });
  }

  #markGone(peer: string, detail: string, cause?: unknown): void {
    if (this.#gone.has(peer) || this.#closed) return;
    this.#gone.add(peer);
    this.#goneDetail.set(peer, detail);
    for (const [id, call] of this.#pending) {
      if (call.peer === peer) this.#settle(id, false, new RpcWorkerGoneError(peer, detail, cause));
    }
    for (const l of this.#goneListeners) l(peer, cause ?? new RpcWorkerGoneError(peer, detail));
  }
}

/** Who holds a name, from its answer on the claim subject. */
function describeHolder(data: Uint8Array): string {
  try {
    const who = decode(data);
    return typeof who === "string" ? who : "another process";
  } catch {
    return "another process";
  }
}

/** A failed reply's bytes: the error as the error codec sends it; one that cannot be encoded becomes an RpcError saying so. */
function encodeFailure(error: unknown): Uint8Array {
  try {
    return encode([false, encodeReason(error)]);
  } catch (cause) {
    const replaced = new RpcError(`the error thrown by the remote function cannot be encoded (${String(cause)}): ${describeValue(error)}`);
    return encode([false, encodeReason(replaced)]);
  }
}


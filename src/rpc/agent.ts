/**
 * The RPC agent: one per worker of a group. It checks and sends calls through
 * its {@link Transport}, serves the calls peers make to its registered
 * functions, owns the values its `remote()` calls created and counts their
 * holders, and shuts the group down. Everything here is transport-neutral.
 *
 * @module
 */
import { Future } from "../future.js";
import { describeValue } from "../describe.js";
import { RRef, isRRefWire, rrefInternals } from "./rref.js";
import { RpcError, RpcShutdownError, RpcTimeoutError, RpcWorkerGoneError, markRaisedOn, raisedOn } from "./errors.js";
import type { CallOptions, RRefWire, RpcRequest, Transport } from "./transport.js";

/** A module of functions a worker exposes: each can be called by name from the other workers. */
export type RpcFunctions = {
  /** A function callable by its name, with arguments and a result that structured clone can carry. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- argument types are the functions' own
  readonly [name: string]: (...args: any[]) => unknown;
};

/** What a call of `Fn` gives back: its return value, awaited (a `Future` or Promise it returns is waited for). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any function type
export type RpcResult<Fn> = Fn extends (...args: any[]) => infer R ? (R extends Future<infer U> ? U : Awaited<R>) : never;

/** The names of the functions of `F`, as callable by name. */
export type RpcFunctionName<F> = Extract<keyof F, string>;

/**
 * Options of one call.
 *
 * @example
 * ```ts
 * const options: RpcCallOptions = { timeout: 5_000, signal: AbortSignal.timeout(10_000) };
 * ```
 */
export interface RpcCallOptions {
  /**
   * Milliseconds before the call fails with {@link RpcTimeoutError}; `0` for
   * none. Default: the group's `rpcTimeout` (60 s, as in torch).
   */
  readonly timeout?: number;
  /** Fails the call with the signal's reason when it aborts (a reply that comes later is dropped). */
  readonly signal?: AbortSignal;
  /** Buffers among the arguments to move instead of copy (worker threads only; ignored over NATS). */
  readonly transfer?: readonly Transferable[];
}

/**
 * Options of {@link initRpc}.
 *
 * @typeParam Local - the functions this worker exposes.
 *
 * @example
 * ```ts
 * import { initRpc, type RpcOptions, type Transport } from "torch-futures/rpc";
 * declare const transport: Transport;
 * const functions = { add: (a: number, b: number) => a + b };
 * const options: RpcOptions<typeof functions> = { functions, transport, rpcTimeout: 10_000 };
 * const agent = initRpc(options);
 * ```
 */
export interface RpcOptions<Local extends RpcFunctions> {
  /** The functions this worker exposes to the others, by name (own enumerable properties). */
  readonly functions?: Local;
  /** How the workers reach each other: `threadsTransport(...)` or `natsTransport(...)` (awaited). */
  readonly transport: Transport;
  /** The default timeout of every call, in milliseconds; `0` for none. Default 60,000 (torch's). */
  readonly rpcTimeout?: number;
}

/**
 * A worker of a group, as torch's `WorkerInfo`: its name and its rank in the group's order.
 *
 * @example
 * ```ts
 * const info: WorkerInfo = { name: "worker1", id: 1 };
 * ```
 */
export interface WorkerInfo {
  /** The worker's name. */
  readonly name: string;
  /** Its rank: its index in the group's list of workers. */
  readonly id: number;
}

/**
 * Options of {@link RpcAgent.shutdown}.
 *
 * @example
 * ```ts
 * const options: ShutdownOptions = { graceful: true, timeout: 30_000 };
 * ```
 */
export interface ShutdownOptions {
  /**
   * `true` (the default, as in torch): wait until every worker of the group has
   * finished the calls in flight and called `shutdown` too, then close.
   * `false`: close now; calls in flight fail with {@link RpcShutdownError}.
   */
  readonly graceful?: boolean;
  /** Milliseconds a graceful shutdown waits at most before closing anyway. Default: none. */
  readonly timeout?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** The longest pause between two rounds of the shutdown's termination check while a worker is busy. */
const MAX_ROUND_PAUSE_MS = 20;
/** A round of the termination check that met a worker which had already found the group quiet. */
const CONCLUDED = "concluded";

/** A reply that holds RRefs, marked so that the caller walks only such replies to revive them. */
interface ReplyWire {
  readonly torchFuturesReply: 1;
  readonly value: unknown;
}

/** A worker's answer to a round of the shutdown's termination check. */
interface CountReply {
  readonly idle: boolean;
  readonly activity: number;
  readonly concluded: boolean;
}

/**
 * A value this worker owns for RRef holders. Requests about it travel on several channels (the
 * creator's `remote`, a receiver's `fetch`, `addRef`, `release`), so any of them may come first:
 * the entry exists from the first, its value pending until `remote` runs.
 */
interface Owned {
  readonly value: Future;
  created: boolean;
  readonly holders: Map<string, number>;
}

/**
 * Starts this worker's part of an RPC group and returns its agent, through
 * which it calls the other workers (and itself). Every worker of the group
 * calls it once, with a transport for its own name; torch's
 * `init_rpc(name, rank, world_size)` without the rendezvous, which the
 * transport did.
 *
 * @typeParam Local - the functions this worker exposes (inferred from `functions`;
 * give it explicitly where this worker exposes none, as the main thread often does).
 * @typeParam Remote - the functions the other workers expose, by default the
 * same: calls are type-checked against them.
 * @throws TypeError if `functions` is not an object of functions, or
 * `rpcTimeout` not a number >= 0.
 *
 * @example
 * ```ts
 * import { initRpc, threadsTransport, type RpcGroupHandle } from "torch-futures/rpc";
 * import { workerData } from "node:worker_threads";
 *
 * export const functions = { add: (a: number, b: number) => a + b };
 * const agent = initRpc({ functions, transport: await threadsTransport(workerData as RpcGroupHandle) });
 * const three: number = await agent.rpcAsync("main", "add", [1, 2]);
 * ```
 */
export function initRpc<Local extends RpcFunctions = RpcFunctions, Remote extends RpcFunctions = Local>(
  options: RpcOptions<Local>,
): RpcAgent<Remote> {
  return new RpcAgent<Remote>(options);
}

/**
 * One worker's handle on its RPC group: calls to the other workers (and to
 * itself) that return torch-futures `Future`s, remote references, shutdown.
 * Made by {@link initRpc}.
 *
 * @typeParam F - the functions the workers expose, by name.
 *
 * @example
 * ```ts
 * import { type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ square(x: number): number }>;
 * const fut = agent.rpcAsync("worker1", "square", [3]);
 * fut.addDoneCallback((f) => console.log(f.value())); // 9
 * console.log(agent.rpcSync("worker1", "square", [4])); // 16, blocking
 * ```
 */
export class RpcAgent<F extends RpcFunctions = RpcFunctions> {
  /** This worker's name. */
  readonly name: string;
  /** Every worker of the group, this one included, in rank order. */
  readonly workers: readonly string[];
  readonly #transport: Transport;
  readonly #functions: RpcFunctions;
  readonly #timeout: number;
  /** Calls this worker made that are still pending. */
  readonly #outgoing = new Set<Future>();
  /** Requests from peers being served. */
  readonly #incoming = new Map<string, number>();
  #incomingDrained: (() => void) | undefined;
  /** Workers that said they are done (graceful shutdown), and the waiter for all of them. */
  readonly #doneFrom = new Set<string>();
  #allDone: (() => void) | undefined;
  #state: "open" | "closing" | "closed" = "open";
  /** Calls made and calls started serving, ever: the shutdown's termination check compares them. */
  #activity = 0;
  /** Whether this worker's graceful shutdown has found the whole group quiet. */
  #concluded = false;
  #shutdown: Promise<void> | undefined;
  /** The values this worker owns through RRefs: id → value future, and holders → count. */
  readonly #owned = new Map<string, Owned>();
  #nextId = 0;
  /** The worker the arguments being encoded go to: the new holder of the RRefs among them. */
  #sendingTo = "";
  /** The RRefs counted for that worker while encoding one call's arguments: undone if it cannot be sent. */
  readonly #counted: [owner: string, id: string][] = [];
  readonly #released = new FinalizationRegistry<{ owner: string; id: string }>((held) => {
    this.#release(held.owner, held.id);
  });

  /** @internal Use {@link initRpc}. */
  constructor(options: RpcOptions<RpcFunctions>) {
    // Checked as the unknowns they may be at run time (JavaScript callers).
    if (typeof (options as unknown) !== "object" || (options as unknown) === null) {
      throw new TypeError(`initRpc() expects an options object { functions, transport }, got ${describeValue(options)}.`);
    }
    const { functions = {}, transport, rpcTimeout = DEFAULT_TIMEOUT_MS } = options;
    if (typeof (functions as unknown) !== "object" || (functions as unknown) === null) {
      throw new TypeError(`initRpc() expects functions to be an object of functions, got ${describeValue(functions)}.`);
    }
    for (const [key, fn] of Object.entries(functions)) {
      if (typeof fn !== "function") {
        throw new TypeError(`initRpc(): functions.${key} is ${describeValue(fn)}, not a function; expose only functions.`);
      }
    }
    if (typeof (transport as unknown) !== "object" || (transport as unknown) === null || typeof (transport.call as unknown) !== "function") {
      throw new TypeError(
        `initRpc() expects a transport (await threadsTransport(...) or natsTransport(...)), got ${describeValue(transport)}.`,
      );
    }
    checkTimeout("initRpc", "rpcTimeout", rpcTimeout);
    this.name = transport.name;
    this.workers = transport.workers;
    this.#transport = transport;
    this.#functions = functions;
    this.#timeout = rpcTimeout;
    transport.onGone((peer) => {
      this.#dropHolder(peer);
      this.#doneFrom.add(peer);
      this.#checkAllDone();
      this.#checkDrained();
    });
    transport.serve((request, from) => this.#serve(request, from));
  }

  /**
   * Calls `fn` on worker `to` with `args` and returns a future of its result
   * at once (torch's `rpc_async`). The future completes on this thread, with
   * the result or with the error the function threw — as itself, class,
   * message, stack and `cause`, {@link raisedOn} naming the worker — or with
   * {@link RpcTimeoutError}, {@link RpcWorkerGoneError}, {@link RpcShutdownError}.
   * Over worker threads its `wait()` blocks until the reply.
   *
   * @param to - the worker's name (`this.workers`); its own name calls locally.
   * @param fn - the name of a function the worker registered.
   * @param args - the arguments, sent by structured clone; RRefs among them (at
   * any depth of plain arrays and objects) arrive as RRefs, and so do RRefs in
   * the result (the receiver becomes a holder, counted before the reply goes).
   * @throws {@link RpcError} for an unknown worker; {@link RpcShutdownError}
   * after shutdown; TypeError for arguments that are not an array, a bad
   * option, or values that cannot be sent — in each case nothing was sent.
   *
   * @example
   * ```ts
   * import { type RpcAgent } from "torch-futures/rpc";
   * declare const agent: RpcAgent<{ add(a: number, b: number): number }>;
   * const sum = await agent.rpcAsync("worker1", "add", [2, 3], { timeout: 1_000 }); // 5
   * ```
   */
  rpcAsync<K extends RpcFunctionName<F>>(
    to: string,
    fn: K,
    args: Parameters<F[K]>,
    options?: RpcCallOptions,
  ): Future<RpcResult<F[K]>> {
    return this.#call(to, fn, options, false, () => ({ kind: "call", fn, args: this.#encodeArgs("rpcAsync", args, to) })) as Future<
      RpcResult<F[K]>
    >;
  }

  /**
   * Calls `fn` on worker `to` and blocks this thread until its result
   * (torch's `rpc_sync`): returns it, or throws what `rpcAsync`'s future would
   * fail with. Blocks only where a thread can (a worker-thread group on
   * Node.js, or a Web Worker); elsewhere it throws {@link RpcCannotBlockError}:
   * use `await agent.rpcAsync(...)`.
   *
   * @throws the errors of {@link RpcAgent.rpcAsync}, and the remote function's.
   *
   * @example
   * ```ts
   * import { type RpcAgent } from "torch-futures/rpc";
   * declare const agent: RpcAgent<{ add(a: number, b: number): number }>;
   * const sum = agent.rpcSync("worker1", "add", [2, 3]); // 5
   * ```
   */
  rpcSync<K extends RpcFunctionName<F>>(to: string, fn: K, args: Parameters<F[K]>, options?: RpcCallOptions): RpcResult<F[K]> {
    return this.#call(to, fn, options, true, () => ({ kind: "call", fn, args: this.#encodeArgs("rpcSync", args, to) })) as RpcResult<F[K]>;
  }

  /**
   * Calls `fn` on worker `to` and returns at once a reference to its result,
   * which stays on `to` (torch's `remote`): fetch it with `toHere()`, pass it
   * to other calls, or let it go. The owner keeps the value while any holder
   * is left (reference counts, released when an `RRef` is garbage-collected
   * or by {@link RRef.release}).
   *
   * @throws as {@link RpcAgent.rpcAsync} does.
   *
   * @example
   * ```ts
   * import { type RpcAgent } from "torch-futures/rpc";
   * declare const agent: RpcAgent<{ zeros(n: number): Float64Array; sum(a: Float64Array): number }>;
   * const ref = agent.remote("worker1", "zeros", [1_000_000]); // the array stays on worker1
   * const total = await ref.toHereAsync(); // or ref.toHere(), blocking
   * ```
   */
  remote<K extends RpcFunctionName<F>>(to: string, fn: K, args: Parameters<F[K]>, options?: RpcCallOptions): RRef<RpcResult<F[K]>> {
    return this.#remote(to, fn, args, options, undefined) as RRef<RpcResult<F[K]>>;
  }

  /** `remote()`, of a registered function or (`self`, an RRef id owned by `to`) of a method of that RRef's value. */
  #remote(to: string, fn: string, args: unknown, options: RpcCallOptions | undefined, self: string | undefined): RRef<unknown> {
    const id = `${this.name}#${this.#nextId++}`;
    this.#call(to, fn, options, false, () => ({ kind: "remote", fn, ...(self === undefined ? {} : { self }), args: this.#encodeArgs("remote", args, to), rref: id }), "remote");
    return this.#adoptRRef({ torchFuturesRRef: 1, owner: to, id });
  }

  /**
   * A typed stand-in for worker `to`: `proxy.add(1, 2)` is
   * `agent.rpcAsync(to, "add", [1, 2], options)`. Never thenable: `await
   * proxy` gives the proxy, and calls nothing.
   *
   * @throws {@link RpcError} for an unknown worker.
   *
   * @example
   * ```ts
   * import { type RpcAgent } from "torch-futures/rpc";
   * declare const agent: RpcAgent<{ add(a: number, b: number): number }>;
   * const worker1 = agent.proxy("worker1");
   * const five = await worker1.add(2, 3);
   * ```
   */
  proxy(to: string, options?: RpcCallOptions): { readonly [K in RpcFunctionName<F>]: (...args: Parameters<F[K]>) => Future<RpcResult<F[K]>> } {
    this.#checkWorker("proxy", to);
    return new Proxy(Object.create(null) as object, {
      get: (_target, key) => {
        // Not thenable, not a Promise-like: `await proxy` and Promise.resolve(proxy) call nothing.
        if (typeof key !== "string" || key === "then") return undefined;
        return (...args: unknown[]) => this.rpcAsync(to, key as RpcFunctionName<F>, args as Parameters<F[RpcFunctionName<F>]>, options);
      },
    }) as { readonly [K in RpcFunctionName<F>]: (...args: Parameters<F[K]>) => Future<RpcResult<F[K]>> };
  }

  /**
   * A worker's name and rank (torch's `get_worker_info(name)`, whose `id` is
   * the rank): this worker's own without a name.
   *
   * @throws {@link RpcError} for a name that is no worker of the group.
   *
   * @example
   * ```ts
   * import { type RpcAgent } from "torch-futures/rpc";
   * declare const agent: RpcAgent;
   * const { name, id } = agent.workerInfo(); // e.g. { name: "main", id: 0 }
   * const peers = agent.workers.map((w) => agent.workerInfo(w));
   * ```
   */
  workerInfo(name: string = this.name): WorkerInfo {
    this.#checkWorker("workerInfo", name);
    return { name, id: this.workers.indexOf(name) };
  }

  /**
   * How many values this worker owns through RRefs that some holder still
   * refers to; 0 once every holder has let go. For monitoring and tests.
   *
   * @example
   * ```ts
   * import { type RpcAgent } from "torch-futures/rpc";
   * declare const agent: RpcAgent;
   * console.log(agent.ownedRRefs); // 0 when nothing is referenced remotely
   * ```
   */
  get ownedRRefs(): number {
    return this.#owned.size;
  }

  /** @internal For tests: each owned id's holder counts. */
  _holders(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.#owned].map(([id, e]) => [id, Object.fromEntries(e.holders)]));
  }

  /**
   * Shuts this worker's part of the group down (torch's `shutdown`). Graceful
   * (the default): it waits until its own calls in flight have completed,
   * tells every other worker, waits until every other worker has done the
   * same (a barrier: workers that went away count as done), and until no call
   * is left anywhere in the group — served functions that call onwards, chains
   * of fire-and-forget calls — then closes. Quiet means: every worker idle,
   * with the same counts of calls made and served in two rounds of asking in a
   * row (calls started later from a timer are the caller's own to await). Until then it keeps serving and calls still go out, so a worker
   * can call `shutdown()` right after `initRpc()`, as torch's workers do, and
   * serve until the group is done. Not graceful, or once `timeout` passes:
   * closes now, and the calls in flight fail with {@link RpcShutdownError}.
   * Once closed, every call throws {@link RpcShutdownError}. Calling it again
   * returns the same promise.
   *
   * @example
   * ```ts
   * import { type RpcAgent } from "torch-futures/rpc";
   * declare const agent: RpcAgent;
   * await agent.shutdown(); // every worker calls it; each returns once all are done
   * ```
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    const { graceful = true, timeout } = options;
    if (timeout !== undefined) checkTimeout("shutdown", "timeout", timeout);
    this.#state = "closing";
    this.#shutdown = (async () => {
      if (graceful) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const barrier = this.#barrier();
        const expired = new Promise<void>((resolve) => {
          if (timeout !== undefined && timeout > 0) timer = setTimeout(resolve, timeout);
        });
        await (timeout === undefined ? barrier : Promise.race([barrier, expired]));
        clearTimeout(timer);
      }
      this.#state = "closed";
      await this.#transport.close(new RpcShutdownError(`rpc worker "${this.name}" shut down with this call in flight`));
      this.#owned.clear();
    })();
    return this.#shutdown;
  }

  async #barrier(): Promise<void> {
    await this.#settleOutgoing();
    // Tell every worker still there; their acknowledgement means they have seen it.
    const told = this.workers
      .filter((w) => w !== this.name && this.#transport.alive(w))
      .map((w) => this.#transport.call(w, { kind: "done" }, this.#callOptions(w, "shutdown", undefined)));
    await Promise.allSettled(told);
    await new Promise<void>((resolve) => {
      this.#allDone = resolve;
      this.#checkAllDone();
    });
    // Every worker has said it is done, but calls may still travel (a served function may call
    // onwards, and that call onwards): wait until the whole group is quiet.
    let previous: string | undefined;
    for (let pause = 0; ; ) {
      await this.#settleLocal();
      const round = await this.#countRound();
      if (round === CONCLUDED || (round !== undefined && round === previous)) break;
      previous = round;
      if (round === undefined) {
        // Some worker is busy: ask again a little later, less often the longer it lasts.
        pause = Math.min(Math.max(1, pause * 2), MAX_ROUND_PAUSE_MS);
        await new Promise((resolve) => setTimeout(resolve, pause));
      } else {
        pause = 0;
      }
    }
    this.#concluded = true;
  }

  /** Waits until this worker makes no call and serves none from a worker still there. */
  async #settleLocal(): Promise<void> {
    do {
      await this.#settleOutgoing();
      await new Promise<void>((resolve) => {
        this.#incomingDrained = resolve;
        this.#checkDrained();
      });
    } while (this.#outgoing.size > 0);
  }

  /**
   * One round of the shutdown's termination check: every worker still there says whether it is
   * idle, and how many calls it has made or started serving. `undefined` if one is busy (or did
   * not answer), {@link CONCLUDED} if one has already found the group quiet, else the round's
   * counts. Two rounds in a row with the same counts, all idle, mean the group was quiet between
   * them: a worker that did anything in between would have counted it (the four-counter method).
   */
  async #countRound(): Promise<string | undefined> {
    const peers = this.workers.filter((w) => w !== this.name && this.#transport.alive(w));
    const replies = await Promise.allSettled(
      peers.map((w) => this.#transport.call(w, { kind: "count" }, this.#callOptions(w, "shutdown", undefined))),
    );
    const counts: string[] = [];
    const own = this.#countReply();
    for (const [i, r] of [...replies.map((r, i) => [peers[i] ?? "", r] as const), [this.name, { status: "fulfilled", value: own }] as const]) {
      if (r.status === "rejected") {
        if (this.#transport.alive(i)) return undefined;
        continue; // went away meanwhile: it counts as done
      }
      const c = r.value as CountReply;
      if (c.concluded) return CONCLUDED;
      if (!c.idle) return undefined;
      counts.push(`${i}:${String(c.activity)}`);
    }
    return counts.join(" ");
  }

  #countReply(): CountReply {
    return { idle: this.#outgoing.size === 0 && !this.#servingFromLivePeers(), activity: this.#activity, concluded: this.#concluded };
  }

  async #settleOutgoing(): Promise<void> {
    while (this.#outgoing.size > 0) await Promise.allSettled([...this.#outgoing]);
  }

  #servingFromLivePeers(): boolean {
    for (const from of this.#incoming.keys()) if (from === this.name || this.#transport.alive(from)) return true;
    return false;
  }

  /** Resolves the shutdown's wait once no call from a worker still there is being served. */
  #checkDrained(): void {
    if (this.#incomingDrained === undefined) return;
    // A reply to a worker that has gone cannot arrive: its calls do not hold the shutdown up.
    if (this.#servingFromLivePeers()) return;
    const resolve = this.#incomingDrained;
    this.#incomingDrained = undefined;
    resolve();
  }

  #checkAllDone(): void {
    if (this.#allDone === undefined) return;
    if (this.workers.every((w) => w === this.name || this.#doneFrom.has(w) || !this.#transport.alive(w))) {
      const resolve = this.#allDone;
      this.#allDone = undefined;
      resolve();
    }
  }

  // ---- calls out ----

  #checkWorker(method: string, to: unknown): asserts to is string {
    if (typeof to !== "string" || !this.workers.includes(to)) {
      throw new RpcError(
        `${method}(): no worker named ${describeValue(to)} in this group; the workers are ${this.workers.map((w) => `"${w}"`).join(", ")}.`,
      );
    }
  }

  #callOptions(to: string, fn: string, options: RpcCallOptions | undefined): CallOptions {
    const timeoutMs = options?.timeout ?? this.#timeout;
    return {
      timeoutMs: timeoutMs === 0 ? undefined : timeoutMs,
      timeoutError: () => new RpcTimeoutError(to, fn, timeoutMs),
      transfer: options?.transfer,
      signal: options?.signal,
      decode: this.#decodeReply,
    };
  }

  /** Checks a call, then builds its request (encoding the arguments) and sends it. */
  #call(
    to: string,
    fn: string,
    options: RpcCallOptions | undefined,
    sync: boolean,
    build: () => RpcRequest,
    method = sync ? "rpcSync" : "rpcAsync",
  ): unknown {
    this.#checkWorker(method, to);
    if (typeof fn !== "string") throw new TypeError(`${method}() expects a function name (a string), got ${describeValue(fn)}.`);
    checkOptions(method, options);
    // While a graceful shutdown waits for the others, calls still go out (the functions it serves
    // may call onwards); once closed, none.
    if (this.#state === "closed") {
      throw new RpcShutdownError(`${method}(): rpc worker "${this.name}" has shut down; no more calls can be made from it.`);
    }
    const callOptions = this.#callOptions(to, fn, options);
    if (options?.signal?.aborted === true) {
      if (sync) throw options.signal.reason;
      const failed = new Future();
      failed.setException(options.signal.reason);
      return failed;
    }
    if (to !== this.name && !this.#transport.alive(to)) {
      const gone = new RpcWorkerGoneError(to, "it went away earlier");
      if (sync) throw gone;
      const failed = new Future();
      failed.setException(gone);
      return failed;
    }
    this.#counted.length = 0;
    const request = build();
    if (to === this.name) return this.#callSelf(request, callOptions, sync);
    const counted = this.#counted.length === 0 ? undefined : this.#counted.splice(0);
    try {
      if (sync) {
        this.#activity++;
        return this.#transport.callSync(to, request, callOptions);
      }
      const fut = this.#transport.call(to, request, callOptions);
      this.#track(fut);
      return fut;
    } catch (error) {
      // Arguments that could not be sent (a TypeError no worker raised): nobody received the RRefs among them.
      if (counted !== undefined && error instanceof TypeError && raisedOn(error) === undefined) {
        for (const [owner, id] of counted) this.#releaseFor(owner, id, to);
      }
      throw error;
    }
  }

  /** A call to this worker itself: served like a peer's, without a transport. */
  #callSelf(request: RpcRequest, options: CallOptions, sync: boolean): unknown {
    const out = new Future();
    settleWith(out, () => this.#serve(request, this.name), this.name);
    if (sync) return out.wait(options.timeoutMs);
    this.#track(out);
    return out;
  }

  #track(fut: Future): void {
    this.#activity++;
    if (fut.done()) return;
    this.#outgoing.add(fut);
    fut.addDoneCallback(() => this.#outgoing.delete(fut));
  }

  /** Arguments on their way out: RRefs become their wire form, with a count taken for the receiver. */
  #encodeArgs(method: string, args: unknown, to: string): unknown[] {
    this.#sendingTo = to;
    if (!Array.isArray(args)) {
      throw new TypeError(`${method}() expects the arguments as an array, got ${describeValue(args)}.`);
    }
    return args.map((a) => this.#encodeValue(a, 0));
  }

  #encodeValue(value: unknown, depth: number): unknown {
    if (typeof value !== "object" || value === null || depth > 32) return value;
    if (value instanceof RRef) {
      const { owner, id } = rrefInternals(value);
      // The receiver becomes a holder; counted now, before the call can arrive and let go of it.
      this.#addHolderFor(owner, id, this.#sendingTo);
      this.#counted.push([owner, id]);
      return { torchFuturesRRef: 1, owner, id } satisfies RRefWire;
    }
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const e = this.#encodeValue(v, depth + 1);
        if (e !== v) (out ??= value.slice())[i] = e;
      }
      return out ?? value;
    }
    if (Object.getPrototypeOf(value) === Object.prototype) {
      let out: Record<string, unknown> | undefined;
      for (const [k, v] of Object.entries(value)) {
        const e = this.#encodeValue(v, depth + 1);
        if (e !== v) (out ??= { ...value })[k] = e;
      }
      return out ?? value;
    }
    return value;
  }

  /**
   * A result on its way back to `to`: RRefs in it (at any depth of plain arrays and objects) become
   * their wire form, with a count taken for `to`, inside a {@link ReplyWire}; anything else as it is.
   */
  #encodeReply(result: unknown, to: string): unknown {
    if (to === this.name) return result; // a call to itself gets the RRef objects themselves
    if (result instanceof Future) return result.continueWith((f) => this.#wrapReply(f.value(), to));
    if (isThenable(result)) return Promise.resolve(result).then((v) => this.#wrapReply(v, to));
    return this.#wrapReply(result, to);
  }

  #wrapReply(value: unknown, to: string): unknown {
    if (typeof value !== "object" || value === null) return value;
    this.#sendingTo = to;
    const encoded = this.#encodeValue(value, 0);
    return encoded === value ? value : ({ torchFuturesReply: 1, value: encoded } satisfies ReplyWire);
  }

  /** A reply as it arrives: RRefs come back to life; only replies that hold some are walked. */
  readonly #decodeReply = (value: unknown): unknown =>
    typeof value === "object" && value !== null && (value as Partial<ReplyWire>).torchFuturesReply === 1
      ? this.#decodeValue((value as ReplyWire).value, 0)
      : value;

  #decodeValue(value: unknown, depth: number): unknown {
    if (typeof value !== "object" || value === null || depth > 32) return value;
    if (isRRefWire(value)) return this.#adoptRRef(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.#decodeValue(value[i], depth + 1);
      return value;
    }
    if (Object.getPrototypeOf(value) === Object.prototype) {
      const rec = value as Record<string, unknown>;
      for (const k of Object.keys(rec)) rec[k] = this.#decodeValue(rec[k], depth + 1);
    }
    return value;
  }

  // ---- RRefs ----

  #adoptRRef<T>(wire: RRefWire): RRef<T> {
    const ref = new RRef<T>(wire.owner, wire.id, {
      isOwner: () => wire.owner === this.name,
      localValue: () => {
        const entry = this.#owned.get(wire.id);
        if (wire.owner !== this.name || entry === undefined || !entry.created) {
          throw new RpcError(`localValue() is only for the owner ("${wire.owner}") of an RRef; use toHere() on "${this.name}".`);
        }
        return entry.value.value();
      },
      fetch: (sync, timeout) => {
        const fetched =
          wire.owner === this.name
            ? this.#callSelf({ kind: "fetch", rref: wire.id }, this.#callOptions(this.name, "toHere", { timeout: timeout ?? 0 }), sync)
            : this.#call(wire.owner, "toHere", timeout === undefined ? undefined : { timeout }, sync, () => ({ kind: "fetch", rref: wire.id }), "toHere");
        return fetched;
      },
      callMethod: (mode, method, args, options) => {
        if (mode === "remote") return this.#remote(wire.owner, method, args, options, wire.id);
        const sync = mode === "sync";
        const name = sync ? "rpcSync" : "rpcAsync";
        return this.#call(wire.owner, method, options, sync, () => ({ kind: "call", fn: method, self: wire.id, args: this.#encodeArgs(name, args, wire.owner) }), name);
      },
      release: () => {
        this.#released.unregister(ref);
        this.#release(wire.owner, wire.id);
      },
    });
    this.#released.register(ref, { owner: wire.owner, id: wire.id }, ref);
    return ref;
  }

  /** One more holder of `id` on `owner`: counted locally on the owner, by an `addRef` call otherwise. */
  #addHolderFor(owner: string, id: string, holder: string): void {
    if (owner === this.name) {
      this.#countHolder(id, holder, 1);
      return;
    }
    if (!this.#transport.alive(owner)) return;
    // Sent before this worker's own release of the RRef can be (same channel, in order), so the
    // count cannot reach zero while this worker still holds it.
    this.#track(this.#transport.call(owner, { kind: "addRef", rref: id, holder }, this.#callOptions(owner, "addRef", { timeout: 0 })));
  }

  #release(owner: string, id: string): void {
    this.#releaseFor(owner, id, this.name);
  }

  /** One holder fewer of `id` on `owner`: this worker, or one it counted but could not send the RRef to. */
  #releaseFor(owner: string, id: string, holder: string): void {
    if (this.#state === "closed") return;
    if (owner === this.name) {
      this.#countHolder(id, holder, -1);
      return;
    }
    if (!this.#transport.alive(owner)) return;
    const request: RpcRequest = holder === this.name ? { kind: "release", rref: id } : { kind: "release", rref: id, holder };
    this.#track(this.#transport.call(owner, request, this.#callOptions(owner, "release", { timeout: 0 })));
  }

  /** Adds `delta` to `holder`'s count of `id`; drops the value once no holder is left. */
  #countHolder(id: string, holder: string, delta: number): void {
    const entry = this.#ownedEntry(id);
    const n = (entry.holders.get(holder) ?? 0) + delta;
    // Per holder, and kept while any count is not zero: a receiver's release may reach the owner
    // before the sender's addRef for it (another channel), leaving that holder at -1 for a while.
    if (n === 0) entry.holders.delete(holder);
    else entry.holders.set(holder, n);
    if (entry.holders.size === 0 && entry.created) this.#owned.delete(id);
  }

  /** The entry for `id`, made (its value pending) if no request about it came before. */
  #ownedEntry(id: string): Owned {
    let entry = this.#owned.get(id);
    if (entry === undefined) this.#owned.set(id, (entry = { value: new Future(), created: false, holders: new Map() }));
    return entry;
  }

  #dropHolder(peer: string): void {
    for (const [id, entry] of this.#owned) {
      if (entry.holders.delete(peer) && entry.holders.size === 0 && entry.created) this.#owned.delete(id);
    }
  }

  // ---- calls in ----

  /** Answers one request: the reply value, or a Future or Promise of it; throws the function's error. */
  #serve(request: RpcRequest, from: string): unknown {
    switch (request.kind) {
      case "call":
        return this.#running(from, () => this.#encodeReply(this.#invoke(request), from));
      case "remote": {
        // The value stays here, failed if the function is unknown or threw: toHere() reports it.
        const id = request.rref ?? "";
        const entry = this.#ownedEntry(id);
        entry.created = true;
        settleWith(entry.value, () => this.#running(from, () => this.#invoke(request)));
        this.#countHolder(id, from, 1);
        return undefined;
      }
      case "fetch": {
        // Before the creator's `remote` has arrived, the value is pending: the reply waits for it.
        return this.#encodeReply(this.#ownedEntry(request.rref ?? "").value, from);
      }
      case "addRef":
        this.#countHolder(request.rref ?? "", request.holder ?? from, 1);
        return undefined;
      case "release":
        this.#countHolder(request.rref ?? "", request.holder ?? from, -1);
        return undefined;
      case "done":
        this.#doneFrom.add(from);
        this.#checkAllDone();
        return undefined;
      case "count":
        return this.#countReply();
    }
  }

  /** Calls the registered function a request names, with its arguments decoded. */
  #invoke(request: RpcRequest): unknown {
    const name = request.fn ?? "";
    if (request.self !== undefined) {
      const id = request.self;
      const value = this.#ownedEntry(id).value;
      const args = (request.args ?? []).map((a) => this.#decodeValue(a, 0));
      // Before the value's own remote() has run here, the call waits for it (as a fetch does).
      return value.done() ? callMethod(value.value(), name, args, this.name, id) : value.then((v) => callMethod(v, name, args, this.name, id));
    }
    const fn = Object.hasOwn(this.#functions, name) ? this.#functions[name] : undefined;
    if (fn === undefined) {
      throw new RpcError(
        `rpc worker "${this.name}" has no function named "${name}"; it exposes ${
          Object.keys(this.#functions).map((k) => `"${k}"`).join(", ") || "none"
        }.`,
      );
    }
    return fn(...(request.args ?? []).map((a) => this.#decodeValue(a, 0)));
  }

  /** Runs a served function, counting it in flight until its result (maybe a Future or Promise) settles. */
  #running(from: string, run: () => unknown): unknown {
    this.#activity++;
    this.#incoming.set(from, (this.#incoming.get(from) ?? 0) + 1);
    const finished = (): void => {
      const n = (this.#incoming.get(from) ?? 1) - 1;
      if (n === 0) this.#incoming.delete(from);
      else this.#incoming.set(from, n);
      this.#checkDrained();
    };
    let result: unknown;
    try {
      result = run();
    } catch (error) {
      finished();
      throw error;
    }
    if (result instanceof Future) result.addDoneCallback(finished);
    else if (isThenable(result)) result.then(finished, finished);
    else finished();
    return result;
  }
}

/** Calls method `name` of an RRef's value on its owner; a name that is no method of it is an RpcError. */
function callMethod(target: unknown, name: string, args: unknown[], owner: string, id: string): unknown {
  // Object.prototype's members (constructor, __proto__, toString...) are not the value's methods to call remotely.
  const method = target === null || target === undefined || name in Object.prototype ? undefined : (target as Record<string, unknown>)[name];
  if (typeof method !== "function") {
    throw new RpcError(`The value of RRef "${id}" on rpc worker "${owner}" (${describeValue(target)}) has no method "${name}"; call one of its own methods.`);
  }
  return Reflect.apply(method, target, args) as unknown;
}

/** Whether `value` has a `then` method (a Promise or any thenable). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/**
 * Calls `settled(ok, value)` once with what `produce` gives: a value, or a
 * Future or Promise of one (waited for), or the error it throws or they fail with.
 *
 * @internal
 */
export function settleThen(produce: () => unknown, settled: (ok: boolean, value: unknown) => void): void {
  let result: unknown;
  try {
    result = produce();
  } catch (error) {
    settled(false, error);
    return;
  }
  if (result instanceof Future) {
    result.addDoneCallback((f) => {
      let value: unknown;
      try {
        value = f.value();
      } catch (error) {
        settled(false, error);
        return;
      }
      settled(true, value);
    });
  } else if (isThenable(result)) {
    result.then(
      (v) => {
        settled(true, v);
      },
      (error: unknown) => {
        settled(false, error);
      },
    );
  } else {
    settled(true, result);
  }
}

/**
 * Completes `out` with what `produce` gives (see {@link settleThen}); errors
 * marked as raised by `raisedBy`, if given.
 *
 * @internal
 */
export function settleWith(out: Future, produce: () => unknown, raisedBy?: string): void {
  settleThen(produce, (ok, value) => {
    if (ok) out.setResult(value);
    else out.setException(raisedBy === undefined ? value : markRaisedOn(value, raisedBy));
  });
}

function checkTimeout(method: string, name: string, value: unknown): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new TypeError(`${method}() expects ${name} in milliseconds (a number >= 0; 0 for none), got ${describeValue(value)}.`);
  }
}

function checkOptions(method: string, options: RpcCallOptions | undefined): void {
  if (options === undefined) return;
  if (typeof (options as unknown) !== "object" || (options as unknown) === null) {
    throw new TypeError(`${method}() expects options { timeout, signal, transfer }, got ${describeValue(options)}.`);
  }
  if (options.timeout !== undefined) checkTimeout(method, "timeout", options.timeout);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`${method}() expects signal to be an AbortSignal, got ${describeValue(options.signal)}.`);
  }
  if (options.transfer !== undefined && !Array.isArray(options.transfer)) {
    throw new TypeError(`${method}() expects transfer to be an array of transferable objects, got ${describeValue(options.transfer)}.`);
  }
}

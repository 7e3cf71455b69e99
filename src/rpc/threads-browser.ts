/**
 * The worker-threads transport in browsers: an RPC group of a page and its
 * Web Workers (or of workers alone), calling each other through the browser
 * `FutureLink`s — the same calls, errors and RRefs as between Node.js
 * threads, and the same handles and rendezvous.
 *
 * Browsers fire no event on a port when the thread at its other end is
 * terminated, so the rendezvous notices deaths by the threads' life locks:
 * each side sends the peer its own over the rendezvous port and watches the
 * peer's. A peer that never joins (its script failed to load, it ended
 * before calling `threadsTransport`, or it was never started) is noticed by
 * a join deadline instead.
 *
 * @module
 */
import { FutureLink, openLink, type LinkHandle } from "../threads/browser.js";
import { browserPlatform } from "../threads/browser/platform.js";
import { guardLife, isLifeToken, whenHeld, type LifeToken } from "../threads/browser/life.js";
import { RpcError, RpcWorkerGoneError } from "./errors.js";
import type { Transport } from "./transport.js";
import { createGroup, isRpcGroupHandle as isHandle, joinGroup, linkConnector, type ThreadsPlatform } from "./threads-core.js";

/** Two `FutureLink`s per pair of workers. */
const browserLinks = linkConnector({
  makeLink: (capacity) => new FutureLink({ capacity }),
  openLink: (handle) => openLink(handle as LinkHandle),
});

export { SLOTS } from "./threads-core.js";

/** How long a thread waits, by default, for each peer to join the group. */
export const DEFAULT_JOIN_TIMEOUT_MS = 60_000;

/** The rendezvous message that carries a thread's life lock. */
interface LifeMessage {
  readonly torchFuturesRpcLife: LifeToken;
}

function isLifeMessage(value: unknown): value is LifeMessage {
  return typeof value === "object" && value !== null && isLifeToken((value as Partial<LifeMessage>).torchFuturesRpcLife);
}

/** The browser platform of one `threadsTransport` call (its join deadline). */
function platformFor(joinTimeoutMs: number): ThreadsPlatform<MessagePort> {
  return {
    channel: () => new MessageChannel(),
    post(port, message, transfer) {
      port.postMessage(message, transfer as Transferable[]);
    },
    onceMessage(port, listener) {
      const onMessage = (event: MessageEvent): void => {
        if (isLifeMessage(event.data)) return;
        port.removeEventListener("message", onMessage);
        listener(event.data);
      };
      port.addEventListener("message", onMessage);
      port.start();
    },
    watch(port, me, peer, fail) {
      let unguard: (() => void) | undefined;
      let failed = false;
      const once = (error: Error): void => {
        if (failed) return;
        failed = true;
        stop();
        fail(error);
      };
      const timer = setTimeout(() => {
        once(
          new RpcError(
            `rpc worker "${peer}" did not join the group within ${joinTimeoutMs} ms: start it, hand it its group handle and have it call threadsTransport() (or pass a longer joinTimeoutMs to threadsTransport() on "${me}").`,
          ),
        );
      }, joinTimeoutMs);
      const onMessage = (event: MessageEvent): void => {
        if (!isLifeMessage(event.data) || unguard !== undefined) return;
        // The peer has joined: from now on its death, not a deadline, ends the wait.
        clearTimeout(timer);
        unguard = guardLife(event.data.torchFuturesRpcLife, () => {
          once(new RpcWorkerGoneError(peer, `it went away before the group was set up with "${me}"`));
        });
      };
      port.addEventListener("message", onMessage);
      port.start();
      // Sent once this thread holds its life lock, so that the peer's guard waits behind it.
      whenHeld((token) => {
        if (!failed) port.postMessage({ torchFuturesRpcLife: token } satisfies LifeMessage);
      });
      function stop(): void {
        clearTimeout(timer);
        port.removeEventListener("message", onMessage);
        unguard?.();
      }
      return stop;
    },
    closePort(port) {
      port.close();
    },
    canBlock: browserPlatform.canBlock,
  };
}

/** Handles are made the same way whatever the join deadline. */
const groupPlatform = platformFor(DEFAULT_JOIN_TIMEOUT_MS);

/**
 * What one thread (the page or a Web Worker) needs to join a browser RPC
 * group: its name, the group's names, and a port to each other worker for
 * the links' rendezvous. Made by {@link createThreadGroup}; send it once,
 * with its `transferList`, by `postMessage`.
 *
 * @example
 * ```ts
 * import { createThreadGroup } from "torch-futures/rpc/browser";
 * const group = createThreadGroup(["page", "worker1"]);
 * const h = group["worker1"]!;
 * new Worker(new URL("./worker.js", import.meta.url), { type: "module" }).postMessage(h, [...h.transferList]);
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
 * Makes the handles of a browser RPC group, one per name: keep the one for
 * this thread (the page, usually), and post each other one to the Web Worker
 * that will be that worker. Every thread then calls {@link threadsTransport}
 * with its handle, and `initRpc` with the transport.
 *
 * @param names - the workers' names, unique, in rank order.
 * @throws TypeError if `names` is not an array of at least one unique, non-empty string.
 *
 * @example
 * ```ts
 * import { createThreadGroup, initRpc, threadsTransport } from "torch-futures/rpc/browser";
 * const group = createThreadGroup(["page", "worker1", "worker2"]);
 * for (const name of ["worker1", "worker2"]) {
 *   const h = group[name]!;
 *   new Worker(new URL("./worker.js", import.meta.url), { type: "module" }).postMessage(h, [...h.transferList]);
 * }
 * const agent = initRpc({ transport: await threadsTransport(group["page"]!) });
 * ```
 */
export function createThreadGroup(names: readonly string[]): Record<string, RpcGroupHandle> {
  return createGroup(groupPlatform, names);
}

/**
 * Whether `value` is an {@link RpcGroupHandle}, e.g. the data of a worker's first message.
 *
 * @example
 * ```ts
 * import { isRpcGroupHandle, threadsTransport } from "torch-futures/rpc/browser";
 * declare const data: unknown;
 * if (isRpcGroupHandle(data)) await threadsTransport(data);
 * ```
 */
export function isRpcGroupHandle(value: unknown): value is RpcGroupHandle {
  return isHandle(value);
}

/** Options of {@link threadsTransport} in browsers. */
export interface BrowserThreadsOptions {
  /**
   * How long to wait for each other worker to join (call `threadsTransport`
   * with its handle) before the rendezvous fails with an `RpcError` that
   * names it; default 60,000 ms. A peer that joined and then dies fails it at
   * once with `RpcWorkerGoneError`, whatever this deadline.
   *
   * @example
   * ```ts
   * import { threadsTransport, type RpcGroupHandle } from "torch-futures/rpc/browser";
   * declare const handle: RpcGroupHandle;
   * await threadsTransport(handle, { joinTimeoutMs: 10_000 });
   * ```
   */
  readonly joinTimeoutMs?: number;
}

/**
 * Joins this thread (the page or a Web Worker) to a browser RPC group: meets
 * every other worker through its handle's ports, and resolves once all are
 * linked — torch's `init_rpc` rendezvous. Pass the transport to `initRpc`.
 *
 * Blocking: in a Web Worker, `rpcSync` and `RRef.toHere` block for real. On
 * the page's main thread, where browsers forbid blocking, they throw
 * `RpcCannotBlockError`: use `await agent.rpcAsync(...)` and
 * `await rref.toHereAsync()` there.
 *
 * Deaths: a Web Worker that is terminated or closes itself fails every call
 * in flight to it with `RpcWorkerGoneError` (noticed through its life lock,
 * within a few milliseconds, or the links' bound for a worker blocked in
 * `rpcSync`), and later calls at once. One that dies during the rendezvous
 * fails it with `RpcWorkerGoneError`; one that never joins fails it with an
 * `RpcError` after `joinTimeoutMs`.
 *
 * @param handle - this thread's handle from {@link createThreadGroup}.
 * @param options - the join deadline.
 * @throws TypeError if `handle` is not an {@link RpcGroupHandle} or `joinTimeoutMs` is not a positive number.
 *
 * @example
 * ```ts
 * // worker.ts
 * import { initRpc, isRpcGroupHandle, threadsTransport } from "torch-futures/rpc/browser";
 * self.onmessage = async (e: MessageEvent) => {
 *   if (!isRpcGroupHandle(e.data)) return;
 *   const agent = initRpc({ functions: { ping: () => "pong" }, transport: await threadsTransport(e.data) });
 *   await agent.shutdown();
 * };
 * ```
 */
export async function threadsTransport(handle: RpcGroupHandle, options: BrowserThreadsOptions = {}): Promise<Transport> {
  const joinTimeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
  if (typeof joinTimeoutMs !== "number" || !(joinTimeoutMs > 0)) {
    throw new TypeError(`threadsTransport(): joinTimeoutMs must be a positive number of milliseconds, got ${String(joinTimeoutMs)}.`);
  }
  return joinGroup(joinTimeoutMs === DEFAULT_JOIN_TIMEOUT_MS ? groupPlatform : platformFor(joinTimeoutMs), handle, browserLinks);
}

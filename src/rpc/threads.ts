/**
 * The worker-threads transport: an RPC group whose workers are threads of one
 * Node.js process, calling each other through shared memory, no `postMessage`
 * per call.
 *
 * Each pair of workers shares one {@link Wire} (`wire.ts`): two byte rings,
 * one written by each side. A call writes one frame (an id and the request,
 * encoded by the plain codec or, for other values, V8's serializer); the
 * answer comes back as one frame with that id. A reply that arrives after the
 * caller failed the call (timeout, abort) finds no pending id and is dropped.
 * A thread that goes away closes the wire's port (a thread blocked in
 * `rpcSync` learns it through a lifeline its sentinel watches): every call
 * pending on it fails with {@link RpcWorkerGoneError}. Browsers use
 * `FutureLink`s instead (`threads-core.ts`).
 *
 * @module
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import "../threads/index.js"; // installs the Node.js platform the wire runs on
import { RpcWorkerGoneError } from "./errors.js";
import type { Transport } from "./transport.js";
import { createGroup, isRpcGroupHandle as isHandle, joinGroup, type ThreadsPlatform } from "./threads-core.js";
import { wireConnector } from "./wire-transport.js";

export { SLOTS } from "./threads-core.js";

/** Node.js: worker-thread ports fire "close" when the thread at the other end goes away. */
const nodePlatform: ThreadsPlatform<MessagePort> = {
  channel: () => new MessageChannel(),
  post(port, message, transfer) {
    port.postMessage(message, transfer as MessagePort[]);
  },
  onceMessage(port, listener) {
    port.once("message", listener);
  },
  watch(port, me, peer, fail) {
    const onClose = (): void => {
      fail(new RpcWorkerGoneError(peer, `it went away before the group was set up with "${me}"`));
    };
    port.once("close", onClose);
    return () => {
      port.off("close", onClose);
    };
  },
  closePort(port) {
    port.close();
  },
  canBlock: true,
};

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
  return createGroup(nodePlatform, names);
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
  return isHandle(value);
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
  return joinGroup(nodePlatform, handle, wireConnector);
}

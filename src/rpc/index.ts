/**
 * `torch-futures/rpc`: torch's `torch.distributed.rpc` for TypeScript — calls
 * to functions on other workers (threads of this process, or processes and
 * hosts over NATS) that return torch-futures `Future`s.
 *
 * @example
 * ```ts
 * // main.ts
 * import { Worker } from "node:worker_threads";
 * import { createThreadGroup, initRpc, threadsTransport } from "torch-futures/rpc";
 * type Functions = { add(a: number, b: number): number }; // what worker.ts exposes
 *
 * const group = createThreadGroup(["main", "worker1"]);
 * const h = group["worker1"]!;
 * new Worker(new URL("./worker.js", import.meta.url), { workerData: h, transferList: h.transferList });
 * const agent = initRpc<Functions>({ transport: await threadsTransport(group["main"]!) });
 * console.log(await agent.rpcAsync("worker1", "add", [1, 2])); // 3
 * await agent.shutdown();
 * ```
 *
 * @module
 */
export {
  initRpc,
  RpcAgent,
  type RpcCallOptions,
  type RpcFunctionName,
  type RpcFunctions,
  type RpcOptions,
  type RpcResult,
  type ShutdownOptions,
  type WorkerInfo,
} from "./agent.js";
export { RRef, type RRefCallMode, type RRefMethodName, type RRefMethods } from "./rref.js";
export { RpcCannotBlockError, RpcConnectionLostError, RpcDuplicateWorkerError, RpcError, RpcShutdownError, RpcTimeoutError, RpcWorkerGoneError, raisedOn } from "./errors.js";
export { createThreadGroup, isRpcGroupHandle, threadsTransport, type RpcGroupHandle } from "./threads.js";
export type { CallOptions, RequestHandler, RpcRequest, RRefWire, Transport } from "./transport.js";

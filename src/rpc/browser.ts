/**
 * `torch-futures/rpc` in browsers: torch's `torch.distributed.rpc` between a
 * page and its Web Workers (and between workers) — the same `initRpc`
 * agent, calls, errors and RRefs as on Node.js, over the browser
 * `FutureLink`s of `torch-futures/threads`. Bundlers and browsers pick this
 * entry through the `browser` export condition.
 *
 * In a Web Worker `rpcSync` and `RRef.toHere` block; on the page's main
 * thread they throw `RpcCannotBlockError` (use `rpcAsync` and
 * `toHereAsync`). Needs a cross-origin isolated page (COOP `same-origin`,
 * COEP `require-corp`), where `SharedArrayBuffer` exists.
 *
 * @example
 * ```ts
 * // page.ts
 * import { createThreadGroup, initRpc, threadsTransport } from "torch-futures/rpc/browser";
 * type Functions = { add(a: number, b: number): number }; // what worker.ts exposes
 *
 * const group = createThreadGroup(["page", "worker1"]);
 * const h = group["worker1"]!;
 * new Worker(new URL("./worker.js", import.meta.url), { type: "module" }).postMessage(h, [...h.transferList]);
 * const agent = initRpc<Functions>({ transport: await threadsTransport(group["page"]!) });
 * console.log(await agent.rpcAsync("worker1", "add", [1, 2])); // 3
 * await agent.shutdown();
 *
 * // worker.ts
 * import { initRpc, isRpcGroupHandle, threadsTransport } from "torch-futures/rpc/browser";
 * self.onmessage = async (e: MessageEvent) => {
 *   if (!isRpcGroupHandle(e.data)) return;
 *   const agent = initRpc({ functions: { add: (a: number, b: number) => a + b }, transport: await threadsTransport(e.data) });
 *   await agent.shutdown();
 * };
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
export { createThreadGroup, isRpcGroupHandle, threadsTransport, type BrowserThreadsOptions, type RpcGroupHandle } from "./threads-browser.js";
export type { CallOptions, RequestHandler, RpcRequest, RRefWire, Transport } from "./transport.js";

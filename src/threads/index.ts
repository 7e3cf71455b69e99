/**
 * `torch-futures/threads`: futures that other threads complete. In torch any
 * thread may complete a future and `wait()` blocks until one does; here a
 * future {@link share}d with a worker (or from a worker) can be completed by
 * either side, `wait()` blocks for real, callbacks run on the thread that
 * registered them, exactly one completion wins, and a future whose other
 * threads all die fails with `BrokenFutureError` instead of hanging.
 *
 * For many futures between the same two threads, a {@link FutureLink} is
 * the fast path: made and handed over once, it carries futures and their
 * completions through shared memory alone (a round trip of a few
 * microseconds, against tens for messages).
 *
 * This is the Node.js build (`worker_threads`); browsers get the Web Workers
 * build through the `browser` export condition.
 *
 * Importing this module installs the cross-thread layer into the core.
 * Futures that are never shared do not pay for it.
 *
 * @example
 * ```ts
 * // main.ts — torch's first documentation example
 * import { Worker } from "node:worker_threads";
 * import { Future } from "torch-futures";
 * import { share } from "torch-futures/threads";
 *
 * const fut = new Future<Float32Array>();
 * const handle = share(fut);
 * new Worker(new URL("./worker.js", import.meta.url), { workerData: handle, transferList: handle.transferList });
 * console.log(fut.wait()); // Float32Array(2) [ 3, 3 ]
 *
 * // worker.ts
 * import { workerData } from "node:worker_threads";
 * import { adopt, type FutureHandle } from "torch-futures/threads";
 *
 * setTimeout(() => adopt(workerData as FutureHandle<Float32Array>).setResult(new Float32Array([3, 3])), 500);
 * ```
 *
 * @module
 */
import { installRemote } from "../remote.js";
import { createHooks } from "./kit/index.js";
import { nodePlatform } from "./node/platform.js";

export { adopt, isFutureHandle, share, type FutureHandle } from "./node/handle.js";
export { FutureLink, isLinkHandle, openLink, type LinkHandle, type LinkOptions } from "./node/link.js";
export { LinkClosedError } from "./link/protocol.js";

installRemote(createHooks(nodePlatform));

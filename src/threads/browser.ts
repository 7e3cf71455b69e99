/**
 * `torch-futures/threads` in browsers: futures that a page and its Web
 * Workers complete for one another. A future {@link share}d with a worker (or
 * from a worker) can be completed by either side; exactly one completion
 * wins; callbacks run on the thread that registered them; `wait()` blocks for
 * real in a worker, while on the page's main thread, where browsers forbid
 * blocking, it throws and points to `await`; a future whose other threads
 * are all gone (terminated, closed) fails with `BrokenFutureError` instead of
 * hanging.
 *
 * For many futures between the same two threads (the page and a worker, or
 * two workers), a {@link FutureLink} is the fast path: made and handed over
 * once, it carries futures and their completions through shared memory
 * alone, with no `postMessage` per future.
 *
 * Needs a cross-origin isolated page (COOP `same-origin` and COEP
 * `require-corp`), where `SharedArrayBuffer` exists. Bundlers and browsers
 * pick this entry through the `browser` export condition.
 *
 * Importing this module installs the cross-thread layer into the core.
 * Futures that are never shared do not pay for it.
 *
 * @example
 * ```ts
 * // page.ts — torch's first documentation example
 * import { Future } from "torch-futures";
 * import { share } from "torch-futures/threads";
 *
 * const fut = new Future<Float32Array>();
 * const handle = share(fut);
 * new Worker(new URL("./worker.js", import.meta.url), { type: "module" }).postMessage(handle, handle.transferList);
 * console.log(await fut); // Float32Array(2) [3, 3]
 *
 * // worker.ts
 * import { adopt, type FutureHandle } from "torch-futures/threads";
 *
 * self.onmessage = (e: MessageEvent<FutureHandle<Float32Array>>) => {
 *   setTimeout(() => adopt(e.data).setResult(new Float32Array([3, 3])), 500);
 * };
 * ```
 *
 * @module
 */
import { installRemote } from "../remote.js";
import { createHooks } from "./kit/index.js";
import { browserPlatform } from "./browser/platform.js";
import { myLife } from "./browser/life.js";

export { adopt, isFutureHandle, share, type FutureHandle } from "./browser/handle.js";
export { FutureLink, isLinkHandle, openLink, type LinkHandle, type LinkOptions } from "./browser/link.js";
export { LinkClosedError } from "./link/protocol.js";

installRemote(createHooks(browserPlatform));
// Taken now, so that it is held before this thread hands out its first handle.
if (typeof SharedArrayBuffer === "function") myLife();

/**
 * The kit: what every cross-thread protocol plugs into. `share()`/`adopt()`
 * (`share/`) and `FutureLink` (`link/`) are two protocols on it; a new one
 * (an RPC layer, say) imports this module and the codecs, and nothing of
 * theirs or of a platform's.
 *
 * A protocol must provide, for each future it shares on this thread:
 *
 * - a {@link SharedRecord}: how to complete the future for every thread
 *   (win the race, send the value, or throw leaving it pending), poll what
 *   happened elsewhere without blocking, keep the event loop alive while
 *   someone waits here, arm death notices, and the word to spin and sleep on;
 * - {@link register} when the future becomes shared (it turns
 *   `PENDING_SHARED`), {@link forget} when it completes here, and one
 *   {@link addPendingSource} at load listing its pending futures (so that a
 *   blocking wait on a derived future finds them);
 * - its wire messages (one typed interface each, as `share/messages.ts`),
 *   and its errors built from {@link reasons}.
 *
 * The kit gives:
 *
 * - {@link Platform} and {@link host}: ports, synchronous receive, the
 *   sentinel, structured-clone bytes — Node.js or browsers alike;
 * - {@link createHooks}: the core's hooks, dispatched to the records (a
 *   public entry installs them once, with its platform);
 * - blocking: {@link blockUntilAny} (used by the hooks), {@link spin},
 *   {@link GRACE_MS}, {@link SPIN_MS}, {@link CLAIM_WAIT_MS};
 * - completion helpers: {@link refuseFuture}, {@link alreadyCompleted},
 *   {@link cloneError};
 * - {@link reasons}: every sentence said to users (`kit/reasons.ts`), so
 *   that one situation reads the same in every protocol;
 * - {@link cells}: the shared cell (a claim among two or more threads, with
 *   its death marks) and the link's memory layout. The sentinels know these
 *   two layouts (`Platform.guardCell`, `Platform.guardLink`): a protocol
 *   whose deaths must be seen while its thread blocks keeps a cell per
 *   future or a link, or adds a guard kind to both sentinels.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
export { CLAIM_WAIT_MS, GRACE_MS, SPIN_MS, blockUntilAny, spin } from "./blocking.js";
export { alreadyCompleted, cloneError, refuseFuture } from "./completion.js";
export { createHooks } from "./hooks.js";
export { LATER, host, type Platform, type Port } from "./platform.js";
export { addPendingSource, forget, recordFor, register, type SharedRecord } from "./records.js";
export * as cells from "./shared-cell.js";
export * as reasons from "./reasons.js";

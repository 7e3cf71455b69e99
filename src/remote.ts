/**
 * The seam between the core and the cross-thread layer. A future that other
 * threads may complete is an ordinary `Future` in state `PENDING_SHARED`; the
 * core hands every operation it cannot do alone on such a future to the hooks
 * installed here. The core never imports the cross-thread layer, so it stays
 * free of `node:` imports and of any cost on its hot paths.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import type { Slot } from "./callback-queue.js";

/** What the core asks of the cross-thread layer. */
export interface RemoteHooks {
  /**
   * Completes a `PENDING_SHARED` future for every thread: wins or loses the
   * race (throwing `FutureAlreadyCompletedError` when it loses), then
   * completes it locally. Throws, leaving it pending, if `value` cannot be sent.
   */
  complete(fut: Slot, state: number, value: unknown, transfer: readonly unknown[] | undefined): void;
  /**
   * Delivers, without blocking, a completion that another thread has already
   * made but this thread has not yet applied (so `value()` and `done()` see it).
   */
  poll(fut: Slot): void;
  /**
   * Blocks until one of `futs` (all `PENDING_SHARED`) completes and applies
   * it, or until `deadline` (a `performance.now()` time; `Infinity` for none)
   * passes. Returns without throwing either way; the caller re-checks.
   */
  blockUntilAny(futs: readonly Slot[], deadline: number): void;
  /**
   * A callback was just registered on a `PENDING_SHARED` future (an `await`,
   * `then`, `continueWith`, `addDoneCallback` or `collectAll`): someone on
   * this thread waits for it, so the layer keeps the event loop alive.
   */
  watch(fut: Slot): void;
  /**
   * The futures on this thread that are shared and still pending: a blocking
   * wait on a future derived from them (`continueWith`, `collectAll`) waits
   * for those that feed it.
   */
  pendingShared(): Slot[];
}

let hooks: RemoteHooks | undefined;

/** Installs the cross-thread layer. */
export function installRemote(next: RemoteHooks): void {
  hooks = next;
}

/** The installed cross-thread layer, if any. */
export function remoteIfAny(): RemoteHooks | undefined {
  return hooks;
}

/** The installed cross-thread layer; a `PENDING_SHARED` future implies one. */
export function remote(): RemoteHooks {
  if (hooks === undefined) throw new Error("internal: a shared future exists but no cross-thread layer is installed");
  return hooks;
}

/**
 * The record registry: how the core's hooks find the protocol behind a
 * shared future. Every protocol keeps one {@link SharedRecord} per future it
 * shares on this thread, {@link register}s it when the future becomes
 * shared and {@link forget}s it when the future completes here, and tells
 * {@link addPendingSource} where its pending futures are.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import type { Slot } from "../../callback-queue.js";
import type { Future } from "../../future.js";
import { PENDING_SHARED } from "../../states.js";

/** One thread's view of one shared future, whichever protocol shared it. */
export interface SharedRecord {
  readonly fut: Future;
  /** Completed on this thread. */
  readonly done: boolean;
  /** The word this thread blocks on for it: it changes whenever the future may have. */
  readonly bell: Int32Array;
  readonly bellIndex: number;
  /** Whether a death on the other side already wakes this thread while it blocks. */
  readonly armed: boolean;
  /** Whether its value waits where only the event loop can take it (see `LATER`). */
  readonly later: boolean;
  /** See `RemoteHooks.complete`. */
  complete(state: number, value: unknown, transfer: readonly unknown[] | undefined): void;
  /** Applies, without blocking, whatever has happened to it elsewhere. */
  poll(): void;
  /** Someone on this thread waits for it (a callback, an `await`). */
  watch(): void;
  /** Makes a death on the other side wake this thread while it blocks (see `GRACE_MS`). */
  arm(): void;
  /**
   * Spins (see `SPIN_MS`) while `bell` holds `seq`, if an answer may
   * come within a spin, until `until` at most; whether the bell changed.
   */
  spin(seq: number, until: number): boolean;
  /** Sleeps on `bell` while it holds `seq`, at most `timeoutMs`. */
  sleep(seq: number, timeoutMs: number): void;
}

const records = new WeakMap<Slot, SharedRecord>();
// Where RemoteHooks.pendingShared finds pending shared futures: one source per protocol.
const pendingSources: (() => Iterable<Slot>)[] = [];

/** This thread's record of `fut`, which must be shared. */
export function recordOf(fut: Slot): SharedRecord {
  const rec = records.get(fut);
  if (rec === undefined) throw new Error("internal: a shared future has no record on this thread");
  return rec;
}

/** This thread's record of `fut`, if it is shared. */
export function recordFor(fut: Slot): SharedRecord | undefined {
  return records.get(fut);
}

/**
 * Forgets `fut`'s record once it completed here: every lookup is of a pending
 * shared future, and V8 never shrinks a WeakMap's table when collected keys
 * leave it, only on delete (a link streaming 100,000 futures in one go left
 * 8 MB of table behind).
 */
export function forget(fut: Slot): void {
  records.delete(fut);
}

/** Makes `fut` a pending shared future, known here by `rec`. */
export function register(fut: Future, rec: SharedRecord): void {
  fut._state = PENDING_SHARED;
  records.set(fut, rec);
}

/** Adds a place where {@link pendingShared} finds pending shared futures (a protocol's). */
export function addPendingSource(source: () => Iterable<Slot>): void {
  pendingSources.push(source);
}

/** The pending shared futures on this thread, of every protocol. */
export function pendingShared(): Slot[] {
  const found: Slot[] = [];
  for (const source of pendingSources) for (const fut of source()) if (fut._state === PENDING_SHARED) found.push(fut);
  return found;
}

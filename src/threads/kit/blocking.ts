/**
 * Blocking: how `wait()` and `waitAll()` block on shared futures of any
 * protocol. Each {@link SharedRecord} names the word it blocks on (its bell)
 * and how to spin and sleep on it; {@link blockUntilAny} polls, spins
 * briefly, arms deaths after {@link GRACE_MS}, and sleeps.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import type { Slot } from "../../callback-queue.js";
import { FutureNotCompletedError } from "../../errors.js";
import { host } from "./platform.js";
import * as reasons from "./reasons.js";
import { recordOf } from "./records.js";

/** Blocking this long without an answer arms the sentinel's lifelines. */
export const GRACE_MS = 5;
/**
 * A blocking wait may first spin this long on its word before sleeping:
 * waking a sleeping thread costs tens of microseconds on some machines, more
 * than a whole answer from a busy peer.
 */
export const SPIN_MS = 0.05;
/** How long a loser waits for a claimant that is still posting its value. */
export const CLAIM_WAIT_MS = 2000;
/** `waitAll` on futures of different cells blocks on one and re-checks the others this often. */
const SLICE_MS = 2;

/** Spins while `bell[index]` holds `seq`, until `until` at most; whether it changed. */
export function spin(bell: Int32Array, index: number, seq: number, until: number): boolean {
  if (performance.now() >= until) return Atomics.load(bell, index) !== seq;
  for (let i = 1; ; i++) {
    if (Atomics.load(bell, index) !== seq) return true;
    if ((i & 63) === 0 && performance.now() >= until) return false;
  }
}

/** See `RemoteHooks.blockUntilAny`. */
export function blockUntilAny(futs: readonly Slot[], deadline: number): void {
  const recs = futs.map(recordOf);
  const canBlock = host().canBlock;
  const start = performance.now();
  const graceEnd = start + GRACE_MS;
  const spinEnd = Math.min(start + SPIN_MS, deadline);
  for (;;) {
    const target = recs.find((rec) => !rec.done);
    if (target === undefined) return;
    const bell = target.bell;
    const index = target.bellIndex;
    const seq = Atomics.load(bell, index);
    for (const rec of recs) {
      rec.poll();
      if (rec.done) return;
      if (rec.later && canBlock) throw lateValue();
    }
    if (!canBlock) {
      throw new FutureNotCompletedError(reasons.CANNOT_BLOCK_HERE);
    }
    if (target.spin(seq, spinEnd)) continue;
    const now = performance.now();
    if (now >= deadline) return;
    let timeout = deadline - now;
    if (now >= graceEnd) {
      for (const rec of recs) if (!rec.armed) rec.arm();
    } else {
      timeout = Math.min(timeout, graceEnd - now);
    }
    if (recs.length > 1) timeout = Math.min(timeout, SLICE_MS);
    target.sleep(seq, timeout);
  }
}

/** The error for a blocking wait on a value that only the event loop can deliver. */
function lateValue(): FutureNotCompletedError {
  return new FutureNotCompletedError(reasons.VALUE_ONLY_LATER);
}

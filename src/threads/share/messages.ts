/**
 * The wire messages of the `share()`/`adopt()` protocol: what travels on the
 * port between a shared future's owner and each adopter. The state lives in
 * the cell (`kit/shared-cell.ts`); a message carries what the cell cannot —
 * the value — and is always posted before the cell says it was.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import type { Port } from "../kit/index.js";

/** {@link ShareMessage.kind}: a completion. */
export const VALUE = 0;
/** {@link ShareMessage.kind}: the future broke for the receiver. */
export const BROKEN = 1;
/** {@link ShareMessage.kind}: a lifeline port for the receiver to hold. */
export const LIFELINE = 2;

/** The winner's completion, sent to every other thread; the owner relays an adopter's to the other adopters. */
export interface ValueMessage {
  readonly kind: typeof VALUE;
  /** `FULFILLED` or `REJECTED` (the core's states). */
  readonly state: number;
  /** The result, or the error as `encodeReason` wrote it. */
  readonly value: unknown;
}

/** The future fails with `BrokenFutureError` on the receiving thread (its value cannot reach it, or a death). */
export interface BrokenMessage {
  readonly kind: typeof BROKEN;
  /** The error's message, one of `kit/reasons.ts`. */
  readonly reason: string;
}

/**
 * Sent by a thread that blocks (after `GRACE_MS`): the receiver holds it
 * unread, and its closing, when the receiver dies, tells the sender's
 * sentinel.
 */
export interface LifelineMessage {
  readonly kind: typeof LIFELINE;
  /** The other end stays with the sender's sentinel. */
  readonly lifeline: Port;
}

/** Any message on a shared future's port. */
export type ShareMessage = ValueMessage | BrokenMessage | LifelineMessage;

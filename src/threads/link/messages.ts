/**
 * The wire messages of the FutureLink protocol: what travels on a link's
 * port when shared memory cannot carry it — a future handed over the slow
 * way, a value too big, shared or transferred, and lifelines. Every message
 * posted is counted in the receiver's `POSTED` word, so that the receiver
 * knows when its port holds something without reading it.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import type { Port } from "../kit/index.js";
import type { HandleData } from "../share/protocol.js";

/** {@link LinkMessage.kind}: a future handed over by message. */
export const HAND = 0;
/** {@link LinkMessage.kind}: a berth's value, structured-cloned by the port. */
export const VALUE = 1;
/** {@link LinkMessage.kind}: a berth's value, serialized to more bytes than the berth holds. */
export const BYTES = 2;
/** {@link LinkMessage.kind}: a lifeline port for the receiver to hold. */
export const LIFELINE = 3;

/**
 * A future that found no free berth (or was shared with `share()`
 * already): shared with `share()` and handed over as a handle, numbered so
 * that the receiver still takes every future in sending order.
 */
export interface HandOverMessage {
  readonly kind: typeof HAND;
  /** Its place in the sender's sending order (the berth's `B_SEQ` for futures in berths). */
  readonly seq: number;
  /** What `adopt()` takes. */
  readonly handle: HandleData;
}

/** What names the berth a value completes: the berth and its generation (berths are reused). */
interface BerthAddress {
  /** The berth's number in the link's memory. */
  readonly berth: number;
  /** The berth's generation when the future was handed over (`B_GEN`). */
  readonly gen: number;
  /** `FULFILLED` or `REJECTED` (the core's states). */
  readonly state: number;
}

/** A value that went by the port as it is: `{ transfer }`, shared memory, or what the serializer refused. */
export interface BerthValueMessage extends BerthAddress {
  readonly kind: typeof VALUE;
  /** The result, or the error as `encodeReason` wrote it. */
  readonly value: unknown;
}

/** A value serialized here but larger than the berth's inline bytes. */
export interface BerthBytesMessage extends BerthAddress {
  readonly kind: typeof BYTES;
  /** The serialized value (`Platform.serialize`), its buffer transferred when it is whole. */
  readonly bytes: Uint8Array;
}

/** A berth's value, either way. */
export type BerthMessage = BerthValueMessage | BerthBytesMessage;

/**
 * Sent by a thread that blocks (after `GRACE_MS`), once per link: the
 * receiver holds it unread, and its closing, when the receiver dies, tells
 * the sender's sentinel.
 */
export interface LinkLifelineMessage {
  readonly kind: typeof LIFELINE;
  /** The other end stays with the sender's sentinel. */
  readonly lifeline: Port;
}

/** Any message on a link's port. */
export type LinkMessage = HandOverMessage | BerthMessage | LinkLifelineMessage;

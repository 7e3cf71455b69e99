/**
 * A mailbox: one direction of a port's messages, kept as bytes in a growable
 * `SharedArrayBuffer` so that the receiving thread can read them without its
 * event loop — browsers have no `receiveMessageOnPort`, and a Web Worker
 * blocked in `Atomics.wait` must still take the value that woke it.
 *
 * One thread writes (the holder of the sending end), one reads. Records are
 * appended and never rewritten; the writer publishes each by storing the new
 * end offset with `Atomics.store`, after the bytes, so a reader that loads the
 * end sees whole records. A shared future's port carries two or three records
 * in its life, so the box only grows.
 *
 * Pure JavaScript, no platform objects.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** Record kinds. */
export const DATA = 1;
/** The message went by the port (it holds what bytes cannot carry); only the event loop can take it. */
export const BY_PORT = 2;
/** The sender's life token (see `life.ts`), sent once by an adopter. */
export const HELLO = 3;

/** Byte offset of the first record; word 0 holds the end offset. */
const START = 8;
const HEADER = 8;
/** The reservation of a box: values up to about this size can be read while blocking. */
export const MAX_BOX_BYTES = 64 << 20;
/** Used when the browser refuses to reserve {@link MAX_BOX_BYTES} (its address space is full). */
const FALLBACK_BOX_BYTES = 1 << 20;
const INITIAL_BYTES = 256;

/** A new, empty box. */
export function createBox(): SharedArrayBuffer {
  let box: SharedArrayBuffer;
  try {
    box = new SharedArrayBuffer(INITIAL_BYTES, { maxByteLength: MAX_BOX_BYTES });
  } catch {
    box = new SharedArrayBuffer(INITIAL_BYTES, { maxByteLength: FALLBACK_BOX_BYTES });
  }
  Atomics.store(new Int32Array(box), 0, START);
  return box;
}

/** Appends a record; false if it cannot fit even after growing (send it by port instead). */
export function append(box: SharedArrayBuffer, kind: number, bytes: Uint8Array | undefined): boolean {
  const words = new Int32Array(box, 0, 2);
  const at = Atomics.load(words, 0);
  const length = bytes === undefined ? 0 : bytes.byteLength;
  const end = at + HEADER + ((length + 7) & ~7);
  if (end > box.byteLength) {
    if (end > box.maxByteLength) return false;
    box.grow(Math.min(box.maxByteLength, Math.max(end, box.byteLength * 2)));
  }
  const view = new DataView(box);
  view.setUint32(at, length, true);
  view.setUint32(at + 4, kind, true);
  if (bytes !== undefined) new Uint8Array(box, at + HEADER, length).set(bytes);
  Atomics.store(words, 0, end);
  return true;
}

/** A reader's position in a box. */
export interface Cursor {
  readonly box: SharedArrayBuffer;
  at: number;
}

/** A record that has been written. */
export interface BoxRecord {
  readonly kind: number;
  /** A view of the shared bytes: decode before the next append can move them (it cannot: records are never rewritten). */
  readonly bytes: Uint8Array;
  /** The offset just after it. */
  readonly next: number;
}

/** The record at the cursor, if one has been published; the cursor does not move. */
export function peek(cursor: Cursor): BoxRecord | undefined {
  const box = cursor.box;
  const end = Atomics.load(new Int32Array(box, 0, 1), 0);
  const at = cursor.at;
  if (at >= end) return undefined;
  const view = new DataView(box);
  const length = view.getUint32(at, true);
  return {
    kind: view.getUint32(at + 4, true),
    bytes: new Uint8Array(box, at + HEADER, length),
    next: at + HEADER + ((length + 7) & ~7),
  };
}

/** A cursor at the start of `box`. */
export function cursorOf(box: SharedArrayBuffer): Cursor {
  return { box, at: START };
}

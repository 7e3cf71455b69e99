/**
 * Shared memory as the protocols lay it out, and what a death does to it.
 *
 * The cell (`share()`/`adopt()`): the few words of shared memory that every
 * thread holding a shared future reads and writes with atomics. It decides
 * who completes the future (one compare-exchange) and wakes threads blocked
 * in `wait()`. Values never live here; they travel by message (see
 * `share/protocol.ts`).
 *
 * The link's memory (`FutureLink`, see {@link LinkLayout}): two sides' words,
 * rings and berths.
 *
 * It lives in the kit because the sentinels mark deaths here
 * ({@link participantGone}, {@link linkPeerGone}). Pure JavaScript with no
 * imports: the sentinel threads load this file alone.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** Word: `(participant << 3) | kind`. 0 is pending. */
export const STATE = 0;
/** Word: bumped on every change a blocked thread must see; the address `wait()` blocks on. */
export const SEQ = 1;
/** Word: adopters (handles) not yet known to be gone. */
export const LIVE = 2;
/** Word: 1 once the owner thread is known to be gone. */
export const OWNER_GONE = 3;
/** Bytes of a cell. */
export const CELL_BYTES = 16;

/** Kinds (low 3 bits of {@link STATE}). */
export const PENDING = 0;
export const CLAIMED = 1;
export const FULFILLED = 2;
export const REJECTED = 3;
export const BROKEN = 4;

/** The owner's participant number; adopters are numbered from 1 by their handle. */
export const OWNER = 0;

export type Cell = Int32Array;

export function kindOf(state: number): number {
  return state & 7;
}

export function participantOf(state: number): number {
  return state >>> 3;
}

export function stateOf(participant: number, kind: number): number {
  return (participant << 3) | kind;
}

/** Wakes every thread blocked on the cell; they re-read it. */
export function wake(cell: Cell): void {
  Atomics.add(cell, SEQ, 1);
  Atomics.notify(cell, SEQ);
}

/** Marks the future broken by `participant` if `shouldBreak` holds for its current state. */
function breakIf(cell: Cell, participant: number, shouldBreak: (state: number) => boolean): boolean {
  for (;;) {
    const state = Atomics.load(cell, STATE);
    if (!shouldBreak(state)) return false;
    if (Atomics.compareExchange(cell, STATE, state, stateOf(participant, BROKEN)) === state) return true;
  }
}

/**
 * A participant's thread has gone away (its port closed): marks the future
 * broken if nothing can complete it any more, or if that participant died in
 * the middle of completing it, and wakes blocked threads. Called by whichever
 * notices first, the other side's event loop or its sentinel; `counted` (a
 * one-word flag per adopter) makes an adopter's departure count once.
 */
export function participantGone(cell: Cell, participant: number, counted?: Cell): void {
  if (participant === OWNER) {
    // Adopters cannot reach each other without the owner: the future is dead to them.
    Atomics.store(cell, OWNER_GONE, 1);
    breakIf(cell, OWNER, (s) => s === PENDING || s === stateOf(OWNER, CLAIMED));
  } else {
    if (counted !== undefined && Atomics.compareExchange(counted, 0, 0, 1) !== 0) return;
    const live = Atomics.sub(cell, LIVE, 1) - 1;
    breakIf(cell, participant, (s) => (s === PENDING && live <= 0) || s === stateOf(participant, CLAIMED));
  }
  wake(cell);
}

/**
 * After a claim was given back: a future that lost its last completer while
 * it was claimed breaks now (the departure saw it claimed and left it).
 */
export function breakIfOrphaned(cell: Cell, participant: number): void {
  if (Atomics.load(cell, LIVE) <= 0 || Atomics.load(cell, OWNER_GONE) !== 0) {
    breakIf(cell, participant, (s) => s === PENDING);
  }
}

// ---------------------------------------------------------------------------
// Links (see `link/protocol.ts`): one SharedArrayBuffer joins two threads, side
// 0 (the thread that made the link) and side 1 (the thread that opened it).
// Int32 words first, then the berths; all counters wrap at 2^32, so capacities
// are powers of two.

/** Words of the header, then `SIDE_WORDS` per side. */
export const L_MAGIC = 0;
export const L_CAPACITY = 1;
export const L_INLINE = 2;
const SIDES_AT = 4;
const SIDE_WORDS = 12;
const HEADER_WORDS = SIDES_AT + 2 * SIDE_WORDS;
/** Tells a link's memory from any other SharedArrayBuffer (and its layout version). */
export const LINK_MAGIC = 0x7466_6c01;

/** Per side: bumped whenever something concerns that side; the address it blocks on. */
export const BELL = 0;
/** Per side: 1 once that side's thread is known to be gone. */
export const GONE = 1;
/** Per side: 1 once that side has closed the link (it sends and receives no more). */
export const CLOSED = 2;
/** Per side: 0 for a thread that cannot go away alone (the main thread). */
export const MORTAL = 3;
/** Per side: futures that side handed over through its ring (its ring's tail). */
export const SENT = 4;
/** Per side: of those, how many the other side took (its ring's head). */
export const TAKEN = 5;
/** Per side: berths the other side completed, for this side to look at (tail, head, overflowed). */
export const DONE_TAIL = 6;
export const DONE_HEAD = 7;
export const DONE_LOST = 8;
/** Per side: messages the other side posted to this side on the link's port. */
export const POSTED = 9;
/**
 * Per side: 1 while that side sleeps in `Atomics.wait` on its bell. The other
 * side does not spin for an answer from a sleeping thread: waking it takes
 * longer than a spin, and the kernel may want the spinning core for it.
 */
export const ASLEEP = 10;

/** Words of a berth (a future handed over through shared memory); its inline value follows. */
export const B_STATE = 0;
export const B_REF = 1;
export const B_GEN = 2;
export const B_SEQ = 3;
export const B_TAG = 4;
export const B_LEN = 5;
const BERTH_HEADER_BYTES = 32;

/** `B_STATE`: `(side << 4) | VIA_PORT? | kind`, kinds as for a cell (no BROKEN: a death is read from GONE). */
export const VIA_PORT = 8;
/** `B_REF` bits: who still needs the berth. It is free again at 0. */
export const REF_OWNER = 1;
export const REF_ADOPTER = 2;

/** Where everything of a link lives, for `capacity` berths per side of `inline` bytes each. */
export class LinkLayout {
  readonly capacity: number;
  readonly inline: number;
  readonly bytes: number;
  private readonly rings: number;
  private readonly doneRings: number;
  private readonly berths: number;
  readonly stride: number;

  constructor(capacity: number, inline: number) {
    this.capacity = capacity;
    this.inline = inline;
    this.rings = HEADER_WORDS;
    this.doneRings = this.rings + 2 * capacity;
    const words = this.doneRings + 2 * this.doneCapacity;
    this.berths = (words * 4 + 7) & ~7;
    this.stride = BERTH_HEADER_BYTES + inline;
    this.bytes = this.berths + 2 * capacity * this.stride;
  }

  /** Entries of a done ring: every berth of both sides fits. */
  get doneCapacity(): number {
    return 2 * this.capacity;
  }

  /** The Int32 index of `field` of `side`. */
  word(side: number, field: number): number {
    return SIDES_AT + side * SIDE_WORDS + field;
  }

  /** The Int32 index of the first entry of the ring through which `side` hands futures over. */
  ring(side: number): number {
    return this.rings + side * this.capacity;
  }

  /** The Int32 index of the first entry of the ring that tells `side` which berths the other side completed. */
  doneRing(side: number): number {
    return this.doneRings + side * this.doneCapacity;
  }

  /** The Int32 index of `berth`'s first word; berths [0, capacity) belong to side 0. */
  berthWord(berth: number): number {
    return (this.berths + berth * this.stride) >> 2;
  }

  /** The byte offset of `berth`'s inline value (8-aligned). */
  berthData(berth: number): number {
    return this.berths + berth * this.stride + BERTH_HEADER_BYTES;
  }

  /** Writes the header of a new link. */
  init(words: Int32Array, creatorMortal: boolean): void {
    words[L_MAGIC] = LINK_MAGIC;
    words[L_CAPACITY] = this.capacity;
    words[L_INLINE] = this.inline;
    words[this.word(0, MORTAL)] = creatorMortal ? 1 : 0;
    // Until the other side opens the link, assume it can go away alone.
    words[this.word(1, MORTAL)] = 1;
  }

  /** The layout of an existing link's memory, or undefined if it is not one. */
  static of(sab: SharedArrayBuffer): LinkLayout | undefined {
    if (sab.byteLength < HEADER_WORDS * 4) return undefined;
    const words = new Int32Array(sab, 0, HEADER_WORDS);
    if (Atomics.load(words, L_MAGIC) !== LINK_MAGIC) return undefined;
    const layout = new LinkLayout(words[L_CAPACITY] ?? 0, words[L_INLINE] ?? 0);
    return layout.bytes === sab.byteLength ? layout : undefined;
  }
}

/** Rings `side`'s bell: wakes it if it blocks, tells its event loop if it listens. */
export function ringBell(words: Int32Array, layout: LinkLayout, side: number): void {
  const bell = layout.word(side, BELL);
  Atomics.add(words, bell, 1);
  Atomics.notify(words, bell);
}

/**
 * The other side of a link has gone away: `witness` (the side that saw it,
 * from its event loop or its sentinel) records it and wakes itself.
 */
export function linkPeerGone(words: Int32Array, layout: LinkLayout, witness: number): void {
  Atomics.store(words, layout.word(1 - witness, GONE), 1);
  ringBell(words, layout, witness);
}

/**
 * A protocol with its own memory (the RPC wire): the thread at the other end
 * of a lifeline has gone; marks `words[gone]` and rings `words[bell]`.
 */
export function wordsGone(words: Int32Array, gone: number, bell: number): void {
  Atomics.store(words, gone, 1);
  Atomics.add(words, bell, 1);
  Atomics.notify(words, bell);
}

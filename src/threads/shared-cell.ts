/**
 * The cell: the few words of shared memory that every thread holding a shared
 * future reads and writes with atomics. It decides who completes the future
 * (one compare-exchange) and wakes threads blocked in `wait()`. Values never
 * live here; they travel by message (see `engine.ts`).
 *
 * Pure JavaScript: the sentinel thread and the browser port use it as well.
 *
 * @internal
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

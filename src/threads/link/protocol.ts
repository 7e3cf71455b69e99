/**
 * The FutureLink protocol: the fast path between two threads. A link is made
 * once and handed over once (a SharedArrayBuffer and one port); from then on
 * a future crosses it, and completes across it, through shared memory alone
 * — no message, no new port, so no turn of either event loop.
 *
 * Each side's half of the link's memory holds `capacity` berths: fixed
 * places, one per future in flight (the core's `Slot` is a future's own
 * record, hence not "slot"). In short:
 *
 * - **Handing over.** The sending thread takes a free berth of its half of the
 *   link's memory, writes the future's words there and appends the berth to
 *   its ring; the other side takes berths from the ring in order. A future that
 *   finds no free berth (or one already shared with `share()`) is shared the
 *   usual way and its handle goes on the link's port, numbered, so that the
 *   receiver still takes every future in sending order.
 * - **Completing.** A berth is a two-party cell: one compare-exchange decides
 *   the winner. A small value is written into the berth (numbers, booleans,
 *   short strings as they are; anything else serialized as structured clone
 *   would) before the state is published; a large value, a `{ transfer }`, or
 *   shared memory goes on the port first, as in `share/protocol.ts`.
 * - **Waking.** Each side has a bell word that the other side bumps whenever
 *   something concerns it. A blocked thread waits on its bell, spinning
 *   briefly first unless the other side said it sleeps (a thread that sleeps
 *   answers no sooner than it wakes, and a spinner can keep a core from it);
 *   an event loop listens with `Atomics.waitAsync`. Each side also has a done
 *   ring naming the berths the other side completed, so that the event loop
 *   looks at those alone.
 * - **Deaths.** The link's port closes when the other thread goes away: the
 *   event loop sees it, and a blocked thread's sentinel sees it through one
 *   lifeline per link (not per future), armed after `GRACE_MS` of blocking.
 *   A pending berth whose other side is gone is broken, decided locally.
 * - **Berths** are freed when both sides have let go (two bits), so a berth is
 *   never reused while either side may still read it.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { isDerived, settle } from "../../callback-queue.js";
import { FULFILLED, PENDING, PENDING_SHARED, REJECTED } from "../../states.js";
import {
  BrokenFutureError,
  DerivedFutureError,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  FutureTimeoutError,
} from "../../errors.js";
import { Future } from "../../future.js";
import { decodeReason, encodeReason, registerErrorClass } from "../codecs/error-codec.js";
import {
  CLAIM_WAIT_MS,
  GRACE_MS,
  LATER,
  SPIN_MS,
  addPendingSource,
  alreadyCompleted,
  cells,
  cloneError,
  forget,
  host,
  reasons,
  recordFor,
  refuseFuture,
  register,
  spin,
  type Port,
  type SharedRecord,
} from "../kit/index.js";
import { adoptHandle, isSharedOwner, shareFuture } from "../share/protocol.js";
import { LinkEnd, awake, sleepOn, word } from "./end.js";
import { T_BYTES, plainTag, readInlineValue, writePlain } from "./inline.js";
import { BYTES, HAND, LIFELINE, VALUE, type LinkMessage, type BerthMessage } from "./messages.js";
import { packHandle, unpackHandle } from "./handover.js";

/**
 * Thrown by a `FutureLink` that is closed: by `send()` and `receive()` once
 * either side has called `close()` (`receive()` first hands out every future
 * that was sent before). `for await` over the link ends instead. Futures
 * already handed over are not affected: they still complete across the link.
 *
 * @example
 * ```ts
 * import { workerData } from "node:worker_threads";
 * // worker.ts: complete every future main sends, until main closes the link
 * const link = openLink(workerData as LinkHandle<number>);
 * for (;;) {
 *   let fut: Future<number>;
 *   try {
 *     fut = link.receive();
 *   } catch (error) {
 *     if (error instanceof LinkClosedError) break;
 *     throw error;
 *   }
 *   fut.setResult(42);
 * }
 * ```
 */
export class LinkClosedError extends FutureError {}
registerErrorClass("LinkClosedError", LinkClosedError);

/** What a link's handle carries, before the platform wraps it. */
export interface LinkData<P extends Port = Port> {
  readonly memory: SharedArrayBuffer;
  readonly port: P;
}

/** Sizes of a new link (see `LinkOptions` in `node/link.ts`). */
export interface LinkSizes {
  readonly capacity?: number | undefined;
  readonly inlineBytes?: number | undefined;
}

export const DEFAULT_CAPACITY = 64;
export const DEFAULT_INLINE_BYTES = 512;
const MAX_CAPACITY = 1 << 16;
const MAX_INLINE_BYTES = 1 << 16;

type WaitAsync = (
  words: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** A turn of the event loop after pending I/O and microtasks, where there is one (Node.js). */
const soon = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/** One thread's view of one future handed over through a link's berth. */
export class BerthRecord implements SharedRecord {
  readonly fut: Future;
  readonly end: LinkEnd;
  readonly berth: number;
  readonly gen: number;
  /** This thread sent it (else it received it). */
  readonly owner: boolean;
  /** Owner: its place in the ring, to tell whether the other side took it. */
  readonly pos: number;
  done = false;
  broken = false;
  watched = false;
  /** This thread is serializing or posting its value (a getter may try to complete it again). */
  completing = false;
  /** This thread let go of the berth (see `publish`). */
  released = false;

  constructor(fut: Future, end: LinkEnd, berth: number, gen: number, owner: boolean, pos: number) {
    this.fut = fut;
    this.end = end;
    this.berth = berth;
    this.gen = gen;
    this.owner = owner;
    this.pos = pos;
  }

  get bell(): Int32Array {
    return this.end.words;
  }

  get bellIndex(): number {
    return this.end.bellMe;
  }

  get armed(): boolean {
    return this.end.armed;
  }

  /** Its value came by message, behind one that only the event loop can take (browsers). */
  get later(): boolean {
    return this.end.later && (Atomics.load(this.end.words, stateWord(this)) & cells.VIA_PORT) !== 0;
  }

  complete(state: number, value: unknown, transfer: readonly unknown[] | undefined): void {
    completeBerth(this, state, value, transfer);
  }

  poll(): void {
    pollBerth(this);
  }

  watch(): void {
    watchBerth(this);
  }

  arm(): void {
    armLink(this.end);
  }

  spin(seq: number, until: number): boolean {
    // No answer comes within a spin from a thread that sleeps; and spinning would keep a core from it.
    return awake(this.end) && spin(this.end.words, this.end.bellMe, seq, until);
  }

  sleep(seq: number, timeoutMs: number): void {
    sleepOn(this.end, seq, timeoutMs);
  }
}

// Open links stay reachable: their port and pending futures must outlive the caller's references.
const open = new Set<LinkEnd>();
// A blocking wait on a future derived from a link's future looks among these (see RemoteHooks.pendingShared).
addPendingSource(function* () {
  for (const end of open) for (const rec of end.records.values()) yield rec.fut;
});
// Opening the same handle twice gives the same end.
const opened = new WeakMap<object, LinkEnd>();

// ---------------------------------------------------------------------------
// making and opening links

function size(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(reasons.badLinkSize(name, min, max, value));
  }
  return value;
}

/** A new link: this thread's end (side 0) and what to hand the other thread. */
export function createLink<P extends Port>(sizes: LinkSizes | undefined): { end: LinkEnd; data: LinkData<P> } {
  const capacity = size("capacity", sizes?.capacity, DEFAULT_CAPACITY, 1, MAX_CAPACITY);
  const inline = size("inlineBytes", sizes?.inlineBytes, DEFAULT_INLINE_BYTES, 8, MAX_INLINE_BYTES);
  // Counters wrap: ring sizes are powers of two; 8-aligned values.
  const layout = new cells.LinkLayout(2 ** Math.ceil(Math.log2(capacity)), (inline + 7) & ~7);
  const memory = new SharedArrayBuffer(layout.bytes);
  layout.init(new Int32Array(memory), host().mortal);
  const [mine, theirs] = host().channel();
  const end = start(memory, layout, 0, mine);
  return { end, data: { memory, port: theirs as P } };
}

/** The other thread's end of a link made by {@link createLink}. */
export function openLinkData(data: LinkData): LinkEnd {
  const known = opened.get(data.port);
  if (known !== undefined) return known;
  const layout = cells.LinkLayout.of(data.memory);
  if (layout === undefined) throw new TypeError(reasons.NOT_LINK_MEMORY);
  Atomics.store(new Int32Array(data.memory), layout.word(1, cells.MORTAL), host().mortal ? 1 : 0);
  const end = start(data.memory, layout, 1, data.port);
  opened.set(data.port, end);
  return end;
}

function start(memory: SharedArrayBuffer, layout: cells.LinkLayout, me: number, port: Port): LinkEnd {
  const end = new LinkEnd(memory, layout, me, port);
  host().listen(
    port,
    (message) => {
      onMessage(end, message as LinkMessage);
      // A future that only the event loop could take (browsers): no ring follows it.
      if ((message as LinkMessage).kind === HAND && end.receivers.length > 0) deliver(end);
    },
    (error) => {
      end.received = (end.received + 1) | 0;
      noteUnreadable(end, error);
      pollAll(end);
    },
    () => {
      onPortClose(end);
    },
  );
  open.add(end);
  return end;
}

// ---------------------------------------------------------------------------
// handing over

/** Hands `fut` to the other side (see `FutureLink.send`). */
export function sendFuture(end: LinkEnd, fut: Future): void {
  checkSendable(fut);
  if (end.closed) {
    throw new LinkClosedError(reasons.SEND_CLOSED_HERE);
  }
  const words = end.words;
  if (Atomics.load(words, end.closedPeer) !== 0) {
    throw new LinkClosedError(reasons.SEND_CLOSED_THERE);
  }
  if (Atomics.load(words, end.gonePeer) !== 0) {
    throw new BrokenFutureError(reasons.SEND_PEER_GONE);
  }
  const seq = end.sendSeq;
  end.sendSeq = (seq + 1) | 0;
  if (fut._state === PENDING) {
    let berth = allocate(end);
    if (berth < 0) {
      // Berths whose futures completed may not have been let go yet.
      service(end);
      pollAll(end);
      berth = allocate(end);
    }
    if (berth >= 0) {
      handOver(end, fut, berth, seq);
      return;
    }
  }
  // No berth (or a future shared with share() already): share it, and send its handle on the port, numbered.
  const { handle, transfer } = packHandle(shareFuture<Port>(fut));
  end.port.postMessage({ kind: HAND, seq, handle } satisfies LinkMessage, transfer);
  Atomics.add(words, end.postedPeer, 1);
  cells.ringBell(words, end.layout, end.peerSide);
}

function checkSendable(fut: Future): void {
  if (!(fut instanceof Future)) throw new TypeError(reasons.notAFuture("send", fut));
  const state = fut._state;
  if (state === PENDING || (state === PENDING_SHARED && isSharedOwner(fut))) return;
  if (state === PENDING_SHARED) {
    const rec = recordFor(fut);
    if (rec instanceof BerthRecord && rec.owner) {
      throw new TypeError(reasons.SEND_LINKED);
    }
    throw new TypeError(reasons.SEND_RECEIVED);
  }
  if (isDerived(state)) {
    throw new DerivedFutureError(reasons.derivedFuture("send", "Send"));
  }
  throw new FutureAlreadyCompletedError(reasons.SEND_COMPLETED);
}

/** A free berth of this side, marked taken by both sides; -1 if none. */
function allocate(end: LinkEnd): number {
  const words = end.words;
  const layout = end.layout;
  const base = end.me * layout.capacity;
  for (let i = 0; i <= end.mask; i++) {
    const berth = base + ((end.cursor + i) & end.mask);
    const at = layout.berthWord(berth) + cells.B_REF;
    // Only this side makes a free berth taken; the other side only lets go.
    if (Atomics.load(words, at) === 0) {
      Atomics.store(words, at, cells.REF_OWNER | cells.REF_ADOPTER);
      end.cursor = (berth - base + 1) & end.mask;
      return berth;
    }
  }
  return -1;
}

function handOver(end: LinkEnd, fut: Future, berth: number, seq: number): void {
  const words = end.words;
  const at = end.layout.berthWord(berth);
  const gen = (word(words, at + cells.B_GEN) + 1) | 0;
  // Plain writes: the store of SENT below publishes them.
  words[at + cells.B_STATE] = cells.PENDING;
  words[at + cells.B_GEN] = gen;
  words[at + cells.B_SEQ] = seq;
  const pos = end.sent;
  const rec = new BerthRecord(fut, end, berth, gen, true, pos);
  const waitedFor = fut._value !== undefined;
  register(fut, rec);
  end.records.set(berth, rec);
  words[end.ringMe + (pos & end.mask)] = berth;
  end.sent = (pos + 1) | 0;
  Atomics.store(words, end.sentMe, end.sent);
  cells.ringBell(words, end.layout, end.peerSide);
  noteActivity(end);
  if (waitedFor) watchBerth(rec);
}

// ---------------------------------------------------------------------------
// receiving

/** The next future sent from the other side, if one has arrived; throws once none can arrive. */
export function take(end: LinkEnd): Future | undefined {
  if (end.closed) {
    throw new LinkClosedError(reasons.RECEIVE_CLOSED_HERE);
  }
  const words = end.words;
  // Read before taking: whatever was sent before the other side closed or died is taken first.
  const closed = Atomics.load(words, end.closedPeer) !== 0;
  const gone = Atomics.load(words, end.gonePeer) !== 0;
  service(end);
  const fut = takeNext(end);
  if (fut !== undefined) return fut;
  if (closed) {
    throw new LinkClosedError(reasons.RECEIVE_CLOSED_THERE);
  }
  if (gone) {
    throw new BrokenFutureError(reasons.RECEIVE_PEER_GONE);
  }
  return undefined;
}

function takeNext(end: LinkEnd): Future | undefined {
  const words = end.words;
  for (;;) {
    const expected = end.recvSeq;
    const handed = end.handovers.get(expected);
    if (handed !== undefined) {
      end.handovers.delete(expected);
      end.recvSeq = (expected + 1) | 0;
      return adoptHandle(handed);
    }
    if (end.taken !== Atomics.load(words, end.sentPeer)) {
      const berth = word(words, end.ringPeer + (end.taken & end.mask));
      const seq = word(words, end.layout.berthWord(berth) + cells.B_SEQ);
      if (seq === expected) {
        end.taken = (end.taken + 1) | 0;
        Atomics.store(words, end.takenPeer, end.taken);
        end.recvSeq = (expected + 1) | 0;
        return adoptBerth(end, berth);
      }
      // The expected one went by message, posted before this berth was published.
      takePortMessages(end);
      // Waiting for the event loop (browsers): not lost.
      if (end.later) return undefined;
      // If it cannot be read, it is lost (its sender sees it broken when its port closes): skip it.
      if (!end.handovers.has(expected)) end.recvSeq = seq;
      continue;
    }
    if (!end.portClosed && Atomics.load(words, end.postedMe) !== end.received) {
      takePortMessages(end);
      if (end.handovers.has(expected)) continue;
    }
    return undefined;
  }
}

function adoptBerth(end: LinkEnd, berth: number): Future {
  const gen = word(end.words, end.layout.berthWord(berth) + cells.B_GEN);
  const fut = new Future();
  const rec = new BerthRecord(fut, end, berth, gen, false, 0);
  register(fut, rec);
  end.records.set(berth, rec);
  const message = end.values.get(berth);
  if (message !== undefined) end.values.delete(berth);
  if (message !== undefined && message.gen === gen) apply(rec, message);
  else pollBerth(rec);
  return fut;
}

/** Blocks until a future arrives (see `FutureLink.receive`). */
export function receiveBlocking(end: LinkEnd, deadline: number, timeoutMs: number | undefined): Future {
  const words = end.words;
  const begin = performance.now();
  const graceEnd = begin + GRACE_MS;
  const spinEnd = Math.min(begin + SPIN_MS, deadline);
  for (;;) {
    const seq = Atomics.load(words, end.bellMe);
    const fut = take(end);
    if (fut !== undefined) return fut;
    // Browsers: a message waits that this thread cannot take while it blocks.
    if (end.later && Atomics.load(words, end.postedMe) !== end.received) {
      throw new FutureNotCompletedError(reasons.RECEIVE_ONLY_LATER);
    }
    // A busy other side sends again soon: waking from sleep would cost more. (It spins only if this side is awake.)
    if (spin(words, end.bellMe, seq, spinEnd)) continue;
    const now = performance.now();
    if (now >= deadline) {
      throw new FutureTimeoutError(reasons.receiveTimedOut(timeoutMs));
    }
    let timeout = deadline - now;
    if (now >= graceEnd) armLink(end);
    else timeout = Math.min(timeout, graceEnd - now);
    sleepOn(end, seq, timeout);
  }
}

/** The next future, for `await` (see `FutureLink.next`). */
export function nextFuture(end: LinkEnd): Promise<IteratorResult<Future, undefined>> {
  if (end.receivers.length === 0) {
    try {
      const fut = take(end);
      if (fut !== undefined) return Promise.resolve({ value: fut, done: false });
    } catch (error) {
      if (error instanceof LinkClosedError) return Promise.resolve({ value: undefined, done: true });
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return new Promise((resolve, reject) => {
    end.receivers.push({ resolve, reject });
    updateRef(end);
    ensureAsync(end);
  });
}

/** Hands waiting `next()` calls what has arrived. */
function deliver(end: LinkEnd): void {
  for (let receiver = end.receivers[0]; receiver !== undefined; receiver = end.receivers[0]) {
    let fut: Future | undefined;
    try {
      fut = take(end);
    } catch (error) {
      end.receivers.shift();
      if (error instanceof LinkClosedError) receiver.resolve({ value: undefined, done: true });
      else receiver.reject(error as Error);
      continue;
    }
    if (fut === undefined) break;
    end.receivers.shift();
    end.progress++;
    receiver.resolve({ value: fut, done: false });
  }
  updateRef(end);
}

// ---------------------------------------------------------------------------
// completing

function stateWord(rec: BerthRecord): number {
  return rec.end.layout.berthWord(rec.berth) + cells.B_STATE;
}

function completeBerth(rec: BerthRecord, state: number, value: unknown, transfer: readonly unknown[] | undefined): void {
  const method = state === FULFILLED ? "setResult" : "setException";
  if (rec.completing) throw alreadyCompleted(method, cells.CLAIMED);
  pollBerth(rec);
  if (rec.done) throw alreadyCompleted(method, outcome(rec));
  refuseFuture(method, value);
  const payload = state === REJECTED ? encodeReason(value) : value;
  if (transfer !== undefined && transfer.length > 0) {
    sendByMessage(rec, method, state, payload, value, transfer as readonly object[]);
    return;
  }
  const end = rec.end;
  const data = end.layout.berthData(rec.berth);
  const at = end.layout.berthWord(rec.berth);
  let tag = plainTag(payload, end.layout.inline);
  let length: number;
  if (tag !== undefined) {
    claim(rec, method);
    length = writePlain(end, data, tag, payload);
  } else {
    let bytes: Uint8Array | undefined;
    rec.completing = true;
    try {
      // Functions and symbols throw here too; the port then refuses them in structured clone's own words.
      bytes = host().serialize(payload);
    } catch {
      // Shared memory, ports, platform objects, or not cloneable at all: the port decides.
      bytes = undefined;
    } finally {
      rec.completing = false;
    }
    if (bytes === undefined) {
      sendByMessage(rec, method, state, payload, value, undefined);
      return;
    }
    claim(rec, method);
    if (bytes.byteLength > end.layout.inline) {
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const message: LinkMessage = { kind: BYTES, berth: rec.berth, gen: rec.gen, state, bytes };
      end.port.postMessage(message, whole ? [bytes.buffer] : undefined);
      Atomics.add(end.words, end.postedPeer, 1);
      publish(rec, state, true);
      finish(rec, state, value);
      return;
    }
    end.bytes.set(bytes, data);
    tag = T_BYTES;
    length = bytes.byteLength;
  }
  end.words[at + cells.B_TAG] = tag;
  end.words[at + cells.B_LEN] = length;
  publish(rec, state, false);
  finish(rec, state, value);
}

/** Completes through the port: `{ transfer }`, shared memory, or whatever the serializer refused. */
function sendByMessage(
  rec: BerthRecord,
  method: string,
  state: number,
  payload: unknown,
  value: unknown,
  moves: readonly object[] | undefined,
): void {
  const end = rec.end;
  claim(rec, method);
  rec.completing = true;
  try {
    end.port.postMessage({ kind: VALUE, berth: rec.berth, gen: rec.gen, state, value: payload } satisfies LinkMessage, moves);
  } catch (error) {
    // Nothing went out: give the claim back, as if this call never happened.
    Atomics.store(end.words, stateWord(rec), cells.PENDING);
    cells.ringBell(end.words, end.layout, end.peerSide);
    throw cloneError(method, state, error);
  } finally {
    rec.completing = false;
  }
  Atomics.add(end.words, end.postedPeer, 1);
  publish(rec, state, true);
  finish(rec, state, value);
}

/** Wins the berth for this thread, or throws `FutureAlreadyCompletedError`. */
function claim(rec: BerthRecord, method: string): void {
  const end = rec.end;
  const words = end.words;
  const at = stateWord(rec);
  const mine = (end.me << 4) | cells.CLAIMED;
  let deadline = Infinity;
  for (;;) {
    const seen = Atomics.compareExchange(words, at, cells.PENDING, mine);
    if (seen === cells.PENDING) return;
    if ((seen & 7) !== cells.CLAIMED) throw alreadyCompleted(method, seen);
    // The other thread is posting its value: it finishes, or gives the claim back if the value cannot be sent.
    const bell = Atomics.load(words, end.bellMe);
    pollBerth(rec);
    if (rec.done) throw alreadyCompleted(method, outcome(rec));
    const now = performance.now();
    if (deadline === Infinity) deadline = now + CLAIM_WAIT_MS;
    if (now >= deadline) throw alreadyCompleted(method, seen);
    armLink(end);
    if (Atomics.load(words, at) === seen) sleepOn(end, bell, deadline - now);
  }
}

function outcome(rec: BerthRecord): number {
  if (rec.broken) return cells.BROKEN;
  return rec.fut._state === FULFILLED ? cells.FULFILLED : cells.REJECTED;
}

/** Publishes this thread's completion of a berth and tells the other side. */
function publish(rec: BerthRecord, state: number, viaPort: boolean): void {
  const end = rec.end;
  const words = end.words;
  const kind = state === FULFILLED ? cells.FULFILLED : cells.REJECTED;
  // The completer needs the berth no more: let go first, so that it is free once the other side has read it
  // (else a send right after could find it taken and go by message, which a blocked browser worker cannot take).
  rec.released = true;
  Atomics.and(words, end.layout.berthWord(rec.berth) + cells.B_REF, rec.owner ? ~cells.REF_OWNER : ~cells.REF_ADOPTER);
  Atomics.store(words, stateWord(rec), (end.me << 4) | (viaPort ? cells.VIA_PORT : 0) | kind);
  // The other side's done ring: it looks at this berth alone, or at all of them if the ring is full.
  const tail = end.doneOut;
  if (((tail - Atomics.load(words, end.doneHeadPeer)) | 0) > end.doneMask) {
    Atomics.store(words, end.doneLostPeer, 1);
  } else {
    words[end.doneRingPeer + (tail & end.doneMask)] = rec.berth;
    end.doneOut = (tail + 1) | 0;
    Atomics.store(words, end.doneTailPeer, end.doneOut);
  }
  cells.ringBell(words, end.layout, end.peerSide);
  noteActivity(end);
}

// ---------------------------------------------------------------------------
// learning of completions

/** Applies, without blocking, whatever the berth says has happened. */
function pollBerth(rec: BerthRecord): void {
  if (rec.done) return;
  const end = rec.end;
  const words = end.words;
  // Read before the state: a thread completes before it dies, never after.
  const gone = Atomics.load(words, end.gonePeer) !== 0;
  const closed = Atomics.load(words, end.closedPeer) !== 0;
  const state = Atomics.load(words, stateWord(rec));
  const kind = state & 7;
  if (kind === cells.FULFILLED || kind === cells.REJECTED) {
    const local = kind === cells.FULFILLED ? FULFILLED : REJECTED;
    if ((state & cells.VIA_PORT) === 0) {
      readInline(rec, local);
      return;
    }
    // Taking the port's messages may have completed it already; then fail() does nothing.
    const message = valueFor(rec);
    if (message !== undefined) apply(rec, message);
    else if (end.portClosed || end.unreadable !== undefined) {
      fail(rec, reasons.UNRECEIVABLE, end.unreadable?.error);
    }
    return;
  }
  if (gone) {
    fail(rec, kind === cells.CLAIMED ? reasons.COMPLETER_GONE : rec.owner ? reasons.RECEIVER_GONE : reasons.OWNER_GONE);
  } else if (closed && rec.owner && kind === cells.PENDING && ((Atomics.load(words, end.takenMe) - rec.pos) | 0) <= 0) {
    fail(rec, reasons.NEVER_RECEIVED);
  }
}

function readInline(rec: BerthRecord, state: number): void {
  let value: unknown;
  try {
    value = readInlineValue(rec.end, rec.berth);
  } catch (error) {
    fail(rec, reasons.unreceivable(error), error);
    return;
  }
  finish(rec, state, state === REJECTED ? decodeReason(value) : value);
}

/** The message holding `rec`'s value, if it has arrived. */
function valueFor(rec: BerthRecord): BerthMessage | undefined {
  const end = rec.end;
  let message = end.values.get(rec.berth);
  if (message?.gen !== rec.gen) {
    // Posted before the state was published: it is waiting on the port, unless the event loop took it.
    takePortMessages(end);
    if (rec.done) return undefined;
    message = end.values.get(rec.berth);
  }
  if (message?.gen !== rec.gen) return undefined;
  end.values.delete(rec.berth);
  return message;
}

function apply(rec: BerthRecord, message: BerthMessage): void {
  let value: unknown;
  if (message.kind === VALUE) {
    value = message.value;
  } else {
    try {
      value = host().deserialize(message.bytes);
    } catch (error) {
      fail(rec, reasons.unreceivable(error), error);
      return;
    }
  }
  finish(rec, message.state, message.state === REJECTED ? decodeReason(value) : value);
}

function onMessage(end: LinkEnd, message: LinkMessage): void {
  end.received = (end.received + 1) | 0;
  if (message.kind === HAND) {
    // Sent as this thread closed the link: refused, so its owner sees it broken.
    const handle = unpackHandle(message.handle);
    if (end.closed) handle.port.close();
    else end.handovers.set(message.seq, handle);
  } else if (message.kind === LIFELINE) {
    if (end.portClosed) message.lifeline.close();
    else end.held.push(message.lifeline);
  } else {
    const rec = end.records.get(message.berth);
    if (rec?.gen === message.gen) apply(rec, message);
    else end.values.set(message.berth, message);
  }
}

/** Takes every message waiting on the link's port. */
function takePortMessages(end: LinkEnd): void {
  // Node.js crashes reading a port from inside its own 'close' event; a closed port holds nothing anyway.
  if (end.portClosed) return;
  const p = host();
  end.later = false;
  for (;;) {
    let got: { message: unknown } | undefined | typeof LATER;
    try {
      got = p.receive(end.port);
    } catch (error) {
      end.received = (end.received + 1) | 0;
      noteUnreadable(end, error);
      continue;
    }
    if (got === undefined) return;
    if (got === LATER) {
      // Browsers: what bytes cannot carry waits for the event loop, and so does all behind it.
      end.later = true;
      return;
    }
    onMessage(end, got.message as LinkMessage);
  }
}

function noteUnreadable(end: LinkEnd, error: unknown): void {
  end.unreadable = { error };
}

/** Takes in what the other side did: port messages, completed berths, its closing or death. */
function service(end: LinkEnd): void {
  const words = end.words;
  if (!end.portClosed && Atomics.load(words, end.postedMe) !== end.received) takePortMessages(end);
  for (;;) {
    const head = end.doneHead;
    if (head === Atomics.load(words, end.doneTailMe)) break;
    const berth = word(words, end.doneRingMe + (head & end.doneMask));
    end.doneHead = (head + 1) | 0;
    Atomics.store(words, end.doneHeadMe, end.doneHead);
    const rec = end.records.get(berth);
    if (rec !== undefined) pollBerth(rec);
  }
  if (Atomics.load(words, end.doneLostMe) !== 0 && Atomics.exchange(words, end.doneLostMe, 0) !== 0) pollAll(end);
  const ended = (Atomics.load(words, end.closedPeer) !== 0 ? 1 : 0) | (Atomics.load(words, end.gonePeer) !== 0 ? 2 : 0);
  if ((ended | end.endSeen) !== end.endSeen) {
    end.endSeen |= ended;
    pollAll(end);
  }
}

function pollAll(end: LinkEnd): void {
  for (const rec of [...end.records.values()]) pollBerth(rec);
}

function onPortClose(end: LinkEnd): void {
  end.portClosed = true;
  if (end.closing) return;
  cells.linkPeerGone(end.words, end.layout, end.me);
  service(end);
  deliver(end);
  for (const port of end.held.splice(0)) port.close();
  open.delete(end);
}

/** Completes this thread's future and lets go of the berth. */
function finish(rec: BerthRecord, state: number, value: unknown): void {
  if (rec.done) return;
  rec.done = true;
  const end = rec.end;
  end.records.delete(rec.berth);
  forget(rec.fut);
  if (!rec.released) {
    Atomics.and(end.words, end.layout.berthWord(rec.berth) + cells.B_REF, rec.owner ? ~cells.REF_OWNER : ~cells.REF_ADOPTER);
  }
  if (rec.watched) {
    end.watched--;
    updateRef(end);
  }
  release(end);
  end.progress++;
  settle(rec.fut, state, value);
}

function fail(rec: BerthRecord, reason: string, cause?: unknown): void {
  if (rec.done) return;
  rec.broken = true;
  finish(rec, REJECTED, new BrokenFutureError(reason, cause === undefined ? undefined : { cause }));
}

// ---------------------------------------------------------------------------
// the event loop

/** Someone waits for the future (a callback, an `await`): listen for the other side. */
function watchBerth(rec: BerthRecord): void {
  if (rec.watched || rec.done) return;
  rec.watched = true;
  rec.end.watched++;
  updateRef(rec.end);
  ensureAsync(rec.end);
}

/** The port keeps the event loop alive while someone here waits for the link. */
function updateRef(end: LinkEnd): void {
  const need = (end.watched > 0 || end.receivers.length > 0) && !end.portClosed;
  if (need === end.ref) return;
  end.ref = need;
  host().setRef(end.port, need);
}

function needsAsync(end: LinkEnd): boolean {
  return (end.watched > 0 || end.receivers.length > 0) && !end.portClosed;
}

function ensureAsync(end: LinkEnd): void {
  if (end.busy || !needsAsync(end)) return;
  end.busy = true;
  queueMicrotask(() => {
    asyncTurn(end);
  });
}

/**
 * Services the link, then listens on this side's bell without blocking. A
 * listener left behind when nobody waits any more costs nothing and ends at
 * the next ring; closing the link rings it.
 *
 * Just after this thread sent or completed something, the other side often
 * answers within microseconds, sooner than the event loop wakes for the bell:
 * for {@link SPIN_MS} after that, the turn spins on the bell instead, and once
 * it has run callbacks it lets their continuations run (a `setImmediate` turn)
 * before it looks again. Idle links only listen; each spin that finds no
 * answer doubles how many turns after it listen without spinning.
 */
function asyncTurn(end: LinkEnd): void {
  const progress = end.progress;
  for (;;) {
    if (!needsAsync(end)) {
      end.busy = false;
      return;
    }
    const seen = Atomics.load(end.words, end.bellMe);
    service(end);
    deliver(end);
    if (!needsAsync(end)) {
      end.busy = false;
      return;
    }
    if (waitAsync === undefined) {
      setTimeout(() => {
        asyncTurn(end);
      }, 1);
      return;
    }
    if (performance.now() < end.activeUntil && awake(end)) {
      if (end.progress !== progress && soon !== undefined) {
        soon(() => {
          asyncTurn(end);
        });
        return;
      }
      if (end.spinSkips > 0) {
        end.spinSkips--;
      } else if (spin(end.words, end.bellMe, seen, end.activeUntil)) {
        end.spinBackoff = 0;
        continue;
      } else {
        // No answer within the spin (a busy machine: the peer waits for a core): spin less often.
        end.spinBackoff = Math.min(MAX_SPIN_BACKOFF, 2 * end.spinBackoff || 1);
        end.spinSkips = end.spinBackoff;
      }
    }
    const result = waitAsync(end.words, end.bellMe, seen);
    if (result.async) {
      void result.value.then(() => {
        asyncTurn(end);
      });
      return;
    }
  }
}

/** After spins that went unanswered, at most this many turns in a row listen without spinning. */
const MAX_SPIN_BACKOFF = 64;

/** This thread just sent or completed something on the link: an answer may come within a spin. */
function noteActivity(end: LinkEnd): void {
  end.activeUntil = performance.now() + SPIN_MS;
}

// ---------------------------------------------------------------------------
// deaths and closing

/** Sends the other side a lifeline, so that this thread's sentinel sees it die while this thread blocks. */
function armLink(end: LinkEnd): void {
  if (end.armed) return;
  end.armed = true;
  if (end.portClosed || Atomics.load(end.words, end.mortalPeer) === 0) return;
  const p = host();
  if (!p.lifelines) {
    // The sentinel guards the other side's thread itself.
    p.guardLink(end.port, end.memory, end.me);
    return;
  }
  const [mine, theirs] = p.channel();
  try {
    end.port.postMessage({ kind: LIFELINE, lifeline: theirs } satisfies LinkMessage, [theirs]);
    Atomics.add(end.words, end.postedPeer, 1);
  } catch {
    theirs.close();
  }
  p.guardLink(mine, end.memory, end.me);
}

/** See `FutureLink.close`. */
export function closeLink(end: LinkEnd): void {
  if (end.closed) return;
  end.closed = true;
  Atomics.store(end.words, end.closedMe, 1);
  cells.ringBell(end.words, end.layout, end.peerSide);
  // Futures sent by message and not received: closing their ports breaks them for their owner.
  takePortMessages(end);
  for (const handle of end.handovers.values()) handle.port.close();
  end.handovers.clear();
  for (const receiver of end.receivers.splice(0)) receiver.resolve({ value: undefined, done: true });
  updateRef(end);
  release(end);
}

/** A closed link lets go of its port once no future of it is pending here. */
function release(end: LinkEnd): void {
  if (!end.closed || end.records.size > 0 || end.portClosed) return;
  end.closing = true;
  end.portClosed = true;
  for (const port of end.held.splice(0)) port.close();
  end.port.close();
  open.delete(end);
  // Ends this thread's own listener.
  Atomics.notify(end.words, end.bellMe);
}

/** Whether this thread closed the link, or the other side closed it or went away. */
export function isEnded(end: LinkEnd): boolean {
  return end.closed || Atomics.load(end.words, end.closedPeer) !== 0 || Atomics.load(end.words, end.gonePeer) !== 0;
}

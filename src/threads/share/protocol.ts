/**
 * The `share()`/`adopt()` protocol: one future, one owner thread (where it
 * was created) and one adopter thread per handle, each keeping its own
 * ordinary `Future` in state `PENDING_SHARED`.
 *
 * They agree through a cell of shared memory (`kit/shared-cell.ts`):
 * completing is one compare-exchange of the cell's state, from pending to
 * claimed, so exactly one thread wins. The winner posts the value on the
 * message ports that link it to the others, *then* sets the state and wakes
 * blocked threads, so a thread that sees the state changed finds the message
 * already waiting and takes it synchronously (that is how `wait()` blocks for
 * real). The owner is the hub: a value an adopter sets reaches the other
 * adopters through it.
 *
 * Deaths: a thread that goes away closes its ports. The other side learns it
 * from its event loop (the port's `'close'`), or, while blocked in `wait()`
 * and so deaf to its event loop, from its sentinel thread, which holds the
 * other end of a lifeline port that the blocked thread sends to the peer
 * after `GRACE_MS` of blocking (lifelines cost a port each, so a wait that
 * ends quickly never pays for one).
 *
 * Written against the kit (`kit/index.ts`) alone, so it imports nothing from
 * Node.js; the platforms wrap its {@link HandleData} into public handles.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { isDerived, settle } from "../../callback-queue.js";
import { FULFILLED, PENDING, PENDING_SHARED, REJECTED } from "../../states.js";
import { BrokenFutureError, DerivedFutureError, FutureAlreadyCompletedError } from "../../errors.js";
import { Future } from "../../future.js";
import { decodeReason, encodeReason } from "../codecs/error-codec.js";
import {
  CLAIM_WAIT_MS,
  LATER,
  addPendingSource,
  alreadyCompleted,
  cells,
  cloneError,
  forget,
  host,
  reasons,
  recordFor,
  register,
  refuseFuture,
  spin,
  type Port,
  type SharedRecord,
} from "../kit/index.js";
import { BROKEN, LIFELINE, VALUE, type ShareMessage } from "./messages.js";

/** What a handle carries, before the platform wraps it. */
export interface HandleData<P extends Port = Port> {
  readonly cell: SharedArrayBuffer;
  readonly id: number;
  readonly port: P;
  readonly ownerMortal: boolean;
}

/** The other side of a link, as one thread sees it. */
interface Peer {
  readonly id: number;
  readonly port: Port;
  /** For adopters: a flag that makes their departure count once. */
  readonly counted: SharedArrayBuffer | undefined;
  closed: boolean;
  armed: boolean;
  /** Lifelines the peer sent: held (not read) so that their closing means this thread died. */
  readonly held: Port[];
}

/** One thread's view of one future shared with `share()`: the owner is a hub, each adopter a spoke. */
class Hub implements SharedRecord {
  readonly fut: Future;
  readonly sab: SharedArrayBuffer;
  readonly cell: cells.Cell;
  /** This thread's participant number: 0 for the owner. */
  readonly me: number;
  /** Owner: one per handle. Adopter: the owner. */
  readonly peers: Peer[];
  readonly ownerMortal: boolean;
  nextId: number;
  watched = false;
  armed = false;
  done = false;
  /** The value waits on a port that only the event loop can read (see {@link LATER}). */
  later = false;

  constructor(fut: Future, sab: SharedArrayBuffer, me: number, peers: Peer[], ownerMortal: boolean, nextId: number) {
    this.fut = fut;
    this.sab = sab;
    this.cell = new Int32Array(sab);
    this.me = me;
    this.peers = peers;
    this.ownerMortal = ownerMortal;
    this.nextId = nextId;
  }

  get bell(): Int32Array {
    return this.cell;
  }

  get bellIndex(): number {
    return cells.SEQ;
  }

  complete(state: number, value: unknown, transfer: readonly unknown[] | undefined): void {
    completeShared(this, state, value, transfer);
  }

  poll(): void {
    poll(this);
  }

  watch(): void {
    watch(this);
  }

  arm(): void {
    arm(this);
  }

  spin(): boolean {
    // The answer comes through the other thread's event loop, which wakes from sleep: no spin.
    return false;
  }

  sleep(seq: number, timeoutMs: number): void {
    Atomics.wait(this.cell, cells.SEQ, seq, timeoutMs);
  }
}

// Pending shared futures stay reachable while another thread may complete them.
const live = new Set<Hub>();
// A blocking wait on a future derived from a shared one looks among these (see RemoteHooks.pendingShared).
addPendingSource(function* () {
  for (const rec of live) yield rec.fut;
});
// Adopting the same handle twice gives the same future.
const adopted = new WeakMap<object, Future>();
// Cells this thread is claiming right now (a getter run by the clone may complete again).
const claiming = new Set<SharedArrayBuffer>();

// ---------------------------------------------------------------------------
// share / adopt

/** See `share()` in `node/handle.ts`. */
export function shareFuture<P extends Port>(fut: Future): HandleData<P> {
  if (!(fut instanceof Future)) throw new TypeError(reasons.notAFuture("share", fut));
  const known = recordFor(fut);
  let rec: Hub;
  if (fut._state === PENDING) {
    rec = ownerRecord(fut);
  } else if (fut._state === PENDING_SHARED && known !== undefined && !(known instanceof Hub)) {
    throw new TypeError(reasons.SHARE_LINKED);
  } else if (fut._state === PENDING_SHARED && known instanceof Hub && known.me === cells.OWNER) {
    rec = known;
    if (!isPending(rec)) return shareFuture(fut);
  } else if (fut._state === PENDING_SHARED) {
    throw new TypeError(reasons.SHARE_ADOPTED);
  } else if (isDerived(fut._state)) {
    throw new DerivedFutureError(reasons.derivedFuture("share", "Share"));
  } else {
    throw new FutureAlreadyCompletedError(reasons.SHARE_COMPLETED);
  }
  const [mine, theirs] = host().channel();
  const peer: Peer = {
    id: rec.nextId++,
    port: mine,
    counted: new SharedArrayBuffer(4),
    closed: false,
    armed: false,
    held: [],
  };
  rec.peers.push(peer);
  Atomics.add(rec.cell, cells.LIVE, 1);
  listen(rec, peer);
  // The last adopter may have gone just before this one was counted.
  if (cells.kindOf(Atomics.load(rec.cell, cells.STATE)) === cells.BROKEN && !isPending(rec)) return shareFuture(fut);
  if (rec.armed) arm(rec, peer);
  return { cell: rec.sab, id: peer.id, port: theirs as P, ownerMortal: host().mortal };
}

function ownerRecord(fut: Future): Hub {
  const rec = new Hub(fut, new SharedArrayBuffer(cells.CELL_BYTES), cells.OWNER, [], host().mortal, 1);
  makeShared(rec);
  return rec;
}

/** Whether `fut` is a future this thread shared with `share()` (and so can share again). */
export function isSharedOwner(fut: Future): boolean {
  const rec = recordFor(fut);
  return rec instanceof Hub && rec.me === cells.OWNER;
}

/** See `adopt()` in `node/handle.ts`. */
export function adoptHandle(data: HandleData): Future {
  const known = adopted.get(data.port);
  if (known !== undefined) return known;
  const fut = new Future();
  const owner: Peer = { id: cells.OWNER, port: data.port, counted: undefined, closed: false, armed: false, held: [] };
  const rec = new Hub(fut, data.cell, data.id, [owner], data.ownerMortal, 0);
  adopted.set(data.port, fut);
  makeShared(rec);
  listen(rec, rec.peers[0] as Peer);
  poll(rec);
  return fut;
}

function makeShared(rec: Hub): void {
  const fut = rec.fut;
  register(fut, rec);
  live.add(rec);
  if (fut._value !== undefined) watch(rec);
}

/** Someone waits for the future (a callback, an `await`): keep the event loop alive for it. */
function watch(rec: Hub): void {
  if (rec.watched || rec.done) return;
  rec.watched = true;
  for (const peer of rec.peers) if (!peer.closed) host().setRef(peer.port, true);
}

function listen(rec: Hub, peer: Peer): void {
  host().listen(
    peer.port,
    (message) => {
      onMessage(rec, peer, message as ShareMessage);
    },
    (error) => {
      unreadable(rec, error);
    },
    () => {
      peer.closed = true;
      if (rec.done) return;
      cells.participantGone(rec.cell, peer.id, peer.counted === undefined ? undefined : new Int32Array(peer.counted));
      poll(rec);
    },
  );
  if (rec.watched) host().setRef(peer.port, true);
}

// ---------------------------------------------------------------------------
// completing

function completeShared(rec: Hub, state: number, value: unknown, transfer: readonly unknown[] | undefined): void {
  const method = state === FULFILLED ? "setResult" : "setException";
  refuseFuture(method, value);
  const targets = rec.peers.filter((peer) => !peer.closed);
  const moves = transfer !== undefined && transfer.length > 0 ? (transfer as readonly object[]) : undefined;
  if (moves !== undefined && targets.length > 1) {
    throw new TypeError(reasons.transferToMany(method, targets.length));
  }
  const message: ShareMessage = { kind: VALUE, state, value: state === REJECTED ? encodeReason(value) : value };
  claim(rec, method);
  claiming.add(rec.sab);
  try {
    let sent = 0;
    for (const peer of targets) {
      try {
        peer.port.postMessage(message, moves);
        sent++;
      } catch (error) {
        if (sent === 0) {
          // Nothing went out: give the claim back, as if this call never happened.
          Atomics.store(rec.cell, cells.STATE, cells.PENDING);
          cells.breakIfOrphaned(rec.cell, rec.me);
          cells.wake(rec.cell);
          throw cloneError(method, state, error);
        }
        // Others have it already; this one cannot (a getter that changed its mind).
        sendBroken(peer, reasons.uncloneableHere(reasons.what(state), error));
      }
    }
  } finally {
    claiming.delete(rec.sab);
  }
  Atomics.store(rec.cell, cells.STATE, cells.stateOf(rec.me, state === FULFILLED ? cells.FULFILLED : cells.REJECTED));
  cells.wake(rec.cell);
  finish(rec, state, value);
}

/** Wins the cell for this thread, or throws `FutureAlreadyCompletedError`. */
function claim(rec: Hub, method: string): void {
  const cell = rec.cell;
  const mine = cells.stateOf(rec.me, cells.CLAIMED);
  let deadline = Infinity;
  for (;;) {
    const seen = Atomics.compareExchange(cell, cells.STATE, cells.PENDING, mine);
    if (seen === cells.PENDING) return;
    if (cells.kindOf(seen) !== cells.CLAIMED || claiming.has(rec.sab)) throw alreadyCompleted(method, seen);
    // Another thread is posting its value: it finishes, or gives the claim back if the value cannot be sent.
    const now = performance.now();
    if (deadline === Infinity) deadline = now + CLAIM_WAIT_MS;
    if (now >= deadline) throw alreadyCompleted(method, seen);
    const seq = Atomics.load(cell, cells.SEQ);
    if (Atomics.load(cell, cells.STATE) !== seen) continue;
    // A browser's main thread may not sleep: it spins for the few microseconds a claim lasts.
    if (host().canBlock) Atomics.wait(cell, cells.SEQ, seq, deadline - now);
    else spin(cell, cells.SEQ, seq, deadline);
  }
}

function sendBroken(peer: Peer, reason: string): void {
  try {
    peer.port.postMessage({ kind: BROKEN, reason } satisfies ShareMessage);
  } catch {
    // A closed port: its thread is gone and needs nothing.
  }
}

// ---------------------------------------------------------------------------
// learning of completions

function onMessage(rec: Hub, from: Peer, message: ShareMessage): void {
  if (message.kind === LIFELINE) {
    if (rec.done) message.lifeline.close();
    else from.held.push(message.lifeline);
  } else if (rec.done) {
    // Already applied (the blocking path and the event loop can both see a message's effect).
  } else if (message.kind === VALUE) {
    if (rec.me === cells.OWNER) relay(rec, from, message);
    finish(rec, message.state, message.state === REJECTED ? decodeReason(message.value) : message.value);
  } else {
    finish(rec, REJECTED, new BrokenFutureError(message.reason));
  }
}

/** The owner passes an adopter's completion on to the other adopters. */
function relay(rec: Hub, from: Peer | undefined, message: ShareMessage): void {
  let sent = false;
  for (const peer of rec.peers) {
    if (peer === from || peer.closed) continue;
    try {
      peer.port.postMessage(message);
    } catch (error) {
      sendBroken(peer, reasons.uncloneableHere("outcome", error));
    }
    sent = true;
  }
  if (sent) cells.wake(rec.cell);
}

/** Takes every waiting message; whether that completed the future here. */
function takeMessages(rec: Hub): boolean {
  const p = host();
  // Found anew each time: a completer whose message could not be sent takes its record back.
  rec.later = false;
  for (const peer of rec.peers) {
    // Node.js crashes reading a port from inside its own 'close' event; a closed port holds nothing anyway.
    if (peer.closed) continue;
    for (;;) {
      let got: { message: unknown } | undefined | typeof LATER;
      try {
        got = p.receive(peer.port);
      } catch (error) {
        unreadable(rec, error);
        continue;
      }
      if (got === undefined) break;
      if (got === LATER) {
        rec.later = true;
        break;
      }
      onMessage(rec, peer, got.message as ShareMessage);
    }
  }
  return rec.done;
}

/** A message arrived that cannot be deserialized here: its value is lost to this thread. */
function unreadable(rec: Hub, error: unknown): void {
  fail(rec, reasons.unreceivable(error), error);
}

/** Fails the future with `BrokenFutureError` here and, from the owner, for the adopters. */
function fail(rec: Hub, reason: string, cause?: unknown): void {
  if (rec.done) return;
  if (rec.me === cells.OWNER) relay(rec, undefined, { kind: BROKEN, reason });
  finish(rec, REJECTED, new BrokenFutureError(reason, cause === undefined ? undefined : { cause }));
}

/** Polls; whether the future is still pending on this thread. */
function isPending(rec: Hub): boolean {
  poll(rec);
  return !rec.done;
}

/** Applies, without blocking, whatever the cell says has happened. */
function poll(rec: Hub): void {
  if (rec.done) return;
  // Read before taking messages: messages are always posted before the cell changes.
  const ownerGone = Atomics.load(rec.cell, cells.OWNER_GONE) !== 0;
  const state = Atomics.load(rec.cell, cells.STATE);
  if (state === cells.PENDING || takeMessages(rec)) return;
  const kind = cells.kindOf(state);
  if (rec.me === cells.OWNER) {
    if (kind !== cells.BROKEN) return;
    fail(rec, Atomics.load(rec.cell, cells.LIVE) <= 0 ? reasons.ADOPTERS_GONE : reasons.COMPLETER_GONE);
  } else if (ownerGone && kind !== cells.CLAIMED) {
    fail(rec, kind === cells.BROKEN ? reasons.OWNER_GONE : reasons.RELAY_GONE);
  }
}

/** Completes this thread's future and lets go of the ports. */
function finish(rec: Hub, state: number, value: unknown): void {
  if (rec.done) return;
  rec.done = true;
  live.delete(rec);
  forget(rec.fut);
  for (const peer of rec.peers) {
    peer.port.close();
    for (const port of peer.held) port.close();
  }
  settle(rec.fut, state, value);
}

// ---------------------------------------------------------------------------
// blocking

/** Sends lifelines so that this thread's sentinel sees a peer die while this thread blocks. */
function arm(rec: Hub, only?: Peer): void {
  rec.armed = true;
  if (rec.me !== cells.OWNER && !rec.ownerMortal) return;
  const p = host();
  for (const peer of only === undefined ? rec.peers : [only]) {
    if (peer.armed || peer.closed) continue;
    peer.armed = true;
    if (!p.lifelines) {
      // The sentinel guards the peer's thread itself.
      p.guardCell(peer.port, rec.sab, peer.id, peer.counted);
      continue;
    }
    const [mine, theirs] = p.channel();
    try {
      peer.port.postMessage({ kind: LIFELINE, lifeline: theirs } satisfies ShareMessage, [theirs]);
    } catch {
      theirs.close();
    }
    p.guardCell(mine, rec.sab, peer.id, peer.counted);
  }
}

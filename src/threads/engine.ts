/**
 * The cross-thread engine: what `share()`, `adopt()` and the core's remote
 * hooks do, written against a small {@link Platform} so that it imports
 * nothing from Node.js.
 *
 * A shared future links one owner thread (where it was created) with one
 * adopter thread per handle. Each thread keeps its own ordinary `Future` in
 * state `PENDING_SHARED`; they agree through a cell of shared memory
 * (`shared-cell.ts`): completing is one compare-exchange of the cell's state,
 * from pending to claimed, so exactly one thread wins. The winner posts the
 * value on the message ports that link it to the others, *then* sets the
 * state and wakes blocked threads, so a thread that sees the state changed
 * finds the message already waiting and takes it synchronously (that is how
 * `wait()` blocks for real). The owner is the hub: a value an adopter sets
 * reaches the other adopters through it.
 *
 * Deaths: a thread that goes away closes its ports. The other side learns it
 * from its event loop (the port's `'close'`), or, while blocked in `wait()`
 * and so deaf to its event loop, from its sentinel thread, which holds the
 * other end of a lifeline port that the blocked thread sends to the peer
 * after {@link GRACE_MS} of blocking (lifelines cost a port each, so a wait
 * that ends quickly never pays for one).
 *
 * @internal
 * @module
 */
import { FULFILLED, PENDING, PENDING_SHARED, REJECTED, isDerived, settle, type Slot } from "../callback-queue.js";
import { BrokenFutureError, DerivedFutureError, FutureAlreadyCompletedError } from "../errors.js";
import { Future } from "../future.js";
import type { RemoteHooks } from "../remote.js";
import * as cells from "./shared-cell.js";
import { decodeReason, encodeReason } from "./error-codec.js";
import { describeValue } from "../describe.js";

/** A message port as the engine uses it. */
export interface Port {
  postMessage(message: unknown, transfer?: readonly object[]): void;
  close(): void;
}

/** What the engine needs of the platform (Node.js `worker_threads` today). */
export interface Platform<P extends Port = Port> {
  /** A new entangled pair of ports. */
  channel(): [P, P];
  /** Takes the next message waiting on `port`, without blocking; throws if it cannot be received. */
  receive(port: P): { message: unknown } | undefined;
  /**
   * Delivers `port`'s messages, the errors of messages that cannot be
   * received, and its closing, from the event loop; the port starts unref'd.
   */
  listen(port: P, onMessage: (message: unknown) => void, onUnreadable: (error: unknown) => void, onClose: () => void): void;
  /** Whether `port` keeps this thread's event loop alive. */
  setRef(port: P, ref: boolean): void;
  /**
   * Gives `port` to this thread's sentinel, which calls
   * `participantGone(cell, participant, counted)` when the port closes.
   */
  watch(port: P, cell: SharedArrayBuffer, participant: number, counted: SharedArrayBuffer | undefined): void;
  /** Whether this thread can go away while the others go on (a worker, not the main thread). */
  readonly mortal: boolean;
}

/** What a handle carries, before the platform wraps it. */
export interface HandleData<P extends Port = Port> {
  readonly cell: SharedArrayBuffer;
  readonly id: number;
  readonly port: P;
  readonly ownerMortal: boolean;
}

/** Blocking this long without an answer arms the sentinel's lifelines. */
export const GRACE_MS = 5;
/** How long a loser waits for a claimant that is still posting its value. */
const CLAIM_WAIT_MS = 2000;
/** `waitAll` on futures of different cells blocks on one and re-checks the others this often. */
const SLICE_MS = 2;

// Messages on a future's ports.
const VALUE = 0;
const BROKEN = 1;
const LIFELINE = 2;
type Message =
  | { readonly t: typeof VALUE; readonly k: number; readonly v: unknown }
  | { readonly t: typeof BROKEN; readonly m: string }
  | { readonly t: typeof LIFELINE; readonly p: Port };

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

/** One thread's view of one shared future. */
interface Link {
  readonly fut: Future;
  readonly sab: SharedArrayBuffer;
  readonly cell: cells.Cell;
  /** This thread's participant number: 0 for the owner. */
  readonly me: number;
  /** Owner: one per handle. Adopter: the owner. */
  readonly peers: Peer[];
  readonly ownerMortal: boolean;
  nextId: number;
  watched: boolean;
  armed: boolean;
  done: boolean;
}

let platform: Platform | undefined;
const records = new WeakMap<Slot, Link>();
// Pending shared futures stay reachable while another thread may complete them.
const live = new Set<Link>();
// Adopting the same handle twice gives the same future.
const adopted = new WeakMap<object, Future>();
// Cells this thread is claiming right now (a getter run by the clone may complete again).
const claiming = new Set<SharedArrayBuffer>();

function host(): Platform {
  if (platform === undefined) throw new Error("internal: torch-futures/threads has no platform installed");
  return platform;
}

function recordOf(fut: Slot): Link {
  const rec = records.get(fut);
  if (rec === undefined) throw new Error("internal: a shared future has no record on this thread");
  return rec;
}

// ---------------------------------------------------------------------------
// share / adopt

/** See `share()` in `node-handle.ts`. */
export function shareFuture<P extends Port>(fut: Future): HandleData<P> {
  if (!(fut instanceof Future)) throw new TypeError(`share() expects a Future, got ${describeValue(fut)}.`);
  const known = records.get(fut);
  let rec: Link;
  if (fut._state === PENDING) {
    rec = ownerRecord(fut);
  } else if (fut._state === PENDING_SHARED && known !== undefined && known.me === cells.OWNER) {
    rec = known;
    if (!isPending(rec)) return shareFuture(fut);
  } else if (fut._state === PENDING_SHARED) {
    throw new TypeError(
      "share() was called on a future this thread adopted; only the thread that created a future can share it. " +
        "Ask that thread to share() it again, or pass the handle on before adopting it.",
    );
  } else if (isDerived(fut._state)) {
    throw new DerivedFutureError(
      "share() was called on a future returned by continueWith(), then() or collectAll(); it completes by " +
        "itself, on this thread. Share a new Future() and complete it from that future's callback instead.",
    );
  } else {
    throw new FutureAlreadyCompletedError(
      "share() was called on a future that is already completed; another thread could never complete it. " +
        "Send its value instead, or share a future before completing it.",
    );
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

function ownerRecord(fut: Future): Link {
  const sab = new SharedArrayBuffer(cells.CELL_BYTES);
  const rec: Link = {
    fut,
    sab,
    cell: new Int32Array(sab),
    me: cells.OWNER,
    peers: [],
    ownerMortal: host().mortal,
    nextId: 1,
    watched: false,
    armed: false,
    done: false,
  };
  makeShared(rec);
  return rec;
}

/** See `adopt()` in `node-handle.ts`. */
export function adoptHandle(data: HandleData): Future {
  const known = adopted.get(data.port);
  if (known !== undefined) return known;
  const fut = new Future();
  const rec: Link = {
    fut,
    sab: data.cell,
    cell: new Int32Array(data.cell),
    me: data.id,
    peers: [{ id: cells.OWNER, port: data.port, counted: undefined, closed: false, armed: false, held: [] }],
    ownerMortal: data.ownerMortal,
    nextId: 0,
    watched: false,
    armed: false,
    done: false,
  };
  adopted.set(data.port, fut);
  makeShared(rec);
  listen(rec, rec.peers[0] as Peer);
  poll(rec);
  return fut;
}

function makeShared(rec: Link): void {
  const fut = rec.fut;
  fut._state = PENDING_SHARED;
  records.set(fut, rec);
  live.add(rec);
  if (fut._value !== undefined) watch(rec);
}

/** Someone waits for the future (a callback, an `await`): keep the event loop alive for it. */
function watch(rec: Link): void {
  if (rec.watched || rec.done) return;
  rec.watched = true;
  for (const peer of rec.peers) if (!peer.closed) host().setRef(peer.port, true);
}

function listen(rec: Link, peer: Peer): void {
  host().listen(
    peer.port,
    (message) => {
      onMessage(rec, peer, message as Message);
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

function complete(fut: Slot, state: number, value: unknown, transfer: readonly unknown[] | undefined): void {
  const rec = recordOf(fut);
  const method = state === FULFILLED ? "setResult" : "setException";
  if (value instanceof Future) {
    throw new TypeError(
      `${method}(): a Future cannot be sent to another thread as a value. share() it and send its handle instead.`,
    );
  }
  const targets = rec.peers.filter((peer) => !peer.closed);
  const moves = transfer !== undefined && transfer.length > 0 ? (transfer as readonly object[]) : undefined;
  if (moves !== undefined && targets.length > 1) {
    throw new TypeError(
      `${method}(…, { transfer }): this future was shared with ${targets.length} threads, and a transferred ` +
        "object can go to only one. Share it with one thread, or send a SharedArrayBuffer-backed value without transfer.",
    );
  }
  const message: Message = { t: VALUE, k: state, v: state === REJECTED ? encodeReason(value) : value };
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
        sendBroken(peer, `the ${what(state)} set on another thread could not be cloned for this one: ${errorText(error)}`);
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
function claim(rec: Link, method: string): void {
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
    if (Atomics.load(cell, cells.STATE) === seen) Atomics.wait(cell, cells.SEQ, seq, deadline - now);
  }
}

function alreadyCompleted(method: string, state: number): FutureAlreadyCompletedError {
  const kind = cells.kindOf(state);
  const how =
    kind === cells.CLAIMED
      ? "is being completed by another thread"
      : kind === cells.BROKEN
        ? "has failed with BrokenFutureError (the threads that could complete it went away)"
        : `was already completed with ${kind === cells.FULFILLED ? "a result" : "an error"}`;
  return new FutureAlreadyCompletedError(
    `${method}() was called on a shared future that ${how}. A Future can be completed only once, by one thread; ` +
      "the first completion is kept.",
  );
}

function what(state: number): string {
  return state === FULFILLED ? "result" : "error";
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function cloneError(method: string, state: number, error: unknown): TypeError {
  return new TypeError(
    `${method}(): the ${what(state)} cannot be sent to the other thread sharing this future: ${errorText(error)} ` +
      "Only what structured clone accepts crosses threads (not functions, symbols, or objects holding them; " +
      "MessagePorts must be listed in { transfer }). The future is still pending: complete it with another value.",
    { cause: error },
  );
}

function sendBroken(peer: Peer, reason: string): void {
  try {
    peer.port.postMessage({ t: BROKEN, m: reason } satisfies Message);
  } catch {
    // A closed port: its thread is gone and needs nothing.
  }
}

// ---------------------------------------------------------------------------
// learning of completions

function onMessage(rec: Link, from: Peer, message: Message): void {
  if (message.t === LIFELINE) {
    if (rec.done) message.p.close();
    else from.held.push(message.p);
  } else if (rec.done) {
    // Already applied (the blocking path and the event loop can both see a message's effect).
  } else if (message.t === VALUE) {
    if (rec.me === cells.OWNER) relay(rec, from, message);
    finish(rec, message.k, message.k === REJECTED ? decodeReason(message.v) : message.v);
  } else {
    finish(rec, REJECTED, new BrokenFutureError(message.m));
  }
}

/** The owner passes an adopter's completion on to the other adopters. */
function relay(rec: Link, from: Peer | undefined, message: Message): void {
  let sent = false;
  for (const peer of rec.peers) {
    if (peer === from || peer.closed) continue;
    try {
      peer.port.postMessage(message);
    } catch (error) {
      sendBroken(peer, `the outcome set on another thread could not be cloned for this one: ${errorText(error)}`);
    }
    sent = true;
  }
  if (sent) cells.wake(rec.cell);
}

/** Takes every waiting message; whether that completed the future here. */
function drain(rec: Link): boolean {
  const p = host();
  for (const peer of rec.peers) {
    // Node.js crashes reading a port from inside its own 'close' event; a closed port holds nothing anyway.
    if (peer.closed) continue;
    for (;;) {
      let got: { message: unknown } | undefined;
      try {
        got = p.receive(peer.port);
      } catch (error) {
        unreadable(rec, error);
        continue;
      }
      if (got === undefined) break;
      onMessage(rec, peer, got.message as Message);
    }
  }
  return rec.done;
}

/** A message arrived that cannot be deserialized here: its value is lost to this thread. */
function unreadable(rec: Link, error: unknown): void {
  fail(rec, `another thread completed this future, but its value cannot be received here: ${errorText(error)}`, error);
}

/** Fails the future with `BrokenFutureError` here and, from the owner, for the adopters. */
function fail(rec: Link, reason: string, cause?: unknown): void {
  if (rec.done) return;
  if (rec.me === cells.OWNER) relay(rec, undefined, { t: BROKEN, m: reason });
  finish(rec, REJECTED, new BrokenFutureError(reason, cause === undefined ? undefined : { cause }));
}

/** Polls; whether the future is still pending on this thread. */
function isPending(rec: Link): boolean {
  poll(rec);
  return !rec.done;
}

/** Applies, without blocking, whatever the cell says has happened. */
function poll(rec: Link): void {
  if (rec.done) return;
  // Read before draining: messages are always posted before the cell changes.
  const ownerGone = Atomics.load(rec.cell, cells.OWNER_GONE) !== 0;
  const state = Atomics.load(rec.cell, cells.STATE);
  if (state === cells.PENDING || drain(rec)) return;
  const kind = cells.kindOf(state);
  if (rec.me === cells.OWNER) {
    if (kind !== cells.BROKEN) return;
    const reason =
      Atomics.load(rec.cell, cells.LIVE) <= 0
        ? "every thread this future was handed to has gone away (it exited, threw an uncaught error or was " +
          "terminated) without completing it"
        : "the thread that was completing this future went away before its value was sent";
    fail(rec, reason);
  } else if (ownerGone && kind !== cells.CLAIMED) {
    fail(
      rec,
      kind === cells.BROKEN
        ? "the thread that created this future has gone away (it exited, threw an uncaught error or was " +
            "terminated) without completing it"
        : "another thread completed this future, but the thread that created it, which passes completions on, " +
            "has gone away before passing it on",
    );
  }
}

/** Completes this thread's future and lets go of the ports. */
function finish(rec: Link, state: number, value: unknown): void {
  if (rec.done) return;
  rec.done = true;
  live.delete(rec);
  for (const peer of rec.peers) {
    peer.port.close();
    for (const port of peer.held) port.close();
  }
  settle(rec.fut, state, value);
}

// ---------------------------------------------------------------------------
// blocking

/** Sends lifelines so that this thread's sentinel sees a peer die while this thread blocks. */
function arm(rec: Link, only?: Peer): void {
  rec.armed = true;
  if (rec.me !== cells.OWNER && !rec.ownerMortal) return;
  const p = host();
  for (const peer of only === undefined ? rec.peers : [only]) {
    if (peer.armed || peer.closed) continue;
    peer.armed = true;
    const [mine, theirs] = p.channel();
    try {
      peer.port.postMessage({ t: LIFELINE, p: theirs } satisfies Message, [theirs]);
    } catch {
      theirs.close();
    }
    p.watch(mine, rec.sab, peer.id, peer.counted);
  }
}

function blockUntilAny(futs: readonly Slot[], deadline: number): void {
  const recs = futs.map(recordOf);
  const graceEnd = performance.now() + GRACE_MS;
  for (;;) {
    const target = recs.find((rec) => !rec.done);
    if (target === undefined) return;
    const seq = Atomics.load(target.cell, cells.SEQ);
    for (const rec of recs) {
      poll(rec);
      if (rec.done) return;
    }
    const now = performance.now();
    if (now >= deadline) return;
    let timeout = deadline - now;
    if (now >= graceEnd) {
      for (const rec of recs) if (!rec.armed) arm(rec);
    } else {
      timeout = Math.min(timeout, graceEnd - now);
    }
    if (recs.length > 1) timeout = Math.min(timeout, SLICE_MS);
    Atomics.wait(target.cell, cells.SEQ, seq, timeout);
  }
}

// ---------------------------------------------------------------------------

/** Installs the platform; returns the hooks for the core's `installRemote`. */
export function createHooks<P extends Port>(p: Platform<P>): RemoteHooks {
  platform = p;
  return {
    complete,
    poll(fut) {
      poll(recordOf(fut));
    },
    blockUntilAny,
    watch(fut) {
      watch(recordOf(fut));
    },
  };
}

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
 * A future can also travel over a `FutureLink` (`link-engine.ts`), which
 * keeps its state and small values in shared memory instead. Both kinds of
 * shared future are a {@link SharedRecord} to the hooks below: this file
 * dispatches the core's calls to them and blocks on either.
 *
 * Deaths: a thread that goes away closes its ports. The other side learns it
 * from its event loop (the port's `'close'`), or, while blocked in `wait()`
 * and so deaf to its event loop, from its sentinel thread, which holds the
 * other end of a lifeline port that the blocked thread sends to the peer
 * after {@link GRACE_MS} of blocking (lifelines cost a port each, so a wait
 * that ends quickly never pays for one).
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { isDerived, settle, type Slot } from "../callback-queue.js";
import { FULFILLED, PENDING, PENDING_SHARED, REJECTED } from "../states.js";
import { BrokenFutureError, DerivedFutureError, FutureAlreadyCompletedError, FutureNotCompletedError } from "../errors.js";
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
  /**
   * Takes the next message waiting on `port`, without blocking; throws if it
   * cannot be received. {@link LATER}: the next message exists but only the
   * event loop can deliver it (browsers, for what bytes cannot carry).
   */
  receive(port: P): { message: unknown } | undefined | typeof LATER;
  /**
   * Delivers `port`'s messages, the errors of messages that cannot be
   * received, and its closing, from the event loop; the port starts unref'd.
   */
  listen(port: P, onMessage: (message: unknown) => void, onUnreadable: (error: unknown) => void, onClose: () => void): void;
  /** Whether `port` keeps this thread's event loop alive. */
  setRef(port: P, ref: boolean): void;
  /**
   * Gives `port` to this thread's sentinel, which calls
   * `participantGone(cell, participant, counted)` when the port closes — a
   * lifeline, or, without {@link Platform.lifelines}, a peer's own port, whose
   * thread the sentinel watches.
   */
  watch(port: P, cell: SharedArrayBuffer, participant: number, counted: SharedArrayBuffer | undefined): void;
  /**
   * Gives `port` to this thread's sentinel, which calls
   * `linkPeerGone(words, layout, side)` on the link's memory when the port closes.
   */
  watchLink(port: P, link: SharedArrayBuffer, side: number): void;
  /**
   * Serializes `value` as structured clone would; throws if it cannot be
   * serialized here (shared memory, ports and other platform objects go by
   * message instead, which decides for good).
   */
  serialize(value: unknown): Uint8Array;
  /** The inverse of `serialize`; `bytes` may be a view of shared memory. */
  deserialize(bytes: Uint8Array): unknown;
  /** Whether this thread can go away while the others go on (a worker, not the main thread). */
  readonly mortal: boolean;
  /** Whether this thread may block in `Atomics.wait` (a browser window's main thread may not). */
  readonly canBlock: boolean;
  /** Whether {@link Platform.watch} takes lifeline ports (Node.js) rather than the peers' ports (browsers). */
  readonly lifelines: boolean;
}

/** See {@link Platform.receive}. */
export const LATER = "later";

/** One thread's view of one shared future, whichever way it was shared. */
export interface SharedRecord {
  readonly fut: Future;
  /** Completed on this thread. */
  readonly done: boolean;
  /** The word this thread blocks on for it: it changes whenever the future may have. */
  readonly bell: Int32Array;
  readonly bellIndex: number;
  /** Whether a death on the other side already wakes this thread while it blocks. */
  readonly armed: boolean;
  /** Whether its value waits where only the event loop can take it (see {@link LATER}). */
  readonly later: boolean;
  /** See `RemoteHooks.complete`. */
  complete(state: number, value: unknown, transfer: readonly unknown[] | undefined): void;
  /** Applies, without blocking, whatever has happened to it elsewhere. */
  poll(): void;
  /** Someone on this thread waits for it (a callback, an `await`). */
  watch(): void;
  /** Makes a death on the other side wake this thread while it blocks (see {@link GRACE_MS}). */
  arm(): void;
  /**
   * Spins (see {@link SPIN_MS}) while `bell` holds `seq`, if an answer may
   * come within a spin, until `until` at most; whether the bell changed.
   */
  spin(seq: number, until: number): boolean;
  /** Sleeps on `bell` while it holds `seq`, at most `timeoutMs`. */
  sleep(seq: number, timeoutMs: number): void;
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
/**
 * A blocking wait may first spin this long on its word before sleeping:
 * waking a sleeping thread costs tens of microseconds on some machines, more
 * than a whole answer from a busy peer.
 */
export const SPIN_MS = 0.05;

/** Spins while `bell[index]` holds `seq`, until `until` at most; whether it changed. */
export function spin(bell: Int32Array, index: number, seq: number, until: number): boolean {
  if (performance.now() >= until) return Atomics.load(bell, index) !== seq;
  for (let i = 1; ; i++) {
    if (Atomics.load(bell, index) !== seq) return true;
    if ((i & 63) === 0 && performance.now() >= until) return false;
  }
}

/** How long a loser waits for a claimant that is still posting its value. */
export const CLAIM_WAIT_MS = 2000;
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
    complete(this, state, value, transfer);
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

let platform: Platform | undefined;
const records = new WeakMap<Slot, SharedRecord>();
// Pending shared futures stay reachable while another thread may complete them.
const live = new Set<Hub>();
// Where RemoteHooks.pendingShared finds pending shared futures besides `live` (FutureLink's, see link-engine.ts).
const pendingSources: (() => Iterable<Slot>)[] = [];
// Adopting the same handle twice gives the same future.
const adopted = new WeakMap<object, Future>();
// Cells this thread is claiming right now (a getter run by the clone may complete again).
const claiming = new Set<SharedArrayBuffer>();

/** The installed platform. */
export function host(): Platform {
  if (platform === undefined) throw new Error("internal: torch-futures/threads has no platform installed");
  return platform;
}

function recordOf(fut: Slot): SharedRecord {
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

/** Adds a place where {@link pendingShared} finds pending shared futures (another engine's). */
export function addPendingSource(source: () => Iterable<Slot>): void {
  pendingSources.push(source);
}

/** The pending shared futures on this thread: `share`/`adopt`'s, and those of the other engines. */
function pendingShared(): Slot[] {
  const found: Slot[] = [];
  for (const rec of live) if (rec.fut._state === PENDING_SHARED) found.push(rec.fut);
  for (const source of pendingSources) for (const fut of source()) if (fut._state === PENDING_SHARED) found.push(fut);
  return found;
}

// ---------------------------------------------------------------------------
// share / adopt

/** See `share()` in `node-handle.ts`. */
export function shareFuture<P extends Port>(fut: Future): HandleData<P> {
  if (!(fut instanceof Future)) throw new TypeError(`share() expects a Future, got ${describeValue(fut)}.`);
  const known = records.get(fut);
  let rec: Hub;
  if (fut._state === PENDING) {
    rec = ownerRecord(fut);
  } else if (fut._state === PENDING_SHARED && known !== undefined && !(known instanceof Hub)) {
    throw new TypeError(
      "share() was called on a future that was sent over a FutureLink; such a future belongs to the two " +
        "threads of that link. share() a future before sending it if more threads must complete it.",
    );
  } else if (fut._state === PENDING_SHARED && known instanceof Hub && known.me === cells.OWNER) {
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

function ownerRecord(fut: Future): Hub {
  const rec = new Hub(fut, new SharedArrayBuffer(cells.CELL_BYTES), cells.OWNER, [], host().mortal, 1);
  makeShared(rec);
  return rec;
}

/** Whether `fut` is a future this thread shared with `share()` (and so can share again). */
export function isSharedOwner(fut: Future): boolean {
  const rec = records.get(fut);
  return rec instanceof Hub && rec.me === cells.OWNER;
}

/** See `adopt()` in `node-handle.ts`. */
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

function complete(rec: Hub, state: number, value: unknown, transfer: readonly unknown[] | undefined): void {
  const method = state === FULFILLED ? "setResult" : "setException";
  refuseFuture(method, value);
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

/** A future is not a value: it cannot be cloned into another thread. */
export function refuseFuture(method: string, value: unknown): void {
  if (value instanceof Future) {
    throw new TypeError(
      `${method}(): a Future cannot be sent to another thread as a value. share() it and send its handle instead.`,
    );
  }
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

/** The error for a completion that lost; `state` as in a cell (only its kind is read). */
export function alreadyCompleted(method: string, state: number): FutureAlreadyCompletedError {
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

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error for a value that cannot cross; the future is still pending. */
export function cloneError(method: string, state: number, error: unknown): TypeError {
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

function onMessage(rec: Hub, from: Peer, message: Message): void {
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
function relay(rec: Hub, from: Peer | undefined, message: Message): void {
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
function drain(rec: Hub): boolean {
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
      onMessage(rec, peer, got.message as Message);
    }
  }
  return rec.done;
}

/** A message arrived that cannot be deserialized here: its value is lost to this thread. */
function unreadable(rec: Hub, error: unknown): void {
  fail(rec, `another thread completed this future, but its value cannot be received here: ${errorText(error)}`, error);
}

/** Fails the future with `BrokenFutureError` here and, from the owner, for the adopters. */
function fail(rec: Hub, reason: string, cause?: unknown): void {
  if (rec.done) return;
  if (rec.me === cells.OWNER) relay(rec, undefined, { t: BROKEN, m: reason });
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
      // The sentinel watches the peer's thread itself.
      p.watch(peer.port, rec.sab, peer.id, peer.counted);
      continue;
    }
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
      throw new FutureNotCompletedError(
        "wait() cannot block on a browser window's main thread: browsers forbid blocking it (Atomics.wait throws " +
          "there). Use `await fut` (or fut.then(...)) to wait without blocking; wait() blocks in Web Workers.",
      );
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
  return new FutureNotCompletedError(
    "wait() cannot block for this future's value: another thread completed it with a value that reaches this " +
      "thread only through its event loop (in browsers: one holding a SharedArrayBuffer or a MessagePort, or too " +
      "big for shared memory). Use `await fut` to take it; the future is complete, and done() will say so then.",
  );
}

// ---------------------------------------------------------------------------

/** Installs the platform; returns the hooks for the core's `installRemote`. */
export function createHooks<P extends Port>(p: Platform<P>): RemoteHooks {
  platform = p;
  return {
    complete(fut, state, value, transfer) {
      recordOf(fut).complete(state, value, transfer);
    },
    poll(fut) {
      recordOf(fut).poll();
    },
    blockUntilAny,
    watch(fut) {
      recordOf(fut).watch();
    },
    pendingShared,
  };
}

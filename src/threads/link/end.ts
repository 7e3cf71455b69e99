/**
 * One thread's end of a link: the link's shared memory seen from this side
 * (every word index resolved once, as "mine" and "the other side's"), the
 * counters only this thread writes, and what this thread holds for the link
 * — its pending futures by berth, values and handles that arrived early, and
 * waiting `next()` calls. The protocol (`protocol.ts`) acts on it.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import type { Future } from "../../future.js";
import { cells, host, spin, type Port } from "../kit/index.js";
import type { HandleData } from "../share/protocol.js";
import type { BerthMessage } from "./messages.js";
import type { BerthRecord } from "./protocol.js";

/** A pending `next()` call. */
export interface Receiver {
  resolve(result: IteratorResult<Future, undefined>): void;
  reject(error: Error): void;
}

/** A word of the link's memory, by plain read (for words published by an atomic store). */
export function word(words: Int32Array, index: number): number {
  return words[index] as number;
}

/** This thread's end of a link. */
export class LinkEnd {
  readonly memory: SharedArrayBuffer;
  readonly layout: cells.LinkLayout;
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly halves: Uint16Array;
  readonly doubles: Float64Array;
  readonly port: Port;
  readonly me: number;
  readonly peerSide: number;
  readonly mask: number;
  readonly doneMask: number;
  // Word indices, from this side's point of view.
  readonly bellMe: number;
  readonly closedMe: number;
  readonly sentMe: number;
  readonly takenMe: number;
  readonly doneTailMe: number;
  readonly doneHeadMe: number;
  readonly doneLostMe: number;
  readonly postedMe: number;
  readonly asleepMe: number;
  readonly gonePeer: number;
  readonly closedPeer: number;
  readonly mortalPeer: number;
  readonly sentPeer: number;
  readonly takenPeer: number;
  readonly doneTailPeer: number;
  readonly doneHeadPeer: number;
  readonly doneLostPeer: number;
  readonly postedPeer: number;
  readonly asleepPeer: number;
  readonly ringMe: number;
  readonly ringPeer: number;
  readonly doneRingMe: number;
  readonly doneRingPeer: number;
  /** Local copies of counters only this thread writes. */
  sent = 0;
  taken = 0;
  doneHead = 0;
  doneOut = 0;
  cursor = 0;
  sendSeq = 0;
  recvSeq = 0;
  /** Port messages taken (compared with the other side's POSTED count). */
  received = 0;
  /** Futures handed over by message, by sequence number, until taken. */
  readonly handovers = new Map<number, HandleData>();
  /** Values sent by message for berths this thread has no record of yet. */
  readonly values = new Map<number, BerthMessage>();
  /** This thread's pending futures of the link, by berth. */
  readonly records = new Map<number, BerthRecord>();
  /** Lifelines the other side sent: held, so that their closing tells its sentinel this thread died. */
  readonly held: Port[] = [];
  readonly receivers: Receiver[] = [];
  /** This thread closed the link. */
  closed = false;
  /** The port is closed (by this thread, or because the other one went away). */
  portClosed = false;
  /** This thread is closing the port itself. */
  closing = false;
  armed = false;
  watched = 0;
  ref = false;
  /** Until when an async turn spins on the bell rather than listening: shortly after this side acted. */
  activeUntil = 0;
  /** Async turns that still listen without spinning, and how many the last unanswered spin set. */
  spinSkips = 0;
  spinBackoff = 0;
  /** Futures completed and `next()` calls answered here: whether a turn ran callbacks. */
  progress = 0;
  /** An async turn is queued or listening. */
  busy = false;
  /** Which ends of the other side this thread has acted on: 1 closed, 2 gone. */
  endSeen = 0;
  unreadable: { error: unknown } | undefined;
  /** The port holds a message that only the event loop can take (browsers), as of the last read. */
  later = false;
  /** This thread may block in `Atomics.wait` (a browser window's main thread may not). */
  readonly canBlock: boolean;

  constructor(memory: SharedArrayBuffer, layout: cells.LinkLayout, me: number, port: Port) {
    this.memory = memory;
    this.layout = layout;
    this.words = new Int32Array(memory);
    this.bytes = new Uint8Array(memory);
    this.halves = new Uint16Array(memory);
    this.doubles = new Float64Array(memory);
    this.port = port;
    this.canBlock = host().canBlock;
    this.me = me;
    this.peerSide = 1 - me;
    this.mask = layout.capacity - 1;
    this.doneMask = layout.doneCapacity - 1;
    const mine = (field: number): number => layout.word(me, field);
    const theirs = (field: number): number => layout.word(1 - me, field);
    this.bellMe = mine(cells.BELL);
    this.closedMe = mine(cells.CLOSED);
    this.sentMe = mine(cells.SENT);
    this.takenMe = mine(cells.TAKEN);
    this.doneTailMe = mine(cells.DONE_TAIL);
    this.doneHeadMe = mine(cells.DONE_HEAD);
    this.doneLostMe = mine(cells.DONE_LOST);
    this.postedMe = mine(cells.POSTED);
    this.asleepMe = mine(cells.ASLEEP);
    this.gonePeer = theirs(cells.GONE);
    this.closedPeer = theirs(cells.CLOSED);
    this.mortalPeer = theirs(cells.MORTAL);
    this.sentPeer = theirs(cells.SENT);
    this.takenPeer = theirs(cells.TAKEN);
    this.doneTailPeer = theirs(cells.DONE_TAIL);
    this.doneHeadPeer = theirs(cells.DONE_HEAD);
    this.doneLostPeer = theirs(cells.DONE_LOST);
    this.postedPeer = theirs(cells.POSTED);
    this.asleepPeer = theirs(cells.ASLEEP);
    this.ringMe = layout.ring(me);
    this.ringPeer = layout.ring(1 - me);
    this.doneRingMe = layout.doneRing(me);
    this.doneRingPeer = layout.doneRing(1 - me);
  }
}

/** Whether the other side is awake (not sleeping on its bell): then its answer may come within a spin. */
export function awake(end: LinkEnd): boolean {
  return Atomics.load(end.words, end.asleepPeer) === 0;
}

/** Sleeps on this side's bell while it holds `seq`, telling the other side not to spin for an answer. */
export function sleepOn(end: LinkEnd, seq: number, timeoutMs: number): void {
  // A browser window's main thread spins instead (for the few microseconds another thread's claim lasts).
  if (!end.canBlock) {
    spin(end.words, end.bellMe, seq, performance.now() + timeoutMs);
    return;
  }
  Atomics.store(end.words, end.asleepMe, 1);
  Atomics.wait(end.words, end.bellMe, seq, timeoutMs);
  Atomics.store(end.words, end.asleepMe, 0);
}

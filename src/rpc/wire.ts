/**
 * The RPC wire: what two worker threads call each other through. One block
 * of shared memory holds two byte rings, one written by each side; a call is
 * one frame on the caller's ring (an id and the request), its answer one
 * frame on the callee's (the id and the value or the error). No future per
 * call crosses, no berth is claimed, no message is posted: a round trip is
 * two copies into shared memory and two bell rings.
 *
 * - **Frames.** `[length, type, id]` then the payload: the value written by
 *   the plain codec (most arguments and results), else by the platform's
 *   structured-clone serializer. A value that bytes cannot carry (a
 *   `transfer` list, shared memory, ports) or that would take more than a
 *   quarter of the ring goes as a message on the wire's port, and its frame
 *   names the message; the reader takes it from the port without its event
 *   loop, so frames are read in order either way.
 * - **Full ring.** Frames wait in the writer's backlog, which flushes once
 *   the reader has made room (it rings the writer when the writer asked).
 * - **Waking.** Each side has a bell that the other side bumps after each
 *   write, notifying it only if it said it sleeps. The event loop listens with
 *   `Atomics.waitAsync` and, for {@link SPIN_MS} after this thread sent
 *   something, spins on the bell, since an answer often comes sooner than the
 *   event loop would wake. A thread blocked in `rpcSync` or `wait()` spins and
 *   sleeps on the same bell through the kit (each reply future is a shared
 *   future whose record polls the wire).
 * - **Requests while blocked** are read (so the ring keeps moving) but
 *   served by the event loop once the thread stops blocking: a function never
 *   runs inside another one's `rpcSync`.
 * - **Deaths.** The wire's port closes when the other thread goes away (the
 *   event loop sees it); a thread blocked for longer than `GRACE_MS` sends a
 *   lifeline whose closing its sentinel turns into the peer's `GONE` word and
 *   a ring of its bell. Either way, frames already written are read first;
 *   then every call still pending fails with {@link RpcWorkerGoneError}.
 *
 * Internal: not an entry point.
 *
 * @module
 */
import { settle } from "../callback-queue.js";
import { Future } from "../future.js";
import { FULFILLED, REJECTED } from "../states.js";
import { decodeReason, encodeReason } from "../threads/codecs/error-codec.js";
import { PlainReader, PlainWriter } from "../threads/codecs/plain-codec.js";
import { DerivedFutureError } from "../errors.js";
import { SPIN_MS, addPendingSource, forget, host, recordFor, register, spin, type Port, type SharedRecord } from "../threads/kit/index.js";
import { RpcWorkerGoneError, markRaisedOn } from "./errors.js";

/** Bytes of each side's ring: a power of two. */
const RING_BYTES = 1 << 18;
const RING_MASK = RING_BYTES - 1;
/** A payload above this goes on the port (a ring keeps room for several). */
const MAX_INLINE = RING_BYTES >> 2;
const MAGIC = 0x52_50_43_57; // "RPCW"
/** Words of each side: where its fields start, and the fields. */
const SIDE_AT = 4;
const SIDE_WORDS = 8;
const TAIL = 0; // bytes this side has written to its ring (wraps at 2^32, a multiple of the ring)
const HEAD = 1; // bytes of this side's ring the other side has read
const BELL = 2; // this side's bell
const SLEEPS = 3; // this side may sleep on its bell: a writer notifies it
const GONE = 4; // this side has gone (written by the other side's sentinel or event loop)
const CLOSED = 5; // this side closed the wire
const WANTS_ROOM = 6; // this side's backlog waits for room in its ring
const MORTAL = 7; // this side's thread can go away alone (a worker, not the main thread)
const RINGS_AT = 128;
/** Turns in a row that a send may start as microtasks before one waits for the event loop. */
const MAX_MICRO_TURNS = 64;
const FRAME_HEADER = 12;
/** A frame length that means: the rest of the ring is empty, the next frame starts at its beginning. */
const WRAP = -1;

/** Frame types. */
const REQUEST = 1;
const REPLY = 2;
const FAILURE = 3;
/** Added to a type: the payload is the number of a message on the port. */
const VIA_PORT = 8;
/** First payload byte of a value the platform's serializer wrote (the plain codec's tags are lower). */
const SERIALIZED = 255;

/** The messages on a wire's port. */
type WireMessage = { readonly kind: "frame"; readonly seq: number; readonly value: unknown } | { readonly kind: "lifeline"; readonly port: Port };

/** What the lower-ranked side sends for the other to open the wire. */
export interface WireOffer {
  readonly memory: SharedArrayBuffer;
  readonly port: Port;
}

/** What a wire tells its transport. */
export interface WireEvents {
  /** A request arrived (on the event loop, never while this thread blocks). */
  request(id: number, request: unknown): void;
  /** The other side went away (`died`) or closed the wire: every pending call has just failed. */
  gone(how: "died" | "closed", cause: unknown): void;
}

// Shared by every wire of this thread: one value is encoded or decoded at a time.
const writer = new PlainWriter();
const reader = new PlainReader();
const payloadWords = new Int32Array(1);
const payloadBytes = new Uint8Array(payloadWords.buffer);

/** Open wires on this thread, for the kit's list of pending shared futures. */
const open = new Set<Wire>();
addPendingSource(function* () {
  for (const wire of open) for (const rec of wire.pending.values()) yield rec.fut;
});

type WaitAsync = (words: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
/** A turn of the event loop after microtasks and I/O, where there is one (Node.js). */
const soon = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/** One side of a wire. */
export class Wire {
  readonly peer: string;
  readonly memory: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #port: Port;
  readonly #me: number;
  readonly #myRing: number;
  readonly #theirRing: number;
  /** Calls sent and not answered, by id. */
  readonly pending = new Map<number, ReplyRecord>();
  #nextId = 0;
  #events: WireEvents | undefined;
  /** Frames waiting for room in the ring, in order. */
  readonly #backlog: { type: number; id: number; payload: Uint8Array }[] = [];
  /** Requests read while this thread blocked, for the event loop. */
  readonly #deferred: { id: number; request: unknown }[] = [];
  /** Port messages that frames name, taken early. */
  readonly #inbox = new Map<number, unknown>();
  #portSeqOut = 0;
  /** Lifelines the other side sent: held until this thread goes away. */
  readonly #held: Port[] = [];
  #activeUntil = 0;
  #listening = false;
  #turning = false;
  #inTurn = false;
  #microTurns = 0;
  #armed = false;
  #blocking = 0;
  #over = false;
  #spinSkips = 0;
  #spinBackoff = 0;

  private constructor(peer: string, memory: SharedArrayBuffer, port: Port, side: number) {
    this.peer = peer;
    this.memory = memory;
    this.#words = new Int32Array(memory);
    this.#bytes = new Uint8Array(memory);
    this.#view = new DataView(memory);
    this.#port = port;
    this.#me = side;
    this.#myRing = RINGS_AT + side * RING_BYTES;
    this.#theirRing = RINGS_AT + (1 - side) * RING_BYTES;
    Atomics.store(this.#words, this.#field(side, MORTAL), host().mortal ? 1 : 0);
  }

  /** A new wire to `peer`, and the offer that opens its other side there. */
  static create(peer: string): { wire: Wire; offer: WireOffer; transfer: Port[] } {
    const memory = new SharedArrayBuffer(RINGS_AT + 2 * RING_BYTES);
    const words = new Int32Array(memory);
    words[0] = MAGIC;
    // Until the other side opens it, assume it can go away alone.
    words[SIDE_AT + SIDE_WORDS + MORTAL] = 1;
    const [mine, theirs] = host().channel();
    return { wire: new Wire(peer, memory, mine, 0), offer: { memory, port: theirs }, transfer: [theirs] };
  }

  /** Opens the other side of a wire from `peer`'s offer. */
  static open(peer: string, offer: WireOffer): Wire {
    if (!(offer.memory instanceof SharedArrayBuffer) || new Int32Array(offer.memory)[0] !== MAGIC) {
      throw new TypeError("internal: not an rpc wire offer");
    }
    return new Wire(peer, offer.memory, offer.port, 1);
  }

  /** Whether the wire still carries calls both ways. */
  get up(): boolean {
    return !this.#over;
  }

  /** Starts listening: requests and the other side's going away are told to `events`. */
  start(events: WireEvents): void {
    this.#events = events;
    open.add(this);
    const p = host();
    p.listen(
      this.#port,
      (m) => {
        this.#onMessage(m as WireMessage);
      },
      () => undefined, // a frame's message that cannot be received fails when its frame is read
      () => {
        this.#ended("died", undefined);
      },
    );
    // Serving keeps this thread alive until the wire closes, as torch's agent does until shutdown.
    p.setRef(this.#port, true);
    this.#turn();
  }

  /**
   * Sends a request and returns the future of its answer; throws (sending
   * nothing) a TypeError if it cannot be sent.
   */
  call(request: unknown, transfer: readonly unknown[] | undefined, decode: ((value: unknown) => unknown) | undefined): Future {
    const id = (this.#nextId = (this.#nextId + 1) >>> 0);
    this.#send(REQUEST, id, request, transfer);
    const fut = new Future();
    const rec = new ReplyRecord(this, fut, id, decode);
    register(fut, rec);
    this.pending.set(id, rec);
    this.#kick();
    return fut;
  }

  /** Fails a pending call here (its deadline, an abort); a later answer is dropped. */
  fail(fut: Future, error: unknown): void {
    const rec = recordFor(fut);
    if (rec instanceof ReplyRecord) rec.finish(REJECTED, error);
  }

  /** Removes `fut` from `bucket` (its deadline) once it completes. */
  untilDone(fut: Future, bucket: Map<Future, unknown>): void {
    const rec = recordFor(fut);
    if (rec instanceof ReplyRecord) rec.bucket = bucket;
  }

  /** Answers request `id`; false if `value` cannot be sent (nothing was). A closed wire drops it. */
  answer(id: number, ok: boolean, value: unknown): boolean {
    if (this.#over) return true;
    try {
      this.#send(ok ? REPLY : FAILURE, id, ok ? value : encodeReason(value), undefined);
    } catch (error) {
      if (error instanceof TypeError) return false;
      throw error;
    }
    this.#kick();
    return true;
  }

  /** Closes the wire: the other side learns it once it has read every frame before; pending calls fail with `error`. */
  close(error: unknown): void {
    if (this.#over) return;
    Atomics.store(this.#words, this.#field(this.#me, CLOSED), 1);
    this.#ring(1 - this.#me);
    this.#finish(error);
  }

  // ---- writing ----

  /** Encodes and writes one frame, or queues it behind a full ring; throws a TypeError if the value cannot be sent. */
  #send(type: number, id: number, value: unknown, transfer: readonly unknown[] | undefined): void {
    let payload: Uint8Array | undefined;
    if (transfer === undefined || transfer.length === 0) {
      writer.pos = 0;
      if (writer.write(value)) {
        payload = writer.bytes.subarray(0, writer.pos);
      } else {
        try {
          const bytes = host().serialize(value);
          payload = new Uint8Array(bytes.length + 1);
          payload[0] = SERIALIZED;
          payload.set(bytes, 1);
        } catch {
          payload = undefined; // shared memory, a port, or something that cannot be cloned: the port decides
        }
      }
    }
    if (payload === undefined || payload.length > MAX_INLINE) {
      this.#post(value, transfer);
      payloadWords[0] = this.#portSeqOut;
      this.#put(type | VIA_PORT, id, payloadBytes);
      return;
    }
    this.#put(type, id, payload);
  }

  /** Posts a frame's value on the port; a TypeError if it cannot be cloned. */
  #post(value: unknown, transfer: readonly unknown[] | undefined): void {
    const seq = (this.#portSeqOut + 1) >>> 0;
    try {
      this.#port.postMessage({ kind: "frame", seq, value } satisfies WireMessage, transfer as object[] | undefined);
    } catch (error) {
      throw new TypeError(`The value cannot be sent to another thread: ${String(error)}`, { cause: error });
    }
    this.#portSeqOut = seq;
  }

  #put(type: number, id: number, payload: Uint8Array): void {
    if (this.#backlog.length > 0 || !this.#write(type, id, payload)) {
      this.#backlog.push({ type, id, payload: payload.slice() });
      Atomics.store(this.#words, this.#field(this.#me, WANTS_ROOM), 1);
      // The reader may have made room just before it saw the flag.
      this.#flush();
    }
  }

  /** Writes one frame if the ring has room. */
  #write(type: number, id: number, payload: Uint8Array): boolean {
    const words = this.#words;
    const tailAt = this.#field(this.#me, TAIL);
    const tail = words[tailAt] ?? 0; // only this side writes it
    const head = Atomics.load(words, this.#field(this.#me, HEAD));
    const size = FRAME_HEADER + ((payload.length + 3) & ~3);
    let pos = tail & RING_MASK;
    const skip = pos + size > RING_BYTES ? RING_BYTES - pos : 0;
    if (RING_BYTES - ((tail - head) >>> 0) < skip + size) return false;
    if (skip > 0) {
      words[(this.#myRing + pos) >> 2] = WRAP;
      pos = 0;
    }
    const at = this.#myRing + pos;
    const w = at >> 2;
    words[w] = payload.length;
    words[w + 1] = type;
    words[w + 2] = id | 0;
    this.#bytes.set(payload, at + FRAME_HEADER);
    Atomics.store(words, tailAt, (tail + skip + size) | 0);
    this.#ring(1 - this.#me);
    return true;
  }

  /** Writes what the backlog holds, as far as the ring has room. */
  #flush(): number {
    let n = 0;
    while (this.#backlog.length > 0) {
      const f = this.#backlog[0];
      if (f === undefined || !this.#write(f.type, f.id, f.payload)) break;
      this.#backlog.shift();
      n++;
    }
    if (this.#backlog.length === 0) Atomics.store(this.#words, this.#field(this.#me, WANTS_ROOM), 0);
    return n;
  }

  /** Bumps `side`'s bell; notifies it if it may sleep. */
  #ring(side: number): void {
    const bell = this.#field(side, BELL);
    Atomics.add(this.#words, bell, 1);
    if (Atomics.load(this.#words, this.#field(side, SLEEPS)) !== 0) Atomics.notify(this.#words, bell);
  }

  // ---- reading ----

  /** Reads every frame the other side has written; how many. Requests are served unless this thread blocks. */
  #drain(): number {
    const words = this.#words;
    const peer = 1 - this.#me;
    const headAt = this.#field(peer, HEAD);
    let n = 0;
    for (;;) {
      let head = words[headAt] ?? 0; // only this side writes it
      const tail = Atomics.load(words, this.#field(peer, TAIL));
      if (head === tail) break;
      let pos = head & RING_MASK;
      let w = (this.#theirRing + pos) >> 2;
      if (words[w] === WRAP) {
        head = (head + RING_BYTES - pos) | 0;
        pos = 0;
        w = this.#theirRing >> 2;
      }
      const length = words[w] ?? 0;
      const type = words[w + 1] ?? 0;
      const id = (words[w + 2] ?? 0) >>> 0;
      let value: unknown;
      let unreadable: unknown;
      try {
        value = (type & VIA_PORT) !== 0 ? this.#fromPort(words[w + 3] ?? 0) : this.#decode(this.#theirRing + pos + FRAME_HEADER, length);
      } catch (error) {
        unreadable = error;
      }
      // Past the frame before anything runs: what runs may read the wire again.
      Atomics.store(words, headAt, (head + FRAME_HEADER + ((length + 3) & ~3)) | 0);
      if (Atomics.load(words, this.#field(peer, WANTS_ROOM)) !== 0) this.#ring(peer);
      n++;
      this.#dispatch(type & ~VIA_PORT, id, value, unreadable);
    }
    return n;
  }

  #decode(at: number, length: number): unknown {
    if (this.#bytes[at] === SERIALIZED) return host().deserialize(this.#bytes.subarray(at + 1, at + length));
    reader.reset(this.#bytes, this.#view, at);
    return reader.read();
  }

  /** The value of port message `seq`, taken now if the event loop has not delivered it yet. */
  #fromPort(seq: number): unknown {
    for (;;) {
      if (this.#inbox.has(seq)) {
        const value = this.#inbox.get(seq);
        this.#inbox.delete(seq);
        return value;
      }
      const got = host().receive(this.#port);
      if (got === undefined || got === "later") {
        throw new TypeError(`rpc worker "${this.peer}" sent a value that could not be received here`);
      }
      this.#onMessage(got.message as WireMessage);
    }
  }

  #onMessage(m: WireMessage): void {
    if (m.kind === "frame") this.#inbox.set(m.seq, m.value);
    else this.#held.push(m.port);
  }

  #dispatch(type: number, id: number, value: unknown, unreadable: unknown): void {
    if (type === REQUEST) {
      if (unreadable !== undefined) {
        this.answer(id, false, unreadable);
      } else if (this.#blocking > 0) {
        this.#deferred.push({ id, request: value });
        if (this.#deferred.length === 1) queueMicrotask(() => { this.#serveDeferred(); });
      } else {
        this.#events?.request(id, value);
      }
      return;
    }
    const rec = this.pending.get(id);
    // Not pending: the call timed out or was aborted here; its late answer is dropped.
    if (rec === undefined) return;
    if (unreadable !== undefined) rec.finish(REJECTED, unreadable);
    else if (type === REPLY) rec.finish(FULFILLED, value);
    else rec.finish(REJECTED, markRaisedOn(decodeReason(value), this.peer));
  }

  #serveDeferred(): void {
    if (this.#blocking > 0) return; // still blocked (a callback blocked again): the next turn serves them
    for (let r = this.#deferred.shift(); r !== undefined; r = this.#deferred.shift()) {
      if (!this.#over) this.#events?.request(r.id, r.request);
    }
  }

  /** Reads and writes what is due; notices the other side going away. */
  poll(): number {
    if (this.#over) return 0;
    if (this.#deferred.length > 0 && this.#blocking === 0) this.#serveDeferred();
    const words = this.#words;
    const peer = 1 - this.#me;
    // Read before the marks: frames written before the other side closed or died still count.
    const closed = Atomics.load(words, this.#field(peer, CLOSED)) !== 0;
    const gone = Atomics.load(words, this.#field(peer, GONE)) !== 0;
    let n = this.#drain();
    if (this.#backlog.length > 0) n += this.#flush();
    if (closed) this.#ended("closed", undefined);
    else if (gone) this.#ended("died", undefined);
    return n;
  }

  // ---- the event loop ----

  /** This thread just sent something: an answer may come within a spin. */
  #kick(): void {
    this.#activeUntil = performance.now() + SPIN_MS;
    // Inside a turn, the turn itself looks again; while blocked, the blocking wait reads the wire.
    if (this.#turning || this.#inTurn || this.#blocking > 0) return;
    this.#turning = true;
    // A microtask looks soonest; after many in a row, a later turn lets timers and I/O run between.
    const later = ++this.#microTurns > MAX_MICRO_TURNS && soon !== undefined;
    if (later) this.#microTurns = 0;
    (later ? soon : queueMicrotask)(() => {
      this.#turning = false;
      this.#turn();
    });
  }

  /**
   * Services the wire, then listens on this side's bell without blocking;
   * just after this thread sent something, it spins on the bell instead
   * (each spin that finds nothing doubles how many turns after it only listen).
   */
  #turn(): void {
    this.#inTurn = true;
    try {
      this.#turnOnce();
    } finally {
      this.#inTurn = false;
    }
  }

  #turnOnce(): void {
    const words = this.#words;
    const bell = this.#field(this.#me, BELL);
    for (;;) {
      if (this.#over) return;
      const seen = Atomics.load(words, bell);
      if (this.poll() > 0) {
        if (!this.up) return; // what ran closed it
        // What ran may continue in microtasks (an await): let them, then look again while active.
        if (performance.now() < this.#activeUntil && soon !== undefined && !this.#turning) {
          this.#turning = true;
          soon(() => {
            this.#turning = false;
            this.#microTurns = 0;
            this.#turn();
          });
        }
        break;
      }
      if (performance.now() >= this.#activeUntil || waitAsync === undefined) break;
      if (this.#spinSkips > 0) {
        this.#spinSkips--;
        break;
      }
      if (spin(words, bell, seen, this.#activeUntil)) {
        this.#spinBackoff = 0;
        continue;
      }
      // Nothing within the spin (a busy machine: the peer waits for a core): spin less often.
      this.#spinBackoff = Math.min(64, 2 * this.#spinBackoff || 1);
      this.#spinSkips = this.#spinBackoff;
      break;
    }
    this.#listen();
  }

  /** Waits for the bell on the event loop (one listener at a time). */
  #listen(): void {
    if (this.#listening || this.#over) return;
    const words = this.#words;
    const bell = this.#field(this.#me, BELL);
    const seen = Atomics.load(words, bell);
    Atomics.store(words, this.#field(this.#me, SLEEPS), 1);
    if (waitAsync === undefined) {
      this.#listening = true;
      setTimeout(() => {
        this.#listening = false;
        this.#turn();
      }, 1);
      return;
    }
    // Anything written before SLEEPS was set is seen here; anything after notifies.
    if (this.#pendingInput()) {
      queueMicrotask(() => { this.#turn(); });
      return;
    }
    const result = waitAsync(words, bell, seen);
    if (!result.async) {
      queueMicrotask(() => { this.#turn(); });
      return;
    }
    this.#listening = true;
    void result.value.then(() => {
      this.#listening = false;
      Atomics.store(words, this.#field(this.#me, SLEEPS), 0);
      this.#turn();
    });
  }

  /** Whether a frame, a backlog's room or a mark is waiting. */
  #pendingInput(): boolean {
    const words = this.#words;
    const peer = 1 - this.#me;
    return (
      Atomics.load(words, this.#field(peer, TAIL)) !== words[this.#field(peer, HEAD)] ||
      Atomics.load(words, this.#field(peer, CLOSED)) !== 0 ||
      Atomics.load(words, this.#field(peer, GONE)) !== 0
    );
  }

  // ---- blocking (the kit calls these through a reply's record) ----

  get bell(): Int32Array {
    return this.#words;
  }

  get bellIndex(): number {
    return this.#field(this.#me, BELL);
  }

  get armed(): boolean {
    return this.#armed;
  }

  /** Polls from inside a blocking wait: requests are kept for the event loop. */
  pollBlocked(): void {
    this.#blocking++;
    try {
      this.poll();
    } finally {
      this.#blocking--;
    }
  }

  /** Sleeps on the bell while it holds `seq`, at most `timeoutMs`. */
  sleep(seq: number, timeoutMs: number): void {
    const words = this.#words;
    const sleeps = this.#field(this.#me, SLEEPS);
    Atomics.store(words, sleeps, 1);
    try {
      if (!this.#pendingInput()) Atomics.wait(words, this.#field(this.#me, BELL), seq, timeoutMs);
    } finally {
      // An event-loop listener still waits on the bell: writers must go on notifying.
      if (!this.#listening) Atomics.store(words, sleeps, 0);
    }
  }

  /** Makes the other side's death wake this thread while it blocks: a lifeline its sentinel watches. */
  arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    const p = host();
    if (this.#over || p.guardWords === undefined || Atomics.load(this.#words, this.#field(1 - this.#me, MORTAL)) === 0) return;
    const [mine, theirs] = p.channel();
    try {
      this.#port.postMessage({ kind: "lifeline", port: theirs } satisfies WireMessage, [theirs]);
    } catch {
      theirs.close();
    }
    p.guardWords(mine, this.memory, this.#field(1 - this.#me, GONE), this.#field(this.#me, BELL));
  }

  // ---- the end ----

  /** The other side closed the wire or went away: read what it wrote, then fail what is pending. */
  #ended(how: "died" | "closed", cause: unknown): void {
    if (this.#over) return;
    if (how === "died") Atomics.store(this.#words, this.#field(1 - this.#me, GONE), 1);
    this.#drain();
    if (!this.up) return; // what ran closed it
    const error = new RpcWorkerGoneError(this.peer, how === "closed" ? "it shut down" : "its thread went away", cause);
    this.#finish(error);
    this.#events?.gone(how, error);
  }

  #finish(error: unknown): void {
    this.#over = true;
    open.delete(this);
    this.#backlog.length = 0;
    this.#deferred.length = 0;
    for (const rec of [...this.pending.values()]) rec.finish(REJECTED, error);
    host().setRef(this.#port, false);
    this.#port.close();
    for (const port of this.#held.splice(0)) port.close();
  }

  #field(side: number, field: number): number {
    return SIDE_AT + side * SIDE_WORDS + field;
  }
}

/** A call's reply future as the kit sees it: a shared future whose record polls the wire. */
class ReplyRecord implements SharedRecord {
  readonly fut: Future;
  readonly #wire: Wire;
  readonly #id: number;
  done = false;
  readonly later = false;

  readonly #decode: ((value: unknown) => unknown) | undefined;
  /** The deadline's bucket it sits in, if any. */
  bucket: Map<Future, unknown> | undefined;

  constructor(wire: Wire, fut: Future, id: number, decode: ((value: unknown) => unknown) | undefined) {
    this.#wire = wire;
    this.fut = fut;
    this.#id = id;
    this.#decode = decode;
  }

  get bell(): Int32Array {
    return this.#wire.bell;
  }

  get bellIndex(): number {
    return this.#wire.bellIndex;
  }

  get armed(): boolean {
    return this.#wire.armed;
  }

  /** `setResult`/`setException` by hand: refused, the callee's answer completes it. */
  complete(state: number): void {
    const method = state === FULFILLED ? "setResult" : "setException";
    throw new DerivedFutureError(
      `${method}() was called on the future of an rpc call: it completes with the callee's answer and cannot be completed by hand. ` +
        "To give up on a call, give it a timeout or an AbortSignal.",
    );
  }

  /** Completes the call's future, once: with the answer (decoded), or an error. */
  finish(state: number, value: unknown): void {
    if (this.done) return;
    this.done = true;
    this.#wire.pending.delete(this.#id);
    this.bucket?.delete(this.fut);
    forget(this.fut);
    if (state === FULFILLED && this.#decode !== undefined) {
      try {
        value = this.#decode(value);
      } catch (error) {
        settle(this.fut, REJECTED, error);
        return;
      }
    }
    settle(this.fut, state, value);
  }

  poll(): void {
    this.#wire.pollBlocked();
  }

  watch(): void {
    // The wire's port keeps the event loop alive while the wire is open.
  }

  arm(): void {
    this.#wire.arm();
  }

  spin(seq: number, until: number): boolean {
    return spin(this.#wire.bell, this.#wire.bellIndex, seq, until);
  }

  sleep(seq: number, timeoutMs: number): void {
    this.#wire.sleep(seq, timeoutMs);
  }
}

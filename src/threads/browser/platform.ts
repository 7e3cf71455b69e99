/**
 * The browser platform: a page and its Web Workers, when the page is
 * cross-origin isolated (so that `SharedArrayBuffer` exists). The `browser/`
 * layer is this platform, its mailboxes (`mailbox.ts`), Web Locks lifetimes
 * (`life.ts`), the sentinel worker (`sentinel.ts`), and the public face of
 * `share`/`adopt` (`handle.ts`).
 *
 * Browsers cannot read a port synchronously, so each port is a
 * {@link MailPort}: a `MessagePort` plus two mailboxes (`mailbox.ts`), one
 * per direction. A message is written to the mailbox as bytes (the
 * structured-clone codec of `codecs/clone-codec.ts`) and the port only rings the
 * receiver's event loop; so a worker blocked in `wait()` reads the value that
 * woke it straight from shared memory. What bytes cannot carry — a
 * `SharedArrayBuffer`, a `MessagePort`, more than the mailbox holds — goes by
 * the port itself, and reaches the receiver through its event loop only.
 *
 * Deaths are learned from Web Locks (`life.ts`), through the event
 * loop; a worker blocked in `wait()` has its sentinel worker guard it.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { LATER, reasons, type Platform, type Port } from "../kit/index.js";
import { decode, encode, UnencodableError } from "../codecs/clone-codec.js";
import { BY_PORT, DATA, HELLO, append, cursorOf, createBox, peek, type Cursor } from "./mailbox.js";
import { isLifeToken, myLife, guardLife, whenHeld, type LifeToken } from "./life.js";
import { SENTINEL_NAME, type SentinelGuard, type SentinelLinkGuard } from "./sentinel.js";

/** Rung on the port when a record waits in the mailbox. */
const RING = 0;
/** The key of a message that went by the port itself. */
const BY_PORT_KEY = "torchFuturesByPort";

/** What a {@link MailPort} is made of, as it travels inside a handle. */
export interface MailPortData {
  readonly port: MessagePort;
  /** The mailbox this end writes. */
  readonly out: SharedArrayBuffer;
  /** The mailbox this end reads. */
  readonly in: SharedArrayBuffer;
  /** The life token of the thread at the other end, if known. */
  readonly peerLife: LifeToken | undefined;
}

/** One end of a link between two browser threads. */
export class MailPort implements Port {
  readonly port: MessagePort;
  readonly out: SharedArrayBuffer;
  readonly inbox: Cursor;
  peerLife: LifeToken | undefined;
  closed = false;
  /** Set by `listen`: what to call when the other end's thread is gone. */
  private onGone: (() => void) | undefined;
  private unguard: (() => void) | undefined;

  constructor(data: MailPortData) {
    this.port = data.port;
    this.out = data.out;
    this.inbox = cursorOf(data.in);
    this.peerLife = data.peerLife;
  }

  /** What to put in a handle for this end to be rebuilt on another thread. */
  data(): MailPortData {
    return { port: this.port, out: this.out, in: this.inbox.box, peerLife: this.peerLife };
  }

  postMessage(message: unknown, transfer?: readonly object[]): void {
    if (this.closed) return;
    let bytes: Uint8Array | undefined;
    try {
      bytes = encodeMessage(message, transfer);
    } catch (error) {
      if (!(error instanceof UnencodableError)) throw error;
    }
    if (bytes !== undefined && append(this.out, DATA, bytes)) {
      if (transfer !== undefined && transfer.length > 0) detach(transfer);
      this.port.postMessage(RING);
      return;
    }
    // The record first, so that a receiver reading the port's message finds it; taken back if the port refuses.
    const words = new Int32Array(this.out, 0, 1);
    const end = Atomics.load(words, 0);
    append(this.out, BY_PORT, undefined);
    try {
      this.port.postMessage({ [BY_PORT_KEY]: message }, transfer === undefined ? [] : (transfer as Transferable[]));
    } catch (error) {
      Atomics.store(words, 0, end);
      throw error;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    this.unguard?.();
    this.unguard = undefined;
  }

  /** Sends this thread's life token to the other end (an adopter does, once). */
  hello(): void {
    whenHeld((life) => {
      if (!this.closed && append(this.out, HELLO, encode(life))) this.port.postMessage(RING);
    });
  }

  /** Starts guarding the other end's thread, once it is known and someone listens. */
  guardPeer(onGone: () => void): void {
    this.onGone = onGone;
    this.startGuard();
  }

  /** The other end said who it is. */
  learnPeer(token: unknown): void {
    if (!isLifeToken(token) || this.peerLife !== undefined) return;
    this.peerLife = token;
    this.startGuard();
  }

  private startGuard(): void {
    const peer = this.peerLife;
    const onGone = this.onGone;
    if (peer === undefined || onGone === undefined || this.unguard !== undefined || this.closed) return;
    this.unguard = guardLife(peer, () => {
      if (!this.closed) onGone();
    });
  }
}

function encodeMessage(message: unknown, transfer: readonly object[] | undefined): Uint8Array {
  if (transfer !== undefined) {
    for (const item of transfer) {
      if (!(item instanceof ArrayBuffer)) throw new UnencodableError("a transferred object other than an ArrayBuffer");
    }
  }
  return encode(message);
}

/** The sender loses what it transferred, as with `postMessage`, though the bytes were copied. */
function detach(transfer: readonly object[]): void {
  structuredClone(transfer, { transfer: transfer as Transferable[] });
}

/** Takes the next record that can be read synchronously. */
function receive(mp: MailPort): { message: unknown } | undefined | typeof LATER {
  for (;;) {
    if (mp.closed) return undefined;
    const record = peek(mp.inbox);
    if (record === undefined) return undefined;
    if (record.kind === BY_PORT) return LATER;
    mp.inbox.at = record.next;
    const message = decode(record.bytes);
    if (record.kind === HELLO) mp.learnPeer(message);
    else return { message };
  }
}

function isByPort(data: unknown): data is Record<typeof BY_PORT_KEY, unknown> {
  return typeof data === "object" && data !== null && BY_PORT_KEY in data;
}

/** Skips the mailbox's record of a message that came by the port. */
function skipByPort(mp: MailPort): void {
  const record = peek(mp.inbox);
  if (record?.kind === BY_PORT) mp.inbox.at = record.next;
}

let sentinel: MessagePort | undefined;
let sentinelUp = false;
const onSentinelUp: (() => void)[] = [];

/**
 * The sentinel of a worker (a thread that may block), started when it first
 * shares or adopts: a worker cannot start another while it blocks. Until the
 * sentinel has said it is up, a blocked worker has none, and only its
 * timeout bounds the wait.
 */
export function sentinelPort(): MessagePort | undefined {
  if (sentinel !== undefined) return sentinel;
  if (typeof Worker !== "function" || !browserPlatform.canBlock) return undefined;
  try {
    const worker = new Worker(new URL("./sentinel.js", import.meta.url), { type: "module", name: SENTINEL_NAME });
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      sentinelUp = true;
      for (const run of onSentinelUp.splice(0)) run();
    };
    worker.postMessage(port2, [port2]);
    sentinel = port1;
  } catch {
    return undefined;
  }
  return sentinel;
}

/** Resolves once this thread's sentinel is up (at once where it needs none). */
export function sentinelReady(): Promise<void> {
  return new Promise((resolve) => {
    if (sentinelPort() === undefined || sentinelUp) resolve();
    else onSentinelUp.push(resolve);
  });
}

function canBlockHere(): boolean {
  try {
    // A value that differs returns at once where blocking is allowed, and throws where it is not.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The life token of the thread at `mp`'s other end, if known. */
function peerLifeOf(mp: MailPort): LifeToken | undefined {
  // An adopter's (an opener's) first record says who it is; a blocked owner may not have read it yet.
  const first = peek(mp.inbox);
  if (mp.peerLife === undefined && first?.kind === HELLO) {
    mp.inbox.at = first.next;
    mp.learnPeer(decode(first.bytes));
  }
  return mp.peerLife;
}

let canBlock: boolean | undefined;
const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "function";

/** The browser platform. */
export const browserPlatform: Platform<MailPort> = {
  channel() {
    const { port1, port2 } = new MessageChannel();
    const a = createBox();
    const b = createBox();
    const life = myLife();
    return [
      new MailPort({ port: port1, out: a, in: b, peerLife: undefined }),
      new MailPort({ port: port2, out: b, in: a, peerLife: life }),
    ];
  },
  receive,
  listen(mp, onMessage, onUnreadable, onClose) {
    const pump = (): void => {
      for (;;) {
        let got: { message: unknown } | undefined | typeof LATER;
        try {
          got = receive(mp);
        } catch (error) {
          onUnreadable(error);
          continue;
        }
        if (got === undefined || got === LATER) return;
        onMessage(got.message);
      }
    };
    mp.port.onmessage = (event: MessageEvent) => {
      if (mp.closed) return;
      const data: unknown = event.data;
      if (isByPort(data)) {
        skipByPort(mp);
        onMessage(data[BY_PORT_KEY]);
      }
      pump();
    };
    mp.port.onmessageerror = () => {
      if (mp.closed) return;
      skipByPort(mp);
      onUnreadable(new TypeError(reasons.UNDESERIALIZABLE));
      pump();
    };
    mp.guardPeer(onClose);
    // Records written before anyone listened.
    pump();
  },
  setRef() {
    // Browsers keep a page and its workers alive regardless.
  },
  guardCell(mp, cell, participant, counted) {
    const life = peerLifeOf(mp);
    const port = life === undefined ? undefined : sentinelPort();
    if (port === undefined || life === undefined) return;
    const guard: SentinelGuard = { life, cell, participant, counted };
    port.postMessage(guard);
  },
  guardLink(mp, link, side) {
    const life = peerLifeOf(mp);
    const port = life === undefined ? undefined : sentinelPort();
    if (port === undefined || life === undefined) return;
    const guard: SentinelLinkGuard = { life, link, side };
    port.postMessage(guard);
  },
  packPort(mp) {
    return { packed: mp.data(), transfer: [mp.port] };
  },
  unpackPort(packed) {
    // An adopter's end: it tells the owner who it is, as adopt() does.
    const mp = new MailPort(packed as MailPortData);
    mp.hello();
    return mp;
  },
  serialize: encode,
  deserialize: decode,
  mortal: inWorker,
  get canBlock() {
    canBlock ??= canBlockHere();
    return canBlock;
  },
  lifelines: false,
};

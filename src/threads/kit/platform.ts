/**
 * The platform seam: what a protocol may ask of the thread it runs on —
 * message ports, a way to read them without the event loop, a sentinel that
 * notices deaths while this thread blocks, and structured-clone bytes. The
 * Node.js platform (`node/platform.ts`) and the browser one
 * (`browser/platform.ts`) implement it; protocols reach it through
 * {@link host}, so they import nothing from either.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** A message port as the protocols use it. */
export interface Port {
  postMessage(message: unknown, transfer?: readonly object[]): void;
  close(): void;
}

/** What the protocols need of the platform (Node.js `worker_threads`, or a page and its Web Workers). */
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
   * thread the sentinel guards.
   */
  guardCell(port: P, cell: SharedArrayBuffer, participant: number, counted: SharedArrayBuffer | undefined): void;
  /**
   * Gives `port` to this thread's sentinel, which calls
   * `linkPeerGone(words, layout, side)` on the link's memory when the port closes.
   */
  guardLink(port: P, link: SharedArrayBuffer, side: number): void;
  /**
   * Gives the lifeline `port` to this thread's sentinel, which calls
   * `wordsGone(words, gone, bell)` on `memory` when it closes: for a protocol
   * with a memory layout of its own. Absent where the sentinel cannot (browsers).
   */
  guardWords?(port: P, memory: SharedArrayBuffer, gone: number, bell: number): void;
  /**
   * Serializes `value` as structured clone would; throws if it cannot be
   * serialized here (shared memory, ports and other platform objects go by
   * message instead, which decides for good).
   */
  serialize(value: unknown): Uint8Array;
  /** The inverse of `serialize`; `bytes` may be a view of shared memory. */
  deserialize(bytes: Uint8Array): unknown;
  /**
   * What `port` becomes to travel inside a message on another port, and what
   * that message must transfer; {@link Platform.unpackPort} rebuilds it on
   * the receiving thread. Absent: a port travels as it is (Node.js).
   */
  packPort?(port: P): { packed: unknown; transfer: object[] };
  /** The inverse of {@link Platform.packPort}, on the receiving thread. */
  unpackPort?(packed: unknown): P;
  /** Whether this thread can go away while the others go on (a worker, not the main thread). */
  readonly mortal: boolean;
  /** Whether this thread may block in `Atomics.wait` (a browser window's main thread may not). */
  readonly canBlock: boolean;
  /** Whether {@link Platform.guardCell} takes lifeline ports (Node.js) rather than the peers' ports (browsers). */
  readonly lifelines: boolean;
}

/** See {@link Platform.receive}. */
export const LATER = "later";

let platform: Platform | undefined;

/** Installs the platform this thread runs on (once, by a public entry). */
export function installPlatform(p: Platform): void {
  platform = p;
}

/** The installed platform. */
export function host(): Platform {
  if (platform === undefined) throw new Error("internal: torch-futures/threads has no platform installed");
  return platform;
}

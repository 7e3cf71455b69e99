/**
 * The errors of `torch-futures/rpc`. Each extends the core class a user would
 * already catch for the same situation: a timeout is a `FutureTimeoutError`,
 * a worker that went away a `BrokenFutureError`, a bad use of the group an
 * {@link RpcError} (a `FutureError`). Errors raised by remote functions come
 * back as themselves; {@link raisedOn} tells which worker raised one.
 *
 * @module
 */
import { BrokenFutureError, FutureError, FutureNotCompletedError, FutureTimeoutError } from "../errors.js";
import { registerErrorClass } from "../threads/codecs/error-codec.js";

/**
 * A bad use of the RPC group: an unknown worker or function, a call after
 * shutdown, a group set up twice. Its message says what to do instead.
 *
 * @example
 * ```ts
 * import { RpcError, type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ add(a: number, b: number): number }>;
 * try {
 *   agent.rpcAsync("nobody", "add", [1, 2]);
 * } catch (e) {
 *   if (e instanceof RpcError) console.log(e.message); // names the workers there are
 * }
 * ```
 */
export class RpcError extends FutureError {}

/**
 * A call that did not complete in time: its future fails with it, and a reply
 * that arrives later is dropped. A `FutureTimeoutError`, so code that handles
 * timeouts of futures handles it too.
 *
 * @example
 * ```ts
 * import { RpcTimeoutError, type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ slow(): number }>;
 * try {
 *   agent.rpcSync("worker1", "slow", [], { timeout: 100 });
 * } catch (e) {
 *   if (e instanceof RpcTimeoutError) console.log(e.worker, e.fn); // "worker1" "slow"
 * }
 * ```
 */
export class RpcTimeoutError extends FutureTimeoutError {
  /** The worker the call went to. */
  readonly worker: string;
  /** The function it called. */
  readonly fn: string;

  /**
   * @param worker - the worker the call went to.
   * @param fn - the function it called.
   * @param timeoutMs - the timeout that passed.
   */
  constructor(worker: string, fn: string, timeoutMs: number) {
    super(`rpc to "${worker}" calling "${fn}" timed out after ${timeoutMs} ms; a reply that arrives later is dropped`);
    this.worker = worker;
    this.fn = fn;
  }
}

/**
 * The worker a call went to has gone away (its thread exited, threw, was
 * terminated or ran out of memory; its process was killed; its host dropped
 * off the network): every call in flight to it fails with this, and every
 * later call at once. A `BrokenFutureError`, like any future whose
 * completing thread died.
 *
 * @example
 * ```ts
 * import { RpcWorkerGoneError, type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ work(): void }>;
 * agent.rpcAsync("worker1", "work", []).then(undefined, (e: unknown) => {
 *   if (e instanceof RpcWorkerGoneError) console.log(`${e.worker} died`);
 * });
 * ```
 */
export class RpcWorkerGoneError extends BrokenFutureError {
  /** The worker that went away. */
  readonly worker: string;

  /**
   * @param worker - the worker that went away.
   * @param detail - what the transport saw, for the message.
   * @param cause - the transport's own error, if any.
   */
  constructor(worker: string, detail: string, cause?: unknown) {
    super(`rpc worker "${worker}" has gone away (${detail}); calls to it fail from now on`, cause === undefined ? undefined : { cause });
    this.worker = worker;
  }
}

/**
 * The group was shut down (not gracefully) while the call was in flight, or
 * the call was made after shutdown.
 *
 * @example
 * ```ts
 * import { RpcShutdownError, type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ work(): void }>;
 * await agent.shutdown({ graceful: false });
 * try { agent.rpcAsync("worker1", "work", []); } catch (e) { e instanceof RpcShutdownError; } // true
 * ```
 */
export class RpcShutdownError extends RpcError {}

/**
 * A second process tried to join a group under a worker name that another
 * process already holds (two workers started with the same `name`). The
 * transport that joined first keeps working; the second one never serves,
 * never sends a heartbeat, and its `natsTransport()` rejects with this.
 *
 * @example
 * ```ts
 * import { RpcDuplicateWorkerError } from "torch-futures/rpc";
 * import { natsTransport } from "torch-futures/rpc/nats";
 * try {
 *   await natsTransport({ servers: "nats://127.0.0.1:4222", name: "worker1", workers: ["main", "worker1"] });
 * } catch (e) {
 *   if (e instanceof RpcDuplicateWorkerError) console.log(`${e.worker} is taken: start this process under another name`);
 * }
 * ```
 */
export class RpcDuplicateWorkerError extends RpcError {
  /** The worker name that is taken. */
  readonly worker: string;

  /**
   * @param worker - the worker name that is taken.
   * @param message - what was seen and what to do.
   */
  constructor(worker: string, message: string) {
    super(message);
    this.worker = worker;
  }
}

/**
 * The connection to the message server dropped while the call was in flight
 * (the NATS transport reconnects by itself): its reply may be lost, so the
 * call fails at once rather than at its timeout, and it may or may not have
 * run on the worker. Later calls go through once the connection is back.
 * Retry only calls that are safe to run twice.
 *
 * @example
 * ```ts
 * import { RpcConnectionLostError, type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ get(key: string): number }>;
 * const read = (): Promise<number> =>
 *   Promise.resolve(agent.rpcAsync("worker1", "get", ["n"])).catch((e: unknown) => {
 *     if (e instanceof RpcConnectionLostError) return read(); // a read: safe to run twice
 *     throw e;
 *   });
 * ```
 */
export class RpcConnectionLostError extends RpcError {
  /** The worker the call went to. */
  readonly worker: string;

  /**
   * @param worker - the worker the call went to.
   * @param message - what happened and what to do.
   */
  constructor(worker: string, message: string) {
    super(message);
    this.worker = worker;
  }
}

/**
 * `rpcSync` on a thread or transport that cannot block (a browser's main
 * thread, or the NATS transport, whose replies need the event loop). Use
 * `await agent.rpcAsync(...)` instead.
 *
 * @example
 * ```ts
 * import { RpcCannotBlockError, type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ add(a: number, b: number): number }>;
 * try { agent.rpcSync("worker1", "add", [1, 2]); } catch (e) { if (e instanceof RpcCannotBlockError) await agent.rpcAsync("worker1", "add", [1, 2]); }
 * ```
 */
export class RpcCannotBlockError extends FutureNotCompletedError {}

/**
 * The worker an error was raised on, for an error that came back from a
 * remote call (`undefined` for any other value). The error itself keeps its
 * class, message, stack and `cause`.
 *
 * @example
 * ```ts
 * import { raisedOn, type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ fail(): never }>;
 * try { await agent.rpcAsync("worker1", "fail", []); } catch (e) { console.log(raisedOn(e)); } // "worker1"
 * ```
 */
export function raisedOn(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  return origins.get(error);
}

const origins = new WeakMap<object, string>();

/** Notes, on an error that came back from `worker`, where it was raised (also in its stack). */
export function markRaisedOn(error: unknown, worker: string): unknown {
  if (typeof error !== "object" || error === null || origins.has(error)) return error;
  origins.set(error, worker);
  if (error instanceof Error && typeof error.stack === "string") {
    try {
      error.stack = `${error.stack}\n    at rpc worker "${worker}"`;
    } catch {
      // A frozen error keeps its stack; raisedOn() still tells.
    }
  }
  return error;
}

// Each crosses threads and the NATS wire as itself (both ends load this module).
registerErrorClass("RpcError", RpcError);
registerErrorClass("RpcTimeoutError", RpcTimeoutError);
registerErrorClass("RpcWorkerGoneError", RpcWorkerGoneError);
registerErrorClass("RpcShutdownError", RpcShutdownError);
registerErrorClass("RpcCannotBlockError", RpcCannotBlockError);
registerErrorClass("RpcDuplicateWorkerError", RpcDuplicateWorkerError);
registerErrorClass("RpcConnectionLostError", RpcConnectionLostError);

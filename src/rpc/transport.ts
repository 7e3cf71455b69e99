/**
 * What an RPC transport provides to the {@link RpcAgent}: a way to send a
 * request to a named peer and get back a `Future` of its reply, a way to
 * serve the requests peers send here, and news of peers that go away. The
 * agent does everything else (registration, RRefs, timeouts' typed errors,
 * shutdown), so a transport is small: one per medium (worker threads over
 * `FutureLink`s, NATS).
 *
 * @module
 */
import type { Future } from "../future.js";

/**
 * One request on the wire. `kind` tells the agent what to do with it: call a
 * registered function, or one of the agent's own operations (RRefs, shutdown).
 */
export interface RpcRequest {
  /** What the request asks for: `"call"` a function, or an agent operation. */
  readonly kind: "call" | "remote" | "fetch" | "addRef" | "release" | "done" | "count";
  /** The registered function's name (`call`, `remote`). */
  readonly fn?: string;
  /** The arguments, RRefs replaced by their wire form ({@link RRefWire}). */
  readonly args?: readonly unknown[];
  /** `call`, `remote`: the id of an RRef owned here whose value's method `fn` is (torch's `rref.rpc_async().fn()`). */
  readonly self?: string;
  /** The RRef the request is about (`remote`: the id to store under; `fetch`, `addRef`, `release`). */
  readonly rref?: string;
  /** `addRef`: the worker that becomes a holder (the one the sender passes the RRef to); `release`: the one that lets go, if not the sender. */
  readonly holder?: string;
}

/** An RRef as it travels: which worker owns the value, and its id there. */
export interface RRefWire {
  /** Marks the object as an RRef on the wire. */
  readonly torchFuturesRRef: 1;
  /** The owner's worker name. */
  readonly owner: string;
  /** The value's id on its owner. */
  readonly id: string;
}

/** How the agent answers one request: the reply value, a Promise of it, or a Future of it. */
export type RequestHandler = (request: RpcRequest, from: string) => unknown;

/** Options of one call, as the agent passes them to the transport. */
export interface CallOptions {
  /** Milliseconds before the call fails with the error `timeoutError()` makes; none if undefined. */
  readonly timeoutMs: number | undefined;
  /** Makes the error a call fails with when it times out. */
  readonly timeoutError: () => Error;
  /** Buffers to move rather than copy, where the transport can (threads). */
  readonly transfer?: readonly Transferable[] | undefined;
  /** Fails the call with the signal's reason when it aborts; a later reply is dropped. */
  readonly signal?: AbortSignal | undefined;
  /** Maps a reply's value (as it arrived) to the value the call's future completes with. */
  readonly decode?: ((value: unknown) => unknown) | undefined;
}

/**
 * A medium that carries requests and replies between the workers of one group.
 * Every method is called on the agent's thread.
 */
export interface Transport {
  /** This worker's name. */
  readonly name: string;
  /** Every worker of the group, this one included, in rank order. */
  readonly workers: readonly string[];
  /**
   * Sends `request` to `to` and returns a future of its reply: the handler's
   * value, or its error as thrown (class, message, stack, cause). Fails with
   * `options.timeoutError()` at the deadline (a late reply is dropped), and
   * with `RpcWorkerGoneError` once `to` has gone away.
   * Throws (changing nothing) if the request cannot be sent.
   */
  call(to: string, request: RpcRequest, options: CallOptions): Future;
  /**
   * Like `call`, blocking this thread until the reply; throws the reply's
   * error. A transport that cannot block throws `RpcCannotBlockError`.
   */
  callSync(to: string, request: RpcRequest, options: CallOptions): unknown;
  /** Installs the handler for requests from peers (called once, before any request can arrive). */
  serve(handler: RequestHandler): void;
  /** Whether `peer` is still there (false once it has gone away or the transport closed). */
  alive(peer: string): boolean;
  /** Calls `listener(peer, cause)` once for each peer that goes away. */
  onGone(listener: (peer: string, cause: unknown) => void): void;
  /** Stops serving and lets go of every resource; calls in flight fail with `error`. */
  close(error: Error): Promise<void>;
}

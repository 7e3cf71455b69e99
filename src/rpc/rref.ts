/**
 * `RRef`: a reference to a value that lives on one worker of an RPC group
 * (its owner), made by `agent.remote()` — torch's `RRef`, with reference
 * counts that let the owner free the value once no holder is left.
 *
 * @module
 */
import type { Future } from "../future.js";
import type { RRefWire } from "./transport.js";

/** What an RRef asks of the agent that made it. @internal */
export interface RRefAgent {
  isOwner(): boolean;
  localValue(): unknown;
  fetch(sync: boolean, timeout: number | undefined): unknown;
  release(): void;
}

const internals = new WeakMap<RRef<unknown>, { owner: string; id: string; agent: RRefAgent; released: boolean }>();

/**
 * A remote reference: the value of a call made with `agent.remote()`, kept on
 * the worker that ran it (its owner) until every holder lets go. Fetch a
 * copy with {@link RRef.toHere} (blocking) or {@link RRef.toHereAsync}; on
 * the owner, {@link RRef.localValue} is the value itself. Pass it as an
 * argument (at any depth of plain arrays and objects) to another call and
 * the receiver gets an `RRef` to the same value, counted as a holder.
 *
 * Each `RRef` object is one holder. It lets go when it is garbage-collected,
 * or at once with {@link RRef.release}. An `RRef` is a handle, not a value:
 * `JSON.stringify` refuses it, and it is not thenable.
 *
 * @typeParam T - the type of the value.
 *
 * @example
 * ```ts
 * import { type RpcAgent } from "torch-futures/rpc";
 * declare const agent: RpcAgent<{ table(): Map<string, number>; size(t: Map<string, number>): number }>;
 * const ref = agent.remote("worker1", "table", []);
 * ref.owner(); // "worker1"
 * const copy = await ref.toHereAsync();
 * ref.release(); // worker1 may now free the table
 * ```
 */
export class RRef<T> {
  /** Carries `T` for the type checker only; never present at runtime. */
  declare readonly __rrefType?: () => T;

  /** @internal Made by the agent. */
  constructor(owner: string, id: string, agent: RRefAgent) {
    internals.set(this, { owner, id, agent, released: false });
  }

  /**
   * The name of the worker that owns the value (torch: `owner()`, a `WorkerInfo`).
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<number>;
   * console.log(ref.owner()); // "worker1"
   * ```
   */
  owner(): string {
    return inside(this).owner;
  }

  /**
   * Whether this worker owns the value.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<number>;
   * if (ref.isOwner()) console.log(ref.localValue());
   * ```
   */
  isOwner(): boolean {
    return inside(this).agent.isOwner();
  }

  /**
   * The value itself, on its owner, once the call that made it has completed;
   * throws the call's error if it failed.
   *
   * @throws `RpcError` on any other worker (use `toHere()`); `FutureNotCompletedError`
   * while the call that makes the value is still running.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<number[]>; // received by its owner as an argument
   * ref.localValue().push(1); // changes the owner's value, not a copy
   * ```
   */
  localValue(): T {
    return inside(this).agent.localValue() as T;
  }

  /**
   * A copy of the value, fetched from its owner, blocking this thread until it
   * arrives (torch's `to_here()`); throws the error of the call that made it.
   * Blocks where `rpcSync` can; elsewhere throws `RpcCannotBlockError`: use
   * {@link RRef.toHereAsync}.
   *
   * @param timeout - milliseconds to wait at most (`RpcTimeoutError`); default the group's `rpcTimeout`.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<number>;
   * const n = ref.toHere(5_000);
   * ```
   */
  toHere(timeout?: number): T {
    return live(this, "toHere").agent.fetch(true, timeout) as T;
  }

  /**
   * A future of a copy of the value, fetched from its owner.
   *
   * @param timeout - milliseconds to wait at most (`RpcTimeoutError`); default the group's `rpcTimeout`.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<number>;
   * const n = await ref.toHereAsync();
   * ```
   */
  toHereAsync(timeout?: number): Future<T> {
    return live(this, "toHereAsync").agent.fetch(false, timeout) as Future<T>;
  }

  /**
   * Lets go of the value now instead of when this object is garbage-collected;
   * the owner frees it once no holder is left. Calling it again does nothing;
   * the RRef cannot be fetched or sent afterwards.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<Float64Array>;
   * ref.release();
   * ```
   */
  release(): void {
    const state = inside(this);
    if (state.released) return;
    state.released = true;
    state.agent.release();
  }

  /**
   * Refuses to be serialized: an RRef is a handle to a value on another worker.
   *
   * @throws TypeError always.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<number>;
   * JSON.stringify({ ref }); // TypeError: send the RRef as a call argument, or ref.toHere()
   * ```
   */
  toJSON(): never {
    throw new TypeError("An RRef cannot be serialized: pass it as an argument of an rpc call, or serialize ref.toHere().");
  }
}

function inside<T>(ref: RRef<T>): { owner: string; id: string; agent: RRefAgent; released: boolean } {
  const state = internals.get(ref);
  if (state === undefined) throw new TypeError("Not an RRef made by an rpc agent.");
  return state;
}

function live<T>(ref: RRef<T>, method: string): { owner: string; id: string; agent: RRefAgent } {
  const state = inside(ref);
  if (state.released) throw new TypeError(`${method}() on an RRef after release(): it no longer refers to a value.`);
  return state;
}

/** The owner and id of an RRef, for sending it. @internal */
export function rrefInternals(ref: RRef<unknown>): { owner: string; id: string } {
  return live(ref, "sending");
}

/** Whether a received value is an RRef's wire form. @internal */
export function isRRefWire(value: object): value is RRefWire {
  const v = value as Partial<RRefWire>;
  return v.torchFuturesRRef === 1 && typeof v.owner === "string" && typeof v.id === "string";
}

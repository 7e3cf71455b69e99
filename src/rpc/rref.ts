/**
 * `RRef`: a reference to a value that lives on one worker of an RPC group
 * (its owner), made by `agent.remote()` — torch's `RRef`, with reference
 * counts that let the owner free the value once no holder is left.
 *
 * @module
 */
import type { Future } from "../future.js";
import type { RpcCallOptions, RpcResult } from "./agent.js";
import type { RRefWire } from "./transport.js";

/** What an RRef asks of the agent that made it. @internal */
export interface RRefAgent {
  isOwner(): boolean;
  localValue(): unknown;
  fetch(sync: boolean, timeout: number | undefined): unknown;
  callMethod(mode: RRefCallMode, method: string, args: unknown[], options: RpcCallOptions | undefined): unknown;
  release(): void;
}

/**
 * How a method of an RRef's value is called on its owner: blocking
 * (`"sync"`), as a future (`"async"`), or as a new RRef (`"remote"`).
 *
 * @example
 * ```ts
 * import type { RRefCallMode } from "torch-futures/rpc";
 * const mode: RRefCallMode = "async";
 * ```
 */
export type RRefCallMode = "sync" | "async" | "remote";

/**
 * The names of the methods of `T`, as an RRef's stand-ins call them (`then`
 * left out: the stand-ins are never thenable).
 *
 * @example
 * ```ts
 * import type { RRefMethodName } from "torch-futures/rpc";
 * const name: RRefMethodName<Map<string, number>> = "has";
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any method type
export type RRefMethodName<T> = Exclude<Extract<{ [K in keyof T]: T[K] extends (...args: any[]) => unknown ? K : never }[keyof T], string>, "then">;

/**
 * A typed stand-in for the value of an RRef, whose methods run on its owner
 * (torch's `rref.rpc_sync()`, `rref.rpc_async()`, `rref.remote()`): with
 * `Mode` `"sync"` each returns the method's result, `"async"` a `Future` of
 * it, `"remote"` an {@link RRef} to it, kept on the owner.
 *
 * @typeParam T - the type of the RRef's value.
 * @typeParam Mode - how each call gives back its result.
 *
 * @example
 * ```ts
 * import type { RRef, RRefMethods } from "torch-futures/rpc";
 * declare const ref: RRef<Map<string, number>>;
 * const methods: RRefMethods<Map<string, number>, "async"> = ref.rpcAsync();
 * const size = await methods.has("a"); // Map.prototype.has ran on the owner
 * ```
 */
export type RRefMethods<T, Mode extends RRefCallMode> = {
  readonly [K in RRefMethodName<T>]: T[K] extends (...args: infer A) => unknown
    ? (...args: A) => Mode extends "sync" ? RpcResult<T[K]> : Mode extends "async" ? Future<RpcResult<T[K]>> : RRef<RpcResult<T[K]>>
    : never;
};

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
   * A stand-in whose methods run on the owner, on the value itself, each
   * blocking until its result (torch's `rref.rpc_sync().method(...)`). Blocks
   * where `rpcSync` can; elsewhere each call throws `RpcCannotBlockError`.
   * A call made before the value exists waits for it.
   *
   * @param options - timeout and signal of each call, as for `rpcSync`.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<{ step(lr: number): number }>;
   * const loss = ref.rpcSync().step(0.1); // ran on the owner, on its object
   * ```
   */
  rpcSync(options?: RpcCallOptions): RRefMethods<T, "sync"> {
    return methods(this, "sync", options);
  }

  /**
   * A stand-in whose methods run on the owner, on the value itself, each
   * returning a `Future` of its result at once (torch's `rref.rpc_async()`).
   *
   * @param options - timeout and signal of each call, as for `rpcAsync`.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<{ step(lr: number): number }>;
   * const loss = await ref.rpcAsync().step(0.1);
   * ```
   */
  rpcAsync(options?: RpcCallOptions): RRefMethods<T, "async"> {
    return methods(this, "async", options);
  }

  /**
   * A stand-in whose methods run on the owner, on the value itself, each
   * returning at once an `RRef` to its result, which stays on the owner
   * (torch's `rref.remote()`).
   *
   * @param options - timeout and signal of each call, as for `remote`.
   *
   * @example
   * ```ts
   * import { type RRef } from "torch-futures/rpc";
   * declare const ref: RRef<{ params(): Float64Array }>;
   * const params = ref.remote().params(); // an RRef<Float64Array>, on the same owner
   * ```
   */
  remote(options?: RpcCallOptions): RRefMethods<T, "remote"> {
    return methods(this, "remote", options);
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

function methods<T, Mode extends RRefCallMode>(ref: RRef<T>, mode: Mode, options: RpcCallOptions | undefined): RRefMethods<T, Mode> {
  const method = mode === "sync" ? "rpcSync" : mode === "async" ? "rpcAsync" : "remote";
  live(ref, method);
  return new Proxy(Object.create(null) as object, {
    get: (_target, key) => {
      // Not thenable: `await ref.rpcAsync()` gives the stand-in and calls nothing.
      if (typeof key !== "string" || key === "then") return undefined;
      return (...args: unknown[]) => live(ref, `${method}().${key}`).agent.callMethod(mode, key, args, options);
    },
  }) as RRefMethods<T, Mode>;
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

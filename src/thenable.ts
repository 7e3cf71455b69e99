/**
 * Promises/A+ for `Future.then`: reactions that run their handler in a
 * microtask, and the resolution procedure that adopts returned thenables.
 * Kept apart from the torch-style callbacks, which run synchronously.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { enqueue, isDone, settle, settleInLoop, type Reaction, type Slot } from "./callback-queue.js";
import type * as states from "./states.js";
import { Future } from "./future.js";

// Module-local copies of the states: V8 folds these, never an imported binding (see states.ts).
const FULFILLED: typeof states.FULFILLED = 3;
const REJECTED: typeof states.REJECTED = 4;

type Handler = ((value: never) => unknown) | null | undefined;

/** A `then` registration: fires its handler asynchronously once the parent completes. */
export class ThenReaction implements Reaction {
  private declare readonly onFulfilled: Handler;
  private declare readonly onRejected: Handler;
  private declare readonly child: Slot;

  constructor(onFulfilled: Handler, onRejected: Handler, child: Slot) {
    this.onFulfilled = onFulfilled;
    this.onRejected = onRejected;
    this.child = child;
  }

  _completes(): undefined {
    // Its handler runs in a microtask, never within the completion.
    return undefined;
  }

  _run(parent: Slot): void {
    queueMicrotask(() => {
      this.fire(parent);
    });
  }

  private fire(parent: Slot): void {
    const handler = parent._state === FULFILLED ? this.onFulfilled : this.onRejected;
    if (typeof handler !== "function") {
      settle(this.child, parent._state as number, parent._value);
      return;
    }
    let x: unknown;
    try {
      x = (handler as (value: unknown) => unknown)(parent._value);
    } catch (error) {
      settle(this.child, REJECTED, error);
      return;
    }
    resolveWith(this.child, x);
  }
}

/** Completes `child` with the state of another future once it completes. */
class Adoption implements Reaction {
  private declare readonly child: Slot;

  constructor(child: Slot) {
    this.child = child;
  }

  _completes(): Slot {
    return this.child;
  }

  _run(source: Slot): void {
    const value = source._value;
    // A future may hold a thenable (setResult stores by reference): adopt it, as Promise.then would.
    if (source._state === FULFILLED && isObjectLike(value)) resolveWith(this.child, value);
    else settleInLoop(this.child, source._state as number, value);
  }
}

/** The Promises/A+ resolution procedure (2.3) for a derived, pending `child`. */
function resolveWith(child: Slot, x: unknown): void {
  if (x === child) {
    settle(child, REJECTED, new TypeError("A then() handler returned the future that then() returned (a cycle)."));
    return;
  }
  if (x instanceof Future) {
    // 2.3.2: adopt our own futures directly. A completed one may hold a thenable, even
    // another future (setResult stores by reference): follow it, refusing cycles.
    let seen: Set<unknown> | undefined;
    while (x instanceof Future && x._state === FULFILLED && isObjectLike(x._value)) {
      (seen ??= new Set()).add(x);
      x = x._value;
      if (x === child || seen.has(x)) {
        settle(child, REJECTED, new TypeError("A then() handler returned a future that holds itself (a cycle)."));
        return;
      }
    }
    if (x instanceof Future) {
      if (isDone(x._state)) settle(child, x._state as number, x._value);
      else enqueue(x, new Adoption(child));
      return;
    }
  }
  if (!isObjectLike(x)) {
    settle(child, FULFILLED, x);
    return;
  }
  let then: unknown;
  try {
    then = (x as { then?: unknown }).then;
  } catch (error) {
    settle(child, REJECTED, error);
    return;
  }
  if (typeof then !== "function") {
    settle(child, FULFILLED, x);
    return;
  }
  // 2.3.3.3: only the first call of either function, or a throw before it, counts.
  let called = false;
  try {
    (then as (this: unknown, ok: (y: unknown) => void, fail: (r: unknown) => void) => unknown).call(
      x,
      (y) => {
        if (called) return;
        called = true;
        resolveWith(child, y);
      },
      (reason) => {
        if (called) return;
        called = true;
        settle(child, REJECTED, reason);
      },
    );
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the callbacks above set it
    if (!called) {
      called = true;
      settle(child, REJECTED, error);
    }
  }
}

function isObjectLike(x: unknown): x is object {
  return (typeof x === "object" && x !== null) || typeof x === "function";
}

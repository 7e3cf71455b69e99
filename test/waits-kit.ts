// What the tests of the waits on many futures share: how many callbacks a
// pending future holds, and a real AbortSignal whose listeners are counted.
import assert from "node:assert/strict";
import type { Future } from "../src/index.js";

/** How many callbacks a pending future holds (its slot: nothing, one entry, or a counted list). */
export function callbackCount(fut: Future): number {
  const cbs = fut._value;
  if (cbs === undefined) return 0;
  return Array.isArray(cbs) ? (cbs[0] as number) - 1 : 1;
}

/** A real AbortController whose signal counts its listeners (each must be added with `once`). */
export function countedSignal(): { controller: AbortController; signal: AbortSignal; listeners: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  let count = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, fn: EventListener, options?: AddEventListenerOptions) => {
    assert.equal(options?.once, true);
    count++;
    add(type, fn, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, fn: EventListener) => {
    count--;
    remove(type, fn);
  }) as typeof signal.removeEventListener;
  return { controller, signal, listeners: () => count };
}

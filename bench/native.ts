/**
 * Native `Promise` helpers shared by the workloads: a pending promise whose
 * resolve function is kept, made with one shared executor (no closure per promise).
 *
 * @module
 */

let last: (value: number) => void = () => undefined;

function capture(resolve: (value: number) => void): void {
  last = resolve;
}

/** A pending native promise; take its resolve function with {@link takeResolve} right after. */
export function pendingPromise(): Promise<number> {
  return new Promise<number>(capture);
}

/** The resolve function of the promise made by the last {@link pendingPromise} call. */
export function takeResolve(): (value: number) => void {
  return last;
}

/**
 * Resolves once every reaction job queued before the call has run: jobs run
 * first in, first out, and awaiting a native promise takes one job.
 */
export function drained(): Promise<void> {
  return Promise.resolve();
}

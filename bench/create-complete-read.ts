/**
 * create-complete-read: create a future, set its result, read its value.
 *
 * @module
 */
import { Future } from "../src/index.js";
import { type Result, type Side, fmt, int32, speedUp, timeSides, triangle } from "./harness.js";
import { drained, pendingPromise, takeResolve } from "./native.js";

/** Reactions queued per drain on the `then` side: enough to amortize the drain, few enough to stay in cache. */
const BATCH = 1024;

/** Where every BATCH-th future is published; see {@link ours}. */
export let published: Future<number> | undefined;

/**
 * Every 1,024th future is published to a module variable, as a future handed to someone
 * is. Any of them may be, so V8 must allocate every one: a future that never leaves the
 * loop is removed by V8's escape analysis, and the loop would time nothing (see
 * {@link oursLocal}). Publishing one in 1,024 keeps the cost of publishing out of the
 * figure (a store per future into an array cost more than the future itself).
 */
function ours(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const fut = new Future<number>();
    if ((i & (BATCH - 1)) === 0) published = fut;
    fut.setResult(i);
    sum = (sum + fut.value()) | 0;
  }
  return sum;
}

/** The same with no future leaving the loop: V8 removes the allocation. Printed as a note, never the figure. */
function oursLocal(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const fut = new Future<number>();
    fut.setResult(i);
    sum = (sum + fut.value()) | 0;
  }
  return sum;
}

async function nativeThen(n: number): Promise<number> {
  let sum = 0;
  const read = (v: number): void => {
    sum = (sum + v) | 0;
  };
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + BATCH);
    for (; i < end; i++) {
      const p = pendingPromise();
      takeResolve()(i);
      void p.then(read);
    }
    await drained();
  }
  return sum;
}

/** Native, created already resolved with `Promise.resolve(v)`, read with `then`: native's shortest way. */
async function nativeResolvedThen(n: number): Promise<number> {
  let sum = 0;
  const read = (v: number): void => {
    sum = (sum + v) | 0;
  };
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + BATCH);
    for (; i < end; i++) void Promise.resolve(i).then(read);
    await drained();
  }
  return sum;
}

/** Native, read with `await`: one async function, one microtask per read, no turn of the event loop. */
async function nativeAwait(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = pendingPromise();
    takeResolve()(i);
    sum = (sum + (await p)) | 0;
  }
  return sum;
}

export async function createCompleteRead(): Promise<Result[]> {
  const natives: Side[] = [
    { label: "Promise: new, resolve, then (batched)", run: nativeThen },
    { label: "Promise: new, resolve, await", run: nativeAwait },
    { label: "Promise: Promise.resolve(v), then (batched)", run: nativeResolvedThen },
  ];
  const [mine, local, ...others] = await timeSides(
    [
      { label: "Future: new, setResult, value()", run: ours },
      { label: "Future: new, setResult, value(), never leaving the loop", run: oursLocal },
      ...natives,
    ],
    1,
    (n) => int32(triangle(n)),
  );
  if (mine === undefined || local === undefined || others.length === 0) throw new Error("unreachable");
  // The fastest native variant is the baseline.
  const best = others.reduce((a, b) => (b.nsPerUnit < a.nsPerUnit ? b : a));
  const ratio = speedUp(mine, best);
  const variants = others.map((o) => `${o.label}: ${fmt(o.nsPerUnit)} ns (${fmt(speedUp(mine, o))}×)`).join("; ");
  return [
    {
      workload: "create-complete-read",
      description: "create a pending future, complete it, read its value",
      unit: "ns per op",
      torchFutures: mine.nsPerUnit,
      native: best.nsPerUnit,
      ratioKind: "speed-up (native time / ours)",
      ratio,
      target: "≥ 10× native's ops/s",
      met: ratio >= 10,
      notes: [
        `native variants, the fastest is the baseline — ${variants}`,
        `a future that never leaves the loop: ${fmt(local.nsPerUnit)} ns per op — V8 removes its allocation, so the figure above publishes every 1,024th future, which makes V8 allocate every one`,
      ],
      details: { ours: mine, oursLocal: local, nativeBaseline: best.label, natives: others },
    },
  ];
}

/**
 * create-complete-read: create a future, set its result, read its value.
 *
 * @module
 */
import { Future } from "../src/index.js";
import { type Result, type Side, fmt, int32, timeSides, triangle } from "./harness.js";
import { drained, pendingPromise, takeResolve } from "./native.js";

/** Reactions queued per drain on the `then` side: enough to amortize the drain, few enough to stay in cache. */
const BATCH = 1024;

function ours(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const fut = new Future<number>();
    fut.setResult(i);
    sum = (sum + fut.value()) | 0;
  }
  return sum;
}

/** Native, read with `then`: a batch of reactions, then one await that runs after all of them. */
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
  const [mine, ...others] = await timeSides([{ label: "Future: new, setResult, value()", run: ours }, ...natives], 1, (n) => int32(triangle(n)));
  if (mine === undefined || others.length === 0) throw new Error("unreachable");
  // The fastest native variant is the baseline.
  const best = others.reduce((a, b) => (b.nsPerUnit < a.nsPerUnit ? b : a));
  const speedUp = best.nsPerUnit / mine.nsPerUnit;
  const variants = others.map((o) => `${o.label}: ${fmt(o.nsPerUnit)} ns (${fmt(o.nsPerUnit / mine.nsPerUnit)}×)`).join("; ");
  return [
    {
      workload: "create-complete-read",
      description: "create a pending future, complete it, read its value",
      unit: "ns per op",
      torchFutures: mine.nsPerUnit,
      native: best.nsPerUnit,
      ratioKind: "speed-up (native time / ours)",
      ratio: speedUp,
      target: "≥ 10× native's ops/s",
      met: speedUp >= 10,
      notes: [`native variants, the fastest is the baseline — ${variants}`],
      details: { ours: mine, nativeBaseline: best.label, natives: others },
    },
  ];
}

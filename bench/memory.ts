/**
 * memory: heap bytes per pending future with one `continueWith`, against a
 * pending Promise with one `then`, after a forced GC.
 *
 * @module
 */
import { Future } from "../src/index.js";
import { type Result, heapUsed, median } from "./harness.js";
import { drained, pendingPromise, takeResolve } from "./native.js";

const COUNT = 1_000_000;
const REPS = 5;

function oursBytes(): number {
  // Allocated before the baseline: one slot per handle on both sides, not counted.
  const held = new Array<Future<number> | null>(COUNT).fill(null);
  let calls = 0;
  const cb = (f: Future<number>): number => {
    calls++;
    return f.value() + 1;
  };
  const before = heapUsed();
  for (let i = 0; i < COUNT; i++) {
    const fut = new Future<number>();
    void fut.continueWith(cb);
    held[i] = fut;
  }
  const after = heapUsed();
  // Completing them proves each one was still live and completable.
  for (let i = 0; i < COUNT; i++) (held[i] as Future<number>).setResult(i);
  if (calls !== COUNT) throw new Error(`Future side: ${calls} callbacks ran, expected ${COUNT}`);
  return (after - before) / COUNT;
}

async function nativeBytes(): Promise<number> {
  const held = new Array<((v: number) => void) | null>(COUNT).fill(null);
  let calls = 0;
  const cb = (v: number): number => {
    calls++;
    return v + 1;
  };
  const before = heapUsed();
  for (let i = 0; i < COUNT; i++) {
    const p = pendingPromise();
    void p.then(cb);
    // The resolve function is what completing it later takes; it keeps the promise alive.
    held[i] = takeResolve();
  }
  const after = heapUsed();
  for (let i = 0; i < COUNT; i++) (held[i] as (v: number) => void)(i);
  await drained();
  if (calls !== COUNT) throw new Error(`Promise side: ${calls} callbacks ran, expected ${COUNT}`);
  return (after - before) / COUNT;
}

export async function memory(): Promise<Result[]> {
  // Warm-up: the code is compiled before anything is measured.
  oursBytes();
  await nativeBytes();
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < REPS; r++) {
    mine.push(oursBytes());
    theirs.push(await nativeBytes());
  }
  const m = median(mine);
  const t = median(theirs);
  return [
    {
      workload: "memory",
      description: `${COUNT.toLocaleString("en-US")} pending futures with one continueWith each (Promise: one then, resolve function kept)`,
      unit: "heap bytes per future",
      torchFutures: m,
      native: t,
      ratioKind: "ours / native",
      ratio: m / t,
      target: "≤ 35% of native's bytes",
      met: m / t <= 0.35,
      notes: ["the Promise side keeps only each promise's resolve function, which keeps the promise and its reaction alive"],
      details: { count: COUNT, oursReps: mine, nativeReps: theirs },
    },
  ];
}

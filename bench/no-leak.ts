/**
 * no-leak: create and drop 1,000,000 pending futures with callbacks, force a
 * GC, and compare the heap with where it started.
 *
 * @module
 */
import { Future } from "../src/index.js";
import { type Result, heapUsed } from "./harness.js";
import { pendingPromise } from "./native.js";

const COUNT = 1_000_000;
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const ROUNDS = 5;
const noop = (): void => undefined;
const id = <T>(x: T): T => x;

/** The heap while `held` is alive: it is read after the GC, so the optimizer cannot drop it before. */
function peak(held: readonly unknown[]): number {
  const bytes = heapUsed();
  if (held.length === 0) throw new Error("unreachable");
  return bytes;
}

/** Holds `count` pending futures, each with one callback of each kind, then drops them; returns the peak heap. */
function oursRound(count: number): number {
  const held = new Array<Future<number> | null>(count).fill(null);
  for (let i = 0; i < count; i++) {
    const fut = new Future<number>();
    fut.addDoneCallback(noop);
    void fut.continueWith(id);
    void fut.then(id);
    held[i] = fut;
  }
  return peak(held);
}

function nativeRound(count: number): number {
  const held = new Array<Promise<number> | null>(count).fill(null);
  for (let i = 0; i < count; i++) {
    const p = pendingPromise();
    void p.then(noop);
    void p.then(id);
    void p.then(id);
    held[i] = p;
  }
  return peak(held);
}

interface LeakFigures {
  startBytes: number;
  peakBytes: number[];
  endBytes: number[];
  /** Largest end-of-round heap growth over the start, in % of the start (negative: it shrank). */
  worstChangePct: number;
}

function measure(round: (count: number) => number): LeakFigures {
  // Warm-up: compiled code and inline caches exist before the baseline.
  round(COUNT / 10);
  const startBytes = heapUsed();
  const peakBytes: number[] = [];
  const endBytes: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    peakBytes.push(round(COUNT));
    endBytes.push(heapUsed());
  }
  // Growth is what a leak shows; the heap may also end a little below the start
  // (code of earlier workloads flushed meanwhile), which is no leak.
  const worst = Math.max(...endBytes);
  return { startBytes, peakBytes, endBytes, worstChangePct: ((worst - startBytes) / startBytes) * 100 };
}

export function noLeak(): Promise<Result[]> {
  const mine = measure(oursRound);
  const theirs = measure(nativeRound);
  return Promise.resolve([
    {
      workload: "no-leak",
      description: `${ROUNDS} rounds: hold ${COUNT.toLocaleString("en-US")} pending futures with callbacks, drop them, force GC`,
      unit: "largest heap growth after GC, % of start",
      torchFutures: mine.worstChangePct,
      native: theirs.worstChangePct,
      ratioKind: "heap change, % of start",
      ratio: mine.worstChangePct,
      target: "heap back within 2% of start",
      met: mine.worstChangePct <= 2,
      notes: [
        `heap at start ${mb(mine.startBytes)} MB, at peak ${mb(Math.max(...mine.peakBytes))} MB, after the last round ${mb(mine.endBytes.at(-1) ?? 0)} MB ` +
          `(native: ${mb(theirs.startBytes)} / ${mb(Math.max(...theirs.peakBytes))} / ${mb(theirs.endBytes.at(-1) ?? 0)} MB)`,
      ],
      details: { count: COUNT, rounds: ROUNDS, ours: mine, native: theirs },
    },
  ]);
}

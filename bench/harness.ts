/**
 * A small benchmark harness: calibrated repetitions, interleaved sides,
 * medians, forced GC for heap figures.
 *
 * @module
 */

/** One side's run: does `n` units of work and returns a checksum of what it read. */
export type RunFn = (n: number) => number | Promise<number>;

export interface Side {
  label: string;
  run: RunFn;
}

export interface TimedSide {
  label: string;
  /** Units of work per call of the side's run; a rep makes as many calls as fit in MIN_REP_MS. */
  unitsPerCall: number;
  repsMs: number[];
  nsPerUnitReps: number[];
  /** Median over the reps of the time per unit, in nanoseconds. */
  nsPerUnit: number;
}

/**
 * `BENCH_QUICK=1`: one repetition of a few milliseconds per side, for the test suite's
 * check that every side still does all its work (the checksums). Its figures measure nothing.
 */
export const QUICK = process.env.BENCH_QUICK === "1";

export const MIN_REP_MS = QUICK ? 2 : 300;
/** One call of a side's run lasts at least this long, so that the clock and the loop around it cost nothing. */
const CHUNK_MS = QUICK ? 1 : 20;
export const REPS = QUICK ? 1 : 7;

export function forceGc(): void {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error("Run the benchmark with `node --expose-gc` (npm run bench does).");
  // Twice: the first pass can leave objects that only die once their finalizers ran.
  gc();
  gc();
}

/** Heap bytes in use after a full GC. */
export function heapUsed(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function now(): bigint {
  return process.hrtime.bigint();
}

/**
 * Calls `run(n)` until at least `minMs` have passed; returns the time and the
 * number of calls. A synchronous side's call ends when it returns, an async
 * side's when its promise settles (all its reactions have run).
 */
async function repeat(run: RunFn, n: number, sum: number, label: string, minMs: number): Promise<{ ms: number; calls: number }> {
  const limit = BigInt(Math.round(minMs * 1e6));
  const t0 = now();
  let calls = 0;
  let elapsed: bigint;
  do {
    const r = run(n);
    const checksum = typeof r === "number" ? r : await r;
    if (checksum !== sum) throw new Error(`${label}: checksum ${checksum}, expected ${sum}: it did not do all its work`);
    calls++;
    elapsed = now() - t0;
  } while (elapsed < limit);
  return { ms: Number(elapsed) / 1e6, calls };
}

/** The smallest `n` (roughly) whose call lasts CHUNK_MS. */
async function calibrate(run: RunFn): Promise<number> {
  let n = 1;
  for (;;) {
    const t0 = now();
    const r = run(n);
    if (typeof r !== "number") await r;
    const ms = Number(now() - t0) / 1e6;
    if (ms >= CHUNK_MS) return n;
    n = Math.ceil(n * (ms <= 0 ? 100 : Math.min(100, Math.max(1.5, (CHUNK_MS * 1.2) / ms))));
  }
}

/**
 * Times every side: calibrate it, warm it up for one rep's length, then run
 * `REPS` repetitions of at least MIN_REP_MS each, alternating the sides so that
 * drift in the machine hits all of them alike. `unitsPerN` converts `n` into
 * units of work (links, ops…). Every call's checksum must equal `expected(n)`.
 */
export async function timeSides(
  sides: readonly Side[],
  unitsPerN: number,
  expected: (n: number) => number,
): Promise<TimedSide[]> {
  // Once, before the warm-up: what earlier workloads left behind. Never between
  // timed reps: a forced full GC shrinks the young generation, and the next rep
  // would pay for growing it again (it slows torch-futures' side by up to 70%).
  forceGc();
  const ns: number[] = [];
  for (const side of sides) {
    const n = await calibrate(side.run);
    await repeat(side.run, n, expected(n), side.label, MIN_REP_MS);
    ns.push(n);
  }
  const reps: { ms: number; units: number }[][] = sides.map(() => []);
  for (let r = 0; r < REPS; r++) {
    for (let s = 0; s < sides.length; s++) {
      const side = sides[s] as Side;
      const n = ns[s] as number;
      const { ms, calls } = await repeat(side.run, n, expected(n), side.label, MIN_REP_MS);
      (reps[s] as { ms: number; units: number }[]).push({ ms, units: calls * n * unitsPerN });
    }
  }
  return sides.map((side, s) => {
    const done = reps[s] as { ms: number; units: number }[];
    const nsPerUnitReps = done.map((d) => (d.ms * 1e6) / d.units);
    return {
      label: side.label,
      unitsPerCall: (ns[s] as number) * unitsPerN,
      repsMs: done.map((d) => d.ms),
      nsPerUnitReps,
      nsPerUnit: median(nsPerUnitReps),
    };
  });
}

/**
 * How many times faster `mine` is than `theirs`: the median, over the rounds, of the two
 * sides' times in that round. Each round runs every side once, back to back, so a slow
 * spell of the machine that lasts a round or more changes both figures of a round alike and
 * cancels out of its ratio; the quotient of the two medians can pair a slow repetition of
 * one side with a fast one of the other.
 */
export function speedUp(mine: TimedSide, theirs: TimedSide): number {
  return median(mine.nsPerUnitReps.map((ns, r) => (theirs.nsPerUnitReps[r] as number) / ns));
}

/** Σ i for i in [0, n): the checksum of workloads that complete future i with i. */
export function triangle(n: number): number {
  return (n * (n - 1)) / 2;
}

/**
 * `x` wrapped to int32, as `(sum + v) | 0` accumulates it. The workloads sum
 * that way so that the sum stays a small integer: a growing float sum would
 * allocate a heap number per callback on both sides and blur the comparison.
 */
export function int32(x: number): number {
  return Number(BigInt.asIntN(32, BigInt(x)));
}

/** The result of one workload, as written to the JSON file. */
export interface Result {
  workload: string;
  description: string;
  /** What the figures measure, e.g. "ns per link" or "heap bytes per future". */
  unit: string;
  torchFutures: number;
  native: number;
  /** How the ratio is read: torch-futures' advantage (native / ours), or ours / native. */
  ratioKind: "speed-up (native time / ours)" | "ours / native" | "heap change, % of start";
  ratio: number;
  target: string;
  met: boolean;
  /** Printed under the table: what a reader needs to judge the figures. */
  notes: string[];
  details: Record<string, unknown>;
}

export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(digits);
}

/**
 * first-of: 1,000 pending futures, collectAny, complete one of them, read the
 * winner — against Promise.race and Promise.any over 1,000 pending promises.
 *
 * @module
 */
import { Future, collectAny } from "../src/index.js";
import { type Result, int32, speedUp, timeSides } from "./harness.js";
import { pendingPromise, takeResolve } from "./native.js";

const FUTURES = 1_000;

/** Σ (r mod FUTURES) for r in [0, n): the checksum, each round's winner holding its index. */
function expected(n: number): number {
  const whole = Math.floor(n / FUTURES);
  const rest = n % FUTURES;
  return int32(whole * ((FUTURES * (FUTURES - 1)) / 2) + (rest * (rest - 1)) / 2);
}

function ours(n: number): number {
  let sum = 0;
  const futs = new Array<Future<number>>(FUTURES);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < FUTURES; i++) futs[i] = new Future<number>();
    const any = collectAny(futs);
    const w = r % FUTURES;
    (futs[w] as Future<number>).setResult(w);
    const { index, future } = any.value();
    sum = (sum + index + future.value() - w) | 0;
  }
  return sum;
}

function native(combine: (promises: Promise<number>[]) => Promise<number>): (n: number) => Promise<number> {
  return async (n) => {
    let sum = 0;
    const promises = new Array<Promise<number>>(FUTURES);
    const resolvers = new Array<(v: number) => void>(FUTURES);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < FUTURES; i++) {
        promises[i] = pendingPromise();
        resolvers[i] = takeResolve();
      }
      const first = combine(promises);
      const w = r % FUTURES;
      (resolvers[w] as (v: number) => void)(w);
      sum = (sum + (await first)) | 0;
    }
    return sum;
  };
}

export async function firstOf(): Promise<Result[]> {
  const [mine, race, any] = await timeSides(
    [
      { label: "Future: collectAny", run: ours },
      { label: "Promise: Promise.race", run: native((ps) => Promise.race(ps)) },
      { label: "Promise: Promise.any", run: native((ps) => Promise.any(ps)) },
    ],
    1,
    expected,
  );
  if (mine === undefined || race === undefined || any === undefined) throw new Error("unreachable");
  const description = `${FUTURES.toLocaleString("en-US")} pending futures: create, race, complete one, read the winner`;
  return [
    { name: "first-of/race", theirs: race },
    { name: "first-of/any", theirs: any },
  ].map(({ name, theirs }) => {
    const ratio = speedUp(mine, theirs);
    return {
      workload: name,
      description: `${description} (native: ${theirs.label})`,
      unit: "µs per round",
      torchFutures: mine.nsPerUnit / 1e3,
      native: theirs.nsPerUnit / 1e3,
      ratioKind: "speed-up (native time / ours)" as const,
      ratio,
      target: "≤ ½ native's time (≥ 2×)",
      met: ratio >= 2,
      notes: [],
      details: { ours: mine, native: theirs },
    };
  });
}

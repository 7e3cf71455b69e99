/**
 * collect: 100,000 pending futures, collectAll, complete them in order, read
 * the combined result.
 *
 * @module
 */
import { Future, collectAll } from "../src/index.js";
import { type Result, int32, speedUp, timeSides, triangle } from "./harness.js";
import { pendingPromise, takeResolve } from "./native.js";

const FUTURES = 100_000;

function ours(n: number): number {
  let sum = 0;
  const futs = new Array<Future<number>>(FUTURES);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < FUTURES; i++) futs[i] = new Future<number>();
    const all = collectAll(futs);
    for (let i = 0; i < FUTURES; i++) (futs[i] as Future<number>).setResult(i);
    const got = all.value();
    for (let i = 0; i < got.length; i++) sum = (sum + (got[i] as Future<number>).value()) | 0;
  }
  return sum;
}

async function native(n: number): Promise<number> {
  let sum = 0;
  const promises = new Array<Promise<number>>(FUTURES);
  const resolvers = new Array<(v: number) => void>(FUTURES);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < FUTURES; i++) {
      promises[i] = pendingPromise();
      resolvers[i] = takeResolve();
    }
    const all = Promise.all(promises);
    for (let i = 0; i < FUTURES; i++) (resolvers[i] as (v: number) => void)(i);
    const got = await all;
    for (let i = 0; i < got.length; i++) sum = (sum + (got[i] as number)) | 0;
  }
  return sum;
}

export async function collect(): Promise<Result[]> {
  const [mine, theirs] = await timeSides(
    [
      { label: "Future: collectAll", run: ours },
      { label: "Promise: Promise.all", run: native },
    ],
    1,
    (n) => int32(n * triangle(FUTURES)),
  );
  if (mine === undefined || theirs === undefined) throw new Error("unreachable");
  const ratio = speedUp(mine, theirs);
  return [
    {
      workload: "collect",
      description: `${FUTURES.toLocaleString("en-US")} pending futures: create, combine, complete in order, read every value`,
      unit: "ms per round",
      torchFutures: mine.nsPerUnit / 1e6,
      native: theirs.nsPerUnit / 1e6,
      ratioKind: "speed-up (native time / ours)",
      ratio,
      target: "≤ ⅕ native's time (≥ 5×)",
      met: ratio >= 5,
      notes: [],
      details: { ours: mine, native: theirs },
    },
  ];
}

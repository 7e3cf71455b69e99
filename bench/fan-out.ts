/**
 * fan-out: 10,000 pending futures with 8 callbacks each, then complete them all.
 *
 * @module
 */
import { Future } from "../src/index.js";
import { type Result, int32, speedUp, timeSides, triangle } from "./harness.js";
import { drained, pendingPromise, takeResolve } from "./native.js";

const FUTURES = 10_000;
const CALLBACKS = 8;
const CALLBACKS_PER_ROUND = FUTURES * CALLBACKS;

function oursDone(n: number): number {
  let sum = 0;
  const cb = (f: Future<number>): void => {
    sum = (sum + f.value()) | 0;
  };
  const futs = new Array<Future<number>>(FUTURES);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < FUTURES; i++) {
      const fut = new Future<number>();
      for (let k = 0; k < CALLBACKS; k++) fut.addDoneCallback(cb);
      futs[i] = fut;
    }
    for (let i = 0; i < FUTURES; i++) (futs[i] as Future<number>).setResult(i);
  }
  return sum;
}

function oursContinue(n: number): number {
  let sum = 0;
  const cb = (f: Future<number>): void => {
    sum = (sum + f.value()) | 0;
  };
  const futs = new Array<Future<number>>(FUTURES);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < FUTURES; i++) {
      const fut = new Future<number>();
      for (let k = 0; k < CALLBACKS; k++) void fut.continueWith(cb);
      futs[i] = fut;
    }
    for (let i = 0; i < FUTURES; i++) (futs[i] as Future<number>).setResult(i);
  }
  return sum;
}

/** The native side of both variants: `then` is native's only way to register a callback. */
async function native(n: number): Promise<number> {
  let sum = 0;
  const cb = (v: number): void => {
    sum = (sum + v) | 0;
  };
  const resolvers = new Array<(v: number) => void>(FUTURES);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < FUTURES; i++) {
      const p = pendingPromise();
      for (let k = 0; k < CALLBACKS; k++) void p.then(cb);
      resolvers[i] = takeResolve();
    }
    for (let i = 0; i < FUTURES; i++) (resolvers[i] as (v: number) => void)(i);
    await drained();
  }
  return sum;
}

const expected = (n: number): number => int32(n * CALLBACKS * triangle(FUTURES));

export async function fanOut(): Promise<Result[]> {
  const results: Result[] = [];
  const variants = [
    { id: "addDoneCallback", run: oursDone, target: 10 },
    { id: "continueWith", run: oursContinue, target: 3 },
  ];
  for (const v of variants) {
    const [mine, theirs] = await timeSides(
      [
        { label: `Future: ${v.id} ×${CALLBACKS}, setResult`, run: v.run },
        { label: `Promise: then ×${CALLBACKS}, resolve`, run: native },
      ],
      CALLBACKS_PER_ROUND,
      expected,
    );
    if (mine === undefined || theirs === undefined) throw new Error("unreachable");
    const ratio = speedUp(mine, theirs);
    results.push({
      workload: `fan-out/${v.id}`,
      description: `${FUTURES.toLocaleString("en-US")} pending futures × ${CALLBACKS} ${v.id} callbacks, then complete them all`,
      unit: "ns per callback",
      torchFutures: mine.nsPerUnit,
      native: theirs.nsPerUnit,
      ratioKind: "speed-up (native time / ours)",
      ratio,
      target: `≥ ${v.target}× native`,
      met: ratio >= v.target,
      notes: [],
      details: { ours: mine, native: theirs },
    });
  }
  return results;
}

/**
 * chain: a `continueWith` chain on a pending root, then complete the root and
 * read the last value.
 *
 * @module
 */
import { Future } from "../src/index.js";
import { type Result, int32, speedUp, timeSides } from "./harness.js";
import { pendingPromise, takeResolve } from "./native.js";

export const DEPTHS = [1_000, 100_000, 1_000_000];

const inc = (f: Future<number>): number => f.value() + 1;
const incValue = (v: number): number => v + 1;

function ours(links: number): (n: number) => number {
  return (n) => {
    let sum = 0;
    for (let c = 0; c < n; c++) {
      const root = new Future<number>();
      let last = root;
      for (let i = 0; i < links; i++) last = last.continueWith(inc);
      root.setResult(0);
      sum = (sum + last.value()) | 0;
    }
    return sum;
  };
}

function native(links: number): (n: number) => Promise<number> {
  return async (n) => {
    let sum = 0;
    for (let c = 0; c < n; c++) {
      const root = pendingPromise();
      const resolve = takeResolve();
      let last = root;
      for (let i = 0; i < links; i++) last = last.then(incValue);
      resolve(0);
      sum = (sum + (await last)) | 0;
    }
    return sum;
  };
}

export async function chain(only?: number): Promise<Result[]> {
  const results: Result[] = [];
  for (const links of DEPTHS) {
    if (only !== undefined && only !== links) continue;
    const [mine, theirs] = await timeSides(
      [
        { label: `Future: continueWith ×${links}`, run: ours(links) },
        { label: `Promise: then ×${links}`, run: native(links) },
      ],
      links,
      (n) => int32(n * links),
    );
    if (mine === undefined || theirs === undefined) throw new Error("unreachable");
    const ratio = speedUp(mine, theirs);
    results.push({
      workload: `chain/${links}`,
      description: `a chain of ${links.toLocaleString("en-US")} links on a pending root; complete the root, read the last value`,
      unit: "ns per link",
      torchFutures: mine.nsPerUnit,
      native: theirs.nsPerUnit,
      ratioKind: "speed-up (native time / ours)",
      ratio,
      // "Completes" is checked by the checksum: every chain must have produced its depth.
      target: "completes; ≤ ½ native's time per link (≥ 2×)",
      met: ratio >= 2,
      notes: [],
      details: { ours: mine, native: theirs },
    });
  }
  return results;
}

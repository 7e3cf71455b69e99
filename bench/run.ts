/**
 * `npm run bench [-- workload…]`: torch-futures against native Promise.
 * Workloads: create-complete-read, fan-out, chain (or chain/1000, chain/100000,
 * chain/1000000), collect, first-of, memory, no-leak, threads, rpc-threads, rpc-nats, rpc-peers. No argument runs them all.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chain, DEPTHS } from "./chain.js";
import { collect } from "./collect.js";
import { createCompleteRead } from "./create-complete-read.js";
import { fanOut } from "./fan-out.js";
import { firstOf } from "./first-of.js";
import { MIN_REP_MS, QUICK, REPS, type Result, fmt } from "./harness.js";
import { memory } from "./memory.js";
import { noLeak } from "./no-leak.js";
import { rpcNats } from "./rpc-nats.js";
import { rpcPeers } from "./rpc-peers.js";
import { rpcThreads } from "./rpc-threads.js";
import { threads } from "./threads.js";

const workloads: Record<string, () => Promise<Result[]>> = {
  "create-complete-read": createCompleteRead,
  "fan-out": fanOut,
  chain: () => chain(),
  ...Object.fromEntries(DEPTHS.map((d) => [`chain/${d}`, () => chain(d)])),
  collect,
  "first-of": firstOf,
  memory,
  "no-leak": noLeak,
  threads,
  "rpc-peers": rpcPeers,
  "rpc-nats": rpcNats,
  "rpc-threads": rpcThreads,
};
const all = ["create-complete-read", "fan-out", "chain", "collect", "first-of", "memory", "no-leak", "threads", "rpc-threads", "rpc-nats", "rpc-peers"];

/** A row that holds only a peer's figure (rpc-peers): it has no torch-futures figure, ratio or target to meet. */
function peerOnly(r: Result): boolean {
  return Number.isNaN(r.torchFutures);
}

function ratioText(r: Result): string {
  if (peerOnly(r)) return "—";
  if (r.ratioKind === "speed-up (native time / ours)") return `${fmt(r.ratio)}× faster`;
  if (r.ratioKind === "ours / native") return `${fmt(r.ratio * 100)}% of native`;
  return "—";
}

function figure(r: Result, x: number): string {
  if (Number.isNaN(x)) return "—";
  return r.ratioKind === "heap change, % of start" ? `${x >= 0 ? "+" : ""}${x.toFixed(2)}%` : fmt(x);
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  return rows
    .map((row, i) => {
      const line = row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ");
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const chosen = args.length === 0 ? all : args;
  for (const name of chosen) {
    if (!(name in workloads)) {
      console.error(`Unknown workload "${name}". Choose from: ${Object.keys(workloads).join(", ")}.`);
      process.exit(2);
    }
  }
  const cpu = cpus()[0]?.model ?? "unknown";
  console.log(
    `torch-futures vs native Promise — Node.js ${process.version}, ${availableParallelism()} cores (${cpu}), ` +
      `${process.platform}/${process.arch}; median of ${REPS} reps of ≥ ${MIN_REP_MS} ms after warm-up, ` +
      `a ratio is the median of the ${REPS} rounds' ratios`,
  );
  if (QUICK) console.log("BENCH_QUICK=1: a check that every side does its work; these figures measure nothing.");
  const results: Result[] = [];
  for (const name of chosen) {
    const started = Date.now();
    const run = workloads[name] as () => Promise<Result[]>;
    const got = await run();
    results.push(...got);
    for (const r of got) {
      if (peerOnly(r)) console.log(`  ${r.workload}: ${figure(r, r.native)} ${r.unit}`);
      else console.log(`  ${r.workload}: ${figure(r, r.torchFutures)} vs ${figure(r, r.native)} ${r.unit} (${ratioText(r)}) ${r.met ? "met" : "NOT MET"}`);
    }
    console.log(`  (${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  console.log();
  console.log(
    table([
      ["workload", "unit", "torch-futures", "native Promise / peer", "ratio", "target", "met"],
      ...results.map((r) => [
        r.workload,
        r.unit,
        figure(r, r.torchFutures),
        figure(r, r.native),
        ratioText(r),
        r.target,
        peerOnly(r) ? "—" : r.met ? "yes" : "NO",
      ]),
    ]),
  );
  const notes = results.flatMap((r) => r.notes.map((note) => `${r.workload}: ${note}`));
  if (notes.length > 0) console.log(`\n${notes.join("\n")}`);
  const dir = fileURLToPath(new URL("../../bench/results/", import.meta.url));
  // A quick check's figures are not measurements: they never replace the last real run's.
  // BENCH_OUT: another file, so that two checks running at once do not overwrite each other's.
  const file = process.env.BENCH_OUT ?? `${dir}${QUICK ? "quick" : "latest"}.json`;
  mkdirSync(dirname(file), { recursive: true });
  const report = {
    node: process.version,
    cores: availableParallelism(),
    cpu,
    platform: `${process.platform}/${process.arch}`,
    date: new Date().toISOString(),
    command: `node --expose-gc build/bench/run.js${args.length > 0 ? ` ${args.join(" ")}` : ""}`,
    reps: REPS,
    minRepMs: MIN_REP_MS,
    results,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nResults written to ${file}`);
}

await main();

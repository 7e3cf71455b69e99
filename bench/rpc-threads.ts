/**
 * rpc-threads: torch-futures' RPC over worker threads against piscina 5.3 with one worker
 * thread, in the same run: `add(x, 1)` on a worker thread (ours: `rpcAsync` awaited, and
 * `rpcSync` blocking; piscina: `await pool.run(x)`). Figures: microseconds per call one after
 * another, and calls/s with 20,000 in flight. Issue 10's targets: a round trip at most 1/10 of
 * piscina's, throughput at least 10× piscina's.
 *
 * Runs alone with `node --expose-gc build/bench/rpc-threads.js` (after `npm run build:all`).
 *
 * @module
 */
import { isMainThread, Worker, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { createThreadGroup, initRpc, threadsTransport, type RpcGroupHandle } from "../src/rpc/index.js";
import { QUICK, type Result, fmt } from "./harness.js";
import { measure, measurePiscina, type PeerFigures } from "./rpc-peers.js";

const SEQUENTIAL = QUICK ? 50 : 5_000;
const IN_FLIGHT = QUICK ? 500 : 20_000;
const THIS_FILE = fileURLToPath(import.meta.url);

const served = { add: (a: number, b: number): number => a + b };
type Served = typeof served;

/** Our figures, with a group of this thread ("main") and one worker thread serving `add`. */
async function measureOurs(): Promise<{ async: PeerFigures; sync: PeerFigures }> {
  const group = createThreadGroup(["main", "worker1"]);
  const handle = group["worker1"];
  const mine = group["main"];
  if (handle === undefined || mine === undefined) throw new Error("createThreadGroup lost a handle");
  const worker = new Worker(THIS_FILE, { workerData: handle, transferList: handle.transferList });
  const agent = initRpc<Record<string, never>, Served>({ transport: await threadsTransport(mine), rpcTimeout: 0 });
  const inFlight = {
    calls: IN_FLIGHT,
    run: async (n: number): Promise<number> => {
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => agent.rpcAsync("worker1", "add", [i, 1])));
      return answers.reduce((a, b) => a + b, 0);
    },
  };
  try {
    const asyncFigures = await measure(
      "rpcAsync over threads",
      {
        calls: SEQUENTIAL,
        run: async (start, n) => {
          let sum = 0;
          for (let i = start; i < start + n; i++) sum += await agent.rpcAsync("worker1", "add", [i, 1]);
          return sum;
        },
      },
      inFlight,
    );
    const syncFigures = await measure(
      "rpcSync over threads",
      {
        calls: SEQUENTIAL,
        run: (start, n) => {
          let sum = 0;
          for (let i = start; i < start + n; i++) sum += agent.rpcSync("worker1", "add", [i, 1]);
          return Promise.resolve(sum);
        },
      },
      inFlight,
    );
    return { async: asyncFigures, sync: syncFigures };
  } finally {
    await agent.shutdown();
    await new Promise<void>((resolve) => worker.once("exit", () => { resolve(); }));
  }
}

function row(key: string, description: string, unit: string, ours: number, peer: number, ratio: number, target: number, details: Record<string, unknown>): Result {
  return {
    workload: `rpc-threads/${key}`,
    description,
    unit,
    torchFutures: ours,
    native: peer,
    ratioKind: "speed-up (native time / ours)",
    ratio,
    target: `≥ ${target}× piscina`,
    met: ratio >= target,
    notes: [],
    details,
  };
}

/**
 * The rpc-threads workload's Results: round trips and throughput, ours against piscina.
 *
 * @example
 * ```ts
 * import { rpcThreads } from "./rpc-threads.js";
 * for (const r of await rpcThreads()) console.log(`${r.workload}: ${r.torchFutures} vs ${r.native} ${r.unit}`);
 * ```
 */
export async function rpcThreads(): Promise<Result[]> {
  // Interleaved, so that both sides see the same machine.
  const peer1 = await measurePiscina();
  const ours1 = await measureOurs();
  const peer2 = await measurePiscina();
  const ours2 = await measureOurs();
  const min = (a: number, b: number): number => Math.min(a, b);
  const max = (a: number, b: number): number => Math.max(a, b);
  const pUs = min(peer1.roundTripUs, peer2.roundTripUs);
  const pPs = max(peer1.perSecond, peer2.perSecond);
  const aUs = min(ours1.async.roundTripUs, ours2.async.roundTripUs);
  const sUs = min(ours1.sync.roundTripUs, ours2.sync.roundTripUs);
  const oPs = max(max(ours1.async.perSecond, ours2.async.perSecond), max(ours1.sync.perSecond, ours2.sync.perSecond));
  const details = { ours: [ours1, ours2], piscina: [peer1, peer2] };
  const results = [
    row("round-trip-sync", "rpcSync (blocking) vs piscina's await pool.run: one call after another", "µs per call (median)", sUs, pUs, pUs / sUs, 10, details),
    row("round-trip-async", "rpcAsync (awaited) vs piscina's await pool.run: one call after another", "µs per call (median)", aUs, pUs, pUs / aUs, 10, details),
    row("throughput", `rpcAsync vs piscina: ${IN_FLIGHT.toLocaleString("en-US")} calls in flight`, "calls/s (median)", oPs, pPs, oPs / pPs, 10, details),
  ];
  results[0]?.notes.push(
    "one worker thread each; each figure the better of two interleaved measurements, each the median of its rounds; " +
      "round-trip ratio = piscina's time / ours, throughput ratio = ours / piscina's",
  );
  return results;
}

if (!isMainThread && (workerData as { torchFuturesRpcGroup?: unknown } | undefined)?.torchFuturesRpcGroup === 1) {
  // The worker thread of measureOurs(): as in torch, a worker calls shutdown() at once; it serves
  // until every worker of the group (main) has shut down too.
  const agent = initRpc({ functions: served, transport: await threadsTransport(workerData as RpcGroupHandle) });
  await agent.shutdown();
} else if (process.argv[1] === THIS_FILE) {
  for (const r of await rpcThreads()) console.log(`${r.description}: ours ${fmt(r.torchFutures)} vs piscina ${fmt(r.native)} ${r.unit} (ratio ${fmt(r.ratio)})`);
}

/**
 * rpc-nats: torch-futures' `rpcAsync` over the NATS transport against raw NATS request/reply
 * with the same client, in the same run, on the same loopback server. Ours: two agents of one
 * group in this process, each on its own connection, calling `add(x, 1)`. Raw: `measureNats`
 * (bench/rpc-peers.ts), a responder answering `x + 1` on its own connection in this process.
 * Figures: microseconds per call one after another, and calls/s with 10,000 in flight; the
 * ratio is raw time / ours (below 1: ours is slower).
 *
 * Runs alone with `node --expose-gc build/bench/rpc-nats.js` (after `npm run build:all`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { initRpc } from "../src/rpc/index.js";
import { natsTransport } from "../src/rpc/nats.js";
import { startNatsServer } from "../test/support/nats-server.js";
import { QUICK, type Result, fmt } from "./harness.js";
import { measure, measureNats, type PeerFigures } from "./rpc-peers.js";

const SEQUENTIAL = QUICK ? 50 : 2_000;
const IN_FLIGHT = QUICK ? 500 : 10_000;

const served = { add: (a: number, b: number): number => a + b };

/** Our figures: `rpcAsync("worker1", "add", [x, 1])` from "main", both agents in this process. */
async function measureOurs(url: string): Promise<PeerFigures> {
  const workers = ["main", "worker1"];
  const group = `bench-rpc-nats-${process.pid}`;
  // A long death window: a measurement that blocks the loop must not look like a death.
  const beat = { heartbeatMs: 1_000, deadAfterMs: 60_000 };
  const [mainT, workerT] = await Promise.all([
    natsTransport({ servers: url, name: "main", workers, group, ...beat }),
    natsTransport({ servers: url, name: "worker1", workers, group, ...beat }),
  ]);
  const worker = initRpc({ functions: served, transport: workerT });
  const main = initRpc<Record<string, never>, typeof served>({ transport: mainT, rpcTimeout: 0 });
  const ask = (x: number): PromiseLike<number> => main.rpcAsync("worker1", "add", [x, 1]);
  try {
    return await measure(
      "rpcAsync over NATS",
      {
        calls: SEQUENTIAL,
        run: async (start, n) => {
          let sum = 0;
          for (let i = start; i < start + n; i++) sum += await ask(i);
          return sum;
        },
      },
      {
        calls: IN_FLIGHT,
        run: async (n) => {
          const answers = await Promise.all(Array.from({ length: n }, (_, i) => ask(i)));
          return answers.reduce((a, b) => a + b, 0);
        },
      },
    );
  } finally {
    await Promise.all([main.shutdown(), worker.shutdown()]);
  }
}

function row(key: string, description: string, unit: string, ours: number, raw: number, ratio: number, details: Record<string, unknown>): Result {
  return {
    workload: `rpc-nats/${key}`,
    description,
    unit,
    torchFutures: ours,
    native: raw,
    ratioKind: "speed-up (native time / ours)",
    ratio,
    target: "none: reported",
    met: true,
    notes: [],
    details,
  };
}

/**
 * The rpc-nats workload's Results: round trip and throughput, ours against raw request/reply.
 *
 * @example
 * ```ts
 * import { rpcNats } from "./rpc-nats.js";
 * for (const r of await rpcNats()) console.log(`${r.workload}: ${r.torchFutures} vs ${r.native} ${r.unit}`);
 * ```
 */
export async function rpcNats(): Promise<Result[]> {
  const server = await startNatsServer();
  try {
    // Interleaved, so that both sides see the same machine: raw, ours, raw, ours.
    const raw1 = await measureNats(server.url, "same process");
    const ours1 = await measureOurs(server.url);
    const raw2 = await measureNats(server.url, "same process");
    const ours2 = await measureOurs(server.url);
    const best = (a: PeerFigures, b: PeerFigures, key: "roundTripUs" | "perSecond"): number =>
      key === "roundTripUs" ? Math.min(a[key], b[key]) : Math.max(a[key], b[key]);
    const oursUs = best(ours1, ours2, "roundTripUs");
    const rawUs = best(raw1, raw2, "roundTripUs");
    const oursPs = best(ours1, ours2, "perSecond");
    const rawPs = best(raw1, raw2, "perSecond");
    const details = { ours: [ours1, ours2], raw: [raw1, raw2] };
    const results = [
      row("round-trip", "rpcAsync over NATS vs raw nc.request: one call after another", "µs per call (median)", oursUs, rawUs, rawUs / oursUs, details),
      row("throughput", `rpcAsync over NATS vs raw nc.request: ${IN_FLIGHT.toLocaleString("en-US")} calls in flight`, "calls/s (median)", oursPs, rawPs, oursPs / rawPs, details),
    ];
    results[0]?.notes.push(
      "both sides on one loopback nats-server, caller and callee in this process on connections of their own; " +
        "each figure the better of two interleaved measurements, each the median of its rounds; ratio = raw time / ours",
    );
    return results;
  } finally {
    await server.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await rpcNats()) console.log(`${r.description}: ours ${fmt(r.torchFutures)} vs raw ${fmt(r.native)} ${r.unit} (ratio ${fmt(r.ratio)})`);
}

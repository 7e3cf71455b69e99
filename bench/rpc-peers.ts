/**
 * rpc-peers: the figures the RPC benchmark compares torch-futures' rpc with (issue 10),
 * measured in the same run:
 *
 * - piscina with one worker thread running `(x) => x + 1`: sequential round trips
 *   (`await pool.run(x)`, one after another) and tasks/s with 20,000 in flight;
 * - NATS request/reply on loopback with the `nats` client, one responder answering `x + 1`
 *   (in this process on its own connection, and in a child process): sequential
 *   `await nc.request(...)` and requests/s with 10,000 in flight; the payload is the number as
 *   JSON text, a few bytes;
 * - torch 1.13 rpc between two processes (bench/torch-rpc.py), when python3-torch is installed.
 *
 * Each peer's figure is the median of its rounds, after a warm-up round. `measurePiscina()`,
 * `measureNats(url)` and `measureTorch()` give the raw figures to other workloads.
 *
 * Runs alone with `node --expose-gc build/bench/rpc-peers.js` (after `npm run build:all`); the
 * same file is piscina's task file and the child-process NATS responder.
 *
 * @module
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import { connect, type NatsConnection } from "nats";
import { Piscina } from "piscina";
import { startNatsServer } from "../test/support/nats-server.js";
import { QUICK, type Result, fmt, median } from "./harness.js";

/**
 * What one peer measured: the medians of its rounds, and the rounds themselves.
 *
 * @example
 * ```ts
 * import type { PeerFigures } from "./rpc-peers.js";
 * declare const ours: PeerFigures, piscina: PeerFigures;
 * const met = ours.roundTripUs <= piscina.roundTripUs / 10 && ours.perSecond >= 10 * piscina.perSecond;
 * ```
 */
export interface PeerFigures {
  /** Microseconds per call, calls made one after another (each awaited before the next). */
  roundTripUs: number;
  /** Calls per second with many in flight at once. */
  perSecond: number;
  roundTripUsRounds: number[];
  perSecondRounds: number[];
}

/** Timed rounds per peer and figure, after one untimed round. */
const ROUNDS = QUICK ? 1 : 5;
const PISCINA_SEQUENTIAL = QUICK ? 50 : 5_000;
const PISCINA_IN_FLIGHT = QUICK ? 500 : 20_000;
const NATS_SEQUENTIAL = QUICK ? 50 : 2_000;
const NATS_IN_FLIGHT = QUICK ? 500 : 10_000;
const NATS_SUBJECT = "bench.rpc-peers.add-one";
/** A request that has no answer by then has been lost: fail rather than hang. */
const NATS_TIMEOUT_MS = 60_000;
const PYTHON = "/usr/bin/python3";
const TORCH_SCRIPT = fileURLToPath(new URL("../../bench/torch-rpc.py", import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

/**
 * piscina's task: what every peer's callee does. Exported for piscina's worker, which
 * loads this file and calls it by name.
 *
 * @example
 * ```ts
 * import { piscinaTask } from "./rpc-peers.js";
 * piscinaTask(41); // 42
 * ```
 */
export function piscinaTask(x: number): number {
  return x + 1;
}

/** Σ (i + 1) for i in [start, start + n): the checksum of n calls of the task. */
function answersSum(start: number, n: number): number {
  return n * start + (n * (n + 1)) / 2;
}

function check(label: string, got: number, start: number, n: number): void {
  if (got !== answersSum(start, n)) throw new Error(`${label}: checksum ${got}, expected ${answersSum(start, n)}: a call was lost or wrong`);
}

/**
 * One untimed round, then ROUNDS timed rounds of both figures, taking turns; each run's
 * checksum must be that of `x + 1` over its calls' arguments. Exported for the rpc-nats workload.
 *
 * @example
 * ```ts
 * import { measure } from "./rpc-peers.js";
 * declare const ask: (x: number) => Promise<number>; // resolves x + 1
 * const figures = await measure(
 *   "mine",
 *   { calls: 1_000, run: async (start, n) => { let s = 0; for (let i = start; i < start + n; i++) s += await ask(i); return s; } },
 *   { calls: 10_000, run: async (n) => (await Promise.all(Array.from({ length: n }, (_, i) => ask(i)))).reduce((a, b) => a + b, 0) },
 * );
 * ```
 */
export async function measure(
  label: string,
  sequential: { calls: number; run: (start: number, n: number) => Promise<number> },
  inFlight: { calls: number; run: (n: number) => Promise<number> },
): Promise<PeerFigures> {
  const roundTripUsRounds: number[] = [];
  const perSecondRounds: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const start = round * sequential.calls;
    let t0 = performance.now();
    check(`${label}, one after another`, await sequential.run(start, sequential.calls), start, sequential.calls);
    const seqMs = performance.now() - t0;
    t0 = performance.now();
    check(`${label}, ${inFlight.calls} in flight`, await inFlight.run(inFlight.calls), 0, inFlight.calls);
    const flightMs = performance.now() - t0;
    if (round === 0) continue;
    roundTripUsRounds.push((seqMs * 1e3) / sequential.calls);
    perSecondRounds.push((inFlight.calls * 1e3) / flightMs);
  }
  return { roundTripUs: median(roundTripUsRounds), perSecond: median(perSecondRounds), roundTripUsRounds, perSecondRounds };
}

/**
 * piscina 5.3 with one worker thread (minThreads = maxThreads = 1), task `(x) => x + 1`:
 * µs per sequential `await pool.run(x)`, and tasks/s with 20,000 `pool.run` in flight.
 *
 * @example
 * ```ts
 * import { measurePiscina } from "./rpc-peers.js";
 * const { roundTripUs, perSecond } = await measurePiscina();
 * console.log(`${roundTripUs} µs, ${perSecond} tasks/s`);
 * ```
 */
export async function measurePiscina(): Promise<PeerFigures> {
  const pool = new Piscina<number, number>({ filename: THIS_FILE, name: "piscinaTask", minThreads: 1, maxThreads: 1 });
  try {
    return await measure(
      "piscina",
      {
        calls: PISCINA_SEQUENTIAL,
        run: async (start, n) => {
          let sum = 0;
          for (let i = start; i < start + n; i++) sum += await pool.run(i);
          return sum;
        },
      },
      {
        calls: PISCINA_IN_FLIGHT,
        run: async (n) => {
          const answers = await Promise.all(Array.from({ length: n }, (_, i) => pool.run(i)));
          return answers.reduce((a, b) => a + b, 0);
        },
      },
    );
  } finally {
    await pool.destroy();
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (x: number): Uint8Array => encoder.encode(JSON.stringify(x));
const decode = (data: Uint8Array): number => JSON.parse(decoder.decode(data)) as number;

/** Answers every request on NATS_SUBJECT with its number + 1, on its own connection. */
async function respond(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, reconnect: false });
  nc.subscribe(NATS_SUBJECT, {
    callback: (error, msg) => {
      if (error === null) msg.respond(encode(piscinaTask(decode(msg.data))));
    },
  });
  // The subscription is on the server before anyone asks.
  await nc.flush();
  return nc;
}

/**
 * Where the NATS responder runs: in this process on its own connection, or in a child process.
 *
 * @example
 * ```ts
 * import type { NatsResponder } from "./rpc-peers.js";
 * const where: NatsResponder = "child process";
 * ```
 */
export type NatsResponder = "same process" | "child process";

/** Starts the responder in a child process (this file with `--nats-responder <url>`); resolves once it listens. */
async function childResponder(url: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [THIS_FILE, "--nats-responder", url], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(child, "exit");
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString("utf8").includes("ready")) resolve();
    });
    void exited.then(([code]) => {
      reject(new Error(`the NATS responder exited with code ${String(code)} before it was ready`));
    });
  });
  await ready;
  return {
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * NATS request/reply on loopback with the `nats` client against the server at `url`, one
 * responder answering `x + 1` (JSON text, a few bytes) in this process on its own connection,
 * or in a child process: µs per sequential `await nc.request(...)`, and requests/s with 10,000
 * in flight.
 *
 * @example
 * ```ts
 * import { measureNats } from "./rpc-peers.js";
 * declare const url: string; // a NATS server's, e.g. from startNatsServer()
 * const { roundTripUs, perSecond } = await measureNats(url, "child process");
 * ```
 */
export async function measureNats(url: string, responder: NatsResponder = "same process"): Promise<PeerFigures> {
  const served = responder === "same process" ? await respond(url) : await childResponder(url);
  const stopResponder = (): Promise<void> => ("stop" in served ? served.stop() : served.close());
  // No reconnecting: a connection lost mid-measurement fails it rather than hide in its figures.
  const nc = await connect({ servers: url, reconnect: false });
  const ask = async (x: number): Promise<number> => decode((await nc.request(NATS_SUBJECT, encode(x), { timeout: NATS_TIMEOUT_MS })).data);
  try {
    return await measure(
      `NATS (responder in the ${responder})`,
      {
        calls: NATS_SEQUENTIAL,
        run: async (start, n) => {
          let sum = 0;
          for (let i = start; i < start + n; i++) sum += await ask(i);
          return sum;
        },
      },
      {
        calls: NATS_IN_FLIGHT,
        run: async (n) => {
          const answers = await Promise.all(Array.from({ length: n }, (_, i) => ask(i)));
          return answers.reduce((a, b) => a + b, 0);
        },
      },
    );
  } finally {
    await nc.close();
    await stopResponder();
  }
}

/**
 * What bench/torch-rpc.py prints.
 *
 * @example
 * ```ts
 * import type { TorchFigures } from "./rpc-peers.js";
 * declare const torch: TorchFigures;
 * console.log(`torch ${torch.torch}, ${torch.transport}: ${torch.roundTripUs} µs`);
 * ```
 */
export interface TorchFigures extends PeerFigures {
  /** torch.__version__ */
  torch: string;
  transport: string;
  /** rpc_async calls in flight in a throughput round. */
  inFlight: number;
}

/**
 * Whether `/usr/bin/python3 -c "import torch"` works.
 *
 * @example
 * ```ts
 * import { torchInstalled } from "./rpc-peers.js";
 * if (!torchInstalled()) console.log("torch rpc: skipped (python3-torch not installed)");
 * ```
 */
export function torchInstalled(): boolean {
  return spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore", timeout: 120_000 }).status === 0;
}

/**
 * torch rpc between two processes (bench/torch-rpc.py: TensorPipe with torch's default
 * transports, rendezvous on 127.0.0.1, rank 1 in a child process, a trivial function): µs per `rpc_sync`, and calls/s with 20,000
 * `rpc_async` in flight. `undefined` when python3-torch is not installed.
 *
 * @example
 * ```ts
 * import { measureTorch } from "./rpc-peers.js";
 * const torch = await measureTorch();
 * if (torch !== undefined) console.log(`${torch.roundTripUs} µs per rpc_sync`);
 * ```
 */
export async function measureTorch(): Promise<TorchFigures | undefined> {
  if (!torchInstalled()) return undefined;
  const args = [TORCH_SCRIPT, ...(QUICK ? ["--quick"] : [])];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(PYTHON, args, { timeout: 600_000, maxBuffer: 16 << 20 }, (error, out, err) => {
      if (error === null) resolve(out);
      else reject(new Error(`bench/torch-rpc.py failed: ${error.message}\n${err.slice(-2_000)}`));
    });
  });
  const line = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (line === undefined) throw new Error(`bench/torch-rpc.py printed no JSON line:\n${stdout.slice(-2_000)}`);
  return JSON.parse(line) as TorchFigures;
}

// ---------------------------------------------------------------------------

/** One Result row holding a peer's figure, in the "native" column: there is no torch-futures figure in this workload. */
function peerRow(workload: string, description: string, unit: string, figure: number, details: Record<string, unknown>): Result {
  return {
    workload: `rpc-peers/${workload}`,
    description,
    unit,
    torchFutures: NaN,
    native: figure,
    ratioKind: "ours / native",
    ratio: NaN,
    target: "— (a peer's figure)",
    met: false,
    notes: [],
    details: { peerOnly: true, ...details },
  };
}

function rows(key: string, name: string, perSecondUnit: string, inFlight: number, figures: PeerFigures, extra: Record<string, unknown> = {}): Result[] {
  const details = { ...figures, ...extra };
  return [
    peerRow(`${key}/round-trip`, `${name}: one call after another`, "µs per call (median)", figures.roundTripUs, details),
    peerRow(`${key}/throughput`, `${name}: ${inFlight.toLocaleString("en-US")} calls in flight`, perSecondUnit, figures.perSecond, details),
  ];
}

function say(line: string): void {
  console.log(`  ${line}`);
}

/**
 * Everything measured, as the Results of the rpc-peers workload (a peer that cannot run here is
 * skipped, with a line saying why). Each row's figure is in `native`; `torchFutures` is NaN.
 *
 * @example
 * ```ts
 * import { rpcPeers } from "./rpc-peers.js";
 * for (const r of await rpcPeers()) console.log(`${r.workload}: ${r.native} ${r.unit}`);
 * ```
 */
export async function rpcPeers(): Promise<Result[]> {
  const results: Result[] = [];
  const piscina = await measurePiscina();
  results.push(...rows("piscina", "piscina 5.3, one worker thread, (x) => x + 1", "tasks/s (median)", PISCINA_IN_FLIGHT, piscina));

  let server: Awaited<ReturnType<typeof startNatsServer>> | undefined;
  try {
    server = await startNatsServer();
  } catch (error) {
    say(`NATS: skipped (${error instanceof Error ? error.message : String(error)})`);
  }
  if (server !== undefined) {
    try {
      for (const [key, responder] of [
        ["nats", "same process"],
        ["nats-child", "child process"],
      ] as const) {
        const figures = await measureNats(server.url, responder);
        const name = `NATS request/reply on loopback, responder in the ${responder}`;
        results.push(...rows(key, name, "requests/s (median)", NATS_IN_FLIGHT, figures, { responder }));
      }
    } finally {
      await server.stop();
    }
  }

  const torch = await measureTorch();
  if (torch === undefined) {
    say("torch rpc: skipped (python3-torch not installed)");
  } else {
    const name = `torch ${torch.torch} rpc between two processes, TensorPipe with torch's default transports`;
    results.push(...rows("torch", name, "calls/s (median)", torch.inFlight, torch));
  }
  const first = results[0];
  if (first !== undefined) {
    first.notes.push(
      `each figure is the median of ${ROUNDS} rounds after a warm-up round (round trips: ${PISCINA_SEQUENTIAL.toLocaleString("en-US")} ` +
        `piscina tasks, ${NATS_SEQUENTIAL.toLocaleString("en-US")} NATS requests per round); these rows are peers' figures only: ` +
        "the rpc workload sets torch-futures' against them",
    );
  }
  return results;
}

async function standalone(): Promise<void> {
  for (const r of await rpcPeers()) console.log(`${r.description}: ${fmt(r.native)} ${r.unit}`);
}

async function serveNats(url: string): Promise<void> {
  const nc = await respond(url);
  process.once("SIGTERM", () => {
    void nc.close();
  });
  process.stdout.write("ready\n");
  await nc.closed();
}

if (isMainThread && process.argv[1] === THIS_FILE) {
  const [flag, url] = process.argv.slice(2);
  if (flag === "--nats-responder" && url !== undefined) await serveNats(url);
  else await standalone();
}

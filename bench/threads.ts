/**
 * threads: round trips between the main thread and a worker — main hands a
 * future over, the worker completes it, main observes it — against the same
 * work done with plain `postMessage`, and a 64 MiB `Float32Array` result
 * transferred, shared and copied.
 *
 * Runs alone with `node --expose-gc build/bench/threads.js` (after
 * `npm run build:all`); the same file is the benchmark's worker.
 *
 * @module
 */
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { Future } from "../src/index.js";
import { FutureLink, LinkClosedError, adopt, openLink, share, type FutureHandle, type LinkHandle } from "../src/threads/index.js";
import { type Result, fmt, forceGc, median } from "./harness.js";

/** Timed round trips per way, after as many untimed ones for warm-up. */
const ROUND_TRIPS = 10_000;
const WARM_UP = 1_000;
/** The ways take turns in blocks, so that drift in the machine hits them alike. */
const BLOCKS = 10;
/** Round trips after an idle millisecond (both threads asleep), per way. */
const IDLE_ROUND_TRIPS = 1_000;
const BIG_FLOATS = 16 << 20; // 64 MiB
const BIG_ROUNDS = 15;
const COPY_ROUNDS = 5;
/** Before the 64 MiB rounds: time for a forced GC's background work to end. */
const SETTLE_MS = 100;
/** Small round trips over the same link before each 64 MiB one. */
const BIG_WARM_UP = 200;

type Big = "transfer" | "shared" | "copy";

/** What a worker of this benchmark does (its workerData). */
type Task =
  /** Answers each message with itself. */
  | { benchThreads: "echo" }
  /** Bumps word 1 each time word 0 changes; stops when word 2 is set. Spins first if asked. */
  | { benchThreads: "atomics"; words: SharedArrayBuffer; spin: boolean }
  /** Adopts each handle it is sent and completes it with its count. */
  | { benchThreads: "adopt" }
  /** Receives futures over the link, blocking, and completes each with its count. */
  | { benchThreads: "link"; handle: LinkHandle<number> }
  /** Receives futures over the link and completes each as `control[0]` says (a `BIG_*` code). */
  | { benchThreads: "big"; handle: LinkHandle<Float32Array>; control: SharedArrayBuffer }
  /** The same with plain messages: answers each `BIG_*` code it is sent; takes back buffers it is sent. */
  | { benchThreads: "big-native" };

// ---------------------------------------------------------------------------
// the worker side

const SPIN_MS = 0.05;

/** Waits until `words[index]` is no longer `seen`; spins up to SPIN_MS first if asked. */
function waitChange(words: Int32Array, index: number, seen: number, spin: boolean): void {
  if (spin) {
    const until = performance.now() + SPIN_MS;
    for (let i = 1; Atomics.load(words, index) === seen; i++) {
      if ((i & 63) === 0 && performance.now() >= until) break;
    }
  }
  while (Atomics.load(words, index) === seen) Atomics.wait(words, index, seen);
}

function serveLink(link: FutureLink<never, number>): void {
  let n = 0;
  for (;;) {
    let fut: Future<number>;
    try {
      fut = link.receive();
    } catch (error) {
      if (error instanceof LinkClosedError) return;
      throw error;
    }
    fut.setResult(n++);
  }
}

// What the big workers answer (control word 0, or the message).
const BIG_WARM = 0;
const BIG_GC = 9;
const BIG_CODES: Record<Big, number> = { transfer: 1, shared: 2, copy: 3 };
const BIG_FILL: Record<Big, number> = { transfer: 1, shared: 2, copy: 3 };

/** The arrays a big worker answers with, and its answer to a code. */
function bigAnswers(): (code: number) => { value: Float32Array; transfer: ArrayBuffer[] } {
  const shared = new Float32Array(new SharedArrayBuffer(BIG_FLOATS * 4)).fill(BIG_FILL.shared);
  const copied = new Float32Array(BIG_FLOATS).fill(BIG_FILL.copy);
  const tiny = new Float32Array(new SharedArrayBuffer(16));
  let warm = 0;
  return (code) => {
    switch (code) {
      case BIG_CODES.shared:
        return { value: shared, transfer: [] };
      case BIG_CODES.copy:
        return { value: copied, transfer: [] };
      case BIG_GC:
        forceGc();
        return { value: tiny, transfer: [] };
      default: {
        // Warm-up: the same code paths with small values (a transfer, a share).
        if (warm++ % 2 === 1) return { value: tiny, transfer: [] };
        const small = new Float32Array(4);
        return { value: small, transfer: [small.buffer] };
      }
    }
  };
}

function serveBig(link: FutureLink<Float32Array>, control: Int32Array): void {
  const answer = bigAnswers();
  let moved: Float32Array = new Float32Array(BIG_FLOATS).fill(BIG_FILL.transfer);
  for (;;) {
    let fut: Future<Float32Array>;
    try {
      fut = link.receive();
    } catch (error) {
      if (error instanceof LinkClosedError) return;
      throw error;
    }
    const code = Atomics.load(control, 0);
    if (code === BIG_CODES.transfer) {
      fut.setResult(moved, { transfer: [moved.buffer] });
      // Main gives the buffer back the same way, as a pool would: no 64 MiB of garbage per round.
      const back = new Future<Float32Array>();
      link.send(back);
      moved = back.wait(20_000);
    } else {
      const { value, transfer } = answer(code);
      fut.setResult(value, { transfer });
    }
  }
}

function serveBigNative(): void {
  const answer = bigAnswers();
  let moved: Float32Array = new Float32Array(BIG_FLOATS).fill(BIG_FILL.transfer);
  parentPort?.on("message", (message: number | Float32Array) => {
    if (typeof message !== "number") {
      moved = message;
    } else if (message === BIG_CODES.transfer) {
      parentPort?.postMessage(moved, [moved.buffer as ArrayBuffer]);
    } else {
      const { value, transfer } = answer(message);
      parentPort?.postMessage(value, transfer);
    }
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function worker(task: Task): void {
  switch (task.benchThreads) {
    case "echo":
      parentPort?.on("message", (message: number) => {
        parentPort?.postMessage(message);
      });
      return;
    case "atomics": {
      const words = new Int32Array(task.words);
      for (let handled = 0; ; handled++) {
        waitChange(words, 0, handled, task.spin);
        if (Atomics.load(words, 2) !== 0) return;
        Atomics.add(words, 1, 1);
        Atomics.notify(words, 1);
      }
    }
    case "adopt": {
      let n = 0;
      parentPort?.on("message", (handle: FutureHandle<number>) => {
        adopt(handle).setResult(n++);
      });
      return;
    }
    case "link":
      serveLink(openLink(task.handle as LinkHandle<never, number>));
      return;
    case "big":
      serveBig(openLink(task.handle), new Int32Array(task.control));
      return;
    case "big-native":
      serveBigNative();
      return;
  }
}

// ---------------------------------------------------------------------------
// the main side

interface Way {
  readonly key: string;
  readonly label: string;
  /** One round trip; returns what main observed, for the check. */
  readonly once: () => number | Promise<number>;
  /** What the n-th round trip must observe. */
  readonly expect: (n: number) => number;
  count: number;
  readonly samples: number[];
}

interface BigStats {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly roundsMs: number[];
}

interface Stats {
  readonly label: string;
  readonly count: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly minUs: number;
  readonly maxUs: number;
}

function stats(way: Way): Stats {
  const sorted = [...way.samples].sort((a, b) => a - b);
  return {
    label: way.label,
    count: sorted.length,
    medianUs: median(sorted),
    p99Us: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN,
    minUs: sorted[0] ?? NaN,
    maxUs: sorted[sorted.length - 1] ?? NaN,
  };
}

function start(task: Task): Worker {
  const transferList = task.benchThreads === "link" || task.benchThreads === "big" ? task.handle.transferList : [];
  return new Worker(new URL(import.meta.url), { workerData: task, transferList });
}

/** Runs `count` round trips of `way`, timing each if `timed`. */
async function run(way: Way, count: number, timed: boolean, idleMs = 0): Promise<void> {
  const idle = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    // Both threads fall asleep: what a round trip costs when it is not one of a burst.
    if (idleMs > 0) Atomics.wait(idle, 0, 0, idleMs);
    const t0 = performance.now();
    const r = way.once();
    const got = typeof r === "number" ? r : await r;
    const t1 = performance.now();
    const want = way.expect(way.count++);
    if (got !== want) throw new Error(`${way.label}: round trip ${way.count - 1} observed ${got}, expected ${want}`);
    if (timed) way.samples.push((t1 - t0) * 1000);
  }
}

function way(key: string, label: string, once: () => number | Promise<number>, expect: (n: number) => number = (n) => n): Way {
  return { key, label, once, expect, count: 0, samples: [] };
}

/** The round trips: every way, in turns. */
function roundTrips(): { ways: Way[]; idle: Way[]; stop: () => Promise<void> } {
  // (a) postMessage request/response
  const echo = start({ benchThreads: "echo" });
  let answer: ((n: number) => void) | undefined;
  echo.on("message", (n: number) => answer?.(n));
  let asked = 0;
  let echoed = 0;
  const echoExpect = (): number => echoed++;
  const postMessage = (): Promise<number> =>
    new Promise((resolve) => {
      answer = resolve;
      echo.postMessage(asked++);
    });

  // (b) bare Atomics.wait/notify, and spinning first as the fast path does
  const atomics = (spin: boolean): { once: () => number; worker: Worker; words: Int32Array } => {
    const words = new Int32Array(new SharedArrayBuffer(12));
    const w = start({ benchThreads: "atomics", words: words.buffer, spin });
    return {
      worker: w,
      words,
      once: () => {
        const seen = Atomics.load(words, 1);
        Atomics.add(words, 0, 1);
        Atomics.notify(words, 0);
        waitChange(words, 1, seen, spin);
        return Atomics.load(words, 1) - 1;
      },
    };
  };
  const bare = atomics(false);
  const spun = atomics(true);

  // (c), (d) share() + postMessage handover, the worker adopts and completes
  const adopter = start({ benchThreads: "adopt" });
  const shareOnce = (): Future<number> => {
    const fut = new Future<number>();
    const handle = share(fut);
    adopter.postMessage(handle, handle.transferList);
    return fut;
  };

  // (e), (f) the fast path: one FutureLink, made once
  const link = new FutureLink<number, never>();
  const linker = start({ benchThreads: "link", handle: link.handle });
  const linkerExited = new Promise((resolve) => linker.once("exit", resolve));
  const linkOnce = (): Future<number> => {
    const fut = new Future<number>();
    link.send(fut);
    return fut;
  };

  let shared = 0;
  const sharedExpect = (): number => shared++;
  let linked = 0;
  const linkedExpect = (): number => linked++;
  const ways = [
    way("a", "(a) postMessage request/response", postMessage, echoExpect),
    way("b", "(b) Atomics.wait/notify, bare", bare.once),
    way("b'", "(b') Atomics, spin ≤ 50 µs then wait", spun.once),
    way("c", "(c) share() + postMessage, blocking wait()", () => shareOnce().wait(10_000), sharedExpect),
    way("d", "(d) share() + postMessage, await", async () => await shareOnce(), sharedExpect),
    way("e", "(e) FutureLink, blocking wait()", () => linkOnce().wait(10_000), linkedExpect),
    way("f", "(f) FutureLink, await", async () => await linkOnce(), linkedExpect),
  ];
  const idle = [
    way("a-idle", "(a) postMessage, after 1 ms idle", postMessage, echoExpect),
    way("e-idle", "(e) FutureLink blocking, after 1 ms idle", () => linkOnce().wait(10_000), linkedExpect),
  ];

  const stop = async (): Promise<void> => {
    for (const { words } of [bare, spun]) {
      Atomics.store(words, 2, 1);
      Atomics.add(words, 0, 1);
      Atomics.notify(words, 0);
    }
    // The link's worker ends when its link closes.
    link.close();
    await Promise.all([echo.terminate(), adopter.terminate(), bare.worker.terminate(), spun.worker.terminate(), linkerExited]);
  };
  return { ways, idle, stop };
}

/** 64 MiB round trip times (ms) of each kind, over a FutureLink and with plain messages. */
interface BigTimes {
  readonly link: Record<Big, number[]>;
  readonly native: Record<Big, number[]>;
}

/** The 64 MiB round trips: the two ways take turns, round by round, in the same conditions. */
async function bigRoundTrips(): Promise<BigTimes> {
  const link = new FutureLink<Float32Array>();
  const control = new Int32Array(new SharedArrayBuffer(4));
  const linked = start({ benchThreads: "big", handle: link.handle, control: control.buffer });
  const linkedExited = new Promise((resolve) => linked.once("exit", resolve));
  const viaLink = (code: number): Float32Array => {
    Atomics.store(control, 0, code);
    const fut = new Future<Float32Array>();
    link.send(fut);
    return fut.wait(20_000);
  };
  const native = start({ benchThreads: "big-native" });
  let answer: ((data: Float32Array) => void) | undefined;
  native.on("message", (data: Float32Array) => answer?.(data));
  const viaMessage = (code: number): Promise<Float32Array> =>
    new Promise((resolve) => {
      answer = resolve;
      native.postMessage(code);
    });

  const times: BigTimes = { link: { transfer: [], shared: [], copy: [] }, native: { transfer: [], shared: [], copy: [] } };
  const check = (how: Big, data: Float32Array): void => {
    if (data.length !== BIG_FLOATS || data[BIG_FLOATS - 1] !== BIG_FILL[how]) throw new Error(`64 MiB ${how}: wrong data`);
    if ((how === "shared") !== data.buffer instanceof SharedArrayBuffer) throw new Error(`64 MiB ${how}: wrong buffer`);
  };
  // What the round trips before left behind, collected on every thread, and the GC's background
  // work (which on 2 cores competes with a round trip) given time to end.
  viaLink(BIG_GC);
  await viaMessage(BIG_GC);
  forceGc();
  await sleep(SETTLE_MS);
  for (const how of ["transfer", "shared", "copy"] as const) {
    const rounds = how === "copy" ? COPY_ROUNDS : BIG_ROUNDS;
    // The first round of each kind warms up.
    for (let round = 0; round <= rounds; round++) {
      // Both threads awake and their code warm, as in a busy program, with small values first.
      for (let i = 0; i < BIG_WARM_UP; i++) viaLink(BIG_WARM);
      let t0 = performance.now();
      const data = viaLink(BIG_CODES[how]);
      let ms = performance.now() - t0;
      check(how, data);
      if (round > 0) times.link[how].push(ms);
      // Buffers go back to the worker (outside the time), as to a pool: no 64 MiB of garbage per round.
      if (how === "transfer") link.receive(20_000).setResult(data, { transfer: [data.buffer] });

      for (let i = 0; i < BIG_WARM_UP; i++) await viaMessage(BIG_WARM);
      t0 = performance.now();
      const theirs = await viaMessage(BIG_CODES[how]);
      ms = performance.now() - t0;
      check(how, theirs);
      if (round > 0) times.native[how].push(ms);
      if (how === "transfer") native.postMessage(theirs, [theirs.buffer as ArrayBuffer]);
    }
  }
  link.close();
  await Promise.all([linkedExited, native.terminate()]);
  return times;
}

/** Everything measured, as the Results of the threads workload. */
export async function threads(): Promise<Result[]> {
  forceGc();
  const { ways, idle, stop } = roundTrips();
  try {
    for (const w of ways) await run(w, WARM_UP, false);
    const perBlock = ROUND_TRIPS / BLOCKS;
    for (let block = 0; block < BLOCKS; block++) for (const w of ways) await run(w, perBlock, true);
    for (const w of idle) await run(w, IDLE_ROUND_TRIPS, true, 1);
  } finally {
    await stop();
  }
  const big = await bigRoundTrips();

  const all = [...ways, ...idle].map(stats);
  const byKey = new Map([...ways, ...idle].map((w, i) => [w.key, all[i] as Stats]));
  const get = (key: string): Stats => {
    const s = byKey.get(key);
    if (s === undefined) throw new Error(`no way ${key}`);
    return s;
  };
  const a = get("a");
  const e = get("e");
  const bigStats = (times: number[]): BigStats => ({
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    roundsMs: times,
  });
  const bigMs: Record<string, BigStats> = {};
  for (const how of ["transfer", "shared", "copy"] as const) {
    const name = how === "transfer" ? "transferred" : how === "copy" ? "copied" : how;
    bigMs[`FutureLink, ${name}`] = bigStats(big.link[how]);
    bigMs[`postMessage, ${name}`] = bigStats(big.native[how]);
  }
  const bigOf = (key: string): BigStats => {
    const s = bigMs[key];
    if (s === undefined) throw new Error(`no 64 MiB figure ${key}`);
    return s;
  };
  const lines = all.map((s) => `${s.label}: median ${fmt(s.medianUs)} µs, p99 ${fmt(s.p99Us)} µs (${s.count.toLocaleString("en-US")} round trips)`);
  const notes = [
    ...lines,
    ...Object.entries(bigMs).map(
      ([label, s]) =>
        `64 MiB Float32Array, ${label}: median ${fmt(s.medianMs)} ms, fastest ${fmt(s.minMs)} ms, slowest ${fmt(s.maxMs)} ms (${s.roundsMs.length} rounds)`,
    ),
    "Blocking waits spin up to 50 µs before sleeping while the other thread is awake; (b') is that mechanism alone, (b) plain Atomics.wait.",
    "64 MiB: V8 collects garbage when a thread has taken in 64 MiB outside its heap since its last collection — the very size " +
      "measured — so some rounds of either way include a collection (slowest); the fastest round shows the hand-over alone.",
  ];
  const details = { roundTrips: all, bigMs };
  const ratio = e.medianUs / a.medianUs;
  const bigResult = (name: "transferred" | "shared", description: string): Result => {
    const ours = bigOf(`FutureLink, ${name}`);
    const theirs = bigOf(`postMessage, ${name}`);
    return {
      workload: `threads/64MiB-${name}`,
      description,
      unit: "ms per round trip (median)",
      torchFutures: ours.medianMs,
      native: theirs.medianMs,
      ratioKind: "ours / native",
      ratio: ours.medianMs / theirs.medianMs,
      target: "< 1 ms (median of the rounds)",
      met: ours.medianMs < 1,
      notes: [],
      details: { ours, postMessage: theirs, copied: bigOf("FutureLink, copied") },
    };
  };
  return [
    {
      workload: "threads/round-trip",
      description:
        "main hands a future to a worker, the worker completes it, main's blocking wait() returns: FutureLink against a postMessage request/response",
      unit: "µs per round trip (median)",
      torchFutures: e.medianUs,
      native: a.medianUs,
      ratioKind: "ours / native",
      ratio,
      target: "≤ 50% of postMessage's median",
      met: ratio <= 0.5,
      notes,
      details,
    },
    bigResult("transferred", "a 64 MiB Float32Array result with { transfer }, over a FutureLink, against postMessage transferring it"),
    bigResult("shared", "a 64 MiB Float32Array over a SharedArrayBuffer, over a FutureLink, against postMessage sharing it"),
  ];
}

// ---------------------------------------------------------------------------

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  return rows
    .map((row, i) => {
      const line = row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  ");
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

async function standalone(): Promise<void> {
  console.log(
    `threads — Node.js ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? "unknown"}), ` +
      `${process.platform}/${process.arch}; ${ROUND_TRIPS.toLocaleString("en-US")} timed round trips per way ` +
      `(after ${WARM_UP.toLocaleString("en-US")} untimed), the ways taking turns in ${BLOCKS} blocks`,
  );
  const results = await threads();
  const first = results[0];
  if (first === undefined) return;
  const { roundTrips: all, bigMs } = first.details as { roundTrips: Stats[]; bigMs: Record<string, BigStats> };
  console.log();
  console.log(
    table([
      ["round trip", "median µs", "p99 µs", "count"],
      ...all.map((s) => [s.label, fmt(s.medianUs), fmt(s.p99Us), s.count.toLocaleString("en-US")]),
    ]),
  );
  console.log();
  console.log(
    table([
      ["64 MiB Float32Array result", "median ms", "fastest ms", "slowest ms", "rounds"],
      ...Object.entries(bigMs).map(([how, s]) => [how, fmt(s.medianMs), fmt(s.minMs), fmt(s.maxMs), String(s.roundsMs.length)]),
    ]),
  );
  console.log();
  console.log(
    table([
      ["target", "figure", "met"],
      ...results.map((r) => [
        `${r.workload}: ${r.target}`,
        r.ratioKind === "ours / native" && r.unit.startsWith("µs")
          ? `${fmt(r.torchFutures)} vs ${fmt(r.native)} µs (${fmt(r.ratio * 100)}%)`
          : `${fmt(r.torchFutures)} ms`,
        r.met ? "yes" : "NO",
      ]),
    ]),
  );
  console.log(`\n${first.notes.slice(-2).join("\n")}`);
}

const task = workerData as Partial<Task> | null;
if (!isMainThread && task !== null && typeof task.benchThreads === "string") {
  worker(task as Task);
} else if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  await standalone();
}

// How the RPC examples start their groups: the same program, its workers either threads of this
// process or separate processes over a NATS server started on loopback. Each example file is
// also its workers' script: `launch()` tells, from how it was started, which part to play.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, workerData } from "node:worker_threads";
import { createThreadGroup, isRpcGroupHandle, threadsTransport, type Transport } from "../src/rpc/index.js";
import { natsTransport } from "../src/rpc/nats.js";
import { startNatsServer } from "../test/support/nats-server.js";
import { runIfMain } from "./main.js";

/** An RPC example: its workers (the first, "main", drives), and what the driver and the others do. */
export interface RpcExample {
  /** The example's own file (`import.meta.url`): the workers run it too. */
  readonly url: string;
  readonly workers: readonly string[];
  /** The driver, on the first worker. */
  drive(transport: Transport): Promise<void>;
  /** Every other worker. */
  serve(transport: Transport): Promise<void>;
}

/** Workers as threads of this process. */
export async function withThreads(example: RpcExample): Promise<void> {
  const [driver = "main", ...others] = example.workers;
  const group = createThreadGroup(example.workers);
  const exits = others.map((name) => {
    const h = group[name];
    if (h === undefined) throw new Error(`no handle for ${name}`);
    const w = new Worker(fileURLToPath(example.url), { workerData: h, transferList: h.transferList });
    return new Promise<void>((resolve) => w.once("exit", () => { resolve(); }));
  });
  const mine = group[driver];
  if (mine === undefined) throw new Error(`no handle for ${driver}`);
  await example.drive(await threadsTransport(mine));
  await Promise.all(exits);
}

/** Workers as processes, over a NATS server on loopback. */
export async function withNats(example: RpcExample): Promise<void> {
  const [driver = "main", ...others] = example.workers;
  const server = await startNatsServer();
  try {
    const exits = others.map((name) => {
      const child = fork(fileURLToPath(example.url), ["--nats-worker", name, server.url], { stdio: "inherit" });
      return new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
    });
    await example.drive(await natsTransport({ servers: server.url, name: driver, workers: example.workers }));
    await Promise.all(exits);
  } finally {
    await server.stop();
  }
}

/**
 * Plays this file's part: a NATS worker process (`--nats-worker <name> <url>`), a worker thread
 * (started with its group handle), or, run as the program, the driver (`--nats` for processes).
 */
export async function launch(example: RpcExample): Promise<void> {
  const natsWorker = process.argv.indexOf("--nats-worker");
  if (natsWorker >= 0) {
    const [name, url] = process.argv.slice(natsWorker + 1);
    await example.serve(await natsTransport({ servers: url ?? "", name: name ?? "", workers: example.workers }));
  } else if (!isMainThread && isRpcGroupHandle(workerData)) {
    await example.serve(await threadsTransport(workerData));
  } else {
    runIfMain(example.url, () => (process.argv.includes("--nats") ? withNats(example) : withThreads(example)));
  }
}

/** Plays this file's part (see {@link launch}), and gives the demo the example's two runs. */
export async function rpcExample(example: RpcExample): Promise<{ main: () => Promise<void>; mainNats: () => Promise<void> }> {
  await launch(example);
  return { main: () => withThreads(example), mainNats: () => withNats(example) };
}

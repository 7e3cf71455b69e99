// RPC: a parameter server, as in torch's tutorial on distributed RPC. The parameters of a model
// (here y = w·x + b) live in one object on worker "ps"; the driver makes it there with remote()
// and hands the RRef to two trainers. Each trainer, on its own shard of the data, reads the
// parameters through the RRef (ref.rpcAsync().get(), run on "ps"), computes a gradient and
// applies it (ref.rpcAsync().apply(...)), without waiting for the other: asynchronous SGD. The
// same program runs with its workers as threads, and (with --nats) as processes over NATS.
//
// Prints, for either transport:
//   trainers made 600 updates
//   learned y = 3.00·x + 2.00
import { initRpc, type RRef, type Transport } from "../src/rpc/index.js";
import { rpcExample } from "./rpc-launch.js";

const WORKERS = ["main", "ps", "trainer1", "trainer2"];
const STEPS = 300;
// Small enough to stay stable when a gradient is one update stale (the trainers do not wait for each other).
const LEARNING_RATE = 0.2;

/** The model's parameters and how many updates they have had; it never leaves "ps". */
class ParameterServer {
  w = 0;
  b = 0;
  updates = 0;
  get(): [number, number] {
    return [this.w, this.b];
  }
  apply(gw: number, gb: number, lr: number): number {
    this.w -= lr * gw;
    this.b -= lr * gb;
    return ++this.updates;
  }
}

/** What every worker exposes. */
const functions = {
  /** On "ps": the parameters, kept where they are made (the caller gets an RRef). */
  createServer(): ParameterServer {
    return new ParameterServer();
  },
  /** A trainer: `STEPS` rounds of read, gradient on its own shard, update — all through the RRef. */
  async train(ps: RRef<ParameterServer>, shard: number): Promise<number> {
    // Points of y = 3x + 2, x in [0, 1): trainer 0 has the even tenths, trainer 1 the odd ones.
    const xs = Array.from({ length: 5 }, (_, i) => (2 * i + shard) / 10);
    for (let step = 0; step < STEPS; step++) {
      const [w, b] = await ps.rpcAsync().get();
      let gw = 0;
      let gb = 0;
      for (const x of xs) {
        const error = w * x + b - (3 * x + 2);
        gw += (2 * error * x) / xs.length;
        gb += (2 * error) / xs.length;
      }
      await ps.rpcAsync().apply(gw, gb, LEARNING_RATE);
    }
    ps.release();
    return STEPS;
  },
};
type Functions = typeof functions;

/** A worker's life: join, then, as in torch, shut down at once — it serves until everyone is done. */
async function serve(transport: Transport): Promise<void> {
  await initRpc({ functions, transport }).shutdown();
}

/** The driver, on "main": make the server, train on both trainers at once, print the model. */
async function drive(transport: Transport): Promise<void> {
  const agent = initRpc<Functions>({ functions, transport });
  const ps = agent.remote("ps", "createServer", []);
  await Promise.all([agent.rpcAsync("trainer1", "train", [ps, 0]), agent.rpcAsync("trainer2", "train", [ps, 1])]);
  const [w, b] = await ps.rpcAsync().get();
  console.log(`trainers made ${String(await ps.rpcAsync().apply(0, 0, 0) - 1)} updates`);
  console.log(`learned y = ${w.toFixed(2)}·x + ${b.toFixed(2)}`);
  ps.release();
  await agent.shutdown();
}

export const { main, mainNats } = await rpcExample({ url: import.meta.url, workers: WORKERS, drive, serve });

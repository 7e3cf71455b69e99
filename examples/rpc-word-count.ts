// RPC: a word count as map-reduce, torch.distributed.rpc style. Two mappers each count the
// words of half the text and keep their counts where they are (remote() → an RRef); the
// reducer receives the two RRefs, fetches the counts from their owners and merges them. The
// same program runs with its workers as threads of this process, and (with --nats) as
// separate processes talking over a NATS server started on loopback.
//
// Prints, for either transport:
//   the: 7
//   a: 5
//   future: 4
//   futures: 3
//   mappers still hold 0 counts
import { initRpc, type RRef, type RpcAgent, type Transport } from "../src/rpc/index.js";
import { rpcExample } from "./rpc-launch.js";

const TEXT = [
  "the future is a handle and the callbacks run when the future completes",
  "a future from a worker and a future from a host are the same futures",
  "the rpc returns futures the threads complete the futures",
];
const WORKERS = ["main", "mapper1", "mapper2", "reducer"];

type Counts = Map<string, number>;
let self: RpcAgent<Functions> | undefined;

/** What every worker exposes. */
const functions = {
  /** A mapper: the words of `text`, counted. */
  count(text: string): Counts {
    const counts: Counts = new Map();
    for (const word of text.split(/\s+/).filter(Boolean)) counts.set(word, (counts.get(word) ?? 0) + 1);
    return counts;
  },
  /** The reducer: fetches each mapper's counts from where they live, and merges them. */
  async merge(parts: RRef<Counts>[]): Promise<[string, number][]> {
    const total: Counts = new Map();
    for (const part of parts) {
      for (const [word, n] of await part.toHereAsync()) total.set(word, (total.get(word) ?? 0) + n);
      part.release();
    }
    return [...total].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  },
  /** How many values this worker still keeps for RRef holders. */
  held(): number {
    return self?.ownedRRefs ?? -1;
  },
};
type Functions = typeof functions;

/** A worker's life: join, then, as in torch, shut down at once — it serves until everyone is done. */
async function serve(transport: Transport): Promise<void> {
  self = initRpc({ functions, transport });
  await self.shutdown();
}

/** The driver, on "main": map, reduce, print. */
async function drive(transport: Transport): Promise<void> {
  const agent = initRpc<Functions>({ functions, transport });
  self = agent;
  const half = Math.ceil(TEXT.length / 2);
  const parts = [
    agent.remote("mapper1", "count", [TEXT.slice(0, half).join(" ")]),
    agent.remote("mapper2", "count", [TEXT.slice(half).join(" ")]),
  ];
  const top = await agent.rpcAsync("reducer", "merge", [parts]);
  for (const part of parts) part.release(); // main's own holds; the reducer let go of its own
  for (const [word, n] of top.slice(0, 4)) console.log(`${word}: ${n}`);
  // A release is a message to the owner, and the reducer's travel on channels of their own: ask
  // again for a moment (up to 10 s on a loaded machine) until they have arrived.
  const heldNow = async (): Promise<number> => (await agent.rpcAsync("mapper1", "held", [])) + (await agent.rpcAsync("mapper2", "held", []));
  let held = await heldNow();
  for (let i = 0; i < 1_000 && held > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    held = await heldNow();
  }
  console.log(`mappers still hold ${held} counts`);
  await agent.shutdown();
}

export const { main, mainNats } = await rpcExample({ url: import.meta.url, workers: WORKERS, drive, serve });

// Starts a worker-threads RPC group for a test: this thread is "main", the others are worker
// threads running thread-worker.ts.
import { Worker } from "node:worker_threads";
import { createThreadGroup, initRpc, threadsTransport, type RpcAgent } from "../../src/rpc/index.js";
import { functions, setAgent, type Functions } from "./functions.js";

export interface ThreadGroup {
  agent: RpcAgent<Functions>;
  workers: Map<string, Worker>;
  /** Asks every worker to shut down (as main does too) and waits until they have exited. */
  close(options?: { graceful?: boolean }): Promise<void>;
}

export async function startThreadGroup(
  names: string[] = ["worker1"],
  options: { rpcTimeout?: number; resourceLimits?: { maxOldGenerationSizeMb: number }; graceful?: boolean } = {},
): Promise<ThreadGroup> {
  const group = createThreadGroup(["main", ...names]);
  const workers = new Map<string, Worker>();
  for (const name of names) {
    const handle = group[name];
    if (handle === undefined) throw new Error(name);
    const w = new Worker(new URL("./thread-worker.js", import.meta.url), {
      workerData: { handle, graceful: options.graceful },
      transferList: handle.transferList,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    w.on("error", () => undefined); // deaths are part of the tests
    workers.set(name, w);
  }
  const main = group["main"];
  if (main === undefined) throw new Error("main");
  const agent = initRpc<Functions>({
    functions,
    transport: await threadsTransport(main),
    ...(options.rpcTimeout === undefined ? {} : { rpcTimeout: options.rpcTimeout }),
  });
  setAgent(agent);
  return {
    agent,
    workers,
    async close(o = {}) {
      // Not events.once: it rejects on the 'error' a dying worker emits.
      const exits = [...workers.values()].map((w) =>
        w.threadId === -1 ? Promise.resolve() : new Promise<void>((resolve) => w.once("exit", () => { resolve(); })),
      );
      for (const w of workers.values()) if (w.threadId !== -1) w.postMessage(o.graceful === false ? "shutdown-now" : "shutdown");
      await agent.shutdown({ graceful: o.graceful ?? true, timeout: 10_000 });
      await Promise.all(exits);
    },
  };
}

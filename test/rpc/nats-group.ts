// Starts a NATS RPC group for a test: this process is "main", the other workers are child
// processes running nats-worker.ts, all on one nats-server (the caller's, or one of the group's
// own, stopped by close()).
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { initRpc, type RpcAgent } from "../../src/rpc/index.js";
import { natsTransport } from "../../src/rpc/nats.js";
import { startNatsServer, type NatsServer } from "../support/nats-server.js";
import { setAgent } from "./functions.js";
import { natsFunctions, type NatsFunctions } from "./nats-functions.js";
import type { CallCommand, CallOutcome, GoneReport, NatsWorkerConfig } from "./nats-worker.js";

const WORKER = new URL("./nats-worker.js", import.meta.url);
let groups = 0;

export interface NatsGroupOptions {
  /** The server to use; without one the group starts its own and stops it on close(). */
  server?: NatsServer;
  heartbeatMs?: number;
  deadAfterMs?: number;
  rpcTimeout?: number;
}

export interface NatsGroup {
  agent: RpcAgent<NatsFunctions>;
  server: NatsServer;
  /** The group's subject prefix, unique per group. */
  group: string;
  workers: string[];
  children: Map<string, ChildProcess>;
  /** Has worker `from` (a child) call `fn` on `to`, and resolves with the outcome it reports. */
  callFrom(from: string, to: string, fn: keyof NatsFunctions, args: unknown[]): Promise<CallOutcome>;
  /** The peers worker `name` (a child) has reported gone so far, in order. */
  gone(name: string): GoneReport[];
  /** Shuts every worker down (main too) and resolves with each child's exit code. */
  close(options?: { graceful?: boolean }): Promise<(number | null)[]>;
}

/** A new, unique subject prefix for a group. */
export function groupName(): string {
  return `test${process.pid}g${groups++}`;
}

/** Forks one worker process; resolves once it has joined the group, rejects if it exits first. */
export function forkWorker(config: NatsWorkerConfig): { child: ChildProcess; ready: Promise<void> } {
  const child = fork(WORKER, [JSON.stringify(config)], { execArgv: ["--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  child.on("error", () => undefined); // deaths are part of the tests
  const ready = new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void => {
      reject(new Error(`NATS worker "${config.transport.name}" exited before it joined (${signal ?? `code ${code}`})`));
    };
    child.once("exit", onExit);
    const onReady = (m: unknown): void => {
      if (m !== "ready") return;
      child.off("message", onReady);
      child.off("exit", onExit);
      resolve();
    };
    child.on("message", onReady);
  });
  return { child, ready };
}

export async function startNatsGroup(names: string[] = ["worker1"], options: NatsGroupOptions = {}): Promise<NatsGroup> {
  const own = options.server === undefined;
  const server = options.server ?? (await startNatsServer());
  const group = groupName();
  const workers = ["main", ...names];
  const beat = {
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.deadAfterMs === undefined ? {} : { deadAfterMs: options.deadAfterMs }),
  };
  const children = new Map<string, ChildProcess>();
  const ready: Promise<void>[] = [];
  for (const name of names) {
    const w = forkWorker({ transport: { servers: server.url, name, workers, group, ...beat } });
    children.set(name, w.child);
    ready.push(w.ready);
  }
  // A worker that dies while joining fails the start at once rather than after the rendezvous timeout.
  const joined = Promise.all(ready);
  joined.catch(() => undefined);
  let transport;
  try {
    const pending = natsTransport({ servers: server.url, name: "main", workers, group, ...beat });
    transport = await Promise.race([pending, joined.then(() => pending)]);
  } catch (error) {
    for (const c of children.values()) c.kill("SIGKILL");
    if (own) await server.stop();
    throw error;
  }
  const agent = initRpc<NatsFunctions>({
    functions: natsFunctions,
    transport,
    ...(options.rpcTimeout === undefined ? {} : { rpcTimeout: options.rpcTimeout }),
  });
  setAgent(agent);
  await joined;
  const reports = new Map<string, GoneReport[]>(names.map((n) => [n, []]));
  const outcomes = new Map<number, (o: CallOutcome) => void>();
  let callIds = 0;
  for (const [name, child] of children) {
    child.on("message", (m: unknown) => {
      if (typeof m !== "object" || m === null) return;
      if ("gone" in m) reports.get(name)?.push(m as GoneReport);
      if ("callId" in m) {
        const o = m as CallOutcome;
        outcomes.get(o.callId)?.(o);
        outcomes.delete(o.callId);
      }
    });
  }
  return {
    agent,
    server,
    group,
    workers,
    children,
    callFrom(from, to, fn, args) {
      const child = children.get(from);
      if (child === undefined) throw new Error(`no child named ${from}`);
      const callId = callIds++;
      return new Promise<CallOutcome>((resolve) => {
        outcomes.set(callId, resolve);
        child.send({ call: { callId, to, fn, args } } satisfies CallCommand);
      });
    },
    gone(name) {
      return [...(reports.get(name) ?? [])];
    },
    async close(o = {}) {
      const live = [...children.values()];
      const exits = live.map(async (c) => {
        if (c.exitCode === null && c.signalCode === null) await once(c, "exit");
        return c.exitCode;
      });
      for (const c of live) if (c.connected) c.send("shutdown");
      await agent.shutdown({ graceful: o.graceful ?? true, timeout: 10_000 });
      const codes = await Promise.all(exits);
      if (own) await server.stop();
      return codes;
    },
  };
}

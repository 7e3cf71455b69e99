// A NATS test worker that the network test (test/rpc-nats-network.test.ts) starts, inside a network
// namespace or not: it serves the shared test functions, and makes the calls the test asks for over
// IPC, reporting each outcome over IPC too — a channel that cutting the worker's network leaves alone.
import { initRpc } from "../../src/rpc/index.js";
import { natsTransport, type NatsTransportOptions } from "../../src/rpc/nats.js";
import { functions, setAgent, type Functions } from "../rpc/functions.js";

/**
 * What the test passes as the first argument, as JSON.
 *
 * @example
 * ```ts
 * import type { NetnsWorkerConfig } from "./support/netns-worker.js";
 * const config: NetnsWorkerConfig = { transport: { servers: "nats://10.200.7.1:4222", name: "worker1", workers: ["main", "worker1"] } };
 * ```
 */
export interface NetnsWorkerConfig {
  readonly transport: NatsTransportOptions;
}

/**
 * What the test sends: make a call (`to`, `fn`, `args`) and report its outcome under `id`;
 * report under `id` whether the transport still counts `peer` as there; or shut down gracefully.
 *
 * @example
 * ```ts
 * import type { NetnsCommand } from "./support/netns-worker.js";
 * const call: NetnsCommand = { op: "call", id: 1, to: "main", fn: "add", args: [1, 2] };
 * ```
 */
export type NetnsCommand =
  | { readonly op: "call"; readonly id: number; readonly to: string; readonly fn: keyof Functions; readonly args: readonly unknown[] }
  | { readonly op: "alive"; readonly id: number; readonly peer: string }
  | { readonly op: "shutdown" };

/**
 * What the worker sends back: "ready" once it has joined the group, "closed" once shut down, or the
 * outcome of command `id`. `at` is when it settled, in wall-clock milliseconds
 * (`performance.timeOrigin + performance.now()`: comparable across the processes of one machine);
 * `atOnce` says that the call's future was already complete when `rpcAsync` returned it.
 *
 * @example
 * ```ts
 * import type { NetnsReport } from "./support/netns-worker.js";
 * const report: NetnsReport = { id: 1, ok: true, value: 3, at: 0, atOnce: false };
 * ```
 */
export type NetnsReport =
  | "ready"
  | "closed"
  | { readonly id: number; readonly ok: true; readonly value: unknown; readonly at: number; readonly atOnce: boolean }
  | {
      readonly id: number;
      readonly ok: false;
      /** The error's class name, message and `worker` property (RpcWorkerGoneError's), as IPC cannot carry the error itself. */
      readonly error: { readonly name: string; readonly message: string; readonly worker?: string };
      readonly at: number;
      readonly atOnce: boolean;
    };

function now(): number {
  return performance.timeOrigin + performance.now();
}

function describeError(error: unknown): { name: string; message: string; worker?: string } {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const worker = (error as { worker?: unknown }).worker;
  return { name: error.constructor.name, message: error.message, ...(typeof worker === "string" ? { worker } : {}) };
}

if (process.send !== undefined) {
  const send = (report: NetnsReport): void => {
    process.send?.(report);
  };
  const config = JSON.parse(process.argv[2] ?? "{}") as NetnsWorkerConfig;
  const transport = await natsTransport(config.transport);
  const agent = initRpc<Functions>({ functions, transport });
  setAgent(agent);
  process.on("message", (m: NetnsCommand) => {
    switch (m.op) {
      case "call": {
        const { id } = m;
        let fut;
        try {
          fut = agent.rpcAsync(m.to, m.fn, m.args as never);
        } catch (error) {
          send({ id, ok: false, error: describeError(error), at: now(), atOnce: true });
          return;
        }
        const atOnce = fut.done();
        fut.then(
          (value: unknown) => { send({ id, ok: true, value, at: now(), atOnce }); },
          (error: unknown) => { send({ id, ok: false, error: describeError(error), at: now(), atOnce }); },
        );
        return;
      }
      case "alive":
        send({ id: m.id, ok: true, value: transport.alive(m.peer), at: now(), atOnce: true });
        return;
      case "shutdown":
        void agent.shutdown({ graceful: true, timeout: 10_000 }).then(() => {
          send("closed");
          process.disconnect();
        });
    }
  });
  send("ready");
}

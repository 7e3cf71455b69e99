// A worker process of a NATS test group (forked by test/rpc/nats-group.ts): joins the group named
// in its argument, serves the test functions (nats-functions.ts), and shuts down when the test
// asks it to (message "shutdown"), then lets the process exit by itself. It also makes calls the
// test asks for ({ call }), answering { callId, ok, value | name, message }, and reports each peer
// its transport counts as gone ({ gone, message }): what this worker sees, from the outside.
import { initRpc } from "../../src/rpc/index.js";
import { natsTransport, type NatsTransportOptions } from "../../src/rpc/nats.js";
import { setAgent } from "./functions.js";
import { natsFunctions, type NatsFunctions } from "./nats-functions.js";

/** What the test passes as the first argument, as JSON. */
export interface NatsWorkerConfig {
  transport: NatsTransportOptions;
  graceful?: boolean;
}

/** A call the test asks this worker to make. */
export interface CallCommand {
  call: { callId: number; to: string; fn: keyof NatsFunctions; args: unknown[] };
}

/** Its outcome, sent back. */
export type CallOutcome = { callId: number; ok: true; value: unknown } | { callId: number; ok: false; name: string; message: string };

/** A peer this worker's transport counts as gone. */
export interface GoneReport {
  gone: string;
  message: string;
}

if (process.send !== undefined) {
  const config = JSON.parse(process.argv[2] ?? "{}") as NatsWorkerConfig;
  const transport = await natsTransport(config.transport);
  const agent = initRpc<NatsFunctions>({ functions: natsFunctions, transport });
  setAgent(agent);
  transport.onGone((peer, cause) => {
    process.send?.({ gone: peer, message: cause instanceof Error ? cause.message : String(cause) } satisfies GoneReport);
  });
  process.on("message", (m: unknown) => {
    if (m === "shutdown") {
      void agent.shutdown({ graceful: config.graceful ?? true, timeout: 10_000 }).then(() => {
        process.send?.("closed");
        process.disconnect();
      });
    } else if (typeof m === "object" && m !== null && "call" in m) {
      const { callId, to, fn, args } = (m as CallCommand).call;
      const answer = (outcome: CallOutcome): void => {
        process.send?.(outcome);
      };
      try {
        Promise.resolve(agent.rpcAsync(to, fn, args as never)).then(
          (value: unknown) => { answer({ callId, ok: true, value }); },
          (e: unknown) => { answer({ callId, ok: false, name: (e as Error).name, message: (e as Error).message }); },
        );
      } catch (e) {
        answer({ callId, ok: false, name: (e as Error).name, message: (e as Error).message });
      }
    }
  });
  process.send("ready");
}

export { natsFunctions, type NatsFunctions };

// A worker process of a NATS test group (forked by test/rpc/nats-group.ts): joins the group named
// in its argument, serves the test functions (nats-functions.ts), and shuts down when the test
// asks it to (message "shutdown"), then lets the process exit by itself.
import { initRpc } from "../../src/rpc/index.js";
import { natsTransport, type NatsTransportOptions } from "../../src/rpc/nats.js";
import { setAgent } from "./functions.js";
import { natsFunctions, type NatsFunctions } from "./nats-functions.js";

/** What the test passes as the first argument, as JSON. */
export interface NatsWorkerConfig {
  transport: NatsTransportOptions;
  graceful?: boolean;
}

if (process.send !== undefined) {
  const config = JSON.parse(process.argv[2] ?? "{}") as NatsWorkerConfig;
  const agent = initRpc<NatsFunctions>({ functions: natsFunctions, transport: await natsTransport(config.transport) });
  setAgent(agent);
  process.on("message", (m: unknown) => {
    if (m === "shutdown") {
      void agent.shutdown({ graceful: config.graceful ?? true, timeout: 10_000 }).then(() => {
        process.send?.("closed");
        process.disconnect();
      });
    }
  });
  process.send("ready");
}

export { natsFunctions, type NatsFunctions };

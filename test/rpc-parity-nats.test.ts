// The parity cases of rpc-parity-cases.ts (torch's rpc_test.py) over NATS: one nats-server for the
// file, the workers in child processes (rpc/nats-group.ts). Cases that block on a reply take their
// NATS form there (see the note at the top of rpc-parity-cases.ts).
import { after, before } from "node:test";
import { startNatsServer, type NatsServer } from "./support/nats-server.js";
import { startNatsGroup } from "./rpc/nats-group.js";
import { parity } from "./rpc-parity-cases.js";

let server: NatsServer | undefined;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server?.stop();
});

parity({
  label: "NATS",
  blocks: false,
  start: (names, options = {}) => startNatsGroup(names, { ...options, ...(server === undefined ? {} : { server }) }),
});

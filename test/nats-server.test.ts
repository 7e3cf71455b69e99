import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "nats";
import { startNatsServer } from "./support/nats-server.js";

describe("startNatsServer (test support)", () => {
  it("starts a server on 127.0.0.1 that carries a request and its reply", async () => {
    const server = await startNatsServer();
    try {
      assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
      const responder = await connect({ servers: server.url });
      const requester = await connect({ servers: server.url });
      try {
        responder.subscribe("echo", {
          callback: (error, msg) => {
            if (error === null) msg.respond(new Uint8Array([...msg.data, 1]));
          },
        });
        await responder.flush();
        const reply = await requester.request("echo", new Uint8Array([7, 8]), { timeout: 5_000 });
        assert.deepEqual([...reply.data], [7, 8, 1]);
      } finally {
        await Promise.all([responder.close(), requester.close()]);
      }
    } finally {
      await server.stop();
    }
  });

  it("gives two servers two ports", async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    try {
      assert.notEqual(a.port, b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("stop() ends the server: its process has exited and a new connection fails", async () => {
    const server = await startNatsServer();
    await server.stop();
    assert.ok(server.process.exitCode !== null || server.process.signalCode !== null);
    await assert.rejects(connect({ servers: server.url, reconnect: false, timeout: 2_000 }));
    await server.stop(); // again: nothing left to stop
  });

  it("kill() makes the server die under its client, which sees the connection close", async () => {
    const server = await startNatsServer();
    try {
      const nc = await connect({ servers: server.url, reconnect: false });
      server.kill();
      await nc.closed();
      assert.equal(nc.isClosed(), true);
    } finally {
      await server.stop();
    }
    assert.equal(server.process.signalCode, "SIGKILL");
  });
});

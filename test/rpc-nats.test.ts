// torch-futures/rpc over NATS: a real nats-server, workers in child processes (rpc/nats-worker.ts).
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "nats";
import { after, before, describe, it } from "node:test";
import { Future, FutureTimeoutError } from "../src/index.js";
import {
  raisedOn,
  RpcCannotBlockError,
  RpcConnectionLostError,
  RpcDuplicateWorkerError,
  RpcError,
  RpcTimeoutError,
  RpcWorkerGoneError,
} from "../src/rpc/index.js";
import { natsTransport } from "../src/rpc/nats.js";
import { decode, encode } from "../src/threads/codecs/clone-codec.js";
import { startNatsServer, type NatsServer } from "./support/nats-server.js";
import { startNatsGroup, type NatsGroup, type NatsGroupOptions } from "./rpc/nats-group.js";

let server: NatsServer;

/** assert.rejects for a Future (a thenable, not a Promise). */
function rejects(f: PromiseLike<unknown>, error: assert.AssertPredicate): Promise<void> {
  return assert.rejects(Promise.resolve(f), error);
}

before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.stop();
});

/** A group on this file's server (rpc/nats-group.ts). */
function startGroup(names: string[] = ["worker1"], options: Omit<NatsGroupOptions, "server"> = {}): Promise<NatsGroup> {
  return startNatsGroup(names, { ...options, server });
}

describe("rpc over NATS", () => {
  it("round trips values with structured-clone fidelity, as Futures", async () => {
    const g = await startGroup(["worker1", "worker2"]);
    try {
      const fut = g.agent.rpcAsync("worker1", "add", [2, 3]);
      assert.ok(fut instanceof Future);
      assert.equal(await fut, 5);
      assert.equal(await g.agent.rpcAsync("worker2", "whoami", []), "worker2");
      const value = {
        map: new Map<unknown, unknown>([["a", 1], [2, new Set([3])]]),
        date: new Date(1_234_567_890_123),
        bytes: new Uint8Array([1, 2, 255]),
        floats: new Float64Array([0.5, -0, Number.NaN]),
        big: 2n ** 80n,
        nested: [undefined, null, "é"],
      };
      assert.deepEqual(await g.agent.rpcAsync("worker1", "echo", [value]), value);
      // A worker calls onwards to another worker, and the main worker itself.
      assert.equal(await g.agent.rpcAsync("worker1", "forward", ["worker2", 20, 22]), 42);
      assert.equal(await g.agent.rpcAsync("worker2", "forward", ["main", 1, 1]), 2);
    } finally {
      assert.deepEqual(await g.close(), [0, 0]);
    }
  });

  it("brings errors back as themselves: class, message, cause, raisedOn; library classes too", async () => {
    const g = await startGroup(["worker1", "worker2"]);
    try {
      const err = await g.agent.rpcAsync("worker1", "fail", ["boom"]).then(
        () => assert.fail("resolved"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof TypeError);
      assert.equal(err.message, "boom");
      assert.ok(err.cause instanceof RangeError);
      assert.equal(err.cause.message, "the cause");
      assert.equal(raisedOn(err), "worker1");
      await rejects(g.agent.rpcAsync("worker2", "rejectLater", [5]), (e: unknown) => e instanceof SyntaxError && raisedOn(e) === "worker2");
      const lib = await g.agent.rpcAsync("worker1", "libraryError", []).then(
        () => assert.fail("resolved"),
        (e: unknown) => e,
      );
      assert.ok(lib instanceof RpcTimeoutError);
      assert.ok(lib instanceof FutureTimeoutError);
      assert.equal(lib.worker, "elsewhere");
      assert.equal(lib.fn, "thing");
      // rpcSync on a NATS worker throws RpcCannotBlockError there, which arrives as itself.
      await rejects(g.agent.rpcAsync("worker1", "forwardSync", ["worker2", 1, 2]), (e: unknown) => e instanceof RpcCannotBlockError);
      // A thrown value that is not an error, and one that cannot be encoded.
      await rejects(g.agent.rpcAsync("worker1", "failWith", [{ code: 7 }]), (e: unknown) => (e as { code?: number }).code === 7);
      await rejects(g.agent.rpcAsync("worker1", "unclonable", []), (e: unknown) => e instanceof RpcError && /cannot be encoded/.test(e.message));
    } finally {
      await g.close();
    }
  });

  it("reports unknown functions and workers as RpcError, and the group goes on", async () => {
    const g = await startGroup();
    try {
      await rejects(
        g.agent.rpcAsync("worker1", "nope" as "add", [1, 2]),
        (e: unknown) => e instanceof RpcError && /no function named "nope"/.test(e.message),
      );
      assert.throws(() => g.agent.rpcAsync("worker9", "add", [1, 2]), (e: unknown) => e instanceof RpcError && /"worker1"/.test(e.message));
      assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 2]), 3);
      assert.throws(() => g.agent.rpcAsync("worker1", "echo", [() => 1]), TypeError);
    } finally {
      await g.close();
    }
  });

  it("rpcSync throws RpcCannotBlockError pointing to rpcAsync", async () => {
    const g = await startGroup();
    try {
      assert.throws(() => g.agent.rpcSync("worker1", "add", [1, 2]), (e: unknown) => e instanceof RpcCannotBlockError && /rpcAsync/.test(e.message));
      assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 2]), 3);
    } finally {
      await g.close();
    }
  });

  it("refuses a request above the server's max_payload with RpcError, fails a reply above it at once, and the peer stays", async () => {
    // Building and encoding 2 MB takes a while on a loaded machine: a long death window keeps this about sizes.
    const g = await startGroup(["worker1"], { heartbeatMs: 250, deadAfterMs: 10_000 });
    try {
      // Before: a request too large counted its peer as gone, and a reply too large was dropped
      // (the caller waited for its timeout).
      assert.throws(
        () => g.agent.rpcAsync("worker1", "echo", [new Uint8Array(2_000_000)]),
        (e: unknown) => e instanceof RpcError && !(e instanceof RpcWorkerGoneError) && /max_payload \(1048576 bytes\)/.test(e.message),
      );
      assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 2]), 3);
      await rejects(
        g.agent.rpcAsync("worker1", "array", [1_000_000, 1], { timeout: 30_000 }),
        (e: unknown) => e instanceof RpcError && raisedOn(e) === "worker1" && /could not send the result back to "main".*max_payload/.test(e.message),
      );
      await rejects(
        g.agent.rpcAsync("worker1", "failLong", [2_000_000], { timeout: 30_000 }),
        (e: unknown) => e instanceof RpcError && /could not send the error back/.test(e.message),
      );
      assert.equal(await g.agent.rpcAsync("worker1", "add", [2, 2]), 4);
    } finally {
      assert.deepEqual(await g.close(), [0]);
    }
  });

  it("times a call out, drops its late reply, and the next call gets its own answer", async () => {
    const g = await startGroup();
    try {
      await rejects(g.agent.rpcAsync("worker1", "later", [300, 1], { timeout: 50 }), (e: unknown) => e instanceof RpcTimeoutError);
      assert.equal(await g.agent.rpcAsync("worker1", "later", [400, 2]), 2); // the late reply (1) came meanwhile
      assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 2]), 3);
      const controller = new AbortController();
      const aborted = g.agent.rpcAsync("worker1", "later", [200, 4], { signal: controller.signal });
      controller.abort(new Error("stop"));
      await rejects(aborted, /stop/);
    } finally {
      await g.close();
    }
  });

  it("fails calls to a peer killed mid-call with RpcWorkerGoneError within deadAfterMs + heartbeatMs, later calls at once", async () => {
    const heartbeatMs = 100;
    const deadAfterMs = 400;
    const g = await startGroup(["worker1", "worker2"], { heartbeatMs, deadAfterMs });
    try {
      const inFlight = g.agent.rpcAsync("worker1", "hang", []);
      await g.agent.rpcAsync("worker1", "add", [1, 1]); // the hang call has arrived
      const killedAt = performance.now();
      g.children.get("worker1")?.kill("SIGKILL");
      const err = await inFlight.then(
        () => assert.fail("resolved"),
        (e: unknown) => e,
      );
      const elapsed = performance.now() - killedAt;
      assert.ok(err instanceof RpcWorkerGoneError, String(err));
      assert.equal(err.worker, "worker1");
      // A bound, not a speed figure: the slack covers a loaded machine.
      assert.ok(elapsed < deadAfterMs + heartbeatMs + 1_500, `${elapsed} ms`);
      const later = g.agent.rpcAsync("worker1", "add", [1, 2]);
      assert.ok(later.done());
      await rejects(later, RpcWorkerGoneError);
      assert.equal(await g.agent.rpcAsync("worker2", "add", [2, 2]), 4);
    } finally {
      const codes = await g.close();
      assert.equal(codes[1], 0);
    }
  });

  it("counts a peer whose connection has gone as gone at the first call: NATS has no responders for it", async () => {
    // A death window far longer than the test: only "no responders" can tell.
    const g = await startGroup(["worker1", "worker2"], { heartbeatMs: 250, deadAfterMs: 60_000 });
    try {
      const child = g.children.get("worker1");
      const exited = child === undefined ? Promise.resolve() : once(child, "exit");
      child?.kill("SIGKILL");
      await exited;
      await new Promise((resolve) => setTimeout(resolve, 300)); // the server notices the closed socket
      await rejects(g.agent.rpcAsync("worker1", "add", [1, 2]), (e: unknown) => e instanceof RpcWorkerGoneError && /no responders/.test(e.message));
      await rejects(g.agent.rpcAsync("worker1", "add", [1, 2]), (e: unknown) => e instanceof RpcWorkerGoneError && /went away earlier/.test(e.message));
      assert.equal(await g.agent.rpcAsync("worker2", "add", [2, 2]), 4);
    } finally {
      await g.close();
    }
  });

  it("shuts the whole group down gracefully with calls in flight: all complete, all exit 0", async () => {
    const g = await startGroup(["worker1", "worker2"]);
    const calls = [
      ...Array.from({ length: 50 }, (_, i) => g.agent.rpcAsync(i % 2 === 0 ? "worker1" : "worker2", "later", [100, i])),
      g.agent.rpcAsync("worker2", "future", [150, "last"]),
    ];
    const codes = await g.close();
    assert.deepEqual(
      await Promise.all(calls),
      [...Array.from({ length: 50 }, (_, i) => i), "last"],
    );
    assert.deepEqual(codes, [0, 0]);
  });

  it("loses nothing with 10,000 calls in flight", async () => {
    const g = await startGroup(["worker1", "worker2"]);
    try {
      const n = 10_000;
      const answers = await Promise.all(
        Array.from({ length: n }, (_, i) => g.agent.rpcAsync(i % 2 === 0 ? "worker1" : "worker2", "add", [i, 1])),
      );
      assert.equal(answers.length, n);
      answers.forEach((a, i) => { assert.equal(a, i + 1); });
    } finally {
      assert.deepEqual(await g.close(), [0, 0]);
    }
  });

  it("RRefs: remote, toHereAsync, passed as an argument, released: the owner holds nothing after", async () => {
    const g = await startGroup(["worker1", "worker2"]);
    try {
      const ref = g.agent.remote("worker1", "array", [1_000, 2]);
      assert.equal((await ref.toHereAsync()).length, 1_000);
      assert.equal(await g.agent.rpcAsync("worker2", "sumAsync", [ref]), 2_000);
      assert.equal(await g.agent.rpcAsync("worker1", "sumAsync", [ref]), 2_000);
      assert.ok((await g.agent.rpcAsync("worker1", "owned", [])) > 0);
      ref.release();
      // The workers' copies (worker1 got one as an argument too) go when they are garbage-collected.
      let owned = -1;
      for (let i = 0; i < 100 && owned !== 0; i++) {
        await Promise.all([g.agent.rpcAsync("worker1", "gc", []), g.agent.rpcAsync("worker2", "gc", [])]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        owned = await g.agent.rpcAsync("worker1", "owned", []);
      }
      assert.equal(owned, 0);
    } finally {
      await g.close();
    }
  });

  it("rejects the rendezvous naming the workers it did not hear from, and bad options with TypeError", async () => {
    await assert.rejects(
      natsTransport({ servers: server.url, name: "main", workers: ["main", "ghost"], group: `test${process.pid}lonely`, connectTimeoutMs: 300 }),
      (e: unknown) => e instanceof RpcError && /"ghost"/.test(e.message),
    );
    await assert.rejects(natsTransport({ servers: server.url, name: "nobody", workers: ["main"] }), TypeError);
    await assert.rejects(natsTransport({ servers: server.url, name: "a.b", workers: ["a.b"] }), TypeError);
    await assert.rejects(natsTransport({ servers: server.url, name: "main", workers: ["main"], heartbeatMs: 100, deadAfterMs: 50 }), TypeError);
  });
});

describe("rpc over NATS: two processes under one worker name", () => {
  it("fails natsTransport() of the second with RpcDuplicateWorkerError naming the worker; the first keeps working", async () => {
    const g = await startGroup(["worker1", "worker2"], { heartbeatMs: 100, deadAfterMs: 400 });
    try {
      assert.equal(await g.agent.rpcAsync("worker1", "count", []), 1);
      // This test's process is the second one: the first is the child serving "worker1".
      const err = await natsTransport({ servers: server.url, name: "worker1", workers: g.workers, group: g.group, heartbeatMs: 100, deadAfterMs: 400 }).then(
        () => assert.fail("joined"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RpcDuplicateWorkerError, String(err));
      assert.ok(err instanceof RpcError);
      assert.equal(err.worker, "worker1");
      assert.match(err.message, /worker name "worker1" in group "test\d+g\d+" is already held by process \d+/);
      assert.match(err.message, /under a name of workers that no other process uses, or stop the other one first/);
      // The first still serves every call, alone (its count goes on), and nobody took it for gone:
      // the second sent no heartbeat and no goodbye under its name.
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(await g.agent.rpcAsync("worker1", "count", []), 2);
      assert.equal(await g.agent.rpcAsync("worker2", "forward", ["worker1", 2, 3]), 5);
      assert.equal(await g.agent.rpcAsync("worker1", "count", []), 3);
    } finally {
      assert.deepEqual(await g.close(), [0, 0]);
    }
  });

  it("lets exactly one of two processes that claim a name at the same moment join", async () => {
    const group = `test${process.pid}race`;
    for (let round = 0; round < 3; round++) {
      const options = { servers: server.url, workers: ["a", "b"], group: `${group}${round}`, heartbeatMs: 100, deadAfterMs: 400, connectTimeoutMs: 5_000 };
      const results = await Promise.allSettled([
        natsTransport({ ...options, name: "a" }),
        natsTransport({ ...options, name: "a" }),
        natsTransport({ ...options, name: "b" }),
      ]);
      const [a1, a2, b] = results;
      assert.equal(b.status, "fulfilled");
      const joined = [a1, a2].filter((r) => r.status === "fulfilled");
      const refused = [a1, a2].flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      assert.equal(joined.length, 1, `round ${round}: ${refused.map(String).join("; ")}`);
      assert.ok(refused[0] instanceof RpcDuplicateWorkerError && refused[0].worker === "a", String(refused[0]));
      for (const r of results) if (r.status === "fulfilled") await r.value.close(new Error("test over"));
    }
  });
});

/** Resolves once `check()` holds, checking every 20 ms; fails after `ms` with `what`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("rpc over NATS: dropped peers stay dropped; a server restart is survived", () => {
  it("keeps a peer that missed its heartbeats (SIGSTOP) gone after SIGCONT, and the resumed worker learns it was dropped", async () => {
    const g = await startGroup(["worker1", "worker2"], { heartbeatMs: 100, deadAfterMs: 400 });
    const worker1 = g.children.get("worker1");
    try {
      const inFlight = g.agent.rpcAsync("worker1", "later", [1_500, 1]);
      assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 1]), 2); // the "later" call has arrived
      worker1?.kill("SIGSTOP");
      await rejects(inFlight, (e: unknown) => e instanceof RpcWorkerGoneError && e.worker === "worker1" && /no heartbeat/.test(e.message));
      // worker2 drops it too, each peer by its own heartbeat window.
      await until(async () => !(await g.callFrom("worker2", "worker1", "add", [1, 2])).ok, 5_000, "worker2 drops worker1");
      worker1?.kill("SIGCONT");
      // The resumed worker hears from its peers that they dropped it, and counts them as gone in turn.
      await until(() => g.gone("worker1").length === 2, 5_000, "worker1 learns main and worker2 dropped it");
      assert.deepEqual(g.gone("worker1").map((r) => r.gone).sort(), ["main", "worker2"]);
      for (const r of g.gone("worker1")) assert.match(r.message, /it dropped "worker1" from the group: no heartbeat for more than 400 ms/);
      for (const to of ["main", "worker2"]) {
        const outcome = await g.callFrom("worker1", to, "add", [1, 2]);
        assert.ok(!outcome.ok && outcome.name === "RpcWorkerGoneError", JSON.stringify(outcome));
      }
      // Calls to it still fail at once; the rest of the group goes on.
      const later = g.agent.rpcAsync("worker1", "add", [1, 2]);
      assert.ok(later.done());
      await rejects(later, RpcWorkerGoneError);
      assert.equal(await g.agent.rpcAsync("worker2", "add", [2, 2]), 4);
      assert.deepEqual(g.gone("worker2").map((r) => r.gone), ["worker1"]);
    } finally {
      worker1?.kill("SIGCONT");
      assert.deepEqual(await g.close(), [0, 0]);
    }
  });

  it("does not serve a request from a worker it dropped: the reply says so", async () => {
    const g = await startGroup(["worker1"], { heartbeatMs: 100, deadAfterMs: 400 });
    const nc = await connect({ servers: server.url });
    try {
      g.children.get("worker1")?.kill("SIGSTOP");
      await until(() => g.agent.rpcAsync("worker1", "add", [1, 1]).done(), 5_000, "main drops worker1");
      const before = g.agent.rpcSync("main", "count", []);
      // What the resumed worker would send before it hears it was dropped: a call in its name.
      const reply = await nc.request(`${g.group}.rpc.main`, encode(["worker1", { kind: "call", fn: "count", args: [] }]), { timeout: 5_000 });
      assert.deepEqual(decode(reply.data), ["dropped", "no heartbeat for more than 400 ms"]);
      assert.equal(g.agent.rpcSync("main", "count", []), before + 1); // the refused call did not run
    } finally {
      g.children.get("worker1")?.kill("SIGCONT");
      await nc.close();
      await g.close();
    }
  });

  it("refuses a process restarted under the name of a dropped worker: RpcError naming who dropped it", async () => {
    const g = await startGroup(["worker1", "worker2"], { heartbeatMs: 100, deadAfterMs: 400 });
    try {
      const child = g.children.get("worker1");
      const exited = child === undefined ? Promise.resolve() : once(child, "exit");
      child?.kill("SIGKILL");
      await exited;
      await until(() => g.agent.rpcAsync("worker1", "add", [1, 1]).done(), 5_000, "main drops worker1");
      const err = await natsTransport({ servers: server.url, name: "worker1", workers: g.workers, group: g.group, heartbeatMs: 100, deadAfterMs: 400 }).then(
        () => assert.fail("joined"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RpcError && !(err instanceof RpcDuplicateWorkerError), String(err));
      assert.match(err.message, /"worker1" cannot join group "test\d+g\d+": "(main|worker2)" dropped it from the group/);
      assert.match(err.message, /start the whole group again/);
      assert.equal(await g.agent.rpcAsync("worker2", "add", [2, 2]), 4);
    } finally {
      await g.close();
    }
  });

  it("survives a brief server restart: calls in flight fail with RpcConnectionLostError, calls made meanwhile complete, nobody is dropped", async () => {
    const own = await startNatsServer();
    const g = await startNatsGroup(["worker1", "worker2"], { server: own });
    let restarted: NatsServer | undefined;
    try {
      assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 2]), 3);
      const inFlight = g.agent.rpcAsync("worker1", "later", [2_000, 1]);
      await new Promise((resolve) => setTimeout(resolve, 50)); // it has arrived
      own.kill("SIGKILL");
      // A definite outcome at once, rather than a wait for a reply that may be lost.
      await rejects(inFlight, (e: unknown) => e instanceof RpcConnectionLostError && e.worker === "worker1" && /may or may not have run/.test(e.message));
      // Longer than deadAfterMs (1,000 ms by default): silence while cut off does not count.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const meanwhile = [g.agent.rpcAsync("worker1", "add", [2, 2]), g.agent.rpcAsync("worker2", "forward", ["worker1", 3, 3])];
      restarted = await startNatsServer({ port: own.port });
      assert.deepEqual(await Promise.all(meanwhile), [4, 6]);
      // Peers had a fresh window after the reconnect: wait past it, and everyone is still there.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(await g.agent.rpcAsync("worker1", "add", [5, 5]), 10);
      const outcome = await g.callFrom("worker2", "worker1", "add", [1, 1]);
      assert.ok(outcome.ok && outcome.value === 2, JSON.stringify(outcome));
      assert.deepEqual([g.gone("worker1"), g.gone("worker2")], [[], []]);
    } finally {
      assert.deepEqual(await g.close(), [0, 0]);
      await restarted?.stop();
    }
  });
});

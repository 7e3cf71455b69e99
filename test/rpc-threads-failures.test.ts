// torch-futures/rpc over worker threads: timeouts, aborts, deaths of every kind, shutdown.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { FutureTimeoutError, BrokenFutureError } from "../src/index.js";
import { RpcShutdownError, RpcTimeoutError, RpcWorkerGoneError } from "../src/rpc/index.js";
import { startThreadGroup } from "./rpc/thread-group.js";
import { functions } from "./rpc/functions.js";

/** How long a death may take to fail the calls in flight: the threads layer notices at once from the event loop. */
const DEATH_BOUND_MS = 2_000;

async function failure(fut: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(fut).then(
    () => assert.fail("the call succeeded"),
    (e: unknown) => e,
  );
}

describe("rpc over worker threads: timeouts and aborts", () => {
  it("a call that takes too long fails with RpcTimeoutError; its late reply is dropped, the next call gets its own", async () => {
    const g = await startThreadGroup();
    try {
      const err = await failure(g.agent.rpcAsync("worker1", "later", [300, 1], { timeout: 50 }));
      assert.ok(err instanceof RpcTimeoutError);
      assert.ok(err instanceof FutureTimeoutError);
      assert.equal(err.worker, "worker1");
      assert.equal(err.fn, "later");
      await new Promise((r) => setTimeout(r, 350)); // the late reply arrives, and goes nowhere
      assert.equal(await g.agent.rpcAsync("worker1", "later", [1, 2]), 2);
    } finally {
      await g.close();
    }
  });

  it("rpcSync times out too, and the group's default rpcTimeout applies", async () => {
    const g = await startThreadGroup(["worker1"], { rpcTimeout: 40 });
    try {
      assert.throws(() => g.agent.rpcSync("worker1", "later", [300, 1]), RpcTimeoutError);
      const err = await failure(g.agent.rpcAsync("worker1", "hang", []));
      assert.ok(err instanceof RpcTimeoutError);
      assert.equal(g.agent.rpcSync("worker1", "add", [1, 2], { timeout: 0 }), 3);
    } finally {
      await g.close({ graceful: false });
    }
  });

  it("an AbortSignal fails the call with its reason", async () => {
    const g = await startThreadGroup();
    try {
      const ac = new AbortController();
      const fut = g.agent.rpcAsync("worker1", "later", [200, 1], { signal: ac.signal });
      ac.abort(new Error("stop"));
      const err = await failure(fut);
      assert.ok(err instanceof Error && err.message === "stop");
      const gone = await failure(g.agent.rpcAsync("worker1", "add", [1, 2], { signal: AbortSignal.abort("already") }));
      assert.equal(gone, "already");
    } finally {
      await g.close();
    }
  });

  it("bad options are TypeErrors, and nothing is sent", async () => {
    const g = await startThreadGroup();
    try {
      assert.throws(() => g.agent.rpcAsync("worker1", "count", [], { timeout: -1 }), TypeError);
      assert.throws(() => g.agent.rpcAsync("worker1", "count", [], { signal: {} as AbortSignal }), TypeError);
      assert.throws(() => g.agent.rpcAsync("worker1", "count", 5 as unknown as []), TypeError);
      assert.equal(await g.agent.rpcAsync("worker1", "count", []), 1); // the first count: nothing ran before
    } finally {
      await g.close();
    }
  });
});

describe("rpc over worker threads: a worker that dies fails every call in flight to it, and later calls at once", () => {
  const deaths: [string, (g: Awaited<ReturnType<typeof startThreadGroup>>) => void][] = [
    ["exits", (g) => void g.agent.rpcAsync("worker1", "exit", [3]).then(undefined, () => undefined)],
    ["throws an uncaught error", (g) => void g.agent.rpcAsync("worker1", "throwUncaught", []).then(undefined, () => undefined)],
    ["is terminated", (g) => void g.workers.get("worker1")?.terminate()],
  ];
  for (const [how, kill] of deaths) {
    it(`a worker that ${how}`, async () => {
      const g = await startThreadGroup();
      try {
        const inFlight = [g.agent.rpcAsync("worker1", "hang", []), g.agent.rpcAsync("worker1", "later", [5_000, 1])];
        const start = performance.now();
        kill(g);
        for (const fut of inFlight) {
          const err = await failure(fut);
          assert.ok(err instanceof RpcWorkerGoneError, String(err));
          assert.ok(err instanceof BrokenFutureError);
          assert.equal(err.worker, "worker1");
        }
        assert.ok(performance.now() - start < DEATH_BOUND_MS, "failed within the bound");
        const later = g.agent.rpcAsync("worker1", "add", [1, 2]);
        assert.equal(later.done(), true, "a later call fails at once");
        assert.ok((await failure(later)) instanceof RpcWorkerGoneError);
        assert.throws(() => g.agent.rpcSync("worker1", "add", [1, 2]), RpcWorkerGoneError);
      } finally {
        await g.close({ graceful: false });
      }
    });
  }

  it("a worker that runs out of memory", async () => {
    const g = await startThreadGroup(["worker1"], { resourceLimits: { maxOldGenerationSizeMb: 64 } });
    try {
      const err = await failure(g.agent.rpcAsync("worker1", "grow", []));
      assert.ok(err instanceof RpcWorkerGoneError, String(err));
    } finally {
      await g.close({ graceful: false });
    }
  });

  it("a blocked rpcSync learns of the death too", async () => {
    const g = await startThreadGroup();
    try {
      // The worker ends itself: this thread, blocked, runs no timers.
      g.agent.rpcSync("worker1", "exitAfter", [50]);
      assert.throws(() => g.agent.rpcSync("worker1", "hang", [], { timeout: 0 }), RpcWorkerGoneError);
    } finally {
      await g.close({ graceful: false });
    }
  });
});

describe("rpc over worker threads: shutdown", () => {
  it("graceful: the calls in flight complete, then every worker closes", async () => {
    const g = await startThreadGroup(["worker1", "worker2"]);
    const calls = [g.agent.rpcAsync("worker1", "later", [100, 1]), g.agent.rpcAsync("worker2", "later", [150, 2])];
    const exits = [...g.workers.values()].map((w) => once(w, "exit"));
    await g.close();
    assert.deepEqual(await Promise.all(calls), [1, 2]);
    for (const [code] of (await Promise.all(exits)) as [number][]) assert.equal(code, 0);
    assert.throws(() => g.agent.rpcAsync("worker1", "add", [1, 2]), RpcShutdownError);
  });

  it("graceful: waits for a fire-and-forget chain still travelling between the workers", async () => {
    const g = await startThreadGroup(["worker1", "worker2", "worker3"]);
    const before = functions.count();
    // Each hop starts the next and returns at once, so every reply is back long before the chain ends.
    assert.equal(await g.agent.rpcAsync("worker1", "hopForget", [30]), 30);
    await g.close();
    assert.equal(functions.count(), before + 2, "the chain's last hop reached main before the group closed");
  });

  it("graceful: a worker that dies while the group shuts down counts as done, and the others close", async () => {
    const g = await startThreadGroup(["worker1", "worker2"]);
    const dying = g.agent.rpcAsync("worker1", "hang", []);
    const served = g.agent.rpcAsync("worker2", "later", [100, 2]);
    setTimeout(() => void g.workers.get("worker1")?.terminate(), 30); // during the shutdown's wait
    const exit2 = once(g.workers.get("worker2") ?? assert.fail("worker2"), "exit");
    await g.close();
    assert.ok((await failure(dying)) instanceof RpcWorkerGoneError);
    assert.equal(await served, 2);
    assert.equal((await exit2)[0], 0);
  });

  it("not graceful: the calls in flight fail with RpcShutdownError", async () => {
    const g = await startThreadGroup();
    const fut = g.agent.rpcAsync("worker1", "hang", []);
    await g.agent.shutdown({ graceful: false });
    assert.ok((await failure(fut)) instanceof RpcShutdownError);
    await g.workers.get("worker1")?.terminate();
  });
});

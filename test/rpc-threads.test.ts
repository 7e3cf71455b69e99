// torch-futures/rpc over worker threads: calls, results of every kind, errors as themselves.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Future } from "../src/index.js";
import { RpcError, raisedOn } from "../src/rpc/index.js";
import { startThreadGroup, type ThreadGroup } from "./rpc/thread-group.js";

describe("rpc over worker threads: calls", () => {
  let g: ThreadGroup;
  before(async () => {
    g = await startThreadGroup(["worker1", "worker2"]);
  });
  after(async () => {
    await g.close();
  });

  it("rpcAsync returns a Future of the result", async () => {
    const fut = g.agent.rpcAsync("worker1", "add", [2, 3]);
    assert.ok(fut instanceof Future);
    assert.equal(await fut, 5);
  });

  it("rpcSync blocks for the result", () => {
    assert.equal(g.agent.rpcSync("worker2", "add", [20, 22]), 42);
    assert.equal(g.agent.rpcSync("worker1", "whoami", []), "worker1");
  });

  it("neither rpcSync nor rpcAsync keeps anything per call once it has returned", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, "run with --expose-gc");
    const heap = (): number => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    for (let i = 0; i < 2_000; i++) g.agent.rpcSync("worker1", "add", [i, 1]); // warm up
    const start = heap();
    for (let i = 0; i < 100_000; i++) g.agent.rpcSync("worker1", "add", [i, 1]);
    for (let i = 0; i < 50_000; i++) await g.agent.rpcAsync("worker2", "add", [i, 1]);
    const grown = heap() - start;
    // 150,000 calls: a few bytes kept per call would show as megabytes.
    assert.ok(grown < 3 * 1024 * 1024, `the heap grew by ${(grown / 1048576).toFixed(1)} MB over 150,000 calls`);
  });

  it("the future's wait() blocks until the worker replies", () => {
    const fut = g.agent.rpcAsync("worker1", "later", [20, 7]);
    assert.equal(fut.done(), false);
    assert.equal(fut.wait(), 7);
  });

  it("a remote function may return a Promise or a Future: the reply goes when it completes", async () => {
    assert.equal(await g.agent.rpcAsync("worker1", "later", [5, 9]), 9);
    assert.equal(await g.agent.rpcAsync("worker2", "future", [5, "done"]), "done");
  });

  it("errors come back as themselves, with cause, and say which worker raised them", async () => {
    const err = await g.agent.rpcAsync("worker1", "fail", ["bad input"]).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TypeError);
    assert.equal(err.message, "bad input");
    assert.ok(err.cause instanceof RangeError);
    assert.equal(raisedOn(err), "worker1");
    assert.match(err.stack ?? "", /rpc worker "worker1"/);
  });

  it("an unknown function is an RpcError naming what the worker exposes, and the group goes on", async () => {
    const err = await (g.agent.rpcAsync as (to: string, fn: string, args: unknown[]) => Future)("worker1", "nope", []).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error);
    assert.match(err.message, /no function named "nope"/);
    assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 1]), 2);
  });

  it("an unknown worker throws an RpcError at once", () => {
    assert.throws(() => g.agent.rpcAsync("worker9", "add", [1, 2]), (e: unknown) => e instanceof RpcError && /"worker1", "worker2"/.test(e.message));
  });

  it("arguments that cannot be sent throw a TypeError and the group goes on", async () => {
    assert.throws(() => g.agent.rpcAsync("worker1", "echo", [() => 1]), TypeError);
    assert.equal(await g.agent.rpcAsync("worker1", "add", [1, 2]), 3);
  });

  it("a result that cannot be sent fails the call with an RpcError", async () => {
    await assert.rejects(Promise.resolve(g.agent.rpcAsync("worker1", "unclonable", [])), /could not send the result/);
  });

  it("a worker calls another worker, and itself", async () => {
    assert.equal(await g.agent.rpcAsync("worker1", "forward", ["worker2", 1, 2]), 3);
    assert.equal(await g.agent.rpcAsync("worker1", "forwardSync", ["worker2", 3, 4]), 7);
    assert.equal(await g.agent.rpcAsync("main", "add", [5, 6]), 11);
  });

  it("values that go beside the ring arrive in order: transfers, shared memory, large values, over rpcAsync and rpcSync", async () => {
    const buf = new Uint8Array([1, 2, 3]).buffer;
    const moved = g.agent.rpcAsync("worker1", "echo", [buf], { transfer: [buf] });
    assert.equal(buf.byteLength, 0, "the transferred buffer is detached here");
    const next = g.agent.rpcAsync("worker1", "add", [1, 2]); // written to the ring after the message
    assert.deepEqual([...new Uint8Array((await moved) as ArrayBuffer)], [1, 2, 3]);
    assert.equal(await next, 3);
    const shared = new SharedArrayBuffer(8);
    const back = g.agent.rpcSync("worker1", "echo", [shared]) as SharedArrayBuffer;
    new Uint8Array(shared)[0] = 42;
    assert.equal(new Uint8Array(back)[0], 42, "the same shared memory came back");
    const big = "é".repeat(100_000); // 200 KB as UTF-16: above the ring's inline limit
    assert.equal(g.agent.rpcSync("worker1", "echo", [big]), big);
    const many = Array.from({ length: 30_000 }, (_, i) => i * 0.5);
    assert.deepEqual(await g.agent.rpcAsync("worker2", "echo", [many]), many);
    const syncBuf = new Float64Array([0.25]).buffer;
    assert.deepEqual([...new Float64Array(g.agent.rpcSync("worker2", "echo", [syncBuf], { transfer: [syncBuf] }) as ArrayBuffer)], [0.25]);
  });

  it("10,000 concurrent calls: nothing lost or mixed up", async () => {
    const futs = Array.from({ length: 10_000 }, (_, i) => g.agent.rpcAsync(i % 2 === 0 ? "worker1" : "worker2", "add", [i, 1]));
    const values = await Promise.all(futs);
    values.forEach((v, i) => { assert.equal(v, i + 1); });
  });
});

// torch-futures/rpc: RRefs over worker threads — values that stay on their owner, passed around,
// counted, and freed once no holder is left.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { RRef, RpcError } from "../src/rpc/index.js";
import { startThreadGroup, type ThreadGroup } from "./rpc/thread-group.js";

async function until(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("rpc over worker threads: RRefs", () => {
  let g: ThreadGroup;
  before(async () => {
    g = await startThreadGroup(["worker1", "worker2"]);
  });
  after(async () => {
    await g.close();
  });

  it("remote() returns an RRef at once; toHere() blocks for a copy, toHereAsync() gives a Future", async () => {
    const ref = g.agent.remote("worker1", "array", [3, 7]);
    assert.ok(ref instanceof RRef);
    assert.equal(ref.owner(), "worker1");
    assert.equal(ref.isOwner(), false);
    assert.deepEqual(ref.toHere(), [7, 7, 7]);
    assert.deepEqual(await ref.toHereAsync(), [7, 7, 7]);
    assert.throws(() => ref.localValue(), RpcError);
    ref.release();
    assert.throws(() => ref.toHere(), TypeError);
    await until(async () => (await g.agent.rpcAsync("worker1", "owned", [])) === 0);
  });

  it("an RRef passed to another worker (or to its owner) arrives as an RRef to the same value", async () => {
    const ref = g.agent.remote("worker1", "array", [4, 2]);
    assert.equal(await g.agent.rpcAsync("worker2", "sumOf", [ref]), 8); // fetched from worker1
    assert.equal(await g.agent.rpcAsync("worker1", "sumOf", [ref]), 8); // the owner reads it in place
    assert.equal(await g.agent.rpcAsync("worker2", "sumAsync", [ref]), 8);
    ref.release();
    // The receivers' RRefs let go when they are collected.
    await until(async () => {
      await g.agent.rpcAsync("worker1", "gc", []);
      await g.agent.rpcAsync("worker2", "gc", []);
      return (await g.agent.rpcAsync("worker1", "owned", [])) === 0;
    });
  });

  it("an RRef whose call failed throws the call's error from toHere()", () => {
    const ref = g.agent.remote("worker1", "fail", ["no value"]);
    assert.throws(() => ref.toHere(), (e: unknown) => e instanceof TypeError && e.message === "no value");
    ref.release();
  });

  it("a holder that lets go by garbage collection frees the owner's value, and the owner's heap comes back", async () => {
    const before = await g.agent.rpcAsync("worker1", "gc", []);
    (() => {
      for (let i = 0; i < 20; i++) g.agent.remote("worker1", "array", [250_000, i]); // 2 MB each, dropped at once
    })();
    await until(async () => {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 0));
      return (await g.agent.rpcAsync("worker1", "owned", [])) === 0;
    }, 20_000);
    const heap = await g.agent.rpcAsync("worker1", "gc", []);
    assert.ok(heap - before < 8 * 1024 * 1024, `the owner's heap grew by ${((heap - before) / 1048576).toFixed(1)} MB`);
  });

  it("an RRef in a result arrives as an RRef, from its owner or from a holder, at any depth", async () => {
    const own = await g.agent.rpcAsync("worker1", "makeRef", ["worker1", 3, 5]); // worker1 owns it
    assert.ok(own instanceof RRef);
    assert.equal(own.owner(), "worker1");
    assert.deepEqual(await own.toHereAsync(), [5, 5, 5]);
    const third = g.agent.rpcSync("worker1", "makeRef", ["worker2", 2, 9]); // worker2 owns it
    assert.ok(third instanceof RRef);
    assert.equal(third.owner(), "worker2");
    assert.deepEqual(third.toHere(), [9, 9]);
    const deep = await g.agent.rpcAsync("worker2", "makeRefs", ["worker1"]);
    assert.equal(deep.label, "two");
    assert.deepEqual(await deep.refs[0].toHereAsync(), [1, 1]);
    assert.deepEqual(await deep.refs[1].inner.toHereAsync(), [2, 2, 2]);
    // Handed back by a worker that only held it (through a Future), to the owner's own main thread.
    const ref = g.agent.remote("worker2", "array", [2, 4]);
    const back = await g.agent.rpcAsync("worker1", "giveBack", [ref]);
    assert.ok(back instanceof RRef);
    assert.deepEqual(await back.toHereAsync(), [4, 4]);
    // A remote() whose value is itself an RRef: fetching it gives the inner RRef.
    const outer = g.agent.remote("worker1", "makeRef", ["worker2", 1, 8]);
    const inner = await outer.toHereAsync();
    assert.ok(inner instanceof RRef);
    assert.deepEqual(await inner.toHereAsync(), [8]);
    for (const r of [own, third, deep.refs[0], deep.refs[1].inner, ref, back, outer, inner]) r.release();
    // Every count reaches zero once the workers' own copies are collected.
    await until(async () => {
      await g.agent.rpcAsync("worker1", "gc", []);
      await g.agent.rpcAsync("worker2", "gc", []);
      return (await g.agent.rpcAsync("worker1", "owned", [])) === 0 && (await g.agent.rpcAsync("worker2", "owned", [])) === 0;
    }, 10_000);
  });

  it("a typed proxy calls by name and is never thenable", async () => {
    const w1 = g.agent.proxy("worker1");
    assert.equal(await w1.add(2, 2), 4);
    assert.equal((w1 as unknown as { then?: unknown }).then, undefined);
    assert.equal(await Promise.resolve(w1), w1); // awaiting it calls nothing
  });
});

// torch-futures/rpc: RRefs over worker threads — values that stay on their owner, passed around,
// counted, and freed once no holder is left.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Future } from "../src/index.js";
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

  it("rpcSync(), rpcAsync() and remote() of an RRef call its value's methods on the owner, on the value itself", async () => {
    const ref = g.agent.remote("worker1", "counter", [10]);
    assert.equal(ref.rpcSync().inc(5), 15);
    const fut = ref.rpcAsync().inc(1);
    assert.ok(fut instanceof Future);
    assert.equal(await fut, 16);
    assert.equal(await ref.rpcAsync().incLater(5, 2), 18); // a Promise's value
    assert.equal(ref.rpcSync().incFuture(2), 20); // a Future's value
    const snap = ref.remote().snapshot(); // stays on worker1
    assert.ok(snap instanceof RRef);
    assert.equal(snap.owner(), "worker1");
    assert.deepEqual(await snap.toHereAsync(), [20, 20]);
    // The state changed on the owner: every call reached the same object.
    assert.equal(ref.rpcSync().get(), 20);
    // An RRef argument of a method call arrives as an RRef (here fetched from worker2).
    const arr = g.agent.remote("worker2", "array", [3, 0]);
    assert.equal(await ref.rpcAsync({ timeout: 5_000 }).addFrom(arr), 23);
    // From another worker holding the RRef: worker2 calls a method through it.
    assert.equal(await g.agent.rpcAsync("worker2", "incThrough", [ref, 7]), 30);
    for (const r of [ref, snap, arr]) r.release();
  });

  it("a method call made before the value exists waits for it; errors come back as themselves", async () => {
    const ref = g.agent.remote("worker1", "counterLater", [30, 1]);
    assert.equal(await ref.rpcAsync().inc(1), 2);
    assert.throws(() => ref.rpcSync().fail("bad step"), (e: unknown) => e instanceof RangeError && e.message === "bad step");
    const failed = g.agent.remote("worker1", "fail", ["never made"]);
    const failedMethods = failed.rpcAsync() as unknown as Record<string, () => Future>;
    await assert.rejects(Promise.resolve(failedMethods.get?.()), (e: unknown) => e instanceof TypeError && e.message === "never made");
    ref.release();
    failed.release();
  });

  it("a name that is not a method of the value is an RpcError that names it; the stand-ins are never thenable", async () => {
    const ref = g.agent.remote("worker1", "counter", [0]);
    // Typed: only the value's methods, each with its own arguments and result.
    // @ts-expect-error -- not a method of Counter
    assert.equal(typeof ref.rpcAsync().missing, "function");
    // @ts-expect-error -- n is a field, not a method
    assert.equal(typeof ref.rpcSync().n, "function");
    const typed: Future<number> = ref.rpcAsync().inc(0);
    assert.equal(await typed, 0);
    const untyped = ref.rpcAsync() as unknown as Record<string, (...a: unknown[]) => Future>;
    for (const name of ["missing", "n", "constructor", "__proto__", "hasOwnProperty"]) {
      await assert.rejects(Promise.resolve(untyped[name]?.()), (e: unknown) => {
        assert.ok(e instanceof RpcError, `${name}: ${String(e)}`);
        assert.match(e.message, new RegExp(`no method "${name}"`));
        return true;
      });
    }
    assert.equal((ref.rpcAsync() as { then?: unknown }).then, undefined);
    const methods = ref.rpcSync();
    assert.equal(await Promise.resolve(methods), methods); // awaiting it calls nothing
    assert.equal(ref.rpcSync().get(), 0, "the group goes on");
    ref.release();
    assert.throws(() => ref.rpcAsync(), TypeError); // released: no more calls through it
  });

  it("an RRef among arguments that cannot be sent is not counted for the worker that never got it", async () => {
    const ref = g.agent.remote("worker1", "array", [2, 1]);
    assert.throws(() => g.agent.rpcAsync("worker2", "sumOf", [ref, () => 1] as unknown as [RRef<number[]>]), TypeError);
    assert.throws(() => g.agent.rpcSync("worker2", "sumOf", [{ ref, bad: Symbol("no") } as unknown as RRef<number[]>]), TypeError);
    assert.equal(await g.agent.rpcAsync("worker2", "sumAsync", [ref]), 2, "the RRef still works");
    ref.release();
    await until(async () => {
      await g.agent.rpcAsync("worker2", "gc", []);
      return (await g.agent.rpcAsync("worker1", "owned", [])) === 0;
    });
  });

  it("a typed proxy calls by name and is never thenable", async () => {
    const w1 = g.agent.proxy("worker1");
    assert.equal(await w1.add(2, 2), 4);
    assert.equal((w1 as unknown as { then?: unknown }).then, undefined);
    assert.equal(await Promise.resolve(w1), w1); // awaiting it calls nothing
  });
});

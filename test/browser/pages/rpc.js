// torch-futures/rpc between a page and its Web Workers, and between two
// workers, checked in a real browser. Loaded by rpc.html; workers run rpc-worker.js.
/* global window, performance, setTimeout */
import { assert, assertEqual, assertJsonEqual, assertThrows, commandWorker, describe, nextTask, okOrThrow, rejection, report, runChecks, within } from "./runner.js";

let lib;
let rpc;
let fns;
try {
  lib = await import("/build/src/index.js");
  rpc = await import("/build/src/rpc/browser.js");
  fns = await import("/build/test/rpc/functions.js");
} catch (error) {
  await report({
    userAgent: window.navigator.userAgent,
    checks: [{ name: "the library and its browser rpc entry load", ok: false, message: describe(error), ms: 0 }],
  });
  throw error;
}
const { Future, BrokenFutureError } = lib;
const { createThreadGroup, initRpc, threadsTransport, raisedOn, RpcCannotBlockError, RpcError, RpcShutdownError, RpcWorkerGoneError } = rpc;

/** A started worker (ready: its death can be noticed) and a way to send it commands. */
const startWorker = () => commandWorker("rpc-worker.js");

/** Deaths are noticed within this bound (Web Locks are released at once; the rest is scheduling). */
const DEATH_BOUND_MS = 3000;


/** Starts workers for `names` (all but the first, the page) and joins the group; the page's agent and the workers. */
async function startGroup(names) {
  const group = createThreadGroup(names);
  const workers = new Map();
  for (const name of names.slice(1)) workers.set(name, await startWorker());
  const joined = [...workers].map(([name, w]) => w.send("join", { handle: group[name] }, group[name].transferList));
  const agent = initRpc({ functions: fns.functions, transport: await within(10_000, threadsTransport(group[names[0]]), "the page's rendezvous") });
  fns.setAgent(agent);
  for (const r of await Promise.all(joined)) okOrThrow(r, "join");
  return { agent, workers };
}

let g;

const checks = [
  ["a page and two Web Workers join one group (createThreadGroup, threadsTransport, initRpc)", async () => {
    g = await startGroup(["page", "w1", "w2"]);
    assertJsonEqual(g.agent.workers, ["page", "w1", "w2"], "the group's workers");
    assertEqual(g.agent.name, "page", "the page's name");
  }],

  ["rpcAsync returns a Future of the result: values of every kind", async () => {
    const fut = g.agent.rpcAsync("w1", "add", [2, 3]);
    assert(fut instanceof Future, "a torch-futures Future");
    assertEqual(await fut, 5, "add on w1");
    assertEqual(await g.agent.rpcAsync("w2", "whoami", []), "w2", "whoami on w2");
    const value = { list: [1, "two", null], when: new Date(7), map: new Map([["k", 1]]), bytes: new Uint8Array([1, 2]) };
    const back = await g.agent.rpcAsync("w1", "echo", [value]);
    assertJsonEqual(back.list, value.list, "list");
    assertEqual(back.when.getTime(), 7, "a Date");
    assertEqual(back.map.get("k"), 1, "a Map");
    assertJsonEqual([...back.bytes], [1, 2], "a typed array");
    assertEqual(await g.agent.rpcAsync("w1", "nothing", []), undefined, "undefined");
  }],

  ["a remote function may return a Promise or a Future: the reply goes when it completes", async () => {
    assertEqual(await g.agent.rpcAsync("w1", "later", [20, 7]), 7, "a Promise");
    assertEqual(await g.agent.rpcAsync("w2", "future", [5, "done"]), "done", "a Future");
  }],

  ["an error comes back as itself, with its cause, and raisedOn names the worker", async () => {
    const err = await rejection(g.agent.rpcAsync("w1", "fail", ["bad input"]));
    assert(err instanceof TypeError, `a TypeError, got ${describe(err)}`);
    assertEqual(err.message, "bad input", "message");
    assert(err.cause instanceof RangeError, `cause: ${describe(err.cause)}`);
    assertEqual(err.cause.message, "the cause", "the cause's message");
    assertEqual(raisedOn(err), "w1", "raisedOn");
    const late = await rejection(g.agent.rpcAsync("w2", "rejectLater", [5]));
    assert(late instanceof SyntaxError && raisedOn(late) === "w2", `a rejected Promise: ${describe(late)}`);
  }],

  ["rpcSync blocks inside a Web Worker, to another worker and to the page", async () => {
    assertEqual(await g.agent.rpcAsync("w1", "forwardSync", ["w2", 20, 22]), 42, "w1 blocks on w2");
    assertEqual(await g.agent.rpcAsync("w2", "forwardSync", ["page", 1, 2]), 3, "w2 blocks on the page");
  }],

  ["on the page's main thread rpcSync and toHere throw RpcCannotBlockError, pointing to rpcAsync and toHereAsync", async () => {
    const e = assertThrows(() => g.agent.rpcSync("w1", "add", [1, 2]), (x) => x instanceof RpcCannotBlockError, "rpcSync");
    assert(/rpcAsync/.test(e.message), `the message points to rpcAsync: ${e.message}`);
    const ref = g.agent.remote("w1", "array", [2, 5]);
    const t = assertThrows(() => ref.toHere(), (x) => x instanceof RpcCannotBlockError, "toHere");
    assert(/toHereAsync/.test(t.message), `the message points to toHereAsync: ${t.message}`);
    assertJsonEqual(await ref.toHereAsync(), [5, 5], "toHereAsync works");
    ref.release();
    assertEqual(await g.agent.rpcAsync("w1", "add", [1, 2]), 3, "the page calls on after");
  }],

  ["worker-to-worker calls, and chains through every thread", async () => {
    assertEqual(await g.agent.rpcAsync("w1", "forward", ["w2", 1, 2]), 3, "w1 → w2");
    assertEqual(await g.agent.rpcAsync("w2", "forward", ["w1", 3, 4]), 7, "w2 → w1");
    assertEqual(await g.agent.rpcAsync("w1", "hop", [6]), 6, "a chain of six calls hopping between the threads");
  }],

  ["remote() RRefs passed to another worker and released: the owner's ownedRRefs goes back to 0", async () => {
    const ref = g.agent.remote("w1", "array", [3, 7]);
    assertEqual(ref.owner(), "w1", "owner");
    assert((await g.agent.rpcAsync("w1", "owned", [])) >= 1, "w1 owns the value");
    assertEqual(await g.agent.rpcAsync("w2", "sumHere", [ref]), 21, "w2 fetches the RRef's value from w1 (toHere, blocking) and lets go");
    const counter = g.agent.remote("w2", "counter", [10]);
    assertEqual(await g.agent.rpcAsync("w1", "incThenRelease", [counter, 5]), 15, "w1 calls a method of w2's value and lets go");
    assertEqual(await counter.rpcAsync().get(), 15, "the page sees the same value");
    ref.release();
    counter.release();
    let owned = [-1, -1];
    for (let i = 0; i < 200 && (owned[0] !== 0 || owned[1] !== 0); i++) {
      await nextTask(10);
      owned = [await g.agent.rpcAsync("w1", "owned", []), await g.agent.rpcAsync("w2", "owned", [])];
    }
    assertJsonEqual(owned, [0, 0], "ownedRRefs on w1 and w2 once every holder let go");
  }],

  ["1,000 concurrent calls complete, and arrive in the order they were made", async () => {
    const base = await g.agent.rpcAsync("w2", "count", []);
    const futs = [];
    for (let i = 0; i < 1000; i++) futs.push(g.agent.rpcAsync("w2", "count", []));
    const done = [];
    futs.forEach((f, i) => f.then(() => done.push(i)));
    const values = await Promise.all(futs);
    for (let i = 0; i < 1000; i++) assertEqual(values[i], base + 1 + i, `call ${i} ran ${i + 1}th`);
    await nextTask();
    for (let i = 0; i < 1000; i++) assertEqual(done[i], i, `call ${i} completed in order`);
  }],

  ["a terminated worker fails every call in flight to it with RpcWorkerGoneError, and later calls at once", async () => {
    const h = await startGroup(["page2", "v1", "v2"]);
    try {
      const inFlight = [h.agent.rpcAsync("v1", "hang", []), h.agent.rpcAsync("v1", "later", [20_000, 1])];
      // v2 blocked in rpcSync on v1 learns of the death too.
      const blocked = h.agent.rpcAsync("v2", "callSync", ["v1", "hang", []]);
      assertEqual(await h.agent.rpcAsync("v1", "add", [1, 1]), 2, "v1 answers before");
      await nextTask(50);
      const start = performance.now();
      h.workers.get("v1").worker.terminate();
      for (const fut of inFlight) {
        const err = await rejection(within(DEATH_BOUND_MS, Promise.resolve(fut), "a call in flight"));
        assert(err instanceof RpcWorkerGoneError, `RpcWorkerGoneError, got ${describe(err)}`);
        assert(err instanceof BrokenFutureError, "also a BrokenFutureError");
        assertEqual(err.worker, "v1", "the worker named");
      }
      assert(performance.now() - start < DEATH_BOUND_MS, "within the bound");
      const later = h.agent.rpcAsync("v1", "add", [1, 2]);
      assertEqual(later.done(), true, "a later call fails at once");
      assert((await rejection(later)) instanceof RpcWorkerGoneError, "with RpcWorkerGoneError");
      const fromV2 = await within(DEATH_BOUND_MS + 2000, rejection(blocked), "v2's forwardSync");
      assert(fromV2 instanceof RpcWorkerGoneError, `v2's blocked rpcSync to v1 fails too: ${describe(fromV2)}`);
      assertEqual(raisedOn(fromV2), "v2", "raised on v2, which tells the page");
      assertEqual(await h.agent.rpcAsync("v2", "add", [2, 2]), 4, "v2 still serves");
    } finally {
      await within(10_000, h.agent.shutdown({ graceful: false }), "shutdown");
      for (const w of h.workers.values()) w.worker.terminate();
    }
  }],

  ["a worker that dies during the rendezvous fails it with RpcWorkerGoneError; one that never joins fails it with an RpcError naming it", async () => {
    const group = createThreadGroup(["page3", "u1"]);
    const u1 = await startWorker();
    const joining = new Promise((resolve) => {
      const poll = () => (u1.events.some((e) => e.joining) ? resolve() : setTimeout(poll, 5));
      poll();
    });
    void u1.send("join", { handle: group.u1, report: true }, group.u1.transferList);
    await within(5000, joining, "u1 starts its rendezvous");
    u1.worker.terminate();
    const start = performance.now();
    const err = await rejection(within(DEATH_BOUND_MS, threadsTransport(group.page3), "the page's rendezvous"));
    assert(err instanceof RpcWorkerGoneError, `RpcWorkerGoneError, got ${describe(err)}`);
    assertEqual(err.worker, "u1", "the worker named");
    assert(performance.now() - start < DEATH_BOUND_MS, "within the bound");

    const ghost = createThreadGroup(["page4", "ghost"]);
    const t0 = performance.now();
    const never = await rejection(within(5000, threadsTransport(ghost.page4, { joinTimeoutMs: 300 }), "the page's rendezvous"));
    assert(never instanceof RpcError && !(never instanceof RpcWorkerGoneError), `an RpcError, got ${describe(never)}`);
    assert(/"ghost" did not join/.test(never.message), `the message names the worker: ${never.message}`);
    assert(performance.now() - t0 >= 290, "not before the deadline");
    const bad = await rejection(threadsTransport(ghost.page4, { joinTimeoutMs: -1 }));
    assert(bad instanceof TypeError && /joinTimeoutMs/.test(bad.message), `a bad joinTimeoutMs: ${describe(bad)}`);
  }],

  ["graceful shutdown of the whole group: every thread's shutdown resolves, then calls fail with RpcShutdownError", async () => {
    const inFlight = g.agent.rpcAsync("w1", "later", [50, 9]);
    const closing = [...g.workers.values()].map((w) => w.send("shutdown"));
    await within(15_000, g.agent.shutdown(), "the page's shutdown");
    for (const r of await within(15_000, Promise.all(closing), "the workers' shutdowns")) okOrThrow(r, "a worker's shutdown");
    assertEqual(await inFlight, 9, "the call in flight completed first");
    assertThrows(() => g.agent.rpcAsync("w1", "add", [1, 2]), (x) => x instanceof RpcShutdownError, "a call after the shutdown");
    for (const w of g.workers.values()) w.worker.terminate();
  }],
];

await runChecks(checks, { timeoutMs: 30_000 });

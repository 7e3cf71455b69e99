// FutureLink, the fast path between two threads: futures handed over and completed through
// shared memory, in both directions, blocking and with await; many in flight; one winner per
// race; values inline and by message; transfer and shared memory; errors; timeouts; closing;
// and the other thread dying while this one blocks in receive() or wait().
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import {
  BrokenFutureError,
  DerivedFutureError,
  Future,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  FutureTimeoutError,
  collectAll,
  waitAll,
} from "../src/index.js";
import {
  FutureLink,
  LinkClosedError,
  adopt,
  isLinkHandle,
  openLink,
  share,
  type LinkHandle,
} from "../src/threads/index.js";
import { LinkAgent, type Action } from "./threads/link-agent.js";
import { arrive, race } from "./threads/worker-kit.js";
import { BOUND_MS, assertBroken, assertRefusedUncloneable, rejection, timed } from "./threads/harness.js";
import type { Death } from "./threads/protocol.js";

const T = { timeout: 30_000 };
const LONG = { timeout: 90_000 };
/** How long a blocked wait() or receive() may take to see a death. */
const OOM = { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 };

/** A link and a worker serving it with `actions` (then i * i for every further future). */
function served<Out = unknown, In = Out>(
  actions: Action[] = [],
  how: "receive" | "next" | "for-await" = "receive",
  link = new FutureLink<Out, In>(),
): { link: FutureLink<Out, In>; agent: LinkAgent } {
  const handle = link.handle as LinkHandle;
  const agent = new LinkAgent({ kind: "serve", handle, how, actions }, handle.transferList);
  return { link, agent };
}

/** Sends a new future over `link` and returns it. */
function sent<T>(link: FutureLink<T, unknown>): Future<T> {
  const fut = new Future<T>();
  link.send(fut);
  return fut;
}

/** Both ends of a link on this thread. */
function pair<Out = unknown, In = Out>(options?: { capacity?: number; inlineBytes?: number }): [FutureLink<Out, In>, FutureLink<In, Out>] {
  const link = new FutureLink<Out, In>(options);
  return [link, openLink(link.handle)];
}

/** One batch of 200 races between main and a worker over one link; counts each round's winner in `wins`. */
async function raceBatch(wins: Map<string, number>): Promise<void> {
  const rounds = 200;
  const link = new FutureLink<string>();
  const barrier = new Int32Array(new SharedArrayBuffer(rounds * 8));
  for (let r = 0; r < rounds; r++) barrier[2 * r + 1] = 2;
  const agent = new LinkAgent({ kind: "race", handle: link.handle, rounds, barrier: barrier.buffer }, link.handle.transferList);
  const outcomes: string[] = [];
  const finals: string[] = [];
  for (let r = 0; r < rounds; r++) {
    const fut = sent(link);
    arrive(new Int32Array(barrier.buffer, r * 8, 2));
    outcomes.push(
      race(() => {
        fut.setResult("main");
      }),
    );
    finals.push(fut.wait(10_000));
  }
  const theirs = await agent.next("raced", 30_000);
  for (let r = 0; r < rounds; r++) {
    const both = [outcomes[r], theirs.outcomes[r]];
    assert.equal(both.filter((o) => o === "won").length, 1, `round ${r}: ${both.join(", ")}`);
    assert.ok(both.every((o) => o === "won" || o === "FutureAlreadyCompletedError"), both.join(", "));
    const winner = outcomes[r] === "won" ? "main" : "worker";
    assert.equal(finals[r], winner, `round ${r}: main holds the winner's value`);
    assert.equal(theirs.finals[r], winner, `round ${r}: the worker holds the winner's value`);
    wins.set(winner, (wins.get(winner) ?? 0) + 1);
  }
  await agent.done();
}

describe("links: handing futures over", () => {
  it("main → worker, blocking: each wait() returns what the worker set, in order", T, async () => {
    const { link, agent } = served<number>();
    for (let i = 0; i < 50; i++) assert.equal(sent(link).wait(10_000), i * i);
    link.close();
    const ended = await agent.next("ended");
    assert.equal(ended.name, "LinkClosedError");
    assert.equal(ended.received, 50);
    await agent.done();
  });

  it("main → worker with await, the worker serving with `for await`: the event loop keeps running", T, async () => {
    const { link, agent } = served<string>([{ do: "later", ms: 200, value: "late" }], "for-await");
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    assert.equal(await sent(link), "late");
    clearInterval(timer);
    assert.ok(ticks >= 5, `only ${ticks} timer ticks ran while awaiting`);
    assert.equal(await sent(link), 1);
    link.close();
    assert.equal((await agent.next("ended")).name, "done", "`for await` ends when main closes the link");
    await agent.done();
  });

  it("worker → main: main receives with receive() and completes; the worker's wait() sees it", T, async () => {
    const link = new FutureLink<never, { n: number }>();
    const agent = new LinkAgent({ kind: "send", handle: link.handle, count: 3, how: "wait", close: true }, link.handle.transferList);
    for (let i = 0; i < 3; i++) {
      const fut = link.receive(10_000);
      assert.equal(fut.done(), false);
      fut.setResult({ n: i });
      assert.deepEqual(fut.value(), { n: i });
      const report = await agent.next("value");
      assert.deepEqual(report.value, { n: i });
      assert.notEqual(report.threadId, threadId);
      assert.deepEqual(report.log, [`callback on thread ${report.threadId}`], "the callback ran on the worker, before wait() returned");
    }
    assert.throws(() => link.receive(10_000), LinkClosedError);
    await agent.done();
  });

  it("worker → main with await on both sides: `for await` on main, await in the worker", T, async () => {
    const link = new FutureLink<never, string>();
    const agent = new LinkAgent({ kind: "send", handle: link.handle, count: 4, how: "await", close: true }, link.handle.transferList);
    let i = 0;
    for await (const fut of link) fut.setResult(`answer ${i++}`);
    assert.equal(i, 4, "the loop ends when the worker closes the link");
    for (let j = 0; j < 4; j++) assert.equal((await agent.next("value")).value, `answer ${j}`);
    await agent.done();
  });

  it("a link made in a worker and opened on main works the same", T, async () => {
    const agent = new LinkAgent({ kind: "make", how: "next", actions: [{ do: "result", value: "made there" }] });
    const { handle } = await agent.next("link");
    assert.ok(isLinkHandle(handle));
    const link = openLink(handle as LinkHandle<string>);
    assert.equal(openLink(handle as LinkHandle<string>), link, "opening the same handle again gives the same link");
    assert.equal(sent(link).wait(10_000), "made there");
    assert.equal(sent(link).wait(10_000), 1);
    link.close();
    assert.equal((await agent.next("ended")).name, "done");
    await agent.done();
  });

  it("many futures in flight, past the link's capacity: every one arrives, in order, and completes", LONG, async () => {
    const link = new FutureLink<number>({ capacity: 4 });
    const futs: Future<number>[] = [];
    // Before the worker exists: every berth fills, then the rest go by message, still in order.
    for (let i = 0; i < 300; i++) futs.push(sent(link));
    const shared = new Future<number>();
    adopt(share(shared)); // a future shared with share() goes by message too
    link.send(shared);
    futs.push(shared);
    const { agent } = served([], "receive", link);
    assert.deepEqual(waitAll(futs, 20_000), futs.map((_, i) => i * i));
    // And again with the worker running, async this time.
    const more = Array.from({ length: 300 }, () => sent(link));
    assert.deepEqual(await Promise.all(more), more.map((_, i) => (i + 301) ** 2));
    link.close();
    assert.equal((await agent.next("ended")).received, 601);
    await agent.done();
  });

  it("main and a worker race to complete the same futures: one winner every time", LONG, async () => {
    const wins = new Map<string, number>();
    // Each batch checks every round; batches repeat (at most 10) until both sides have won some,
    // a sign that the races were real: a spinning thread can win a whole batch on a quiet machine.
    for (let batch = 0; batch < 10 && wins.size < 2; batch++) await raceBatch(wins);
    assert.ok(wins.size === 2, `always the same winner over 10 batches: ${JSON.stringify([...wins])}`);
  });

  it("waitAll() and callbacks: callbacks run on main, in order, inside wait()", T, async () => {
    const { link, agent } = served<number>([{ do: "later", ms: 50, value: 41 }], "next");
    const fut = sent(link);
    const log: string[] = [];
    fut.addDoneCallback((f) => log.push(`first ${f.value()} on ${threadId}`));
    const child = fut.continueWith((f) => f.value() + 1);
    child.addDoneCallback((f) => log.push(`child ${f.value()} on ${threadId}`));
    assert.equal(fut.wait(10_000), 41);
    assert.deepEqual(log, [`first 41 on ${threadId}`, `child 42 on ${threadId}`]);
    assert.deepEqual(waitAll([sent(link), sent(link)], 10_000), [1, 4]);
    link.close();
    await agent.done();
  });

  it("a future derived from a sent one blocks too: a continueWith child, a collectAll", T, async () => {
    const { link, agent } = served<number>();
    assert.equal(
      sent(link)
        .continueWith((f) => f.value() + 1)
        .wait(10_000),
      1,
    );
    const a = sent(link);
    const b = sent(link);
    assert.deepEqual(waitAll(collectAll([a, b]).wait(10_000)), [1, 4]);
    link.close();
    await agent.done();
  });
});

describe("links: values", () => {
  it("small values complete in shared memory, large ones by message; all arrive as structured clone makes them", T, async () => {
    const { link, agent } = served([
      { do: "result", value: 1.5 },
      { do: "result", value: "short ☃ 𝄞" },
      { do: "result", value: { small: [1, "two", null] } },
      { do: "make", make: "long-string" },
      { do: "make", make: "big-array" },
      { do: "make", make: "view-offset" },
      { do: "make", make: "two-views" },
      { do: "make", make: "rich" },
      { do: "result", value: null },
      { do: "result", value: undefined },
      { do: "result", value: false },
    ]);
    assert.equal(sent(link).wait(10_000), 1.5);
    assert.equal(sent(link).wait(10_000), "short ☃ 𝄞");
    assert.deepEqual(sent(link).wait(10_000), { small: [1, "two", null] });
    assert.equal(sent(link).wait(10_000), "é".repeat(5000));
    assert.deepEqual(sent(link).wait(10_000), Array.from({ length: 10_000 }, (_, i) => i));
    const view = sent(link).wait(10_000) as Float32Array;
    assert.ok(view instanceof Float32Array);
    assert.deepEqual([view.byteOffset, view.buffer.byteLength, ...view], [4, 16, 2, 3], "a view keeps its buffer and offset");
    const views = sent(link).wait(10_000) as { a: Uint8Array; b: Int32Array };
    assert.equal(views.a.buffer, views.b.buffer, "two views of one buffer still share it");
    const rich = sent(link).wait(10_000) as { map: Map<string, bigint>; date: Date; set: Set<unknown>; regexp: RegExp; nan: number; neg: number };
    assert.equal(rich.map.get("k"), 1n);
    assert.equal(rich.date.getTime(), 0);
    assert.deepEqual([...rich.set], [1, "two"]);
    assert.equal(rich.regexp.flags, "g");
    assert.ok(Number.isNaN(rich.nan));
    assert.ok(Object.is(rich.neg, -0));
    assert.equal(sent(link).wait(10_000), null);
    assert.equal(sent(link).wait(10_000), undefined);
    assert.equal(sent(link).wait(10_000), false);
    link.close();
    await agent.done();
  });

  it("the same values on one thread, through a small link (inline and by message)", T, () => {
    const [a, b] = pair({ inlineBytes: 16 });
    const values: unknown[] = [0, -0, Infinity, NaN, "", "1234567", "12345678", { x: 1 }, [1, 2, 3, 4, 5, 6, 7, 8], 10n ** 30n, true];
    for (const value of values) {
      const fut = sent(a);
      const theirs = b.tryReceive();
      assert.ok(theirs !== undefined);
      theirs.setResult(value);
      assert.deepEqual(fut.wait(1000), value);
      assert.equal(theirs.value(), value, "the completer keeps its own object");
    }
    assert.equal(b.tryReceive(), undefined);
  });

  it("shared memory anywhere in a value is shared, not copied, also nested", T, () => {
    const [a, b] = pair();
    const fut = sent(a);
    const view = new Int32Array(new SharedArrayBuffer(8));
    b.receive(0).setResult({ nested: [{ view }] });
    const got = (fut.wait(1000) as { nested: [{ view: Int32Array }] }).nested[0].view;
    assert.ok(got.buffer instanceof SharedArrayBuffer);
    view[1] = 99;
    assert.equal(got[1], 99, "a write through one view is seen through the other");
  });

  it("{ transfer } moves the buffer: the worker's is detached, main gets the data", T, async () => {
    const { link, agent } = served<Float32Array>([{ do: "make", make: "transfer" }]);
    assert.deepEqual([...sent(link).wait(10_000)], [1, 2, 3]);
    assert.equal((await agent.next("transferred")).byteLength, 0);
    link.close();
    await agent.done();
  });

  it("{ transfer } from main detaches main's buffer; the worker gets the data", T, async () => {
    const link = new FutureLink<never, Float32Array>();
    const agent = new LinkAgent({ kind: "send", handle: link.handle, count: 1, how: "wait", close: true }, link.handle.transferList);
    const fut = link.receive(10_000);
    const data = new Float32Array([4, 5]);
    fut.setResult(data, { transfer: [data.buffer] });
    assert.equal(data.buffer.byteLength, 0);
    assert.deepEqual([...((await agent.next("value")).value as Float32Array)], [4, 5]);
    await agent.done();
  });

  it("a SharedArrayBuffer-backed array is shared, not copied: a later write in the worker is visible", T, async () => {
    const { link, agent } = served<Int32Array>([{ do: "make", make: "shared" }], "next");
    const view = sent(link).wait(10_000);
    assert.ok(view.buffer instanceof SharedArrayBuffer);
    assert.equal(view[0], 0);
    agent.go();
    assert.notEqual(Atomics.wait(view, 0, 0, 10_000), "timed-out");
    assert.equal(view[0], 42);
    link.close();
    await agent.done();
  });

  it("a value that cannot be cloned throws a clear TypeError in the completer; the future stays pending", T, async () => {
    const { link, agent } = served([{ do: "uncloneable" }]);
    const fut = sent(link);
    assertRefusedUncloneable((await agent.next("refused")).errors);
    assert.equal(fut.done(), false);
    assert.throws(() => fut.wait(50), FutureTimeoutError);
    agent.go();
    assert.equal(fut.wait(10_000), 7);
    link.close();
    await agent.done();
  });

  it("uncloneable values on one thread: both ends refuse, a Future is no value, a getter cannot complete again", T, () => {
    const [a, b] = pair();
    const fut = sent(a);
    const theirs = b.tryReceive();
    assert.ok(theirs !== undefined);
    assert.throws(() => { fut.setResult(() => 1); }, (e) => e instanceof TypeError && e.cause instanceof Error);
    assert.throws(() => { theirs.setResult(Symbol("s")); }, TypeError);
    assert.throws(() => { theirs.setException({ f: () => 1 }); }, /^TypeError: setException\(\): the error cannot be sent/);
    assert.throws(() => { fut.setResult(new Future()); }, /a Future cannot be sent/);
    assert.equal(fut.done(), false);
    let inner: unknown;
    theirs.setResult({
      get x(): number {
        try {
          theirs.setResult("again");
        } catch (error) {
          inner = error;
        }
        return 1;
      },
    });
    assert.ok(inner instanceof FutureAlreadyCompletedError);
    assert.deepEqual(fut.wait(1000), { x: 1 });
    assert.throws(() => { fut.setResult(2); }, FutureAlreadyCompletedError);
  });
});

describe("links: errors cross with class, message, stack and cause", () => {
  it("built-in, custom, aggregate and non-error reasons", T, async () => {
    const { link, agent } = served([
      { do: "error", error: "range-with-cause" },
      { do: "error", error: "custom" },
      { do: "error", error: "aggregate" },
      { do: "error", error: "string" },
      { do: "error", error: "object" },
    ]);
    const failure = (): unknown => {
      const fut = sent(link);
      const { error } = timed(() => fut.wait(10_000));
      assert.throws(() => fut.value(), (e) => e === error, "the same error object every time");
      return error;
    };
    const range = failure();
    assert.ok(range instanceof RangeError);
    assert.equal(range.message, "out of range");
    assert.match(range.stack ?? "", /link-worker\.js/);
    assert.ok(range.cause instanceof TypeError);
    assert.equal(range.cause.cause, "root");
    const custom = failure();
    assert.ok(custom instanceof TypeError);
    assert.equal(custom.name, "HttpError");
    assert.equal((custom as unknown as { status: number }).status, 404);
    assert.equal("socket" in custom, false);
    const aggregate = failure();
    assert.ok(aggregate instanceof AggregateError);
    assert.ok(aggregate.errors[1] instanceof SyntaxError);
    assert.equal(failure(), "a string reason");
    assert.deepEqual(failure(), { code: 7, detail: [1, 2] });
    link.close();
    await agent.done();
  });
});

describe("links: timeouts", () => {
  it("wait(timeoutMs) throws FutureTimeoutError and leaves the future pending; it completes later", T, async () => {
    const { link, agent } = served([{ do: "after-go", value: "after the timeout" }]);
    const fut = sent(link);
    const { ms, error } = timed(() => fut.wait(100));
    assert.ok(error instanceof FutureTimeoutError, `expected FutureTimeoutError, got ${String(error)}`);
    assert.ok(ms >= 95 && ms < 2000, `timed out after ${ms} ms`);
    assert.equal(fut.done(), false);
    assert.throws(() => fut.value(), FutureNotCompletedError);
    agent.go();
    assert.equal(fut.wait(10_000), "after the timeout");
    link.close();
    await agent.done();
  });

  it("receive(timeoutMs) throws FutureTimeoutError when nothing arrives; later sends still arrive", T, () => {
    const [a, b] = pair<number>();
    const { ms, error } = timed(() => b.receive(100));
    assert.ok(error instanceof FutureTimeoutError, String(error));
    assert.ok(ms >= 95 && ms < 2000, `timed out after ${ms} ms`);
    assert.throws(() => b.receive(-1), TypeError);
    const fut = sent(a);
    b.receive(0).setResult(3);
    assert.equal(fut.wait(0), 3);
  });
});

describe("links: memory", () => {
  it("100,000 futures through a link leave nothing behind on the heap", T, () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.equal(typeof gc, "function", "run the tests with node --expose-gc (npm test does)");
    const [a, b] = pair<number>();
    const round = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const fut = new Future<number>();
        a.send(fut);
        b.receive().setResult(i);
        assert.equal(fut.wait(), i);
      }
    };
    round(1000); // code and feedback, before the measurement
    gc?.();
    const before = process.memoryUsage().heapUsed;
    round(100_000);
    gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    // Each completed future used to leave its entry's room in a WeakMap's table (~8 MB for these).
    assert.ok(grown < 2 * 1024 * 1024, `the heap grew by ${grown} bytes`);
    a.close();
    b.close();
  });
});

describe("links: closing", () => {
  it("after close(): queued futures are received first, then LinkClosedError; unreceived ones break; received ones still complete", T, () => {
    const [a, b] = pair<number>();
    const first = sent(a);
    const second = sent(a);
    const third = sent(a);
    const mine = b.receive(0);
    b.close();
    assert.ok(a.closed && b.closed);
    assert.throws(() => { a.send(new Future()); }, LinkClosedError);
    assert.throws(() => { b.send(new Future()); }, LinkClosedError);
    assert.throws(() => b.receive(0), LinkClosedError);
    assert.throws(() => a.receive(0), LinkClosedError);
    assertBroken(timed(() => second.wait(1000)).error, /closed the FutureLink without receiving it/);
    assertBroken(timed(() => third.wait(1000)).error, /closed the FutureLink without receiving it/);
    mine.setResult(5);
    assert.equal(first.wait(1000), 5);
    assert.equal(new LinkClosedError("x").name, "LinkClosedError");
    assert.ok(new LinkClosedError("x") instanceof FutureError);
  });

  it("the other side's close ends receive() after what was sent before it", T, async () => {
    const [a, b] = pair<number>();
    const fut = sent(a);
    a.close();
    const got = b.receive(0);
    assert.throws(() => b.receive(0), LinkClosedError);
    assert.deepEqual(await b.next(), { value: undefined, done: true });
    got.setResult(1);
    assert.equal(fut.wait(0), 1);
  });
});

describe("links: refusals", () => {
  it("send() refuses what it cannot hand over; openLink() and handle refuse what they cannot do", T, () => {
    const [a, b] = pair();
    assert.throws(() => { a.send(new Future().continueWith(() => 1)); }, DerivedFutureError);
    const done = new Future();
    done.setResult(1);
    assert.throws(() => { a.send(done); }, FutureAlreadyCompletedError);
    const notAFuture: unknown = {};
    assert.throws(() => { a.send(notAFuture as Future); }, /send\(\) expects a Future, got an object/);
    const once = sent(a);
    assert.throws(() => { a.send(once); }, /already sent over a FutureLink/);
    assert.throws(() => share(once), /sent over a FutureLink/);
    const received = b.receive(0);
    assert.throws(() => { b.send(received); }, /only the thread that created a future can send it/);
    assert.throws(() => { b.send(adopt(share(new Future()))); }, /only the thread that created a future can send it/);
    assert.throws(() => b.handle, /opened from a handle/);
    assert.throws(() => openLink({} as LinkHandle), /openLink\(\) expects the handle of a FutureLink/);
    assert.throws(() => new FutureLink({ capacity: 0 }), /capacity must be an integer/);
    assert.throws(() => new FutureLink({ inlineBytes: 1.5 }), /inlineBytes must be an integer/);
    assert.equal(isLinkHandle({ torchFuturesLink: 1 }), false);
  });
});

describe("links: the other thread goes away", () => {
  const deaths: Death[] = ["return", "process.exit", "throw", "hang", "oom"];
  const name = (how: Death): string => (how === "hang" ? "terminate()" : how === "return" ? "exits normally" : how);

  for (const how of deaths) {
    it(`${name(how)}: a blocked wait() and a blocked receive() on main wake with BrokenFutureError`, LONG, async () => {
      const link = new FutureLink();
      const fut = sent(link);
      const agent = new LinkAgent(
        { kind: "die", handle: link.handle, receive: true, how, delayMs: 100 },
        link.handle.transferList,
        how === "oom" ? OOM : undefined,
      );
      await agent.next("ready");
      if (how === "hang") void agent.worker.terminate();
      const waited = timed(() => fut.wait(BOUND_MS + 5000));
      assertBroken(waited.error, /the thread this future was sent to over a FutureLink has gone away/);
      assert.ok(waited.ms < BOUND_MS, `wait() took ${waited.ms} ms`);
      const received = timed(() => link.receive(BOUND_MS + 5000));
      assertBroken(received.error, /the thread at the other end of this FutureLink has gone away/);
      assert.throws(() => { fut.setResult(1); }, FutureAlreadyCompletedError);
      assert.throws(() => { link.send(new Future()); }, BrokenFutureError);
      await agent.done();
    });
  }

  for (const how of ["process.exit", "hang"] as const) {
    it(`${name(how)}: receive() blocked before anything was sent wakes with BrokenFutureError`, LONG, async () => {
      const link = new FutureLink();
      const agent = new LinkAgent({ kind: "die", handle: link.handle, receive: false, how, delayMs: 200 }, link.handle.transferList);
      await agent.next("ready");
      if (how === "hang") void agent.worker.terminate();
      const { ms, error } = timed(() => link.receive(BOUND_MS + 5000));
      assertBroken(error, /has gone away/);
      assert.ok(ms < BOUND_MS, `receive() took ${ms} ms`);
      await agent.done();
    });
  }

  it("`await fut` and `await link.next()` fail with BrokenFutureError too", LONG, async () => {
    const link = new FutureLink();
    const fut = sent(link);
    const agent = new LinkAgent({ kind: "die", handle: link.handle, receive: true, how: "throw", delayMs: 100 }, link.handle.transferList);
    assertBroken(await rejection(fut), /has gone away/);
    assertBroken(await rejection(link.next()), /has gone away/);
    await agent.done();
  });

  it("a worker blocked in receive() on a link made by another worker wakes when that worker dies", LONG, async () => {
    const owner = new LinkAgent({ kind: "die", receive: false, how: "process.exit", delayMs: 300 });
    const { handle } = await owner.next("link");
    const observer = new LinkAgent({ kind: "serve", handle, how: "receive", actions: [] }, handle.transferList);
    const ended = await observer.next("ended", BOUND_MS);
    assert.equal(ended.name, "BrokenFutureError");
    assert.match(ended.message, /has gone away/);
    await Promise.all([owner.done(), observer.done()]);
  });

  it("a worker blocked in wait() on a future it sent wakes when the receiving worker dies", LONG, async () => {
    const receiver = new LinkAgent({ kind: "die", receive: true, how: "process.exit", delayMs: 100 });
    const { handle } = await receiver.next("link");
    const sender = new LinkAgent({ kind: "send", handle, count: 1, how: "wait", close: false }, handle.transferList);
    const report = await sender.next("error", BOUND_MS);
    assert.equal(report.isBroken, true);
    assert.match(report.message, /the thread this future was sent to over a FutureLink has gone away/);
    await Promise.all([receiver.done(), sender.done()]);
  });

  it("a live worker that never completes: wait(timeout) throws FutureTimeoutError, not BrokenFutureError", T, async () => {
    const { link, agent } = served([{ do: "hold" }]);
    const fut = sent(link);
    await agent.next("did");
    assert.throws(() => fut.wait(200), FutureTimeoutError);
    await agent.worker.terminate();
    assertBroken(await rejection(fut), /has gone away/);
  });
});

describe("links: the event loop", () => {
  const run = (mode: string): { status: number | null; stdout: string } => {
    const script = fileURLToPath(new URL("./threads/link-exit-check.js", import.meta.url));
    const result = spawnSync(process.execPath, [script, mode], { encoding: "utf8", timeout: 20_000 });
    return { status: result.status, stdout: result.stdout.trim() };
  };

  it("a pending link future that nobody waits for does not keep the process alive", T, () => {
    assert.deepEqual(run("unawaited"), { status: 0, stdout: "leaving a pending link future behind" });
  });

  it("`await` on a link future keeps the process alive until it settles, here with BrokenFutureError", T, () => {
    assert.deepEqual(run("awaited"), { status: 0, stdout: "BrokenFutureError" });
  });

  it("`await link.next()` keeps the process alive until a future arrives", T, () => {
    assert.deepEqual(run("next"), { status: 0, stdout: "received a future" });
  });

  it("after quick round trips, an awaited future that takes long leaves the event loop idle: the spin after sending is brief", T, async () => {
    const quick: Action[] = Array.from({ length: 200 }, (_, i) => ({ do: "result", value: i }));
    const { link, agent } = served([...quick, { do: "later", ms: 300, value: "late" }], "next");
    for (let i = 0; i < quick.length; i++) assert.equal(await sent(link), i);
    const before = performance.eventLoopUtilization();
    assert.equal(await sent(link), "late");
    const busy = performance.eventLoopUtilization(before).utilization;
    // A spin that outlived its bound would keep the loop busy for the whole wait (utilization near 1).
    assert.ok(busy < 0.25, `the event loop was busy ${(100 * busy).toFixed(0)}% of a 300 ms wait`);
    link.close();
    await agent.done();
  });
});

describe("links: the example", () => {
  it("examples/worker-link prints the worker's answers, received by blocking wait()", T, () => {
    const file = fileURLToPath(new URL("../examples/worker-link.js", import.meta.url));
    const result = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.stderr, "");
    assert.equal(result.status, 0);
    assert.deepEqual(result.stdout.trim().split("\n"), [
      "0 squared is 0",
      "1 squared is 1",
      "2 squared is 4",
      "3 squared is 9",
      "the worker answered 4 futures",
    ]);
  });
});

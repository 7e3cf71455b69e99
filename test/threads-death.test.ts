// Threads that go away while a shared future is pending: every waiter, async
// and blocking, ends with BrokenFutureError (or, where a death cannot be
// seen, its timeout) — nothing hangs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Future, FutureAlreadyCompletedError, FutureTimeoutError } from "../src/index.js";
import { adopt, share } from "../src/threads/index.js";
import { Agent, BOUND_MS, assertBroken, rejection, sleep, timed } from "./threads/harness.js";
import type { Death } from "./threads/protocol.js";

const T = { timeout: 60_000 };
/** How long a blocked wait() may take to see a death. */
const OOM = { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 };
const deaths: Death[] = ["return", "process.exit", "throw", "hang", "oom"];
const describeDeath = (how: Death): string => (how === "hang" ? "terminate()" : how === "return" ? "exits normally" : how);

const adopterGone = /every thread this future was handed to has gone away/;
const ownerGone = /the thread that created this future has gone away/;

describe("threads: an adopting worker goes away", () => {
  for (const how of deaths) {
    it(`${describeDeath(how)}: \`await\` on the owner fails with BrokenFutureError`, T, async () => {
      const fut = new Future();
      const handle = share(fut);
      const agent = new Agent(
        { kind: "die", handle, adopt: true, how, delayMs: 50 },
        handle.transferList,
        how === "oom" ? OOM : undefined,
      );
      await agent.next("ready");
      if (how === "hang") void agent.stop();
      assertBroken(await rejection(fut), adopterGone);
      await agent.exited;
    });

    it(`${describeDeath(how)}: a blocking wait() on the owner wakes with BrokenFutureError`, T, async () => {
      const fut = new Future();
      const handle = share(fut);
      const agent = new Agent(
        { kind: "die", handle, adopt: true, how, delayMs: 100 },
        handle.transferList,
        how === "oom" ? OOM : undefined,
      );
      await agent.next("ready");
      if (how === "hang") void agent.stop();
      const { ms, error } = timed(() => fut.wait(BOUND_MS + 5000));
      assertBroken(error, adopterGone);
      assert.ok(ms < BOUND_MS, `took ${ms} ms`);
      await agent.exited;
    });
  }

  it("a worker that dies before adopting its handle breaks the future too", T, async () => {
    for (const how of ["return", "process.exit"] as const) {
      const fut = new Future();
      const handle = share(fut);
      const agent = new Agent({ kind: "die", handle, adopt: false, how, delayMs: 0 }, handle.transferList);
      assertBroken(timed(() => fut.wait(BOUND_MS)).error, adopterGone);
      await agent.exited;
    }
  });

  it("one of two adopters dying does not break the future; the other can still complete it", T, async () => {
    const fut = new Future<string>();
    const h1 = share(fut);
    const h2 = share(fut);
    const dying = new Agent({ kind: "die", handle: h1, adopt: true, how: "process.exit", delayMs: 0 }, h1.transferList);
    await dying.exited;
    await sleep(50);
    assert.equal(fut.done(), false);
    const completer = new Agent({ kind: "result", handle: h2, delayMs: 50, value: "survivor" }, h2.transferList);
    assert.equal(fut.wait(BOUND_MS), "survivor");
    await completer.exited;
  });

  it("after BrokenFutureError, completing it is refused like any completed future", T, async () => {
    const fut = new Future();
    const handle = share(fut);
    const agent = new Agent({ kind: "die", handle, adopt: true, how: "process.exit", delayMs: 0 }, handle.transferList);
    await agent.exited;
    assertBroken(await rejection(fut), adopterGone);
    assert.throws(() => {
      fut.setResult(1);
    }, /already completed/);
  });
});

describe("threads: the owning worker goes away", () => {
  for (const how of deaths) {
    it(`${describeDeath(how)}: \`await\` and a blocking wait() on an adopter fail with BrokenFutureError`, T, async () => {
      for (const waiter of ["await", "wait"] as const) {
        const agent = new Agent({ kind: "own", how, delayMs: 150 }, [], how === "oom" ? OOM : undefined);
        const { handle } = await agent.next("handle");
        const fut = adopt(handle);
        if (how === "hang") void agent.stop();
        if (waiter === "await") {
          assertBroken(await rejection(fut), ownerGone);
        } else {
          const { ms, error } = timed(() => fut.wait(BOUND_MS + 5000));
          assertBroken(error, ownerGone);
          assert.ok(ms < BOUND_MS, `took ${ms} ms`);
        }
        assert.throws(() => {
          fut.setResult(1);
        }, FutureAlreadyCompletedError);
        await agent.exited;
      }
    });
  }

  it("a worker blocked on another worker's future wakes when that worker dies", T, async () => {
    const owner = new Agent({ kind: "own", how: "process.exit", delayMs: 300 });
    const { handle } = await owner.next("handle");
    const observer = new Agent({ kind: "observe", handle: handle, how: "wait" }, handle.transferList);
    const report = await observer.next("error");
    assert.equal(report.isBroken, true);
    assert.match(report.message, ownerGone);
    await Promise.all([owner.exited, observer.exited]);
  });
});

describe("threads: timeouts bound what cannot be seen", () => {
  it("a live worker that never completes: wait(timeout) throws FutureTimeoutError, not BrokenFutureError", T, async () => {
    const fut = new Future();
    const handle = share(fut);
    const agent = new Agent({ kind: "die", handle, adopt: true, how: "hang", delayMs: 0 }, handle.transferList);
    await agent.next("ready");
    assert.throws(() => fut.wait(300), FutureTimeoutError);
    await agent.stop();
    assertBroken(await rejection(fut), adopterGone);
  });
});

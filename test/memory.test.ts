import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { Future } from "../src/index.js";

// `npm test` runs node with --expose-gc.
const gc = (globalThis as { gc?: () => void }).gc;

async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await tick(); // FinalizationRegistry callbacks run between turns
  }
}

describe("memory", () => {
  it("runs with --expose-gc", () => {
    assert.equal(typeof gc, "function", "run the tests with node --expose-gc (npm test does)");
  });

  it("pending futures nobody references are collected with their callbacks", async () => {
    const N = 10_000;
    let finalized = 0;
    const registry = new FinalizationRegistry(() => {
      finalized++;
    });
    (() => {
      for (let i = 0; i < N; i++) {
        const fut = new Future<number>();
        const payload = new Uint8Array(1024);
        fut.addDoneCallback(() => payload.length);
        const child = fut.continueWith(() => payload.length);
        registry.register(fut, undefined);
        registry.register(child, undefined);
      }
    })();
    await collect();
    // torch keeps every one of these (a reference cycle through C++); here all go.
    assert.equal(finalized, 2 * N);
  });

  it("a completed future drops its callbacks", async () => {
    const fut = new Future<number>();
    let finalized = false;
    const registry = new FinalizationRegistry(() => {
      finalized = true;
    });
    (() => {
      const callback = (): void => undefined;
      registry.register(callback, undefined);
      fut.addDoneCallback(callback);
    })();
    fut.setResult(1);
    await collect();
    assert.equal(finalized, true);
    assert.equal(fut.value(), 1);
  });

  it("a failed future that nobody reads raises no unhandled rejection", async () => {
    const events: unknown[] = [];
    const listener = (reason: unknown): void => {
      events.push(reason);
    };
    process.on("unhandledRejection", listener);
    try {
      const fut = new Future();
      fut.setException(new Error("nobody reads me"));
      fut.continueWith((f) => f.value()); // a failed child, unread too
      await collect();
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off("unhandledRejection", listener);
    }
    assert.deepEqual(events, []);
  });
  it("lets go of the work stack after a deep burst", async () => {
    // Each link's callback list is [child, cb]: its frame waits for `cb` while the child's
    // subtree runs, so a 200,000-link chain stacks 200,000 frames (megabytes of backing store).
    const burst = (): number => {
      const root = new Future<number>();
      let link = root;
      let calls = 0;
      for (let i = 0; i < 200_000; i++) {
        const next = link.continueWith((f) => f.value() + 1);
        link.addDoneCallback(() => {
          calls++;
        });
        link = next;
      }
      root.setResult(0);
      assert.equal(link.value(), 200_000);
      return calls;
    };
    // No warm-up burst: it would grow the stack before `before` is read. What the first burst
    // adds besides (code, feedback) is a few hundred kilobytes; the stack alone would be ~7 MB.
    await collect();
    const before = process.memoryUsage().heapUsed;
    assert.equal(burst(), 200_000);
    await collect();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 1 << 20, `the heap grew by ${grown} bytes after the burst`);
  });
});

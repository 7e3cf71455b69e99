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
});

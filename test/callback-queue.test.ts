import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Future, setCallbackErrorHandler } from "../src/index.js";
import { MAX_NESTED_DRAINS } from "../src/callback-queue.js";

describe("callback order (torch's order)", () => {
  it("runs continueWith and addDoneCallback callbacks in one FIFO queue, depth-first into children", () => {
    // The sequence measured on torch 1.13 (reference §9.3).
    const order: string[] = [];
    const f = new Future<number>();
    f.addDoneCallback(() => order.push("adc1"));
    const t1 = f.continueWith(() => order.push("then1"));
    f.addDoneCallback(() => order.push("adc2"));
    f.continueWith(() => order.push("then2"));
    t1.continueWith(() => order.push("then1.child"));
    f.addDoneCallback((x) => {
      order.push("adc3-start");
      x.addDoneCallback(() => order.push("added-during-dispatch"));
      order.push("adc3-end");
    });
    f.addDoneCallback(() => order.push("adc4"));
    f.setResult(1);
    assert.deepEqual(order, [
      "adc1", "then1", "then1.child", "adc2", "then2",
      "adc3-start", "added-during-dispatch", "adc3-end", "adc4",
    ]);
  });

  it("runs 1000 callbacks in registration order", () => {
    const fut = new Future<number>();
    const seen: number[] = [];
    for (let i = 0; i < 1000; i++) fut.addDoneCallback(() => seen.push(i));
    fut.setResult(0);
    assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => i));
  });

  it("a callback that completes another future runs that future's callbacks inside itself", () => {
    const order: string[] = [];
    const a = new Future<number>();
    const b = new Future<number>();
    b.addDoneCallback(() => order.push("b-cb"));
    a.addDoneCallback(() => {
      order.push("a-cb-start");
      b.setResult(40);
      order.push("a-cb-end");
    });
    a.addDoneCallback(() => order.push("a-cb2"));
    a.setResult(1);
    assert.deepEqual(order, ["a-cb-start", "b-cb", "a-cb-end", "a-cb2"]);
  });

  it("runs callbacks synchronously, before setResult returns, with done() already true", () => {
    const fut = new Future<number>();
    const seen: [boolean, number][] = [];
    fut.addDoneCallback((f) => seen.push([f.done(), f.value()]));
    fut.setResult(7);
    assert.deepEqual(seen, [[true, 7]]);
  });

  it("registering on a completed future runs the callback inline, before the call returns", () => {
    const fut = new Future<number>();
    fut.setResult(3);
    const order: string[] = [];
    fut.addDoneCallback(() => order.push("adc"));
    const child = fut.continueWith((f) => f.value() * 2);
    order.push("after");
    assert.deepEqual(order, ["adc", "after"]);
    assert.equal(child.done(), true);
    assert.equal(child.value(), 6);
  });

  it("passes the future itself to the callbacks", () => {
    const fut = new Future<string>();
    const got: unknown[] = [];
    fut.addDoneCallback((f) => got.push(f));
    const child = fut.continueWith((f) => f);
    fut.setResult("x");
    assert.equal(got[0], fut);
    assert.equal(child.value(), fut);
  });
});

describe("continueWith", () => {
  it("gives the child the callback's return value, unwrapped neither from futures nor promises", () => {
    const fut = new Future<number>();
    const inner = new Future<number>();
    const promise = Promise.resolve(1);
    const c1 = fut.continueWith(() => inner);
    const c2 = fut.continueWith(() => promise);
    fut.setResult(0);
    assert.equal(c1.value(), inner);
    assert.equal(inner.done(), false);
    assert.equal(c2.value(), promise);
  });

  it("gives the child the very value the callback throws, not a wrapper", () => {
    const fut = new Future<number>();
    const boom = new TypeError("Expected error");
    const child = fut.continueWith(() => {
      throw boom;
    });
    fut.setResult(1);
    assert.throws(() => child.wait(), (e) => e === boom);
    assert.equal(fut.value(), 1); // the parent is unaffected
  });

  it("runs even when the parent failed; the error passes on only if the callback reads it", () => {
    const fut = new Future<number>();
    const error = new RangeError("root");
    const ignored = fut.continueWith(() => "ignored error");
    const read = fut.continueWith((f) => f.value() + 1);
    const recovered = read.continueWith(() => "recovered");
    fut.setException(error);
    assert.equal(ignored.value(), "ignored error");
    assert.throws(() => read.value(), (e) => e === error);
    assert.equal(recovered.value(), "recovered");
  });

  it("on a completed future, runs inline and never throws for the callback's error", () => {
    const fut = new Future<number>();
    fut.setResult(5);
    const child = fut.continueWith(() => {
      throw new Error("inline");
    });
    assert.equal(child.done(), true);
    assert.throws(() => child.value(), /inline/);
  });
});

describe("stack safety", () => {
  it("a 1,000,000-link continueWith chain on a pending root completes", () => {
    const root = new Future<number>();
    let last = root;
    for (let i = 0; i < 1_000_000; i++) last = last.continueWith((f) => f.value() + 1);
    root.setResult(0);
    assert.equal(last.value(), 1_000_000);
  });

  it("a 1,000,000-hop addDoneCallback → setResult chain completes", () => {
    const futs = Array.from({ length: 1_000_001 }, () => new Future<number>());
    for (let i = 0; i < 1_000_000; i++) {
      const next = futs[i + 1] as Future<number>;
      (futs[i] as Future<number>).addDoneCallback((f) => { next.setResult(f.value() + 1); });
    }
    (futs[0] as Future<number>).setResult(0);
    assert.equal(futs[1_000_000]?.value(), 1_000_000);
  });

  it("a 100,000-link chain of errors ends with the original error, message unchanged (linear work)", () => {
    const root = new Future<number>();
    let last = root;
    for (let i = 0; i < 100_000; i++) last = last.continueWith((f) => f.value() + 1);
    const error = new Error("root");
    root.setException(error);
    assert.throws(() => last.value(), (e) => e === error);
    assert.equal(error.message, "root");
  });

  it("a callback chain that registers on completed futures (inline registrations) does not overflow", () => {
    let count = 0;
    const step = (f: Future<number>): void => {
      if (f.value() === 200_000) return;
      count++;
      const next = new Future<number>();
      next.setResult(f.value() + 1);
      next.addDoneCallback(step); // inline: would recurse without a bound
    };
    const root = new Future<number>();
    root.setResult(0);
    root.addDoneCallback(step);
    assert.equal(count, 200_000);
  });

  it(`keeps torch's exact nesting for ${MAX_NESTED_DRAINS} levels, then stays depth-first`, () => {
    const depth = MAX_NESTED_DRAINS * 4;
    const futs = Array.from({ length: depth + 1 }, () => new Future<number>());
    const log: string[] = [];
    for (let i = 0; i < depth; i++) {
      const next = futs[i + 1] as Future<number>;
      const fut = futs[i] as Future<number>;
      fut.addDoneCallback(() => {
        log.push(`start ${i}`);
        next.setResult(i + 1);
        log.push(`end ${i}`);
      });
      fut.addDoneCallback(() => log.push(`second ${i}`));
    }
    (futs[0] as Future<number>).setResult(0);
    assert.ok(futs.every((f) => f.done()));
    // Inline nesting for the first levels: each start precedes every end.
    const firstEnd = log.findIndex((e) => e.startsWith("end"));
    for (let i = 0; i < MAX_NESTED_DRAINS; i++) assert.ok(log.indexOf(`start ${i}`) < firstEnd, `start ${i}`);
    // Depth-first at every level: a future's callbacks all run before its parent's next callback.
    for (let i = 0; i < depth - 1; i++) {
      assert.ok(log.indexOf(`second ${i + 1}`) < log.indexOf(`second ${i}`), `level ${i}`);
      assert.ok(log.indexOf(`start ${i + 1}`) < log.indexOf(`second ${i}`), `level ${i}`);
    }
    assert.equal(log.length, depth * 3);
  });
});

describe("callback errors do not disturb the dispatch", () => {
  it("a throwing addDoneCallback neither stops the others nor escapes setResult", () => {
    const reported: unknown[] = [];
    const previous = setCallbackErrorHandler((e) => reported.push(e));
    try {
      const fut = new Future<number>();
      const order: string[] = [];
      const boom = new Error("Expected error");
      fut.addDoneCallback(() => order.push("one"));
      fut.addDoneCallback(() => {
        throw boom;
      });
      const child = fut.continueWith(() => order.push("child"));
      fut.addDoneCallback(() => order.push("three"));
      fut.setResult(1);
      assert.deepEqual(order, ["one", "child", "three"]);
      assert.deepEqual(reported, [boom]);
      assert.equal(child.value(), 2);
      assert.equal(fut.value(), 1);
    } finally {
      setCallbackErrorHandler(previous);
    }
  });
});

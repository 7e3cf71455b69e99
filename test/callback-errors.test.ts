import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Future, setCallbackErrorHandler, type CallbackErrorHandler } from "../src/index.js";

const library = new URL("../src/index.js", import.meta.url).href;

/** Runs an ES module snippet in a fresh Node.js process (the default reporting ends processes). */
function runNode(source: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", source], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function withHandler(handler: CallbackErrorHandler, body: () => void): void {
  const previous = setCallbackErrorHandler(handler);
  try {
    body();
  } finally {
    setCallbackErrorHandler(previous);
  }
}

describe("errors thrown by addDoneCallback callbacks", () => {
  it("by default are raised as uncaught errors, after setResult has returned and the other callbacks ran", () => {
    const { status, stdout, stderr } = runNode(`
      import { Future } from ${JSON.stringify(library)};
      process.on("uncaughtException", (e) => { console.log("uncaught:", e.message); });
      const fut = new Future();
      fut.addDoneCallback(() => { throw new Error("from callback"); });
      fut.addDoneCallback(() => console.log("second callback ran"));
      fut.setResult(1);
      console.log("setResult returned");
    `);
    assert.equal(stderr, "");
    assert.equal(status, 0);
    assert.deepEqual(stdout.trim().split("\n"), ["second callback ran", "setResult returned", "uncaught: from callback"]);
  });

  it("by default, with nothing listening, end the process like a throwing event listener", () => {
    const { status, stderr } = runNode(`
      import { Future } from ${JSON.stringify(library)};
      const fut = new Future();
      fut.addDoneCallback(() => { throw new RangeError("nobody listens"); });
      fut.setResult(1);
    `);
    assert.equal(status, 1);
    assert.match(stderr, /RangeError: nobody listens/);
  });

  it("also when the callback runs inline inside addDoneCallback, which itself does not throw", () => {
    const { status, stdout } = runNode(`
      import { Future } from ${JSON.stringify(library)};
      process.on("uncaughtException", (e) => { console.log("uncaught:", e.message); });
      const fut = new Future();
      fut.setResult(1);
      fut.addDoneCallback(() => { throw new Error("inline"); });
      console.log("addDoneCallback returned");
    `);
    assert.equal(status, 0);
    assert.deepEqual(stdout.trim().split("\n"), ["addDoneCallback returned", "uncaught: inline"]);
  });

  it("go to an installed handler, synchronously, with the error and the future", () => {
    const seen: [unknown, unknown][] = [];
    const fut = new Future<number>();
    const error = { not: "an Error" };
    fut.addDoneCallback(() => {
      throw error;
    });
    withHandler((e, f) => seen.push([e, f]), () => {
      fut.setResult(1);
      assert.deepEqual(seen, [[error, fut]]);
      fut.addDoneCallback(() => {
        throw error;
      }); // inline: reported, not thrown
    });
    assert.equal(seen.length, 2);
  });

  it("a throwing handler has its own error raised as uncaught, and the dispatch goes on", () => {
    const { status, stdout } = runNode(`
      import { Future, setCallbackErrorHandler } from ${JSON.stringify(library)};
      process.on("uncaughtException", (e) => { console.log("uncaught:", e.message); });
      setCallbackErrorHandler(() => { throw new Error("handler failed"); });
      const fut = new Future();
      fut.addDoneCallback(() => { throw new Error("callback failed"); });
      fut.addDoneCallback(() => console.log("next callback ran"));
      fut.setResult(1);
    `);
    assert.equal(status, 0);
    assert.deepEqual(stdout.trim().split("\n"), ["next callback ran", "uncaught: handler failed"]);
  });

  it("setCallbackErrorHandler returns the previous handler and rejects non-functions", () => {
    const a: CallbackErrorHandler = () => undefined;
    const original = setCallbackErrorHandler(a);
    try {
      assert.equal(setCallbackErrorHandler(undefined), a);
      assert.throws(() => setCallbackErrorHandler(5 as never), TypeError);
      assert.equal(setCallbackErrorHandler(undefined), undefined); // unchanged by the refused call
    } finally {
      setCallbackErrorHandler(original);
    }
  });

  it("continueWith errors never reach the handler: they complete the child", () => {
    const seen: unknown[] = [];
    withHandler((e) => seen.push(e), () => {
      const fut = new Future<number>();
      const child = fut.continueWith(() => {
        throw new Error("to the child");
      });
      fut.setResult(1);
      assert.throws(() => child.value(), /to the child/);
    });
    assert.deepEqual(seen, []);
  });
});

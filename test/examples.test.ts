import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runChecksPage } from "./browser/checks.js";

// The examples print what torch's documentation says they print (wait-any, which torch's
// documentation lacks, what its header says).
const expected: Record<string, string[]> = {
  "set-result": ["Float32Array(2) [ 3, 3 ]"],
  "then-chain": ["RPC return value is 5.", "Chained cb done. undefined"],
  "add-done-callback": ["This will run after the future has finished."],
  "collect-all": ["fut0 result = 0", "fut1 result = 1"],
  "wait-all": ["[ 0, 1 ]", "waitAll threw: ValueError: foo"],
  "worker-wait": ["Float32Array(2) [ 3, 3 ]"],
  "wait-any": [
    "first reply: call 1 = pong 1",
    "reply from call 1: pong 1",
    "reply from call 2: pong 2",
    "reply from call 0: pong 0",
    "call 3 gave up: FutureTimeoutError",
    "FIRST_EXCEPTION: 1 done, 1 pending",
  ],
  "rpc-word-count": ["the: 7", "a: 5", "future: 4", "futures: 3", "mappers still hold 0 counts"],
  "rpc-parameter-server": ["trainers made 600 updates", "learned y = 3.00·x + 2.00"],
};

function run(name: string, args: string[] = []): string[] {
  const file = fileURLToPath(new URL(`../examples/${name}.js`, import.meta.url));
  const result = spawnSync(process.execPath, [file, ...args], { encoding: "utf8", timeout: 60_000 });
  assert.equal(result.stderr, "");
  assert.equal(result.status, 0);
  return result.stdout.trim().split("\n");
}

describe("examples", () => {
  for (const [name, lines] of Object.entries(expected)) {
    it(`${name} prints what torch's documentation shows`, () => {
      assert.deepEqual(run(name), lines);
    });
  }

  for (const name of ["rpc-word-count", "rpc-parameter-server"]) {
    it(`${name} --nats prints the same, its workers processes over NATS`, () => {
      assert.deepEqual(run(name, ["--nats"]), expected[name]);
    });
  }

  it("the demo runs every example in turn", () => {
    const output = run("demo");
    const all = Object.values(expected).flat();
    // The RPC examples run twice: over threads, then over NATS.
    const twice = (name: string): string[] => [...(expected[name] ?? []), ...(expected[name] ?? [])];
    const rpc = new Set(["rpc-word-count", "rpc-parameter-server"]);
    const demo = [...Object.entries(expected).filter(([n]) => !rpc.has(n)).flatMap(([, l]) => l), ...twice("rpc-word-count"), ...twice("rpc-parameter-server")];
    assert.deepEqual(output.filter((line) => all.includes(line)), demo);
  });
});

describe("examples in the browser", () => {
  it("browser/page prints what torch's documentation shows (headless Chromium)", { timeout: 60_000 }, async (t) => {
    await runChecksPage(t, "example-worker.html", 30_000);
  });
});

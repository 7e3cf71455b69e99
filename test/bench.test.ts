import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The benchmark's timed workloads, run once each with BENCH_QUICK=1: nothing here is timed. The
// harness checks every call's checksum, so a side that skips work (or a Promise side whose
// reactions have not all run) makes the run fail. memory, no-leak and threads take tens of
// seconds and are left to `npm run bench` (threads' layer has its own tests).
const workloads = ["create-complete-read", "fan-out", "chain/1000", "collect"];
const rows = ["create-complete-read", "fan-out/addDoneCallback", "fan-out/continueWith", "chain/1000", "collect"];

const run = fileURLToPath(new URL("../bench/run.js", import.meta.url));

interface Report {
  results: { workload: string; torchFutures: number; native: number; ratio: number }[];
}

describe("benchmark", () => {
  it("runs every timed workload on both sides with the checksums checked", () => {
    const result = spawnSync(process.execPath, ["--expose-gc", run, ...workloads], {
      encoding: "utf8",
      env: { ...process.env, BENCH_QUICK: "1" },
      timeout: 120_000,
    });
    assert.equal(result.stderr, "");
    assert.equal(result.status, 0);
    for (const row of rows) assert.match(result.stdout, new RegExp(`^  ${row}: `, "m"));
    const file = fileURLToPath(new URL("../../bench/results/quick.json", import.meta.url));
    const report = JSON.parse(readFileSync(file, "utf8")) as Report;
    assert.deepEqual(
      report.results.map((r) => r.workload),
      rows,
    );
    for (const r of report.results) {
      for (const x of [r.torchFutures, r.native, r.ratio]) assert.ok(Number.isFinite(x) && x > 0, `${r.workload}: ${x}`);
    }
  });

  it("rejects an unknown workload with the list of known ones", () => {
    const result = spawnSync(process.execPath, ["--expose-gc", run, "nope"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /Unknown workload "nope"\. Choose from: create-complete-read, fan-out, chain/);
  });
});

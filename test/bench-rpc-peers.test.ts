import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { torchInstalled } from "../bench/rpc-peers.js";

// The rpc-peers workload run once with BENCH_QUICK=1 (a few calls per peer, nothing timed): every
// peer's calls come back with the right answers (the workload checks their sum) and every row
// holds a figure. torch's rows exist only where python3-torch is installed.
const run = fileURLToPath(new URL("../bench/run.js", import.meta.url));

interface Report {
  results: { workload: string; torchFutures: number | null; native: number; details: { peerOnly?: boolean } }[];
}

describe("benchmark: rpc-peers", () => {
  it("measures every peer, with its answers checked, and reports only the peers' figures", () => {
    const dir = mkdtempSync(join(tmpdir(), "rpc-peers-"));
    try {
      const out = join(dir, "report.json");
      const result = spawnSync(process.execPath, ["--expose-gc", run, "rpc-peers"], {
        encoding: "utf8",
        env: { ...process.env, BENCH_QUICK: "1", BENCH_OUT: out },
        timeout: 300_000,
      });
      assert.equal(result.stderr, "");
      assert.equal(result.status, 0);
      const torch = torchInstalled();
      const peers = ["piscina", "nats", "nats-child", ...(torch ? ["torch"] : [])];
      const rows = peers.flatMap((p) => [`rpc-peers/${p}/round-trip`, `rpc-peers/${p}/throughput`]);
      if (!torch) assert.match(result.stdout, /^ {2}torch rpc: skipped \(python3-torch not installed\)$/m);
      const report = JSON.parse(readFileSync(out, "utf8")) as Report;
      assert.deepEqual(
        report.results.map((r) => r.workload),
        rows,
      );
      for (const r of report.results) {
        assert.ok(Number.isFinite(r.native) && r.native > 0, `${r.workload}: ${r.native}`);
        assert.equal(r.torchFutures, null, `${r.workload} has no figure of ours`);
        assert.equal(r.details.peerOnly, true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Several threads complete the same future at once: exactly one wins, the
// others get FutureAlreadyCompletedError, and every thread ends up holding
// the winner's value.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { Future } from "../src/index.js";
import { share } from "../src/threads/index.js";
import type { Race, RaceReport } from "./threads/racer.js";
import { arrive, race } from "./threads/worker-kit.js";

const ROUNDS = 200;
const RACERS = 4;

describe("threads: racing completions", () => {
  it(`${RACERS} workers and the main thread race ${ROUNDS} times: one winner each time`, { timeout: 120_000 }, async () => {
    const racers = Array.from({ length: RACERS }, () => new Worker(new URL("./threads/racer.js", import.meta.url)));
    const reports = new Map<number, RaceReport[]>();
    const arrived: (() => void)[] = [];
    for (const worker of racers) {
      worker.on("message", (report: RaceReport) => {
        const list = reports.get(report.round) ?? [];
        list.push(report);
        reports.set(report.round, list);
        for (const wake of arrived.splice(0)) wake();
      });
    }
    const winners = new Map<string, number>();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // The main thread joins every other round.
        const mainRaces = round % 2 === 0;
        const fut = new Future<string>();
        const barrier = new Int32Array(new SharedArrayBuffer(8));
        barrier[1] = RACERS + (mainRaces ? 1 : 0);
        racers.forEach((worker, i) => {
          const handle = share(fut);
          worker.postMessage({ round, racer: `worker ${i}`, handle, barrier: barrier.buffer } satisfies Race, handle.transferList);
        });
        let mainOutcome: string | undefined;
        if (mainRaces) {
          arrive(barrier);
          mainOutcome = race(() => {
            fut.setResult("main");
          });
        }
        const final = await fut;
        const deadline = Date.now() + 10_000;
        while ((reports.get(round)?.length ?? 0) < RACERS) {
          assert.ok(Date.now() < deadline, `round ${round}: the racers did not all report`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 100);
            arrived.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        const outcomes = (reports.get(round) ?? []).map((r) => r.outcome);
        if (mainOutcome !== undefined) outcomes.push(mainOutcome);
        const won = outcomes.filter((o) => o === "won").length;
        assert.equal(won, 1, `round ${round}: ${won} winners (${outcomes.join(", ")})`);
        assert.ok(outcomes.every((o) => o === "won" || o === "FutureAlreadyCompletedError"), outcomes.join(", "));
        const winner = mainOutcome === "won" ? "main" : (reports.get(round) ?? []).find((r) => r.outcome === "won")?.racer;
        assert.equal(final, winner);
        for (const report of reports.get(round) ?? []) assert.equal(report.final, winner, `round ${round}: ${report.racer}`);
        winners.set(final, (winners.get(final) ?? 0) + 1);
        reports.delete(round);
      }
    } finally {
      await Promise.all(racers.map((worker) => worker.terminate()));
    }
    // Not a requirement, just a sign that the races were real.
    assert.ok(winners.size >= 2, `always the same winner: ${JSON.stringify([...winners])}`);
  });
});

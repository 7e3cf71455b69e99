// Runs examples/browser (torch's first example with a Web Worker) and checks
// that it prints what torch's documentation shows.
/* global performance */
import { assert, assertJsonEqual, runChecks } from "./runner.js";

await runChecks([
  ["examples/browser prints Float32Array(2) [ 3, 3 ] after the worker's half second", async () => {
    const { main } = await import("/build/examples/browser/page.js");
    const lines = [];
    const start = performance.now();
    await main((line) => lines.push(line));
    assert(performance.now() - start >= 450, "it waited for the worker");
    assertJsonEqual(lines, ["Float32Array(2) [ 3, 3 ]"], "what it printed");
  }],
]);

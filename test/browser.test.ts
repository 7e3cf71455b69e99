// The core API in a real browser: headless Chromium runs
// test/browser/pages/core.html against the compiled library, and each check
// the page reports becomes a subtest here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runPage } from "./browser/harness.js";

interface Check {
  name: string;
  ok: boolean;
  message: string;
  ms: number;
}

interface Report {
  userAgent: string;
  checks: Check[];
}

function isReport(value: unknown): value is Report {
  if (typeof value !== "object" || value === null) return false;
  const { userAgent, checks } = value as Partial<Record<keyof Report, unknown>>;
  return (
    typeof userAgent === "string" &&
    Array.isArray(checks) &&
    checks.every(
      (c: unknown) =>
        typeof c === "object" &&
        c !== null &&
        typeof (c as Check).name === "string" &&
        typeof (c as Check).ok === "boolean" &&
        typeof (c as Check).message === "string" &&
        typeof (c as Check).ms === "number",
    )
  );
}

// The page reports within 30 s; stopping Chromium takes at most a few more.
test("core API in headless Chromium (test/browser/pages/core.html)", { timeout: 60_000 }, async (t) => {
  const run = await runPage("core.html", { timeoutMs: 30_000 });
  assert.ok(isReport(run.report), `the page reported something unexpected: ${JSON.stringify(run.report)}`);
  const { checks, userAgent } = run.report;
  t.diagnostic(`${userAgent}; reported in ${run.elapsedMs} ms`);
  for (const check of checks) {
    await t.test(check.name, (st) => {
      if (check.ms >= 50) st.diagnostic(`${Math.round(check.ms)} ms in the page`);
      const log = run.console.length > 0 ? `\nPage console:\n${run.console.join("\n")}` : "";
      assert.ok(check.ok, `${check.message}${log}`);
    });
  }
  assert.ok(checks.length > 0, "the page reported no checks");
});

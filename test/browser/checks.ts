/**
 * Runs a page of checks (see `pages/runner.js`) in headless Chromium and
 * turns each reported check into a subtest.
 */
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { runPage } from "./harness.js";

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

/** Opens `page`, waits at most `timeoutMs` for its report, and asserts every check as a subtest of `t`. */
export async function runChecksPage(t: TestContext, page: string, timeoutMs: number): Promise<void> {
  const run = await runPage(page, { timeoutMs });
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
}

// The core API in a real browser: headless Chromium runs
// test/browser/pages/core.html against the compiled library, and each check
// the page reports becomes a subtest here.
import { test } from "node:test";
import { runChecksPage } from "./browser/checks.js";

// The page reports within 30 s; stopping Chromium takes at most a few more.
test("core API in headless Chromium (test/browser/pages/core.html)", { timeout: 60_000 }, async (t) => {
  await runChecksPage(t, "core.html", 30_000);
});

// Futures across threads in a real browser: headless Chromium runs
// test/browser/pages/threads.html (a cross-origin isolated page and its Web
// Workers) against the compiled library; each check the page reports
// becomes a subtest here.
import { test } from "node:test";
import { runChecksPage } from "./browser/checks.js";

test("futures across a page and its Web Workers in headless Chromium (test/browser/pages/threads.html)", { timeout: 120_000 }, async (t) => {
  await runChecksPage(t, "threads.html", 90_000);
});

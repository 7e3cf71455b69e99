// FutureLink in a real browser: headless Chromium runs
// test/browser/pages/link.html (a cross-origin isolated page and its Web
// Workers) against the compiled library; each check the page reports
// becomes a subtest here.
import { test } from "node:test";
import { runChecksPage } from "./browser/checks.js";

test("FutureLink between a page and its Web Workers in headless Chromium (test/browser/pages/link.html)", { timeout: 180_000 }, async (t) => {
  await runChecksPage(t, "link.html", 150_000);
});

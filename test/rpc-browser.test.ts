// torch-futures/rpc in a real browser: headless Chromium runs
// test/browser/pages/rpc.html (a cross-origin isolated page and its Web
// Workers in one RPC group) against the compiled library; each check the
// page reports becomes a subtest here.
import { test } from "node:test";
import { runChecksPage } from "./browser/checks.js";

test("rpc between a page and its Web Workers in headless Chromium (test/browser/pages/rpc.html)", { timeout: 180_000 }, async (t) => {
  await runChecksPage(t, "rpc.html", 150_000);
});

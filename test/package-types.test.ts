// The published types: the package is built as npm would ship it (dist/, with
// internals stripped), and two consumers — one on Node.js, one in a browser —
// are type-checked against it with skipLibCheck off, so that a declaration
// that refers to something stripped fails here rather than in users' builds.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const FIXTURES = join(ROOT, "test", "fixtures", "consumer");

function tsc(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [TSC, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("published types", { timeout: 180_000 }, () => {
  let dir = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "torch-futures-types-"));
    const pkg = join(dir, "pkg");
    mkdirSync(pkg);
    copyFileSync(join(ROOT, "package.json"), join(pkg, "package.json"));
    const built = tsc(["-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(pkg, "dist"), "--declarationMap", "false", "--sourceMap", "false"]);
    assert.equal(built.status, 0, built.output);
    const modules = join(dir, "consumer", "node_modules");
    mkdirSync(modules, { recursive: true });
    symlinkSync(pkg, join(modules, "torch-futures"), "dir");
    symlinkSync(join(ROOT, "node_modules", "@types"), join(modules, "@types"), "dir");
    for (const name of ["node.ts", "browser.ts"]) copyFileSync(join(FIXTURES, name), join(dir, "consumer", name));
  });

  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  function check(file: string, options: Record<string, unknown>): void {
    const config = join(dir, "consumer", `tsconfig.${file}.json`);
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: false, target: "ES2022", ...options };
    writeFileSync(config, JSON.stringify({ compilerOptions, files: [`${file}.ts`] }));
    const result = tsc(["-p", config]);
    assert.equal(result.status, 0, `tsc found errors in the published types:\n${result.output}`);
  }

  it("a Node.js consumer type-checks against dist/ (NodeNext resolution)", () => {
    check("node", { module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022"], types: ["node"] });
  });

  it("a browser consumer type-checks against dist/ (bundler resolution, DOM types, no Node.js types)", () => {
    check("browser", { module: "ESNext", moduleResolution: "bundler", lib: ["ES2022", "ES2024.SharedMemory", "DOM"], types: [] });
  });
});

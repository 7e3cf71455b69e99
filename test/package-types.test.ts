// The published types: the package is built as npm would ship it (dist/, with
// internals stripped), and two consumers — one on Node.js, one in a browser —
// are type-checked against it with skipLibCheck off, so that a declaration
// that refers to something stripped fails here rather than in users' builds.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
    // torch-futures/rpc as a bundler resolves it for a browser: only the browser entry takes the join deadline.
    writeFileSync(
      join(dir, "consumer", "rpc-browser.ts"),
      [
        'import { createThreadGroup, initRpc, threadsTransport, RpcCannotBlockError, type RpcGroupHandle } from "torch-futures/rpc";',
        'const group = createThreadGroup(["page", "worker1"]);',
        "const h: RpcGroupHandle = group[\"worker1\"] as RpcGroupHandle;",
        'const port: MessagePort | undefined = h.ports["page"];',
        'new Worker("worker.js", { type: "module" }).postMessage(h, [...h.transferList]);',
        'const agent = initRpc({ transport: await threadsTransport(group["page"] as RpcGroupHandle, { joinTimeoutMs: 5_000 }) });',
        'try { agent.rpcSync("worker1", "f", []); } catch (e) { if (!(e instanceof RpcCannotBlockError)) throw e; }',
        "export { port };",
        "",
      ].join("\n"),
    );
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

  // skipLibCheck on: dist/rpc/rref.d.ts refers to RRefCallMode, which is marked internal and stripped (any
  // consumer of torch-futures/rpc hits it). The consumer's own calls are still checked against the entry resolved.
  it("torch-futures/rpc resolves to its browser entry under the browser condition, without Node.js types", () => {
    check("rpc-browser", { module: "ESNext", moduleResolution: "bundler", customConditions: ["browser"], lib: ["ES2022", "ES2024.SharedMemory", "DOM"], types: [], skipLibCheck: true });
  });

  // Bundlers drop a module marked side-effect free when nothing it exports is used: the threads
  // entries install the core's cross-thread hooks on import, and the sentinels are worker scripts.
  it("sideEffects names every shipped module that does something on import, and nothing that is missing", () => {
    const pkg = join(dir, "pkg");
    const listed = (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { sideEffects: string[] }).sideEffects;
    assert.ok(Array.isArray(listed), "sideEffects must list the modules with side effects");
    for (const file of listed) assert.ok(existsSync(join(pkg, file)), `sideEffects lists ${file}, which the build does not produce`);
    // The threads entries, which install the core's cross-thread hooks when imported.
    for (const entry of ["./dist/threads/index.js", "./dist/threads/browser.js"]) {
      assert.ok(listed.includes(entry), `${entry} installs hooks on import but is not in sideEffects`);
    }
    const code = (text: string): string => text.split("\n").filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)).join("\n");
    // Worker scripts the library starts by URL run only for their effects.
    const shipped = readdirSync(join(pkg, "dist"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
    const scripts = shipped.flatMap((f) =>
      [...code(readFileSync(join(pkg, "dist", f), "utf8")).matchAll(/new URL\("(\.\.?\/[^"]+\.js)", import\.meta\.url\)/g)].map(
        (m) => `./${join("dist", dirname(f), m[1] ?? "")}`,
      ),
    );
    assert.ok(scripts.length >= 2, "expected the Node.js and browser sentinel scripts");
    for (const file of scripts) assert.ok(listed.includes(file), `${file} is a worker script but is not in sideEffects`);
  });
});

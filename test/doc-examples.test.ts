// Every `@example` in the library's TSDoc is type-checked as a module of its own, the way
// a user would paste it: against the package's public entry points, strict, with nothing
// but what the example imports or declares. An example split by `// name.ts` lines (a main
// thread and its worker, say) is one module per part. An example may leave out the import of
// the package's own public names (the test adds it, from the entry point its file belongs to);
// anything else it uses, it imports or declares (`declare const fut: Future<number>;`).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "src");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

/** One module of one example, and where the example stands in the source. */
interface Snippet {
  readonly source: string;
  readonly line: number;
  readonly code: string;
}

/** The `@example` code blocks of one source file, split into their modules. */
function examplesOf(source: string, text: string): Snippet[] {
  const lines = text.split("\n");
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i] ?? "")) continue;
    let j = i + 1;
    while (j < lines.length && !/^\s*\*\s*```/.test(lines[j] ?? "")) j++;
    if (!/^\s*\*\s*```ts\s*$/.test(lines[j] ?? "")) continue; // a prose example, not code
    let part: string[] = [];
    let start = j + 2;
    const flush = (): void => {
      if (part.some((l) => l.trim() !== "")) snippets.push({ source, line: start, code: part.join("\n") });
      part = [];
    };
    for (j++; j < lines.length && !/^\s*\*\s*```/.test(lines[j] ?? ""); j++) {
      const line = (lines[j] ?? "").replace(/^\s*\* ?/, "");
      if (/^\/\/ [\w./-]+\.(ts|js)$/.test(line.trim())) {
        flush();
        start = j + 2;
        continue;
      }
      part.push(line);
    }
    flush();
    i = j;
  }
  return snippets;
}

/** The names an entry point exports: `export { a, type B } from ...` lists and `export function/class/const`. */
function exportsOf(entry: string): string[] {
  const text = readFileSync(join(SRC, entry), "utf8");
  const listed = [...text.matchAll(/export\s*(?:type\s*)?\{([^}]*)\}/g)].flatMap((m) =>
    (m[1] ?? "").split(",").map((n) => n.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop() ?? ""),
  );
  const declared = [...text.matchAll(/^export\s+(?:declare\s+)?(?:abstract\s+)?(?:function|class|const|let|interface|type)\s+([\w$]+)/gm)].map((m) => m[1] ?? "");
  return [...listed, ...declared].filter((n) => n !== "");
}

const ENTRIES = [
  { specifier: "torch-futures", file: "index.ts" },
  { specifier: "torch-futures/threads", file: "threads/index.ts" },
  { specifier: "torch-futures/threads/browser", file: "threads/browser.ts" },
  { specifier: "torch-futures/rpc", file: "rpc/index.ts" },
  { specifier: "torch-futures/rpc/nats", file: "rpc/nats.ts" },
] as const;

/** The entry points whose names an example in `source` may use without importing them. */
function entriesFor(source: string): (typeof ENTRIES)[number][] {
  const threads = source.includes("threads/") ? [ENTRIES[/browser/.test(source) ? 2 : 1]] : [];
  const rpc = source.includes("rpc/") ? [ENTRIES[3], ...(source.includes("rpc/nats") ? [ENTRIES[4]] : [])] : [];
  return [ENTRIES[0], ...threads, ...rpc];
}

/** `code` with an import added for each public name it uses but neither imports nor declares. */
function withImports(source: string, code: string): string {
  const own = new Set<string>();
  for (const m of code.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}/g)) {
    for (const n of (m[1] ?? "").split(",")) own.add(n.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop() ?? "");
  }
  for (const m of code.matchAll(/\b(?:const|let|var|function|class|interface|type)\s+([\w$]+)/g)) own.add(m[1] ?? "");
  const seen = new Set<string>();
  const imports = entriesFor(source).flatMap(({ specifier, file }) => {
    const names = exportsOf(file).filter((n) => !own.has(n) && !seen.has(n) && new RegExp(`(?<![\\w$.])${n.replace(/\$/g, "\\$")}(?![\\w$])`).test(code));
    for (const n of names) seen.add(n);
    return names.length > 0 ? [`import { ${names.join(", ")} } from "${specifier}";`] : [];
  });
  return imports.length > 0 ? `${imports.join(" ")} ${code}` : code;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => join(dir, f));
}

describe("TSDoc examples", { timeout: 180_000 }, () => {
  let dir = "";
  const snippets = sources(SRC).flatMap((file) => examplesOf(relative(ROOT, file), readFileSync(file, "utf8")));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "torch-futures-examples-"));
  });

  after(() => {
    if (dir !== "" && process.env["KEEP_EXAMPLES"] === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("finds the examples", () => {
    assert.ok(snippets.length >= 50, `only ${snippets.length} examples found: is the extraction broken?`);
  });

  it("every example compiles on its own against the public entry points", () => {
    const files = snippets.map((s, k) => {
      const name = `example-${k}.ts`;
      // An example without import or export would be a script sharing one global scope with the others.
      const full = withImports(s.source, s.code);
      const code = /^\s*(import|export)\b/m.test(full) ? full : `${full}\nexport {};`;
      writeFileSync(join(dir, name), `${code}\n`);
      return name;
    });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const entry = (file: string): string[] => [join(SRC, file)];
    const compilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2022", "ES2024.SharedMemory", "DOM"],
      types: ["node"],
      typeRoots: [join(ROOT, "node_modules", "@types")],
      paths: {
        "torch-futures": entry("index.ts"),
        "torch-futures/threads": entry("threads/index.ts"),
        "torch-futures/threads/browser": entry("threads/browser.ts"),
        "torch-futures/rpc": entry("rpc/index.ts"),
        "torch-futures/rpc/nats": entry("rpc/nats.ts"),
        "torch-futures/rpc/browser": entry("rpc/browser.ts"),
      },
    };
    const compile = (group: string[], g: number): string[] => {
      const config = `tsconfig.${g}.json`;
      writeFileSync(join(dir, config), JSON.stringify({ compilerOptions, files: group }));
      const result = spawnSync(process.execPath, [TSC, "-p", config, "--pretty", "false"], { cwd: dir, encoding: "utf8", timeout: 120_000 });
      return `${result.stdout}${result.stderr}`
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => {
          const m = /^example-(\d+)\.ts\((\d+),\d+\): (.*)$/.exec(l);
          const s = m ? snippets[Number(m[1])] : undefined;
          return m && s ? `${s.source}:${s.line + Number(m[2]) - 1}: ${m[3] ?? ""}` : l;
        });
    };
    // TypeScript 5.9 types the variable of a second `for await` over the same FutureLink type in one
    // program as the future's value (a cached iteration type, awaited; the first loop gets the
    // future, as at run time): each example with a `for await` is checked in a program of its own.
    const alone = files.filter((_, k) => /for await/.test(snippets[k]?.code ?? ""));
    const groups = [files.filter((f) => !alone.includes(f)), ...alone.map((f) => [f])];
    const errors = groups.flatMap((group, g) => compile(group, g));
    assert.deepEqual(errors, [], `examples that do not compile:\n${errors.join("\n")}`);
  });
});

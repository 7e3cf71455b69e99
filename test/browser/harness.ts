/**
 * Runs a test page in headless Chromium and returns what the page reports.
 *
 * A local server on 127.0.0.1 serves `build/**` (the compiled library and
 * tests) and `test/browser/pages/**` (HTML and page scripts, which tsc does
 * not copy), every response cross-origin isolated so that the page gets
 * `crossOriginIsolated === true` and `SharedArrayBuffer`. The page POSTs one
 * JSON value to `/__report`; {@link runPage} resolves with it. Chromium is
 * stopped and the server closed in every case, within bounded time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

/** Where Debian's `chromium` package puts the browser; `CHROMIUM` overrides it. */
export const CHROMIUM_PATH = process.env["CHROMIUM"] ?? "/usr/bin/chromium";

/** The repository root: this file runs from `build/test/browser/`. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** URL prefixes the server serves, each from the same path under {@link REPO_ROOT}. */
const SERVED_PREFIXES = ["/build/", "/test/browser/pages/"];

const REPORT_PATH = "/__report";
const MAX_REPORT_BYTES = 8 << 20;

const FLAGS = [
  "--headless",
  "--no-sandbox", // root in a container: the sandbox cannot start
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--mute-audio",
  // Console messages and uncaught page errors go to stderr, for diagnostics.
  "--enable-logging=stderr",
  "--v=0",
  // Chromium exits by itself if this process dies and the pipe closes.
  "--remote-debugging-pipe",
];

// Complaints of a desktop-less machine, not about the page.
const NOISE = /:(?:ERROR|WARNING):(?:dbus\/|device\/bluetooth\/|ui\/base\/idle\/|media\/gpu\/vaapi\/)/;

const HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
};

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** Thrown when the browser is not installed; the message says how to install it. */
export class ChromiumMissingError extends Error {
  constructor(path: string) {
    super(
      `Chromium was not found at ${path}, so the browser tests cannot run. ` +
        "Install it with `apt-get update && apt-get install -y chromium` " +
        "(or set CHROMIUM to the path of a Chromium binary).",
    );
    this.name = "ChromiumMissingError";
  }
}

export interface RunPageOptions {
  /** Bound on the whole run, from launch to report (default 30 s). Cleanup adds at most a few seconds. */
  timeoutMs?: number;
}

export interface PageRun {
  /** The JSON value the page POSTed to `/__report`. */
  report: unknown;
  /** The page's console messages and uncaught errors, as Chromium logged them. */
  console: string[];
  /** Milliseconds from launching Chromium to receiving the report. */
  elapsedMs: number;
}

/**
 * Opens `test/browser/pages/<page>` in a fresh headless Chromium and resolves
 * with the JSON value the page POSTs to `/__report`.
 *
 * @throws ChromiumMissingError if Chromium is not installed.
 * @throws Error if the page does not report in time, Chromium exits first, or
 * the report is not JSON; the message carries the page's console output.
 */
export async function runPage(page: string, options: RunPageOptions = {}): Promise<PageRun> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new ChromiumMissingError(CHROMIUM_PATH);
  }
  if (!existsSync(join(REPO_ROOT, "build", "src", "index.js"))) {
    throw new Error(`${join(REPO_ROOT, "build", "src", "index.js")} is missing: run \`npm run build:all\` first.`);
  }

  let onReport!: (body: string) => void;
  const reported = new Promise<string>((resolveReport) => {
    onReport = resolveReport;
  });
  const notFound: string[] = [];
  const server = createServer((req, res) => {
    handle(req, res, onReport, notFound);
  });
  const profile = mkdtempSync(join(tmpdir(), "torch-futures-chromium-"));
  let browser: Browser | undefined;
  const started = Date.now();
  try {
    const port = await listen(server);
    const url = `http://127.0.0.1:${port}/test/browser/pages/${page}`;
    browser = launch(profile, url);
    const failed = browser.exited.then((why) => Promise.reject(new Error(why)));
    let body: string;
    try {
      body = await within(timeoutMs, Promise.race([reported, failed]), `no report from ${page} within ${timeoutMs} ms`);
    } catch (error) {
      const log = browser.log();
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}.\n` +
          `Not found (404):\n${indent(notFound)}\nPage console:\n${indent(log.console)}\n` +
          `Chromium stderr (last lines):\n${indent(log.stderr.slice(-30))}`,
        { cause: error },
      );
    }
    const elapsedMs = Date.now() - started;
    let report: unknown;
    try {
      report = JSON.parse(body);
    } catch {
      throw new Error(`the report of ${page} is not JSON: ${body.slice(0, 200)}`);
    }
    return { report, console: browser.log().console, elapsedMs };
  } finally {
    if (browser !== undefined) await browser.stop();
    await close(server);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/** Serves allow-listed files with cross-origin isolation headers, and takes the report. */
function handle(req: IncomingMessage, res: ServerResponse, onReport: (body: string) => void, notFound: string[]): void {
  const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
  if (req.method === "POST" && path === REPORT_PATH) {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REPORT_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      res.writeHead(size <= MAX_REPORT_BYTES ? 204 : 413, HEADERS).end();
      onReport(size <= MAX_REPORT_BYTES ? Buffer.concat(chunks).toString("utf8") : `"report larger than ${MAX_REPORT_BYTES} bytes"`);
    });
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, HEADERS).end();
    return;
  }
  const file = servedFile(path);
  if (file === undefined) {
    if (path !== "/favicon.ico") notFound.push(path);
    res.writeHead(404, { ...HEADERS, "Content-Type": "text/plain" }).end(`not served: ${path}\n`);
    return;
  }
  const content = readFileSync(file);
  res.writeHead(200, {
    ...HEADERS,
    "Content-Type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
    "Content-Length": content.length,
  });
  res.end(req.method === "HEAD" ? undefined : content);
}

/** The file for a URL path, if it lies under a served prefix and exists. */
function servedFile(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  for (const prefix of SERVED_PREFIXES) {
    const base = resolve(REPO_ROOT, `.${prefix}`);
    const file = resolve(REPO_ROOT, `.${decoded}`);
    if (!file.startsWith(base + sep)) continue;
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

interface Browser {
  /** Settles with a description once Chromium has exited; never rejects. */
  exited: Promise<string>;
  log(): { console: string[]; stderr: string[] };
  /** Closes Chromium politely, then kills its process group; bounded. */
  stop(): Promise<void>;
}

function launch(profile: string, url: string): Browser {
  const child: ChildProcess = spawn(CHROMIUM_PATH, [...FLAGS, `--user-data-dir=${join(profile, "profile")}`, url], {
    // Own process group, so that stop() reaches the renderers too.
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    // Crash reports and caches otherwise go under $HOME.
    env: { ...process.env, XDG_CONFIG_HOME: join(profile, "config"), XDG_CACHE_HOME: join(profile, "cache") },
  });
  const consoleLines: string[] = [];
  const stderrLines: string[] = [];
  const collect = (stream: Readable | null): void => {
    let rest = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (text: string) => {
      const lines = (rest + text).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes(":CONSOLE")) consoleLines.push(line.replace(/^\[[^\]]*\] /, ""));
        else if (line.trim() !== "" && !NOISE.test(line)) stderrLines.push(line);
        if (stderrLines.length > 200) stderrLines.splice(0, 100);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const pipeOut = child.stdio[4] as Readable | null;
  pipeOut?.resume();
  const pipeIn = child.stdio[3] as Writable | null;
  pipeIn?.on("error", () => undefined);

  let alive = true;
  const exited = new Promise<string>((resolveExit) => {
    child.on("error", (error) => {
      alive = false;
      resolveExit(`Chromium could not start: ${error.message}`);
    });
    child.on("exit", (code, signal) => {
      alive = false;
      resolveExit(`Chromium exited before the page reported (code ${String(code)}, signal ${String(signal)})`);
    });
  });
  const killGroup = (): void => {
    if (!alive || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  // A last resort if the test process exits with Chromium still running.
  process.once("exit", killGroup);

  return {
    exited,
    log: () => ({ console: [...consoleLines], stderr: [...stderrLines] }),
    async stop() {
      try {
        if (alive) {
          // Browser.close over the DevTools pipe: a clean shutdown that reaps its children.
          pipeIn?.write(`${JSON.stringify({ id: 1, method: "Browser.close" })}\0`);
          if (!(await settlesWithin(3000, exited)) && child.pid !== undefined) {
            try {
              process.kill(child.pid, "SIGTERM");
            } catch {
              // Exited meanwhile.
            }
            await settlesWithin(2000, exited);
          }
        }
        // Whatever is left of the group, the browser included if it ignored us.
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // No process left in the group.
          }
        }
        await settlesWithin(2000, exited);
      } finally {
        process.removeListener("exit", killGroup);
        pipeIn?.destroy();
        pipeOut?.destroy();
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(0, "127.0.0.1", () => {
      resolveListen((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolveClose) => {
    server.close(() => {
      resolveClose();
    });
    server.closeAllConnections();
  });
}

/** `promise`, or a rejection with `message` after `ms`; the timer never outlives it. */
function within<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rejectTimeout) => {
    timer = setTimeout(() => {
      rejectTimeout(new Error(message));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

/** Whether `promise` settles within `ms`. */
function settlesWithin(ms: number, promise: Promise<unknown>): Promise<boolean> {
  return within(ms, promise, "").then(
    () => true,
    () => false,
  );
}

function indent(lines: string[]): string {
  return lines.length === 0 ? "  (none)" : lines.map((line) => `  ${line}`).join("\n");
}

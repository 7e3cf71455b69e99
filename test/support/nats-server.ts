/**
 * A throwaway NATS server for tests and the benchmark: the system's `nats-server` on
 * 127.0.0.1 (or another local address), on a free port, stopped by the caller.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

/** Where Debian's package installs the server. */
const DEBIAN_PATH = "/usr/sbin/nats-server";
/** Attempts, each on a newly chosen port: another process can take a free port before the server binds it. */
const ATTEMPTS = 5;
/** How long one attempt waits for "Server is ready". */
const READY_TIMEOUT_MS = 10_000;
/** How long stop() lets the server shut down after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 2_000;
/** stderr kept for an error message: the end of it says why a start failed. */
const KEPT_STDERR = 4_096;

/**
 * A running `nats-server`, as {@link startNatsServer} returns it.
 *
 * @example
 * ```ts
 * import type { NatsServer } from "./support/nats-server.js";
 * declare const server: NatsServer;
 * server.kill("SIGSTOP"); // a server that hangs, for a timeout test
 * await server.stop();
 * ```
 */
export interface NatsServer {
  /** `nats://<host>:<port>` (host 127.0.0.1 unless told), for the client's `servers` option. */
  readonly url: string;
  readonly port: number;
  /** Stops the server: SIGTERM, then SIGKILL after 2 s; resolves once it has exited. Calling it again resolves too. */
  stop(): Promise<void>;
  /** Sends `signal` (SIGKILL unless told) and returns at once: a server that dies under its clients. */
  kill(signal?: NodeJS.Signals): void;
  /** The server's process. */
  readonly process: ChildProcess;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The server's binary: Debian's, else the first on PATH. */
function findBinary(): string {
  if (executable(DEBIAN_PATH)) return DEBIAN_PATH;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && executable(join(dir, "nats-server"))) return join(dir, "nats-server");
  }
  throw new Error("nats-server is not installed: apt-get install -y nats-server (npm test installs it)");
}

/** A port that was free a moment ago: the one the system gives a listener on port 0. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => {
        resolve(port);
      });
    });
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Starts the server on `host:port`; resolves when it says it is ready, rejects if it exits or stays silent first. */
function startOn(binary: string, host: string, port: number): Promise<ChildProcess> {
  const child = spawn(binary, ["-a", host, "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const fail = (why: string): void => {
      clearTimeout(timer);
      if (!exited(child)) child.kill("SIGKILL");
      reject(new Error(`nats-server on port ${port} ${why}${stderr === "" ? "" : `; its output ended with:\n${stderr}`}`));
    };
    const timer = setTimeout(() => {
      fail(`did not report "Server is ready" within ${READY_TIMEOUT_MS} ms`);
    }, READY_TIMEOUT_MS);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      fail(`exited before it was ready (${signal ?? `code ${code}`})`);
    };
    const onData = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString("utf8")).slice(-KEPT_STDERR);
      if (!stderr.includes("Server is ready")) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      child.off("error", onError);
      // Still read what it logs, so that a full pipe never stalls it.
      child.stderr.off("data", onData).resume();
      resolve(child);
    };
    const onError = (error: Error): void => {
      fail(`could not be started: ${error.message}`);
    };
    child.once("exit", onExit);
    child.once("error", onError);
    child.stderr.on("data", onData);
  });
}

/**
 * Starts the system's `nats-server` (`/usr/sbin/nats-server`, else the first on PATH) on
 * 127.0.0.1 (or `options.host`, an address of this host: a network-namespace test's veth end)
 * with a free port and resolves once it accepts connections. Throws if the server
 * is not installed, or if five starts on five ports all failed (the message quotes its output).
 * The server is killed if this process exits before `stop()`. With `port`, it
 * starts on that port only (a server restarted where its clients reconnect).
 *
 * @example
 * ```ts
 * import { connect } from "nats";
 * import { startNatsServer } from "./support/nats-server.js";
 *
 * const server = await startNatsServer();
 * const nc = await connect({ servers: server.url });
 * await nc.close();
 * await server.stop();
 * const onVeth = await startNatsServer({ host: "10.200.7.1" }); // listens there only
 * await onVeth.stop();
 * ```
 */
export async function startNatsServer(options: { readonly host?: string; readonly port?: number } = {}): Promise<NatsServer> {
  const host = options.host ?? "127.0.0.1";
  const binary = findBinary();
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = options.port ?? (await freePort(host));
    let child: ChildProcess;
    try {
      child = await startOn(binary, host, port);
    } catch (error) {
      lastError = error;
      continue;
    }
    return serverOf(child, host, port);
  }
  throw new Error(`nats-server did not start in ${ATTEMPTS} attempts`, { cause: lastError });
}

function serverOf(child: ChildProcess, host: string, port: number): NatsServer {
  // An orphaned server would outlive a test run that crashed.
  const killOnExit = (): void => {
    if (!exited(child)) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const gone = new Promise<void>((resolve) => {
    child.once("exit", () => {
      process.off("exit", killOnExit);
      resolve();
    });
  });
  return {
    url: `nats://${host}:${port}`,
    port,
    process: child,
    kill(signal: NodeJS.Signals = "SIGKILL"): void {
      if (!exited(child)) child.kill(signal);
    },
    async stop(): Promise<void> {
      if (exited(child)) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited(child)) child.kill("SIGKILL");
      }, STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
    },
  };
}

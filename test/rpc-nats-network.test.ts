// torch-futures/rpc over NATS when a host drops off the network: worker1 runs in its own network
// namespace, joined to the host by a veth pair; the test sets the namespace's end down mid-call (no
// process dies, no socket closes) and back up later. Needs root (CI runs as root) and iproute2's ip.
import assert from "node:assert/strict";
import { execFile, fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { connect } from "nats";
import { Future } from "../src/index.js";
import { initRpc, RpcWorkerGoneError, type RpcAgent } from "../src/rpc/index.js";
import { natsTransport } from "../src/rpc/nats.js";
import { functions, setAgent, type Functions } from "./rpc/functions.js";
import { startNatsServer, type NatsServer } from "./support/nats-server.js";
import type { NetnsCommand, NetnsReport, NetnsWorkerConfig } from "./support/netns-worker.js";

const WORKER = fileURLToPath(new URL("./support/netns-worker.js", import.meta.url));
const HEARTBEAT_MS = 100;
const DEAD_AFTER_MS = 400;
/** The documented bound (deadAfterMs + heartbeatMs) and slack for a loaded machine: a bound, not a speed figure. */
const BOUND_MS = DEAD_AFTER_MS + HEARTBEAT_MS + 1_500;
/** The short cut's length, and a death window far longer than it and TCP's first resends. */
const BLIP_MS = 300;
const BLIP_DEAD_AFTER_MS = 5_000;
/** How long the test waits for a link set up again to carry worker1's heartbeats (TCP retransmits back off). */
const RETURN_TIMEOUT_MS = 30_000;

/** How long a worker gets to shut down before it is killed. */
const CLOSE_TIMEOUT_MS = 20_000;

const execFileP = promisify(execFile);

function findIp(): string {
  const override = process.env.IP_COMMAND;
  const candidates = override !== undefined && override !== "" ? [override] : ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  throw new Error(
    "rpc-nats-network.test: iproute2's ip is not installed (looked at " +
      `${candidates.join(", ")}): apt-get install -y iproute2 (npm test installs it when run as root), or set IP_COMMAND.`,
  );
}

/** Wall-clock milliseconds, as the workers report them. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A namespace with one veth pair to the host: `hostAddress` on the host's end, `nsAddress` inside. */
interface Netns {
  readonly name: string;
  readonly hostAddress: string;
  readonly nsAddress: string;
  /** Sets the namespace's end of the pair down (`up: false`) or up again. */
  link(up: boolean): Promise<void>;
  /** Deletes the namespace and the pair; never throws. */
  remove(): void;
}

async function createNetns(ipPath: string): Promise<Netns> {
  const ip = async (...args: string[]): Promise<string> => (await execFileP(ipPath, args)).stdout;
  // Names unique to this run: a namespace left behind by a crash cannot clash with it.
  const id = `${process.pid}`;
  const name = `tfnet${id}`;
  const hostEnd = `tfh${id}`;
  const nsEnd = `tfn${id}`;
  // A 10.200.x.0/24 that no address or route of the host uses yet.
  const used = new Set([...(await ip("-4", "-o", "addr", "show")).matchAll(/\b10\.200\.(\d+)\./g), ...(await ip("-4", "route", "show")).matchAll(/\b10\.200\.(\d+)\./g)].map((m) => Number(m[1])));
  const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((x) => !used.has(x));
  const x = free[Math.floor(Math.random() * free.length)];
  if (x === undefined) throw new Error("rpc-nats-network.test: every 10.200.x.0/24 is in use on this host; delete stale tfnet* namespaces (ip netns list)");
  const remove = (): void => {
    spawnSync(ipPath, ["netns", "del", name], { stdio: "ignore" });
    spawnSync(ipPath, ["link", "del", hostEnd], { stdio: "ignore" });
  };
  process.once("exit", remove);
  const netns: Netns = {
    name,
    hostAddress: `10.200.${x}.1`,
    nsAddress: `10.200.${x}.2`,
    async link(up) {
      await ip("-n", name, "link", "set", "dev", nsEnd, up ? "up" : "down");
    },
    remove() {
      process.off("exit", remove);
      remove();
    },
  };
  try {
    await ip("netns", "add", name);
    await ip("link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd, "netns", name);
    await ip("addr", "add", `${netns.hostAddress}/24`, "dev", hostEnd);
    await ip("link", "set", "dev", hostEnd, "up");
    await ip("-n", name, "addr", "add", `${netns.nsAddress}/24`, "dev", nsEnd);
    await ip("-n", name, "link", "set", "dev", "lo", "up");
    await ip("-n", name, "link", "set", "dev", nsEnd, "up");
  } catch (error) {
    netns.remove();
    throw error;
  }
  return netns;
}

/** A worker process driven over IPC: its reports by id, and a way to ask for more. */
class Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<unknown>;
  readonly #waiting = new Map<number, (r: Exclude<NetnsReport, string>) => void>();
  #nextId = 0;

  constructor(child: ChildProcess) {
    this.child = child;
    child.on("error", () => undefined);
    this.ready = new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void => {
        reject(new Error(`a worker exited before it joined the group (${signal ?? `code ${code}`})`));
      };
      child.once("exit", onExit);
      child.on("message", (r: NetnsReport) => {
        if (r === "ready") {
          child.off("exit", onExit);
          resolve();
        } else if (typeof r === "object") {
          this.#waiting.get(r.id)?.(r);
          this.#waiting.delete(r.id);
        }
      });
    });
  }

  /** Starts a call on the worker; resolves with its outcome once the worker reports it. */
  call(to: string, fn: keyof Functions, args: unknown[]): Promise<Exclude<NetnsReport, string>> {
    return this.#ask({ op: "call", id: this.#nextId++, to, fn, args });
  }

  async alive(peer: string): Promise<unknown> {
    const r = await this.#ask({ op: "alive", id: this.#nextId++, peer });
    return r.ok ? r.value : r.error;
  }

  #ask(command: Extract<NetnsCommand, { id: number }>): Promise<Exclude<NetnsReport, string>> {
    return new Promise((resolve) => {
      this.#waiting.set(command.id, resolve);
      this.child.send(command);
    });
  }

  /** Asks it to shut down and resolves with its exit code. */
  async close(): Promise<number | null> {
    const exited = this.child.exitCode !== null || this.child.signalCode !== null ? Promise.resolve() : once(this.child, "exit");
    if (this.child.connected) this.child.send({ op: "shutdown" } satisfies NetnsCommand);
    // One that hangs is killed, and its exit code (null) fails the test rather than stalling it.
    const timer = setTimeout(() => { this.kill(); }, CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    return this.child.exitCode;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

interface Group {
  readonly agent: RpcAgent<Functions>;
  readonly worker1: Worker;
  readonly worker2: Worker;
  /** When each heartbeat of worker1 reached the server (wall-clock ms). */
  readonly beats: readonly number[];
  /** Shuts the group down gracefully, the link up first; resolves with the two workers' exit codes. */
  readonly close: () => Promise<(number | null)[]>;
}

/** Asserts an outcome a worker reported: RpcWorkerGoneError for `worker`. */
function assertGone(r: Exclude<NetnsReport, string>, worker: string): asserts r is Extract<NetnsReport, { ok: false }> {
  assert.ok(!r.ok, `resolved with ${JSON.stringify(r)}`);
  assert.equal(r.error.name, "RpcWorkerGoneError", JSON.stringify(r.error));
  assert.equal(r.error.worker, worker);
}

/** The value of a call a worker reported as resolved (fails the test if it failed). */
function valueOf(r: Exclude<NetnsReport, string>): unknown {
  assert.ok(r.ok, `failed with ${JSON.stringify(r)}`);
  return r.value;
}

/** The error a future failed with (fails the test if it resolved). */
function errorOf(f: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(f).then(
    (value: unknown) => assert.fail(`resolved with ${String(value)}`),
    (e: unknown) => e,
  );
}

describe("rpc over NATS: a host that drops off the network", () => {
  let ipPath: string;
  let netns: Netns | undefined;
  let server: NatsServer | undefined;
  const workers: Worker[] = [];

  before(async () => {
    if (process.getuid?.() !== 0) {
      throw new Error(
        "rpc-nats-network.test must run as root: it creates a network namespace and a veth pair (ip netns add, ip link add). " +
          "Run npm test as root (CI does), e.g. in a container with CAP_NET_ADMIN and CAP_SYS_ADMIN.",
      );
    }
    ipPath = findIp();
    netns = await createNetns(ipPath);
    server = await startNatsServer({ host: netns.hostAddress });
  });

  after(async () => {
    for (const w of workers) w.kill();
    await server?.stop();
    netns?.remove();
    if (netns !== undefined) {
      const left = spawnSync(ipPath, ["netns", "list"], { encoding: "utf8" }).stdout;
      assert.ok(!left.includes(netns.name), `namespace ${netns.name} is still there`);
    }
  });

  let groups = 0;

  /** main (this process), worker1 in the namespace (reaching the server over the veth), worker2 on the host. */
  async function startGroup(beat: { heartbeatMs: number; deadAfterMs: number }): Promise<Group> {
    assert.ok(netns !== undefined && server !== undefined, "before() did not set the namespace up");
    await netns.link(true); // up, whatever an earlier test left
    const url = server.url;
    const group = `netns${process.pid}g${groups++}`;
    const names = ["main", "worker1", "worker2"];
    const config = (name: string): string => JSON.stringify({ transport: { servers: url, name, workers: names, group, ...beat } } satisfies NetnsWorkerConfig);
    const worker1 = new Worker(
      spawn(ipPath, ["netns", "exec", netns.name, process.execPath, "--expose-gc", WORKER, config("worker1")], { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
    const worker2 = new Worker(fork(WORKER, [config("worker2")], { execArgv: ["--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    workers.push(worker1, worker2);
    const agent = initRpc<Functions>({ functions, transport: await natsTransport({ servers: url, name: "main", workers: names, group, ...beat }) });
    setAgent(agent);
    await Promise.all([worker1.ready, worker2.ready]);
    // Watches worker1's heartbeats as they reach the server: proof that the link carries them again.
    const watcher = await connect({ servers: url });
    const beats: number[] = [];
    watcher.subscribe(`${group}.hb.worker1`, { callback: () => { beats.push(now()); } });
    const link = netns;
    return {
      agent,
      worker1,
      worker2,
      beats,
      async close() {
        await link.link(true); // a test that failed with the link down: let worker1 drain its connection
        await watcher.close();
        // Every worker shuts down gracefully: none waits for a peer it counts as gone.
        const [c1, c2] = await Promise.all([worker1.close(), worker2.close(), agent.shutdown({ graceful: true, timeout: 10_000 })]);
        return [c1, c2];
      },
    };
  }

  it("fails every call in flight to it with RpcWorkerGoneError within deadAfterMs + heartbeatMs, later calls at once; it stays gone once back", async () => {
    assert.ok(netns !== undefined);
    const { agent, worker1, worker2, beats, close } = await startGroup({ heartbeatMs: HEARTBEAT_MS, deadAfterMs: DEAD_AFTER_MS });
    try {
      assert.equal(await agent.rpcAsync("worker1", "whoami", []), "worker1");
      assert.equal(valueOf(await worker1.call("main", "add", [1, 2])), 3);

      // Calls in flight to worker1, from main and from worker2, and worker1's own call to main. The
      // 3-second ones answer after the link is back: the replies of calls already failed are dropped.
      const fromMain: Future[] = [
        agent.rpcAsync("worker1", "hang", []),
        agent.rpcAsync("worker1", "hang", []),
        agent.rpcAsync("worker1", "later", [3_000, 1]),
        agent.rpcAsync("worker1", "future", [3_000, "late"]),
      ];
      const fromWorker2 = worker2.call("worker1", "hang", []);
      const fromWorker1 = worker1.call("main", "hang", []);
      // Each sender's next call coming back means the ones before it have arrived.
      assert.equal(await agent.rpcAsync("worker1", "add", [1, 1]), 2);
      assert.equal(valueOf(await worker2.call("worker1", "add", [1, 1])), 2);
      assert.equal(valueOf(await worker1.call("main", "add", [1, 1])), 2);
      for (const f of fromMain) assert.equal(f.done(), false);

      const cutAt = now();
      await netns.link(false);
      const errors = await Promise.all(fromMain.map(async (f) => {
        const e = await errorOf(f);
        return { e, elapsed: now() - cutAt };
      }));
      for (const { e, elapsed } of errors) {
        assert.ok(e instanceof RpcWorkerGoneError, String(e));
        assert.equal(e.worker, "worker1");
        assert.match(e.message, /no heartbeat/);
        assert.ok(elapsed < BOUND_MS, `main saw worker1 gone ${elapsed.toFixed(0)} ms after the cut (bound ${BOUND_MS})`);
      }
      // Later calls fail at once.
      const later = agent.rpcAsync("worker1", "add", [1, 2]);
      assert.ok(later.done());
      const laterError = await errorOf(later);
      assert.ok(laterError instanceof RpcWorkerGoneError && /went away earlier/.test(laterError.message), String(laterError));

      // worker2 saw it too, within the same bound, and the rest of the group works on.
      const w2 = await fromWorker2;
      assertGone(w2, "worker1");
      assert.ok(w2.at - cutAt < BOUND_MS, `worker2 saw worker1 gone ${(w2.at - cutAt).toFixed(0)} ms after the cut`);
      assert.equal(await agent.rpcAsync("worker2", "add", [2, 2]), 4);
      assert.equal(await agent.rpcAsync("worker2", "forward", ["main", 3, 4]), 7);
      assert.equal(valueOf(await worker2.call("main", "whoami", [])), "main");

      // worker1, cut off, hears no heartbeats: main and worker2 are gone to it, its call fails alike.
      const w1 = await fromWorker1;
      assertGone(w1, "main");
      assert.match(w1.error.message, /no heartbeat/);
      assert.ok(w1.at - cutAt < BOUND_MS, `worker1 saw main gone ${(w1.at - cutAt).toFixed(0)} ms after the cut`);
      assert.equal(await worker1.alive("main"), false);
      assert.equal(await worker1.alive("worker2"), false);
      const w1Later = await worker1.call("worker2", "add", [1, 2]);
      assertGone(w1Later, "worker2");
      assert.ok(w1Later.atOnce);

      // The link comes back: worker1's heartbeats reach the server again (TCP resends what the cut held up)...
      const upAt = now();
      await netns.link(true);
      const deadline = upAt + RETURN_TIMEOUT_MS;
      while (!beats.some((t) => t > upAt) && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(beats.some((t) => t > upAt), `no heartbeat of worker1 reached the server within ${RETURN_TIMEOUT_MS} ms of the link coming back`);
      // ...but a worker gone stays gone, on both sides: calls still fail at once.
      const afterReturn = agent.rpcAsync("worker1", "add", [1, 2]);
      assert.ok(afterReturn.done());
      assert.ok((await errorOf(afterReturn)) instanceof RpcWorkerGoneError);
      const w1AfterReturn = await worker1.call("main", "add", [1, 2]);
      assertGone(w1AfterReturn, "main");
      assert.ok(w1AfterReturn.atOnce);
    } finally {
      assert.deepEqual(await close(), [0, 0]);
    }
  });

  it("takes a cut shorter than deadAfterMs for no death: calls held up by it complete once the link is back", async () => {
    assert.ok(netns !== undefined);
    const { agent, worker1, worker2, close } = await startGroup({ heartbeatMs: HEARTBEAT_MS, deadAfterMs: BLIP_DEAD_AFTER_MS });
    try {
      const before = [agent.rpcAsync("worker1", "later", [1_000, 7]), worker1.call("main", "later", [1_000, 8])] as const;
      assert.equal(await agent.rpcAsync("worker1", "add", [1, 1]), 2); // the first has arrived
      await netns.link(false);
      // Sent while the link is down: neither can arrive before it is up again.
      let mainDuringAt = 0;
      const mainDuring = agent.rpcAsync("worker1", "add", [2, 3]).then((v) => {
        mainDuringAt = now();
        return v;
      });
      const worker1During = worker1.call("main", "add", [4, 5]);
      await new Promise((resolve) => setTimeout(resolve, BLIP_MS));
      const upAt = now();
      await netns.link(true);
      assert.equal(await before[0], 7);
      assert.equal(valueOf(await before[1]), 8);
      assert.equal(await mainDuring, 5);
      const w1 = await worker1During;
      assert.equal(valueOf(w1), 9);
      // Causal, not a timing figure: proof that the cut held these calls up.
      assert.ok(mainDuringAt > upAt && w1.at > upAt, `answered ${(mainDuringAt - upAt).toFixed(0)} and ${(w1.at - upAt).toFixed(0)} ms after the link came back`);
      const next = agent.rpcAsync("worker1", "add", [0, 1]);
      assert.equal(next.done(), false); // not counted gone: it goes out
      assert.equal(await next, 1);
      assert.equal(await worker1.alive("main"), true);
      assert.equal(await worker1.alive("worker2"), true);
      assert.equal(valueOf(await worker2.call("worker1", "whoami", [])), "worker1");
    } finally {
      assert.deepEqual(await close(), [0, 0]);
    }
  });
});

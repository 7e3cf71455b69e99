// The functions every worker of the test groups exposes (threads and NATS alike).
import { Future, collectAll } from "../../src/index.js";
import type { RRef, RpcAgent } from "../../src/rpc/index.js";

let agent: RpcAgent<Functions> | undefined;
let hits = 0;

/** Called once by the worker's script with its agent, for the functions that call onwards. */
export function setAgent(a: RpcAgent<Functions>): void {
  agent = a;
}

function self(): RpcAgent<Functions> {
  if (agent === undefined) throw new Error("setAgent() was not called");
  return agent;
}

/** A value with methods and state, kept on its owner behind an RRef. */
export class Counter {
  n: number;
  constructor(n: number) {
    this.n = n;
  }
  inc(by = 1): number {
    return (this.n += by);
  }
  get(): number {
    return this.n;
  }
  incLater(ms: number, by: number): Promise<number> {
    return new Promise((resolve) => setTimeout(() => { resolve(this.inc(by)); }, ms));
  }
  incFuture(by: number): Future<number> {
    const out = new Future<number>();
    setTimeout(() => { out.setResult(this.inc(by)); }, 1);
    return out;
  }
  fail(message: string): never {
    throw new RangeError(message);
  }
  snapshot(): number[] {
    return [this.n, this.n];
  }
  /** Adds the value an RRef argument refers to. */
  addFrom(ref: RRef<number[]>): number {
    return this.inc((ref.isOwner() ? ref.localValue() : ref.toHere()).length);
  }
}

export const functions = {
  counter: (start: number): Counter => new Counter(start),
  counterLater: (ms: number, start: number): Promise<Counter> =>
    new Promise((resolve) => setTimeout(() => { resolve(new Counter(start)); }, ms)),
  add: (a: number, b: number): number => a + b,
  echo: <T>(value: T): T => value,
  whoami: (): string => self().name,
  workerInfos: (): unknown => self().workers.map((w) => self().workerInfo(w)),
  count: (): number => ++hits,
  fail: (message: string): never => {
    throw new TypeError(message, { cause: new RangeError("the cause") });
  },
  failWith: (value: unknown): never => {
    throw value;
  },
  later: (ms: number, value: number): Promise<number> => new Promise((resolve) => setTimeout(() => { resolve(value); }, ms)),
  rejectLater: (ms: number): Promise<never> => new Promise((_, reject) => setTimeout(() => { reject(new SyntaxError("late")); }, ms)),
  future: (ms: number, value: string): Future<string> => {
    const fut = new Future<string>();
    setTimeout(() => { fut.setResult(value); }, ms);
    return fut;
  },
  spin: (ms: number): number => {
    const end = Date.now() + ms;
    while (Date.now() < end);
    return ms;
  },
  hang: (): Promise<never> => new Promise<never>(() => undefined),
  unclonable: (): unknown => () => 1,
  exit: (code: number): never => process.exit(code),
  exitAfter: (ms: number): number => {
    setTimeout(() => process.exit(1), ms);
    return ms;
  },
  throwUncaught: (): number => {
    setTimeout(() => {
      throw new Error("uncaught in the worker");
    }, 0);
    return 1;
  },
  grow: (): number => {
    const hog: unknown[] = [];
    for (;;) hog.push(new Array<number>(1_000_000).fill(1));
  },
  array: (n: number, fill: number): number[] => new Array<number>(n).fill(fill),
  sumOf: (ref: RRef<number[]>): number => {
    const values = ref.isOwner() ? ref.localValue() : ref.toHere();
    return values.reduce((a, b) => a + b, 0);
  },
  sumAsync: async (ref: RRef<number[]>): Promise<number> => {
    const values = ref.isOwner() ? ref.localValue() : await ref.toHereAsync();
    return values.reduce((a, b) => a + b, 0);
  },
  owned: (): number => self().ownedRRefs,
  holders: (): unknown => (self() as unknown as { _holders(): unknown })._holders(),
  forward: (to: string, a: number, b: number): Future<number> => self().rpcAsync(to, "add", [a, b]),
  forwardSync: (to: string, a: number, b: number): number => self().rpcSync(to, "add", [a, b]),
  // Added for the parity suite (torch's rpc_test.py).
  nothing: (): unknown => undefined,
  /** A chain of fire-and-forget hops around the group; the last hop's count comes back along it. */
  hop: (ttl: number): Future<number> | number => {
    if (ttl === 0) return 0;
    return self().rpcAsync(nextWorker(), "hop", [ttl - 1]).continueWith((f) => f.value() + 1);
  },
  /** A fire-and-forget chain: each hop starts the next and returns at once; the last one counts on main. */
  hopForget: (ttl: number): number => {
    void (ttl === 0 ? self().rpcAsync("main", "count", []) : self().rpcAsync(nextWorker(), "hopForget", [ttl - 1]));
    return ttl;
  },
  /** Calls a method of an RRef's value through the RRef, from whichever worker holds it. */
  incThrough: (ref: RRef<Counter>, by: number): Future<number> => ref.rpcAsync().inc(by),
  /** An RRef to an array made on `owner` (this worker or another), given back as the result. */
  makeRef: (owner: string, n: number, fill: number): RRef<number[]> => self().remote(owner, "array", [n, fill]),
  /** RRefs deep inside a result, next to plain values. */
  makeRefs: (owner: string): { label: string; refs: [RRef<number[]>, { inner: RRef<number[]> }] } => ({
    label: "two",
    refs: [self().remote(owner, "array", [2, 1]), { inner: self().remote(owner, "array", [3, 2]) }],
  }),
  /** An RRef this worker got as an argument, handed back (as a Future's value). */
  giveBack: (ref: RRef<number[]>): Future<RRef<number[]>> => {
    const out = new Future<RRef<number[]>>();
    setTimeout(() => { out.setResult(ref); }, 1);
    return out;
  },
  /** Passes an RRef on `hops` times around the group; the last receiver reads its value. */
  rrefChain: (ref: RRef<number[]>, hops: number): Future<number[]> | number[] => {
    if (hops === 0) return ref.isOwner() ? ref.localValue() : ref.toHereAsync();
    return self().rpcAsync(nextWorker(), "rrefChain", [ref, hops - 1]);
  },
  addRRefs: (a: RRef<number>, b: RRef<number>): number =>
    (a.isOwner() ? a.localValue() : a.toHere()) + (b.isOwner() ? b.localValue() : b.toHere()),
  nestedRemote: (to: string, a: number, b: number): Future<number> => self().remote(to, "add", [a, b]).toHereAsync(),
  addChained: (to: string, x: number, y: number, z: number): Future<number> =>
    self().rpcAsync(to, "add", [x, y]).continueWith((f) => f.value() + z),
  addChainedMulti: (to: string, x: number, num: number, step: number): Future<number> => {
    let fut = self().rpcAsync(to, "add", [x, 0]);
    for (let i = 0; i < num; i++) fut = fut.continueWith((f) => f.value() + step);
    return fut;
  },
  addNested: (to: string, x: number, y: number, z: number): Future<number> =>
    self().rpcAsync(to, "forward", [to, x, y]).continueWith((f) => f.value() + z),
  addWithFutureCtor: (to: string, x: number, y: number, z: number): Future<number> => {
    const out = new Future<number>();
    self().rpcAsync(to, "add", [x, y]).addDoneCallback((f) => { out.setResult(f.value() + z); });
    return out;
  },
  addMultiFanout: (to: string, x: number, num: number, step: number): Future<number> =>
    collectAll(Array.from({ length: num }, () => self().rpcAsync(to, "add", [0, step]))).continueWith((all) =>
      all.value().reduce((sum, f) => sum + f.value(), x),
    ),
  futureFail: (message: string): Future<never> => {
    const fut = new Future<never>();
    setTimeout(() => { fut.setException(new RangeError(message)); }, 1);
    return fut;
  },
  gc: (): number => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().heapUsed;
  },
};

/** The worker after this one in the group's order, skipping "main" (the test's own thread). */
function nextWorker(): string {
  const peers = self().workers.filter((w) => w !== "main");
  return peers[(peers.indexOf(self().name) + 1) % peers.length] ?? self().name;
}

export type Functions = typeof functions;

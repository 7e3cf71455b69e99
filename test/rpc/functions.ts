// The functions every worker of the test groups exposes (threads and NATS alike).
import { Future } from "../../src/index.js";
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

export const functions = {
  add: (a: number, b: number): number => a + b,
  echo: <T>(value: T): T => value,
  whoami: (): string => self().name,
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
  gc: (): number => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().heapUsed;
  },
};

export type Functions = typeof functions;

// The functions a NATS test worker exposes: the shared ones (functions.ts), one that throws a
// library error, and non-blocking forms of the shared ones that block (toHere): over NATS a
// worker cannot block on a reply, its event loop brings it.
import { RpcTimeoutError, type RRef } from "../../src/rpc/index.js";
import { functions } from "./functions.js";

export const natsFunctions = {
  ...functions,
  libraryError: (): never => {
    throw new RpcTimeoutError("elsewhere", "thing", 5);
  },
  /** Throws an error whose message is `n` characters long. */
  failLong: (n: number): never => {
    throw new Error("x".repeat(n));
  },
  /** addRRefs with toHereAsync: RRefs owned elsewhere are fetched without blocking. */
  addRRefsAsync: async (a: RRef<number>, b: RRef<number>): Promise<number> => {
    const [x, y] = await Promise.all([a.isOwner() ? a.localValue() : a.toHereAsync(), b.isOwner() ? b.localValue() : b.toHereAsync()]);
    return x + y;
  },
};
export type NatsFunctions = typeof natsFunctions;

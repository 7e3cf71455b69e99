// A Web Worker of the rpc page's groups: joins with the handle the page
// posts, serves the test functions, and shuts down when the page asks.
/* global self */
import { initRpc, threadsTransport } from "/build/src/rpc/browser.js";
import { functions, setAgent } from "/build/test/rpc/functions.js";
import { lifeHeld } from "/build/src/threads/browser/life.js";
import { sentinelReady } from "/build/src/threads/browser/platform.js";

let agent;

// Borrowers that let go of the RRefs they were passed (browsers offer no gc() to have it done by collection).
const local = {
  ...functions,
  // toHere() blocks for real in a worker.
  sumHere(ref) {
    const sum = ref.toHere().reduce((a, b) => a + b, 0);
    ref.release();
    return sum;
  },
  // Blocks this worker in rpcSync on any function of another.
  callSync(to, fn, args) {
    return agent.rpcSync(to, fn, args);
  },
  incThenRelease(ref, by) {
    return ref.rpcAsync().inc(by).then((v) => {
      ref.release();
      return v;
    });
  },
};

/** Plain data for the page: what was thrown. */
function thrown(error) {
  return { name: error?.constructor?.name ?? typeof error, message: error instanceof Error ? error.message : String(error) };
}

const commands = {
  // Joins the group; with `report`, says so as soon as the rendezvous has started.
  async join({ handle, report }) {
    const joining = threadsTransport(handle);
    if (report) self.postMessage({ joining: true });
    agent = initRpc({ functions: local, transport: await joining });
    setAgent(agent);
    return { ok: true };
  },
  async shutdown({ graceful = true }) {
    await agent.shutdown({ graceful });
    return { ok: true };
  },
};

self.onmessage = async (event) => {
  const { id, op, ...args } = event.data;
  try {
    self.postMessage({ id, ...(await commands[op](args)) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: thrown(e) });
  }
};
// Ready once this thread's death can be noticed and once it can notice others' while it blocks.
await lifeHeld();
await sentinelReady();
self.postMessage({ ready: true });

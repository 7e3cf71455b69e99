// A worker thread of a test group: joins with its handle, serves the test functions, and shuts
// down when the main thread's test asks it to (message "shutdown").
import { parentPort, workerData } from "node:worker_threads";
import { initRpc, threadsTransport, type RpcGroupHandle } from "../../src/rpc/index.js";
import { functions, setAgent, type Functions } from "./functions.js";

const { handle, graceful } = workerData as { handle: RpcGroupHandle; graceful?: boolean };
const agent = initRpc<Functions>({ functions, transport: await threadsTransport(handle) });
setAgent(agent);
parentPort?.on("message", (m: unknown) => {
  if (m === "shutdown" || m === "shutdown-now") {
    void agent.shutdown({ graceful: m === "shutdown" && (graceful ?? true) }).then(() => {
      parentPort?.postMessage("closed");
      parentPort?.close();
    });
  }
});
parentPort?.postMessage("ready");

// `npm run demo`: runs the ported examples of torch's documentation, one
// after another, each under the torch call it ports.
import * as setResult from "./set-result.js";
import * as thenChain from "./then-chain.js";
import * as addDoneCallback from "./add-done-callback.js";
import * as collectAll from "./collect-all.js";
import * as waitAll from "./wait-all.js";
import * as workerWait from "./worker-wait.js";
import * as rpcWordCount from "./rpc-word-count.js";
import * as rpcParameterServer from "./rpc-parameter-server.js";
import * as waitAny from "./wait-any.js";

const examples: [string, () => Promise<void> | void][] = [
  ["Future.set_result (completed by a timer, read with await)", setResult.main],
  ["Future.then → continueWith", thenChain.main],
  ["Future.add_done_callback → addDoneCallback", addDoneCallback.main],
  ["collect_all → collectAll", collectAll.main],
  ["wait_all → waitAll", waitAll.main],
  ["Future.set_result from a real thread: a worker sets the result, fut.wait() blocks", workerWait.main],
  ["collectAny, asCompleted, withTimeout, waitForAsync: waiting on many calls", waitAny.main],
  ["torch.distributed.rpc → torch-futures/rpc: a map-reduce with remote() and RRefs, workers as threads", rpcWordCount.main],
  ["the same program, its workers separate processes over NATS (a nats-server on loopback)", rpcWordCount.mainNats],
  ["a parameter server: trainers update a model through an RRef's methods (ref.rpcAsync().apply(...)), threads", rpcParameterServer.main],
  ["the same parameter server over NATS, its trainers processes", rpcParameterServer.mainNats],
];

for (const [title, main] of examples) {
  console.log(`\n== ${title}`);
  await main();
}

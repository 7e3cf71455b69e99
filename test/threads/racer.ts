// A worker that races to complete the futures it is handed: it waits at a
// barrier with the other racers, then calls setResult, and reports whether it
// won and what the future finally holds on this thread.
// The test runner also loads it as a test file, on the main thread: then it does nothing.
import { parentPort } from "node:worker_threads";
import { adopt, type FutureHandle } from "../../src/threads/index.js";
import { arrive, race } from "./worker-kit.js";

export interface Race {
  readonly round: number;
  readonly racer: string;
  readonly handle: FutureHandle<string>;
  /** Int32 [arrived, parties] */
  readonly barrier: SharedArrayBuffer;
}

export interface RaceReport {
  readonly round: number;
  readonly racer: string;
  readonly outcome: string;
  readonly final: string;
}

parentPort?.on("message", (task: Race) => {
  const fut = adopt(task.handle);
  arrive(new Int32Array(task.barrier));
  const outcome = race(() => {
    fut.setResult(task.racer);
  });
  void fut.then(
    (final) => parentPort?.postMessage({ round: task.round, racer: task.racer, outcome, final } satisfies RaceReport),
    (error: unknown) => parentPort?.postMessage({ round: task.round, racer: task.racer, outcome, final: String(error) }),
  );
});

// A worker that races to complete the futures it is handed: it waits at a
// barrier with the other racers, then calls setResult, and reports whether it
// won and what the future finally holds on this thread.
// The test runner also loads it as a test file, on the main thread: then it does nothing.
import { parentPort } from "node:worker_threads";
import { adopt, type FutureHandle } from "../../src/threads/index.js";

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

/** Waits until every party has arrived. */
export function arrive(barrier: Int32Array): void {
  const arrived = Atomics.add(barrier, 0, 1) + 1;
  const parties = Atomics.load(barrier, 1);
  if (arrived === parties) {
    Atomics.notify(barrier, 0);
    return;
  }
  for (let seen = arrived; seen < parties; seen = Atomics.load(barrier, 0)) Atomics.wait(barrier, 0, seen, 1000);
}

/** Completes `fut` with `racer`, returning "won" or the name of the error it threw. */
export function race(complete: () => void): string {
  try {
    complete();
    return "won";
  } catch (error) {
    return (error as Error).name;
  }
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

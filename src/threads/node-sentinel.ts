/**
 * The sentinel: a tiny helper thread, one per thread that blocks on shared
 * futures, started on first need and never keeping the process alive. A
 * thread blocked in `wait()` cannot run its event loop, so it cannot see a
 * port close when the thread at the other end dies; its sentinel can. It
 * holds one end of each lifeline and, when one closes, marks the future's
 * cell and wakes the blocked thread.
 *
 * @internal
 * @module
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { participantGone } from "./shared-cell.js";

/** What the sentinel is asked to watch (see `Platform.watch`). */
export interface Watch {
  readonly port: MessagePort;
  readonly cell: SharedArrayBuffer;
  readonly participant: number;
  readonly counted: SharedArrayBuffer | undefined;
}

parentPort?.on("message", (watch: Watch) => {
  const cell = new Int32Array(watch.cell);
  const counted = watch.counted === undefined ? undefined : new Int32Array(watch.counted);
  // A port delivers its closing only once started.
  watch.port.on("message", () => undefined);
  watch.port.once("close", () => {
    participantGone(cell, watch.participant, counted);
  });
});

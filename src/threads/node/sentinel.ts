/**
 * The sentinel: a tiny helper thread, one per thread that blocks on shared
 * futures, started on first need and never keeping the process alive. A
 * thread blocked in `wait()` cannot run its event loop, so it cannot see a
 * port close when the thread at the other end dies; its sentinel can. It
 * holds one end of each lifeline and, when one closes, marks the future's
 * cell (or the link's memory) and wakes the blocked thread.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { LinkLayout, linkPeerGone, participantGone } from "../kit/shared-cell.js";

/** What the sentinel is asked to watch (see `Platform.watch` and `Platform.watchLink`). */
export type Watch =
  | {
      readonly kind: "cell";
      readonly port: MessagePort;
      readonly cell: SharedArrayBuffer;
      readonly participant: number;
      readonly counted: SharedArrayBuffer | undefined;
    }
  | { readonly kind: "link"; readonly port: MessagePort; readonly link: SharedArrayBuffer; readonly side: number };

function gone(watch: Watch): () => void {
  if (watch.kind === "cell") {
    const cell = new Int32Array(watch.cell);
    const counted = watch.counted === undefined ? undefined : new Int32Array(watch.counted);
    return () => {
      participantGone(cell, watch.participant, counted);
    };
  }
  const layout = LinkLayout.of(watch.link);
  const words = new Int32Array(watch.link);
  return () => {
    if (layout !== undefined) linkPeerGone(words, layout, watch.side);
  };
}

parentPort?.on("message", (watch: Watch) => {
  const onClose = gone(watch);
  // A port delivers its closing only once started.
  watch.port.on("message", () => undefined);
  watch.port.once("close", onClose);
});

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
import { LinkLayout, linkPeerGone, participantGone, wordsGone } from "../kit/shared-cell.js";

/** What the sentinel guards (see `Platform.guardCell` and `Platform.guardLink`). */
export type Guard =
  | {
      readonly kind: "cell";
      readonly port: MessagePort;
      readonly cell: SharedArrayBuffer;
      readonly participant: number;
      readonly counted: SharedArrayBuffer | undefined;
    }
  | { readonly kind: "link"; readonly port: MessagePort; readonly link: SharedArrayBuffer; readonly side: number }
  | { readonly kind: "words"; readonly port: MessagePort; readonly memory: SharedArrayBuffer; readonly gone: number; readonly bell: number };

function gone(guard: Guard): () => void {
  if (guard.kind === "cell") {
    const cell = new Int32Array(guard.cell);
    const counted = guard.counted === undefined ? undefined : new Int32Array(guard.counted);
    return () => {
      participantGone(cell, guard.participant, counted);
    };
  }
  if (guard.kind === "words") {
    const words = new Int32Array(guard.memory);
    return () => {
      wordsGone(words, guard.gone, guard.bell);
    };
  }
  const layout = LinkLayout.of(guard.link);
  const words = new Int32Array(guard.link);
  return () => {
    if (layout !== undefined) linkPeerGone(words, layout, guard.side);
  };
}

parentPort?.on("message", (guard: Guard) => {
  const onClose = gone(guard);
  // A port delivers its closing only once started.
  guard.port.on("message", () => undefined);
  guard.port.once("close", onClose);
});

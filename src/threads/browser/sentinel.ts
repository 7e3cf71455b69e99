/**
 * The browser sentinel: a tiny worker that a worker starts the first time it
 * shares or adopts a future. A worker blocked in `wait()` cannot run its event
 * loop, so it cannot learn that the thread at the other end died; its
 * sentinel can: it watches that thread's life lock and, once it is released,
 * marks the future's cell and wakes the blocked worker.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { isLifeToken, watchLife, type LifeToken } from "./life.js";
import { participantGone } from "../kit/shared-cell.js";

/** The name a sentinel worker is started with. */
export const SENTINEL_NAME = "torch-futures sentinel";

/** What the sentinel is asked to watch (see `Platform.watch`). */
export interface SentinelWatch {
  readonly life: LifeToken;
  readonly cell: SharedArrayBuffer;
  readonly participant: number;
  readonly counted: SharedArrayBuffer | undefined;
}

function isWatch(value: unknown): value is SentinelWatch {
  if (typeof value !== "object" || value === null) return false;
  const w = value as Partial<SentinelWatch>;
  return (
    isLifeToken(w.life) &&
    w.cell instanceof SharedArrayBuffer &&
    typeof w.participant === "number" &&
    (w.counted === undefined || w.counted instanceof SharedArrayBuffer)
  );
}

function onWatch(event: MessageEvent): void {
  const watch: unknown = event.data;
  if (!isWatch(watch)) return;
  const cell = new Int32Array(watch.cell);
  const counted = watch.counted === undefined ? undefined : new Int32Array(watch.counted);
  watchLife(watch.life, () => {
    participantGone(cell, watch.participant, counted);
  });
}

// Only inside the sentinel worker: its parent sends one port first, then every watch through it
// (a port delivers while the parent blocks; posting to the Worker object waits for its event loop).
const scope = globalThis as { WorkerGlobalScope?: unknown; name?: unknown; onmessage?: unknown };
if (typeof scope.WorkerGlobalScope === "function" && scope.name === SENTINEL_NAME) {
  scope.onmessage = (event: MessageEvent) => {
    const port: unknown = event.data;
    if (!(port instanceof MessagePort)) return;
    port.onmessage = onWatch;
    port.postMessage("up");
  };
}

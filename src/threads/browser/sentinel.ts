/**
 * The browser sentinel: a tiny worker that a worker starts the first time it
 * shares or adopts a future. A worker blocked in `wait()` cannot run its event
 * loop, so it cannot learn that the thread at the other end died; its
 * sentinel can: it guards that thread, and once its life lock is released
 * marks the future's cell (or the link's memory) and wakes the blocked worker.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { isLifeToken, guardLife, type LifeToken } from "./life.js";
import { LinkLayout, linkPeerGone, participantGone } from "../kit/shared-cell.js";

/** The name a sentinel worker is started with. */
export const SENTINEL_NAME = "torch-futures sentinel";

/** What the sentinel guards (see `Platform.guardCell`). */
export interface SentinelGuard {
  readonly life: LifeToken;
  readonly cell: SharedArrayBuffer;
  readonly participant: number;
  readonly counted: SharedArrayBuffer | undefined;
}

/** What the sentinel guards for a link (see `Platform.guardLink`). */
export interface SentinelLinkGuard {
  readonly life: LifeToken;
  readonly link: SharedArrayBuffer;
  readonly side: number;
}

function isLinkGuard(value: unknown): value is SentinelLinkGuard {
  if (typeof value !== "object" || value === null) return false;
  const w = value as Partial<SentinelLinkGuard>;
  return isLifeToken(w.life) && w.link instanceof SharedArrayBuffer && typeof w.side === "number";
}

function isGuard(value: unknown): value is SentinelGuard {
  if (typeof value !== "object" || value === null) return false;
  const w = value as Partial<SentinelGuard>;
  return (
    isLifeToken(w.life) &&
    w.cell instanceof SharedArrayBuffer &&
    typeof w.participant === "number" &&
    (w.counted === undefined || w.counted instanceof SharedArrayBuffer)
  );
}

function onGuard(event: MessageEvent): void {
  const guard: unknown = event.data;
  if (isLinkGuard(guard)) {
    const layout = LinkLayout.of(guard.link);
    const words = new Int32Array(guard.link);
    guardLife(guard.life, () => {
      if (layout !== undefined) linkPeerGone(words, layout, guard.side);
    });
    return;
  }
  if (!isGuard(guard)) return;
  const cell = new Int32Array(guard.cell);
  const counted = guard.counted === undefined ? undefined : new Int32Array(guard.counted);
  guardLife(guard.life, () => {
    participantGone(cell, guard.participant, counted);
  });
}

// Only inside the sentinel worker: its parent sends one port first, then every guard through it
// (a port delivers while the parent blocks; posting to the Worker object waits for its event loop).
const scope = globalThis as { WorkerGlobalScope?: unknown; name?: unknown; onmessage?: unknown };
if (typeof scope.WorkerGlobalScope === "function" && scope.name === SENTINEL_NAME) {
  scope.onmessage = (event: MessageEvent) => {
    const port: unknown = event.data;
    if (!(port instanceof MessagePort)) return;
    port.onmessage = onGuard;
    port.postMessage("up");
  };
}

/**
 * How one browser thread learns that another has gone: browsers close no
 * ports and fire no event when a Web Worker is terminated or closes itself,
 * but they do release its Web Locks. Each thread holds a lock of its own for
 * its whole life (its life token); a thread that must know of its death
 * requests the same lock, and is granted it only once the holder is gone.
 *
 * Without Web Locks (an insecure context, an old browser) there is no token,
 * and a death is noticed only through a timeout.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/**
 * A thread's life: the name of the lock it holds, and a word it sets once it
 * holds it — absent where the token was sent only once the lock was held.
 */
export interface LifeToken {
  readonly name: string;
  readonly held?: SharedArrayBuffer;
}

/** How often a guard that was granted the lock before its holder took it asks again. */
const RETRY_MS = 5;

let mine: { name: string; held: SharedArrayBuffer } | null | undefined;
let isHeld = false;
const onHeld: (() => void)[] = [];

function lockManager(): LockManager | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManager } }).navigator;
  return nav?.locks;
}

/** This thread's life token, taken on first use; undefined where Web Locks are missing. */
export function myLife(): LifeToken | undefined {
  if (mine !== undefined) return mine ?? undefined;
  const locks = lockManager();
  if (locks === undefined || typeof crypto.randomUUID !== "function") {
    mine = null;
    return undefined;
  }
  const token = { name: `torch-futures/life/${crypto.randomUUID()}`, held: new SharedArrayBuffer(4) };
  // Held until this thread ends: the browser releases it then, whatever the way it ended.
  void locks.request(token.name, () => {
    Atomics.store(new Int32Array(token.held), 0, 1);
    isHeld = true;
    for (const run of onHeld.splice(0)) run();
    return new Promise<never>(() => undefined);
  });
  mine = token;
  return token;
}

/**
 * Resolves once this thread holds its life lock: from then on its death is
 * noticed. A thread that ends before (within milliseconds of taking up the
 * library) leaves no lock behind, so only a timeout notices it.
 */
export function lifeHeld(): Promise<void> {
  return new Promise((resolve) => {
    whenHeld(() => {
      resolve();
    });
    if (mine === null) resolve();
  });
}

/** Calls `run` with this thread's token once its lock is held (so the token needs no `held` word). */
export function whenHeld(run: (token: LifeToken) => void): void {
  const token = myLife();
  if (token === undefined) return;
  const name = token.name;
  if (isHeld) run({ name });
  else onHeld.push(() => {
    run({ name });
  });
}

/** Calls `onGone` once the thread that holds `token` has gone; the returned function stops guarding. */
export function guardLife(token: LifeToken, onGone: () => void): () => void {
  const locks = lockManager();
  if (locks === undefined) return () => undefined;
  const controller = new AbortController();
  const held = token.held === undefined ? undefined : new Int32Array(token.held);
  const attempt = (): void => {
    locks
      // Shared: when the holder goes, every guard is granted at once. An exclusive grant
      // could go to a thread that is blocked in wait() and cannot run it, starving its sentinel.
      .request(token.name, { mode: "shared", signal: controller.signal }, () => {
        if (controller.signal.aborted) return;
        // Granted before the holder ever took it: let it go and ask again behind the holder.
        if (held !== undefined && Atomics.load(held, 0) === 0) setTimeout(attempt, RETRY_MS);
        else onGone();
      })
      .catch(() => undefined); // aborted: nobody guards it any more
  };
  attempt();
  return () => {
    controller.abort();
  };
}

/** Whether `value` looks like a {@link LifeToken} (as received from another thread). */
export function isLifeToken(value: unknown): value is LifeToken {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Partial<LifeToken>;
  return typeof t.name === "string" && (t.held === undefined || t.held instanceof SharedArrayBuffer);
}

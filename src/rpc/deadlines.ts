/**
 * Call deadlines without a timer per call: a deadline joins a bucket of the
 * deadlines that fall in the same slice of time (a twentieth of its timeout,
 * between 1 and 100 ms), one timer per bucket; a call that completes leaves
 * its bucket at once, so only pending calls are held. A call expires at most
 * one slice after its timeout (5%, and never more than 100 ms, late). Nothing
 * is allocated per call but its entry: the handler is shared.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** The calls waiting for one slice of time, each with what to do if it is still there then. */
export type Bucket<T> = Map<T, (item: T) => void>;

const buckets = new Map<number, Bucket<unknown>>();

/**
 * Calls `expire(item)` once `timeoutMs` has passed, unless `item` has been
 * deleted from the returned bucket first (do that when the call completes).
 */
export function atDeadline<T>(timeoutMs: number, item: T, expire: (item: T) => void): Bucket<T> {
  const slice = Math.min(100, Math.max(1, Math.floor(timeoutMs / 20)));
  const key = Math.ceil((performance.now() + timeoutMs) / slice) * slice;
  let bucket = buckets.get(key);
  if (bucket === undefined) {
    const fresh: Bucket<unknown> = (bucket = new Map<unknown, (item: unknown) => void>());
    buckets.set(key, fresh);
    const timer = setTimeout(() => {
      buckets.delete(key);
      for (const [entry, run] of fresh) run(entry);
      fresh.clear();
    }, Math.max(0, key - performance.now()));
    // A deadline alone does not keep the process alive; the call it guards does, if anything.
    (timer as { unref?: () => void }).unref?.();
  }
  (bucket as Bucket<T>).set(item, expire);
  return bucket as Bucket<T>;
}

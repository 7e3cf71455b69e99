/**
 * Call deadlines without a timer per call: a deadline joins a bucket of the
 * deadlines that fall in the same slice of time (a twentieth of its timeout,
 * between 1 and 100 ms), one timer per bucket; a call that completes leaves
 * its bucket at once, so only pending calls are held. A call expires at most
 * one slice after its timeout (5%, and never more than 100 ms, late).
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** The calls waiting for one slice of time; a call removes its `expire` when it completes. */
export type Bucket = Set<() => void>;

const buckets = new Map<number, Bucket>();

/**
 * Runs `expire` once `timeoutMs` has passed, unless it has been deleted from
 * the returned bucket first (do that when the call completes).
 */
export function atDeadline(timeoutMs: number, expire: () => void): Bucket {
  const slice = Math.min(100, Math.max(1, Math.floor(timeoutMs / 20)));
  const key = Math.ceil((performance.now() + timeoutMs) / slice) * slice;
  let bucket = buckets.get(key);
  if (bucket === undefined) {
    const fresh: Bucket = (bucket = new Set());
    buckets.set(key, fresh);
    const timer = setTimeout(() => {
      buckets.delete(key);
      for (const run of fresh) run();
      fresh.clear();
    }, Math.max(0, key - performance.now()));
    // A deadline alone does not keep the process alive; the call it guards does, if anything.
    (timer as { unref?: () => void }).unref?.();
  }
  bucket.add(expire);
  return bucket;
}

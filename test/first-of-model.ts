/**
 * A reference model of the waits on many futures (collectAny, asCompleted,
 * waitFor), for the property tests: plain arrays, obviously right for small
 * inputs.
 *
 * A scenario is a pool of futures, a list over it (indices, repeats allowed),
 * the futures completed before the wait starts, and the order in which the
 * others complete afterwards. Callbacks never complete other futures here, so
 * "the order callbacks run" is the order of completion.
 */

export type Outcome = "ok" | "err";

export interface Scenario {
  readonly pool: number;
  /** The wait's input list: indices into the pool. */
  readonly list: readonly number[];
  /** Completed before the wait starts, in this order. */
  readonly before: readonly { readonly i: number; readonly outcome: Outcome }[];
  /** Completed after the wait started, in this order (pool indices not in `before`). */
  readonly after: readonly { readonly i: number; readonly outcome: Outcome }[];
}

/** The pool indices asCompleted yields: completed ones in list order, then the rest as they complete, each once. */
export function modelCompletionOrder(s: Scenario): number[] {
  const inList = new Set(s.list);
  const doneBefore = new Set(s.before.map((c) => c.i));
  const order: number[] = [];
  for (const i of s.list) if (doneBefore.has(i) && !order.includes(i)) order.push(i);
  for (const c of s.after) if (inList.has(c.i)) order.push(c.i);
  return order;
}

/** collectAny's winner as a list index: the first completed in list order, else the first to complete. */
export function modelWinner(s: Scenario): number | undefined {
  const doneBefore = new Set(s.before.map((c) => c.i));
  const first = s.list.findIndex((i) => doneBefore.has(i));
  if (first >= 0) return first;
  for (const c of s.after) {
    const index = s.list.indexOf(c.i);
    if (index >= 0) return index;
  }
  return undefined;
}

/** Whether waitFor's rule is met, given the outcomes so far of the futures in the list. */
export function modelRuleMet(
  list: readonly number[],
  outcomes: ReadonlyMap<number, Outcome>,
  rule: "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED",
): boolean {
  const unique = [...new Set(list)];
  const done = unique.filter((i) => outcomes.has(i));
  if (done.length === unique.length) return true;
  if (rule === "FIRST_COMPLETED") return done.length > 0;
  if (rule === "FIRST_EXCEPTION") return done.some((i) => outcomes.get(i) === "err");
  return false;
}

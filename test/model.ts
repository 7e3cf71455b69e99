/**
 * A reference model of torch's callback semantics for the property tests: a
 * direct recursive interpreter, deliberately naive (plain recursion, arrays of
 * callbacks) so that it is obviously right for small programs.
 *
 * A program runs over a pool of futures: the roots first, then every future a
 * step creates (continueWith children, collectAll results), by creation order.
 * Indices in steps and behaviours are taken modulo the pool's size when they
 * run. The model and the test's real run both describe what happens as a log
 * of strings; the property is that the two logs are equal.
 */

/** A value a program sets or throws: a number, or one of a run's token objects (by identity). */
export type Val = { readonly t: "num"; readonly n: number } | { readonly t: "tok"; readonly k: number };

/** What a callback does after logging that it started. */
export type Behaviour =
  | { readonly t: "log" }
  | { readonly t: "const"; readonly n: number }
  /** Reads `fut.value()` (which may throw) and returns it plus one. */
  | { readonly t: "plusOne" }
  | { readonly t: "throw"; readonly v: Val }
  /** `setResult`/`setException` on pool[target]; an error from it propagates. */
  | { readonly t: "complete"; readonly target: number; readonly ok: boolean; readonly v: Val }
  /** Registers a callback (whose behaviour registers nothing) on pool[target]. */
  | { readonly t: "register"; readonly target: number; readonly how: "adc" | "cw"; readonly inner: Behaviour };

export type Step =
  | { readonly t: "complete"; readonly i: number; readonly ok: boolean; readonly v: Val }
  | { readonly t: "cw"; readonly i: number; readonly beh: Behaviour }
  | { readonly t: "adc"; readonly i: number; readonly beh: Behaviour }
  | { readonly t: "collect"; readonly is: readonly number[] };

export interface Program {
  readonly roots: number;
  readonly steps: readonly Step[];
}

/** The library error classes the model predicts, by name. */
export type LibErrorName = "FutureAlreadyCompletedError" | "DerivedFutureError";

/**
 * A model value. `lib` stands for a library error object thrown inside a
 * callback (seq numbers them in order of creation, for identity); `arr` for the
 * array a collectAll future holds.
 */
export type MVal =
  | Val
  | { readonly t: "lib"; readonly cls: LibErrorName; readonly seq: number }
  | { readonly t: "arr"; readonly owner: number; readonly inputs: readonly number[] };

type MState = "pending" | "ok" | "err";

interface MFut {
  state: MState;
  derived: boolean;
  value: MVal | undefined;
  cbs: MCallback[];
}

interface Collector {
  remaining: number;
  readonly combined: MFut;
  readonly value: MVal;
}

type MCallback =
  | { readonly kind: "adc"; readonly id: string; readonly beh: Behaviour }
  | { readonly kind: "cw"; readonly id: string; readonly beh: Behaviour; readonly child: MFut }
  | { readonly kind: "collect"; readonly collector: Collector };

type Outcome = { readonly threw: false; readonly value: MVal } | { readonly threw: true; readonly error: MVal };

/** How both sides write a value into the log. */
export function describeMVal(v: MVal | undefined): string {
  if (v === undefined) return "-";
  switch (v.t) {
    case "num":
      return `num${v.n}`;
    case "tok":
      return `tok${v.k}`;
    case "lib":
      return `lib${v.seq}:${v.cls}`;
    case "arr":
      return `arr(${v.owner})[${v.inputs.join(",")}]`;
  }
}

/** How both sides write a future's state into the log. */
export function describeState(state: MState, v: MVal | undefined): string {
  return state === "pending" ? "pending" : `${state}:${describeMVal(v)}`;
}

/** Runs `program` in the model and returns its log and the final state of each pool future. */
export function runModel(program: Program): { log: string[]; finals: string[] } {
  const log: string[] = [];
  const pool: MFut[] = [];
  let libSeq = 0;
  const newFut = (derived: boolean): MFut => ({ state: "pending", derived, value: undefined, cbs: [] });
  const at = (i: number): MFut => pool[i % pool.length] as MFut;
  const indexOf = (f: MFut): number => pool.indexOf(f);

  function complete(f: MFut, state: "ok" | "err", value: MVal): void {
    f.state = state;
    f.value = value;
    const cbs = f.cbs;
    f.cbs = [];
    for (const cb of cbs) runCallback(f, cb);
  }

  /** A user's setResult/setException: the name of the error it throws, or undefined. */
  function trySet(f: MFut, ok: boolean, v: Val): LibErrorName | undefined {
    if (f.state !== "pending") return "FutureAlreadyCompletedError";
    if (f.derived) return "DerivedFutureError";
    complete(f, ok ? "ok" : "err", v);
    return undefined;
  }

  function register(f: MFut, cb: MCallback): void {
    if (f.state === "pending") f.cbs.push(cb);
    else runCallback(f, cb);
  }

  function registerNew(f: MFut, how: "adc" | "cw", id: string, beh: Behaviour): MFut | undefined {
    if (how === "adc") {
      register(f, { kind: "adc", id, beh });
      return undefined;
    }
    const child = newFut(true);
    register(f, { kind: "cw", id, beh, child });
    return child;
  }

  function runCallback(f: MFut, cb: MCallback): void {
    switch (cb.kind) {
      case "collect": {
        const c = cb.collector;
        if (--c.remaining === 0) complete(c.combined, "ok", c.value);
        return;
      }
      case "adc": {
        const out = execute(cb.id, f, cb.beh);
        if (out.threw) log.push(`handler ${describeMVal(out.error)} @${indexOf(f)}`);
        return;
      }
      case "cw": {
        const out = execute(cb.id, f, cb.beh);
        if (out.threw) complete(cb.child, "err", out.error);
        else complete(cb.child, "ok", out.value);
        return;
      }
    }
  }

  function execute(id: string, f: MFut, beh: Behaviour): Outcome {
    log.push(`${id}> @${indexOf(f)} ${describeState(f.state, f.value)}`);
    let ret: MVal = { t: "num", n: 0 };
    switch (beh.t) {
      case "log":
        break;
      case "const":
        ret = { t: "num", n: beh.n };
        break;
      case "plusOne": {
        const v = f.value as MVal;
        if (f.state === "err") return { threw: true, error: v };
        ret = v.t === "num" ? { t: "num", n: v.n + 1 } : v;
        break;
      }
      case "throw":
        return { threw: true, error: beh.v };
      case "complete": {
        const refused = trySet(at(beh.target), beh.ok, beh.v);
        if (refused !== undefined) return { threw: true, error: { t: "lib", cls: refused, seq: libSeq++ } };
        break;
      }
      case "register":
        registerNew(at(beh.target), beh.how, `${id}n`, beh.inner);
        break;
    }
    log.push(`<${id}`);
    return { threw: false, value: ret };
  }

  for (let r = 0; r < program.roots; r++) pool.push(newFut(false));
  program.steps.forEach((step, n) => {
    log.push(`step ${n}`);
    switch (step.t) {
      case "complete": {
        const refused = trySet(at(step.i), step.ok, step.v);
        if (refused !== undefined) log.push(`step ${n} threw ${refused}`);
        return;
      }
      case "adc":
      case "cw": {
        const child = registerNew(at(step.i), step.t, `${n}`, step.beh);
        if (child !== undefined) pool.push(child);
        return;
      }
      case "collect": {
        const inputs = step.is.map((i) => i % pool.length);
        const combined = newFut(true);
        const value: MVal = { t: "arr", owner: pool.length, inputs };
        pool.push(combined);
        const pending = inputs.filter((i) => at(i).state === "pending");
        if (pending.length === 0) {
          complete(combined, "ok", value);
          return;
        }
        const collector: Collector = { remaining: pending.length, combined, value };
        for (const i of pending) at(i).cbs.push({ kind: "collect", collector });
        return;
      }
    }
  });
  return { log, finals: pool.map((f) => describeState(f.state, f.value)) };
}

// Runs named checks in the page, one after another, and POSTs the results to
// the harness: { userAgent, checks: [{ name, ok, message, ms }] }.
/* global window, fetch, navigator, setTimeout, clearTimeout, performance, Worker */

const unexpected = [];
/** @type {{ errors: unknown[], rejections: unknown[] } | null} */
let capture = null;

// Installed first, so that errors of the checks themselves are seen too.
window.addEventListener("error", (event) => {
  const error = event.error ?? event.message;
  if (capture !== null) {
    capture.errors.push(error);
    event.preventDefault(); // expected: keep it off the console
  } else {
    unexpected.push(`uncaught error: ${describe(error)}`);
  }
});
window.addEventListener("unhandledrejection", (event) => {
  if (capture !== null) {
    capture.rejections.push(event.reason);
    event.preventDefault();
  } else {
    unexpected.push(`unhandled rejection: ${describe(event.reason)}`);
  }
});

/** A short description of any thrown value. */
export function describe(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return `${typeof value} ${JSON.stringify(value)}`;
  } catch {
    return String(value);
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  if (!Object.is(actual, expected)) {
    throw new Error(`${what}: expected ${describe(expected)}, got ${describe(actual)}`);
  }
}

export function assertJsonEqual(actual, expected, what) {
  assertEqual(JSON.stringify(actual), JSON.stringify(expected), what);
}

/** Calls `fn`, which must throw; returns what it threw after checking it with `accept`. */
export function assertThrows(fn, accept, what) {
  try {
    fn();
  } catch (error) {
    if (!accept(error)) throw new Error(`${what}: threw the wrong thing, ${describe(error)}`, { cause: error });
    return error;
  }
  throw new Error(`${what}: did not throw`);
}

/** Resolves after the current task and its microtasks, plus `ms`. */
export function nextTask(ms = 0) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `fn(seen)` and collects the uncaught errors and unhandled rejections
 * the page raises until `settleMs` after it; `seen` is the live record.
 */
export async function captureUncaught(fn, settleMs = 20) {
  assert(capture === null, "captureUncaught() does not nest");
  const seen = { errors: [], rejections: [] };
  capture = seen;
  try {
    await fn(seen);
    await nextTask(settleMs);
    await nextTask();
  } finally {
    capture = null;
  }
  return seen;
}

function withTimeout(promise, ms, name) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}: did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Posts `value` as JSON to the harness. */
export async function report(value) {
  await fetch("/__report", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(value),
  });
}

/**
 * Runs each [name, fn] check in order (fn may be async; throwing fails it),
 * adds a last check that nothing unexpected was uncaught, and reports.
 */
export async function runChecks(checks, { timeoutMs = 5000 } = {}) {
  const results = [];
  for (const [name, fn] of checks) {
    const start = performance.now();
    try {
      await withTimeout(Promise.resolve().then(fn), timeoutMs, name);
      results.push({ name, ok: true, message: "", ms: performance.now() - start });
    } catch (error) {
      // The frames only: the stack's first line repeats the message.
      const frames = error instanceof Error && typeof error.stack === "string" ? error.stack.split("\n").filter((line) => /^\s+at /.test(line)) : [];
      results.push({ name, ok: false, message: [describe(error), ...frames].join("\n"), ms: performance.now() - start });
    }
  }
  await nextTask();
  results.push({
    name: "no unexpected uncaught error or unhandled rejection on the page",
    ok: unexpected.length === 0,
    message: unexpected.join("\n"),
    ms: 0,
  });
  await report({ userAgent: navigator.userAgent, checks: results });
}

let nextCommand = 0;

/**
 * Starts a module worker that answers `{ id, op, ...args }` commands with `{ id, ... }` and says
 * `{ ready }` first; resolves once it is ready. Messages without an id go to `events`. The worker
 * is pushed onto `started`, for the page to terminate at the end of a check.
 */
export async function commandWorker(url, started = []) {
  const worker = new Worker(url, { type: "module" });
  started.push(worker);
  const waiting = new Map();
  const events = [];
  await new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      if (event.data.ready) resolve();
    };
    worker.onerror = (event) => reject(new Error(`worker failed to start: ${event.message}`));
  });
  worker.onmessage = (event) => {
    if (event.data.id === undefined) {
      events.push(event.data);
      return;
    }
    const done = waiting.get(event.data.id);
    waiting.delete(event.data.id);
    done?.(event.data);
  };
  return {
    worker,
    events,
    send(op, args = {}, transfer = []) {
      const id = nextCommand++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage({ id, op, ...args }, transfer);
      });
    },
  };
}

/** A worker's `{ ok, error }` answer, or an error naming `what` failed and why. */
export function okOrThrow(r, what) {
  assert(r.ok, `${what}: ${describe(r.error)}`);
  return r;
}

/** Rejects unless `promise` settles within `ms`. */
export function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The reason `promise` rejects with; an error if it resolves. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("resolved, expected a rejection");
}

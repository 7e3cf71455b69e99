// A Web Worker that the threads page drives: each message is one command,
// each reply says what happened on this thread. Loaded as a module worker.
/* global self, performance, setTimeout */
import { Future, FutureNotCompletedError, collectAll } from "/build/src/index.js";
import { adopt, share } from "/build/src/threads/browser.js";
import { lifeHeld } from "/build/src/threads/browser/life.js";
import { sentinelReady } from "/build/src/threads/browser/platform.js";

/** Plain data for the page: what was thrown. */
function thrown(error) {
  return {
    name: error?.constructor?.name ?? typeof error,
    message: error instanceof Error ? error.message : String(error),
  };
}

function reply(id, body, transfer = []) {
  self.postMessage({ id, ...body }, transfer);
}

// Futures this worker made and shared, by name, for later commands.
const made = new Map();

const commands = {
  // Adopts a handle and completes it after delayMs.
  complete({ handle, value, delayMs = 0, transfer = false, error }) {
    const fut = adopt(handle);
    return new Promise((resolve) => {
      setTimeout(() => {
        try {
          if (error !== undefined) fut.setException(new RangeError(error, { cause: new TypeError("inner") }));
          else if (transfer) fut.setResult(value, { transfer: [value.buffer] });
          else fut.setResult(value);
          resolve({ ok: true, detached: transfer ? value.buffer.byteLength === 0 : undefined });
        } catch (e) {
          resolve({ ok: false, error: thrown(e) });
        }
      }, delayMs);
    });
  },
  // Adopts a handle and says so; completes nothing.
  hold({ handle }) {
    adopt(handle);
    return { ok: true };
  },
  // Adopts a handle (or takes a future made here) and blocks in wait().
  wait({ handle, name, timeoutMs }) {
    const fut = handle !== undefined ? adopt(handle) : made.get(name);
    const order = [];
    fut.addDoneCallback(() => order.push("callback"));
    const start = performance.now();
    try {
      const value = fut.wait(timeoutMs);
      order.push("returned");
      return { ok: true, value, ms: performance.now() - start, order, done: fut.done() };
    } catch (e) {
      return { ok: false, error: thrown(e), ms: performance.now() - start, done: fut.done(), pending: !fut.done() };
    }
  },
  // Adopts a handle and blocks in wait() on a future derived from it (a continueWith child of a collectAll).
  waitDerived({ handle, timeoutMs }) {
    const fut = adopt(handle);
    const derived = collectAll([fut]).continueWith((f) => f.value()[0].value() * 2);
    const start = performance.now();
    try {
      const value = derived.wait(timeoutMs);
      return { ok: true, value, ms: performance.now() - start };
    } catch (e) {
      return { ok: false, error: thrown(e), ms: performance.now() - start };
    }
  },
  // After a blocking wait() refused a value that came by message: awaits it, then writes into it.
  async awaitAndWrite({ name }) {
    const value = await made.get(name);
    value[1] = 99;
    return { ok: true, first: value[0] };
  },
  // Makes a future here and shares it: the handle goes back to the page.
  share({ name }) {
    const fut = new Future();
    made.set(name, fut);
    const handle = share(fut);
    return { ok: true, handle, transfer: handle.transferList };
  },
  // Waits for a go signal in shared memory, then races to complete.
  race({ handle, value, go }) {
    const fut = adopt(handle);
    const flag = new Int32Array(go);
    Atomics.wait(flag, 0, 0, 5000);
    try {
      fut.setResult(value);
      return { ok: true, won: true };
    } catch (e) {
      return { ok: true, won: false, error: thrown(e), value: fut.done() ? fut.value() : undefined };
    }
  },
  // A value that cannot be cloned: the call must throw and leave the future pending.
  uncloneable({ handle }) {
    const fut = adopt(handle);
    let error;
    try {
      fut.setResult({ f() {} });
    } catch (e) {
      error = thrown(e);
    }
    const pendingAfter = !fut.done();
    fut.setResult("second try");
    return { ok: true, error, pendingAfter };
  },
  // Takes a future this worker shared, completed on the page with a SharedArrayBuffer-backed value.
  waitLate({ name }) {
    const fut = made.get(name);
    try {
      fut.wait(2000);
      return { ok: false, error: { name: "none", message: "wait() returned" } };
    } catch (e) {
      return { ok: true, error: thrown(e), notCompletedError: e instanceof FutureNotCompletedError };
    }
  },
  close() {
    setTimeout(() => self.close(), 0);
    return { ok: true };
  },
};

self.onmessage = async (event) => {
  const { id, op, ...args } = event.data;
  try {
    const result = await commands[op](args);
    const transfer = result.transfer ?? [];
    delete result.transfer;
    reply(id, result, transfer);
  } catch (e) {
    reply(id, { ok: false, error: thrown(e) });
  }
};
// Ready once this thread's death can be noticed (its life lock is held) and once it can notice
// others' while it blocks (its sentinel is up): each takes a browser some milliseconds.
await lifeHeld();
await sentinelReady();
self.postMessage({ ready: true });

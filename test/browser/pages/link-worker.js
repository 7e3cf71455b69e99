// A Web Worker that the link page drives: each message is one command on a
// FutureLink this worker made or opened, each reply says what happened here.
/* global self, performance */
import { Future } from "/build/src/index.js";
import { FutureLink, LinkClosedError, openLink } from "/build/src/threads/browser.js";
import { lifeHeld } from "/build/src/threads/browser/life.js";
import { sentinelReady } from "/build/src/threads/browser/platform.js";

/** Plain data for the page: what was thrown. */
function thrown(error) {
  return {
    name: error?.constructor?.name ?? typeof error,
    message: error instanceof Error ? error.message : String(error),
  };
}

// Links by name, and futures received but left pending.
const links = new Map();
const held = [];

/** The result a server gives the i-th future it received with `payload`. */
function answer(kind, i) {
  switch (kind) {
    case "index":
      return i;
    case "text":
      return `#${i}`;
    case "object":
      return { i, list: [i, i + 1], when: new Date(0) };
    case "big":
      return "x".repeat(2000) + String(i);
    case "shared": {
      const sab = new SharedArrayBuffer(8);
      new Int32Array(sab)[0] = i;
      return new Int32Array(sab);
    }
    default:
      return undefined;
  }
}

const commands = {
  // Makes a link here; its handle goes back to the page.
  make({ name, capacity }) {
    const link = new FutureLink(capacity === undefined ? undefined : { capacity });
    links.set(name, link);
    return { ok: true, handle: link.handle, transfer: link.handle.transferList };
  },
  open({ name, handle }) {
    links.set(name, openLink(handle));
    return { ok: true, again: openLink(handle) === links.get(name) };
  },
  // Completes every future received, with `for await`, until the link closes; the reply says how many.
  async serveAwait({ name, kind = "index" }) {
    const link = links.get(name);
    let n = 0;
    try {
      for await (const fut of link) {
        fut.setResult(answer(kind, n));
        n++;
      }
      return { ok: true, served: n };
    } catch (e) {
      return { ok: false, served: n, error: thrown(e) };
    }
  },
  // Completes every future received, with blocking receive(), until the link closes.
  serveBlocking({ name, kind = "index", timeoutMs = 10_000, fail }) {
    const link = links.get(name);
    let n = 0;
    for (;;) {
      let fut;
      try {
        fut = link.receive(timeoutMs);
      } catch (e) {
        return { ok: e instanceof LinkClosedError, served: n, error: thrown(e) };
      }
      if (fail !== undefined && n === fail) fut.setException(new RangeError(`no ${n}`, { cause: new TypeError("inner") }));
      else fut.setResult(answer(kind, n));
      n++;
    }
  },
  // Blocks in receive() once, and keeps what arrives pending.
  receiveOne({ name, timeoutMs }) {
    const link = links.get(name);
    const start = performance.now();
    try {
      held.push(link.receive(timeoutMs));
      return { ok: true, ms: performance.now() - start };
    } catch (e) {
      return { ok: false, error: thrown(e), ms: performance.now() - start };
    }
  },
  // Blocks in receive() twice in a row (no event loop turn between), keeping what arrives pending.
  receiveTwice({ name, timeoutMs }) {
    const link = links.get(name);
    held.push(link.receive(timeoutMs));
    const start = performance.now();
    try {
      held.push(link.receive(timeoutMs));
      return { ok: true, first: true, ms: performance.now() - start };
    } catch (e) {
      return { ok: false, first: true, error: thrown(e), ms: performance.now() - start };
    }
  },
  // Receives (by await) `count` futures and keeps them pending.
  async hold({ name, count }) {
    const link = links.get(name);
    for (let i = 0; i < count; i++) {
      const next = await link.next();
      if (next.done) return { ok: false, error: { name: "done", message: `ended after ${i}` } };
      held.push(next.value);
    }
    return { ok: true };
  },
  // Sends `count` futures, blocking in wait() on each; checks each answer is its index.
  sendAndWait({ name, count, timeoutMs = 10_000 }) {
    const link = links.get(name);
    const start = performance.now();
    try {
      for (let i = 0; i < count; i++) {
        const fut = new Future();
        link.send(fut);
        const value = fut.wait(timeoutMs);
        if (value !== i) return { ok: false, error: { name: "order", message: `future ${i} got ${String(value)}` } };
      }
      return { ok: true, ms: performance.now() - start };
    } catch (e) {
      return { ok: false, error: thrown(e), ms: performance.now() - start };
    }
  },
  // Sends `count` futures at once, then awaits them all; the values in sending order.
  async sendMany({ name, count }) {
    const link = links.get(name);
    const futs = [];
    for (let i = 0; i < count; i++) {
      const fut = new Future();
      link.send(fut);
      futs.push(fut);
    }
    const values = [];
    for (const fut of futs) values.push(await fut);
    return { ok: true, values };
  },
  close({ name }) {
    links.get(name).close();
    return { ok: true, closed: links.get(name).closed };
  },
  // After the page closed the link: what send() and receive() say here.
  afterClose({ name }) {
    const link = links.get(name);
    const out = { ok: true, closed: link.closed };
    try {
      link.send(new Future());
    } catch (e) {
      out.send = thrown(e);
    }
    try {
      link.receive(1000);
    } catch (e) {
      out.receive = thrown(e);
    }
    return out;
  },
};

self.onmessage = async (event) => {
  const { id, op, ...args } = event.data;
  try {
    const result = await commands[op](args);
    const transfer = result.transfer ?? [];
    delete result.transfer;
    self.postMessage({ id, ...result }, transfer);
  } catch (e) {
    self.postMessage({ id, ok: false, error: thrown(e) });
  }
};
// Ready once this thread's death can be noticed and once it can notice others' while it blocks.
await lifeHeld();
await sentinelReady();
self.postMessage({ ready: true });

// The shared-memory mailbox, and the browser transport built on it (its
// MessagePort half is the one Node.js also has), checked in Node.js; the
// browser tests run the same code between a page and its workers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BY_PORT, DATA, MAX_BOX_BYTES, append, createBox, cursorOf, peek } from "../src/threads/browser/mailbox.js";
import { browserPlatform, type MailPort } from "../src/threads/browser/platform.js";
import { LATER } from "../src/threads/kit/index.js";

describe("mailbox", () => {
  it("hands out records in order, each once the writer has published it", () => {
    const box = createBox();
    const cursor = cursorOf(box);
    assert.equal(peek(cursor), undefined);
    assert.equal(append(box, DATA, new Uint8Array([1, 2, 3])), true);
    assert.equal(append(box, BY_PORT, undefined), true);
    const first = peek(cursor);
    assert.ok(first !== undefined);
    assert.equal(first.kind, DATA);
    assert.deepEqual([...first.bytes], [1, 2, 3]);
    cursor.at = first.next;
    const second = peek(cursor);
    assert.equal(second?.kind, BY_PORT);
    assert.equal(second.bytes.byteLength, 0);
    cursor.at = second.next;
    assert.equal(peek(cursor), undefined);
  });

  it("grows for a big record, and refuses one bigger than its reservation", () => {
    const box = createBox();
    const big = new Uint8Array(1 << 20).fill(7);
    assert.equal(append(box, DATA, big), true);
    assert.ok(box.byteLength > 1 << 20);
    const record = peek(cursorOf(box));
    assert.equal(record?.bytes.byteLength, 1 << 20);
    assert.equal(record.bytes[12345], 7);
    const before = box.byteLength;
    assert.equal(append(box, DATA, new Uint8Array(MAX_BOX_BYTES)), false);
    assert.equal(box.byteLength, before, "a refused record leaves the box as it was");
  });
});

/** Runs `body` with the two ends of a fresh channel, and closes both whatever happens. */
async function withChannel(body: (a: MailPort, b: MailPort) => void | Promise<void>): Promise<void> {
  const [a, b] = browserPlatform.channel();
  try {
    await body(a, b);
  } finally {
    a.close();
    b.close();
  }
}

describe("browser transport (MailPort)", () => {
  it("a message is read synchronously from shared memory, and the sender's transferred buffers are detached", () =>
    withChannel((a, b) => {
      const data = new Float32Array([3, 3]);
      a.postMessage({ t: 0, v: data }, [data.buffer]);
      assert.equal(data.buffer.byteLength, 0, "the sender lost its buffer");
      const got = browserPlatform.receive(b);
      assert.ok(got !== undefined && got !== LATER);
      assert.deepEqual(got.message, { t: 0, v: new Float32Array([3, 3]) });
      assert.equal(browserPlatform.receive(b), undefined, "read once");
    }));

  it("shared memory goes by the port: synchronous reading says LATER, the event loop delivers it, in order", () =>
    withChannel(async (a, b) => {
      const shared = new Int32Array(new SharedArrayBuffer(8));
      a.postMessage("first");
      a.postMessage({ shared });
      a.postMessage("third");
      const first = browserPlatform.receive(b);
      assert.ok(first !== undefined && first !== LATER);
      assert.equal(first.message, "first");
      assert.equal(browserPlatform.receive(b), LATER);
      const seen: unknown[] = [];
      const all = new Promise<void>((resolve) => {
        browserPlatform.listen(
          b,
          (message) => {
            seen.push(message);
            if (seen.length === 2) resolve();
          },
          (error) => {
            throw error;
          },
          () => undefined,
        );
      });
      await all;
      assert.equal(seen[1], "third");
      const carried = (seen[0] as { shared: Int32Array }).shared;
      carried[1] = 9;
      assert.equal(shared[1], 9, "the memory is shared, not copied");
    }));

  it("a value bigger than the mailbox goes by the port, whole", () =>
    withChannel(async (a, b) => {
      const big = new Uint8Array(MAX_BOX_BYTES + 1).fill(5);
      a.postMessage(big);
      assert.equal(browserPlatform.receive(b), LATER);
      const got = await new Promise<unknown>((resolve) => {
        browserPlatform.listen(b, resolve, resolve, () => undefined);
      });
      assert.ok(got instanceof Uint8Array);
      assert.equal(got.byteLength, MAX_BOX_BYTES + 1);
      assert.equal(got[MAX_BOX_BYTES], 5);
    }));

  it("a value that cannot be cloned throws and leaves nothing in the mailbox", () =>
    withChannel((a, b) => {
      assert.throws(() => {
        a.postMessage({ f: () => 1 });
      }, TypeError);
      assert.throws(() => {
        a.postMessage({ port: new MessageChannel().port1, shared: new SharedArrayBuffer(4) });
      }, /could not be cloned|DataCloneError|transfer/i);
      assert.equal(browserPlatform.receive(b), undefined);
    }));
});

// The plain codec: exact where it accepts a value (as structuredClone would rebuild it), declines the rest.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PlainReader, PlainWriter } from "../src/threads/codecs/plain-codec.js";

function roundTrip(value: unknown): { ok: boolean; back?: unknown } {
  const w = new PlainWriter();
  w.pos = 3; // an odd start: two-byte strings must stay aligned wherever the value begins
  if (!w.write(value)) return { ok: false };
  const copy = new Uint8Array(new SharedArrayBuffer(w.pos + 8));
  copy.set(w.bytes.subarray(0, w.pos + 1));
  const r = new PlainReader();
  r.reset(copy, new DataView(copy.buffer), 3);
  const back = r.read();
  assert.equal(r.pos, w.pos, "the reader ends where the writer did");
  return { ok: true, back };
}

const plain = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.double(),
    fc.integer(),
    fc.constantFrom(-0, NaN, Infinity, 2 ** 31, -(2 ** 31)),
    fc.string({ unit: "binary" }),
    fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("plain codec", () => {
  it("gives back what structuredClone gives, for plain values (property)", () => {
    fc.assert(
      fc.property(plain, (v) => {
        const { ok, back } = roundTrip(v);
        if (!ok) return; // declined (say, more than its object limit): the general codec takes it
        assert.deepStrictEqual(back, structuredClone(v));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps -0, lone surrogates, long strings and keys such as __proto__ as own properties", () => {
    const v = { a: -0, s: "\ud800x\udfff", long: "é".repeat(10_000) + "€", n: [1.5, 2 ** 40] };
    const { ok, back } = roundTrip(v);
    assert.equal(ok, true);
    assert.deepStrictEqual(back, v);
    assert.ok(Object.is((back as { a: number }).a, -0));
    const proto = JSON.parse('{"__proto__": 1}') as object;
    const out = roundTrip(proto).back as object;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepStrictEqual(Object.keys(out), ["__proto__"]);
  });

  it("declines what it would not rebuild exactly, and leaves pos where it was", () => {
    const shared = { x: 1 };
    const holes: unknown[] = [1];
    holes[3] = 2;
    const extra = Object.assign([1, 2], { tag: "x" });
    class Point { x = 1; }
    for (const v of [new Date(0), new Map(), 1n, new Point(), new Uint8Array(2), holes, extra, [shared, shared], new Error("e"), () => 1, Symbol("s")]) {
      const w = new PlainWriter();
      w.pos = 7;
      assert.equal(w.write(v), false, `declines ${typeof v}`);
      assert.equal(w.pos, 7);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    assert.equal(new PlainWriter().write(cyclic), false);
  });

  it("lets a getter's error through, as structuredClone does", () => {
    const boom = new RangeError("boom");
    const v = { get x(): number { throw boom; } };
    assert.throws(() => new PlainWriter().write(v), (e) => e === boom);
  });
});

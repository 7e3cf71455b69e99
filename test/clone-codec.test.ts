// The structured-clone codec (src/threads/codecs/clone-codec.ts): whatever it writes as bytes must come
// back as what structuredClone makes of the same value — shape, prototypes, property attributes,
// buffers and identity — and what structured clone refuses or bytes cannot carry must be refused.
// Where V8 versions disagree (errors), the codec has its own rules, asserted as such: a decoded
// error's `stack` is an own data property, an error inside its own cause comes back as one object,
// and name, message and stack are read before the cause.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MessageChannel } from "node:worker_threads";
import fc from "fast-check";
import { UnencodableError, decode, encode } from "../src/threads/codecs/clone-codec.js";
import { registerErrorClass } from "../src/threads/codecs/error-codec.js";
import { FutureError, FutureTimeoutError } from "../src/index.js";
import { LIBRARY_ERRORS } from "./threads/library-errors-worker.js";

const PROPERTY_RUNS = 1000;

// Resizable and growable buffers are ES2024; the project's lib is ES2022.
const ResizableArrayBuffer = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => SharedArrayBuffer;
interface Resizable {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(length: number): void;
}
const rab = (buffer: ArrayBuffer): Resizable => buffer as unknown as Resizable;

type ViewCtor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => ArrayBufferView;
const VIEW_CTORS: ViewCtor[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
];
const elementSize = (ctor: ViewCtor): number => (ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;

function roundTrip<T>(value: T): T {
  return decode(encode(value)) as T;
}

// ---------------------------------------------------------------------------
// A value graph described in full, to compare a decoded value with structuredClone's: objects
// numbered in visiting order (so identity must match), prototypes, every own property with its
// attributes and in order, buffer bytes and resizability, and whether views track their buffer.

const PROTOS = new Map<unknown, string>([
  [null, "null"],
  [Object.prototype, "Object"],
  [Array.prototype, "Array"],
  [Map.prototype, "Map"],
  [Set.prototype, "Set"],
  [Date.prototype, "Date"],
  [RegExp.prototype, "RegExp"],
  [Boolean.prototype, "Boolean"],
  [Number.prototype, "Number"],
  [String.prototype, "String"],
  [BigInt.prototype, "BigInt"],
  [ArrayBuffer.prototype, "ArrayBuffer"],
  ...[Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError].map((c): [unknown, string] => [c.prototype, c.name]),
  ...VIEW_CTORS.map((c): [unknown, string] => [c.prototype, c.name]),
]);

interface Shape {
  tree: unknown;
  invalidDate: boolean;
}

function viewLength(view: ArrayBufferView): number {
  return view.byteLength;
}

/** An error's `stack` as the codec rebuilds it: an own data property holding the string, or undefined. */
function codecStack(error: object): unknown[] {
  const stack = (error as { stack?: unknown }).stack;
  return ["stack", false, true, true, typeof stack === "string" ? stack : undefined];
}

/**
 * The graph of `root`, numbered and described in full. With `asCodec`, errors' stacks are
 * described as the codec's rule has them (V8 makes the clone's stack an accessor since Node 22).
 */
function shape(root: unknown, asCodec = false): Shape {
  const ids = new Map<object, number>();
  let invalidDate = false;
  const visit = (v: unknown): unknown => {
    // deepStrictEqual compares primitives with Object.is: NaN equals NaN, -0 differs from 0.
    if (typeof v !== "object" || v === null) return v;
    const seen = ids.get(v);
    if (seen !== undefined) return { ref: seen };
    ids.set(v, ids.size);
    const out: Record<string, unknown> = {
      proto: PROTOS.get(Object.getPrototypeOf(v)) ?? "other",
      tag: Object.prototype.toString.call(v),
    };
    if (ArrayBuffer.isView(v)) {
      // A typed array's own keys are its elements: its buffer's bytes say it all.
      out.byteOffset = v.byteOffset;
      out.byteLength = v.byteLength;
      const buffer = rab(v.buffer as ArrayBuffer);
      out.buffer = visit(v.buffer);
      if (buffer.resizable) {
        const before = v.buffer.byteLength;
        buffer.resize(buffer.maxByteLength);
        out.grownByteLength = viewLength(v);
        buffer.resize(before);
      }
      return out;
    }
    if (v instanceof ArrayBuffer) {
      out.resizable = rab(v).resizable;
      out.maxByteLength = rab(v).maxByteLength;
      out.bytes = Array.from(new Uint8Array(v));
    } else if (v instanceof Date) {
      out.time = v.getTime();
      if (Number.isNaN(out.time)) invalidDate = true;
    } else if (v instanceof RegExp) {
      out.source = v.source;
      out.flags = v.flags;
    } else if (v instanceof Map) {
      out.entries = [...(v as Map<unknown, unknown>)].map(([k, x]) => [visit(k), visit(x)]);
    } else if (v instanceof Set) {
      out.values = [...(v as Set<unknown>)].map(visit);
    } else if (v instanceof Boolean || v instanceof Number || v instanceof String || v instanceof BigInt) {
      out.primitive = v.valueOf();
    }
    const isError = out.tag === "[object Error]";
    out.own = Reflect.ownKeys(v).map((key) => {
      if (asCodec && isError && key === "stack") return codecStack(v);
      const d = Object.getOwnPropertyDescriptor(v, key) as PropertyDescriptor;
      return [String(key), d.enumerable, d.writable, d.configurable, "value" in d ? visit(d.value) : "accessor"];
    });
    return out;
  };
  const tree = visit(root);
  return { tree, invalidDate };
}

/** Asserts that decode(encode(v)) is what structuredClone(v) is, in full (errors' stacks by the codec's rule); returns it. */
function assertLikeStructuredClone<T>(value: T): T {
  const expected = structuredClone(value);
  const actual = roundTrip(value);
  const want = shape(expected, true);
  assert.deepStrictEqual(shape(actual), want);
  // Node 20's deepStrictEqual finds two invalid dates unequal (it compares their times with ===).
  if (!want.invalidDate) assert.deepStrictEqual(actual, expected);
  return actual;
}

// ---------------------------------------------------------------------------
// Generators for every kind the codec carries.

class Point {
  x = 1;
  get doubled(): number {
    return this.x * 2;
  }
}
class CustomError extends Error {}
class CustomTypeError extends TypeError {}

const textArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "binary-ascii", maxLength: 12 }),
  // Any UTF-16 code unit, lone surrogates included.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 }),
);
const numberArb = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 255, 256, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53, Number.MIN_VALUE),
);
const bigintArb = fc.oneof(fc.bigInt(), fc.bigInt({ min: -(1n << 600n), max: 1n << 600n }));
const dateArb = fc.oneof(
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((t) => new Date(t)),
  fc.constant(0).map(() => new Date(Number.NaN)),
);
const regexpArb = fc
  .record({
    source: fc.constantFrom("", "a+b", "^x$", "[a-z]\\d", "\\/", "a|b", "\\n", "(?<y>.)\\k<y>"),
    flags: fc.subarray(["d", "g", "i", "m", "s", "y"]),
    unicode: fc.constantFrom("", "u", "v"),
    lastIndex: fc.nat(5),
  })
  .map(({ source, flags, unicode, lastIndex }) => {
    const re = new RegExp(source, flags.join("") + unicode);
    re.lastIndex = lastIndex;
    return re;
  });
const boxedArb = fc.oneof(
  fc.boolean().map((b) => Object(b) as object),
  numberArb.map((n) => Object(n) as object),
  textArb.map((s) => Object(s) as object),
  bigintArb.map((b) => Object(b) as object),
);

function makeBuffer(bytes: Uint8Array, resizable: boolean, spare: number): ArrayBuffer {
  const buffer = resizable ? new ResizableArrayBuffer(bytes.length, { maxByteLength: bytes.length + spare }) : new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}
const bufferArb = fc
  .record({ bytes: fc.uint8Array({ maxLength: 32 }), resizable: fc.boolean(), spare: fc.nat(16) })
  .map(({ bytes, resizable, spare }) => makeBuffer(bytes, resizable, spare));

/** A view of `ctor`'s kind on `buffer`, where the numbers say, always valid. */
function makeView(ctor: ViewCtor, buffer: ArrayBuffer, start: number, count: number, tracking: boolean): ArrayBufferView {
  const size = elementSize(ctor);
  const offset = Math.min(start, Math.floor(buffer.byteLength / size)) * size;
  // Node 20 wants a length-tracking view to start with a whole number of elements.
  if (tracking && rab(buffer).resizable && (buffer.byteLength - offset) % size === 0) return new ctor(buffer, offset);
  return new ctor(buffer, offset, Math.min(count, Math.floor((buffer.byteLength - offset) / size)));
}
const viewSpecArb = fc.record({ ctor: fc.constantFrom(...VIEW_CTORS), start: fc.nat(6), count: fc.nat(8), tracking: fc.boolean() });
const viewArb = fc
  .tuple(bufferArb, viewSpecArb)
  .map(([buffer, { ctor, start, count, tracking }]) => makeView(ctor, buffer, start, count, tracking));
// Several views on one buffer, and the buffer itself: they must come back on one new buffer.
const sharedViewsArb = fc
  .tuple(
    fc.record({ bytes: fc.uint8Array({ minLength: 8, maxLength: 48 }), resizable: fc.boolean(), spare: fc.nat(16) }),
    fc.array(viewSpecArb, { minLength: 2, maxLength: 4 }),
  )
  .map(([{ bytes, resizable, spare }, specs]) => {
    const buffer = makeBuffer(bytes, resizable, spare);
    return [...specs.map(({ ctor, start, count, tracking }) => makeView(ctor, buffer, start, count, tracking)), buffer];
  });

const keyArb = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom("__proto__", "0", "1", "10", "4294967295", "-1", "constructor", "length", "a b", "é"),
);
const arrayKeyArb = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom("__proto__", "4294967295", "-1", "x")).filter((k) => k !== "length");

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

const ERROR_CTORS = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, CustomError, CustomTypeError];

type Values = {
  value: unknown;
  leaf: unknown;
  array: unknown;
  sparse: unknown;
  object: unknown;
  map: unknown;
  set: unknown;
  error: unknown;
  cyclic: unknown;
};

const { value: valueArb } = fc.letrec<Values>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4, withCrossShrink: true },
    tie("leaf"),
    tie("array"),
    tie("sparse"),
    tie("object"),
    tie("map"),
    tie("set"),
    tie("error"),
    tie("cyclic"),
  ),
  leaf: fc.oneof(
    fc.constantFrom(undefined, null, true, false),
    numberArb,
    bigintArb,
    textArb,
    dateArb,
    regexpArb,
    boxedArb,
    bufferArb,
    viewArb,
    sharedViewsArb,
    fc.anything({
      maxDepth: 2,
      maxKeys: 3,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withBigInt: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withObjectString: true,
      stringUnit: "binary",
    }),
  ),
  array: fc.array(tie("value"), { maxLength: 5 }),
  sparse: fc
    .record({
      length: fc.nat(2000),
      entries: fc.array(fc.tuple(fc.nat(1999), tie("value")), { maxLength: 4 }),
      extras: fc.array(fc.tuple(arrayKeyArb, tie("value")), { maxLength: 2 }),
    })
    .map(({ length, entries, extras }) => {
      const a: unknown[] = [];
      a.length = length;
      for (const [i, v] of entries) a[i] = v;
      for (const [k, v] of extras) define(a, k, v);
      return a;
    }),
  object: fc
    .tuple(fc.array(fc.tuple(keyArb, tie("value")), { maxLength: 5 }), fc.constantFrom("plain", "null", "class", "hidden"))
    .map(([entries, kind]) => {
      const o: object = kind === "null" ? (Object.create(null) as object) : kind === "class" ? new Point() : {};
      for (const [k, v] of entries) define(o, k, v);
      if (kind === "hidden") {
        // Neither a non-enumerable nor a symbol-keyed property is cloned.
        Object.defineProperty(o, "hidden", { value: 1, enumerable: false });
        (o as Record<symbol, unknown>)[Symbol("s")] = 2;
      }
      return o;
    }),
  map: fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 4 }).map((entries) => new Map(entries)),
  set: fc.array(tie("value"), { maxLength: 4 }).map((values) => new Set(values)),
  error: fc
    .record({
      ctor: fc.constantFrom(...ERROR_CTORS),
      message: fc.option(fc.oneof(textArb, fc.integer())),
      name: fc.option(fc.constantFrom("TypeError", "RangeError", "URIError", "Error", "Custom", "AggregateError")),
      stack: fc.option(fc.oneof(textArb, fc.constant(42))),
      cause: fc.option(fc.tuple(tie("value"))),
      extra: fc.option(tie("value")),
      aggregate: fc.boolean(),
    })
    .map(({ ctor, message, name, stack, cause, extra, aggregate }) => {
      const text = message === null ? undefined : String(message);
      const e = aggregate ? new AggregateError([1, 2], text) : new ctor(text);
      if (name !== null) e.name = name;
      if (stack !== null) Object.defineProperty(e, "stack", { value: stack, writable: true, enumerable: false, configurable: true });
      if (cause !== null) e.cause = cause[0];
      if (extra !== null) define(e, "extra", extra);
      return e;
    }),
  cyclic: fc.tuple(fc.constantFrom("object", "array", "map", "set", "error"), tie("value")).map(([kind, v]) => {
    switch (kind) {
      case "object": {
        const o: Record<string, unknown> = { v };
        o.self = o;
        return o;
      }
      case "array": {
        const a: unknown[] = [v];
        a.push(a, [a]);
        return a;
      }
      case "map": {
        const m = new Map<unknown, unknown>([[v, 1]]);
        m.set(m, m);
        return m;
      }
      case "set": {
        const s = new Set<unknown>([v]);
        s.add(s);
        return s;
      }
      default: {
        // An error whose cause leads back to the object holding it (not to the error).
        const holder: Record<string, unknown> = { v };
        holder.error = new Error("in a cycle", { cause: holder });
        return holder;
      }
    }
  }),
}));

// The same values reached several times, in several containers.
const rootArb = fc.tuple(valueArb, valueArb).map(([a, b]) => [a, b, a, new Map([[b, a]]), { b }]);

// ---------------------------------------------------------------------------

describe("clone-codec: the same result as structuredClone", () => {
  it(`for arbitrary values of every supported kind (${PROPERTY_RUNS} runs)`, () => {
    let refused = 0;
    fc.assert(
      fc.property(rootArb, (value) => {
        let expected: unknown;
        try {
          expected = structuredClone(value);
        } catch {
          // What structured clone refuses, encode must refuse too. (Node 20 also refuses an error inside
          // its own cause, which the codec keeps: the generator makes none, it is tested apart.)
          refused++;
          assert.throws(() => encode(value), TypeError);
          return;
        }
        const actual = roundTrip(value);
        const want = shape(expected, true);
        assert.deepStrictEqual(shape(actual), want);
        if (!want.invalidDate) assert.deepStrictEqual(actual, expected);
      }),
      { numRuns: PROPERTY_RUNS },
    );
    assert.ok(refused < PROPERTY_RUNS / 10, `structuredClone refused ${refused} generated values: the generator is off`);
  });

  it("primitives: -0, NaN, ±Infinity, int32 edges, bigints of any size and sign, every UTF-16 string", () => {
    const values = [undefined, null, true, false, 0, -0, Number.NaN, Infinity, -Infinity, 255, 256, -1, 2 ** 31, -(2 ** 31) - 1, 0.1];
    const bigints = [0n, -1n, 2n ** 64n, -(7n ** 999n)];
    const strings = ["", "latin1 é ÿ", "a\ud800", "\udc00b", "\ud83d\ude00", "x".repeat(20_000), "漢\ud800".repeat(10_000)];
    for (const v of [...values, ...bigints, ...strings]) assert.ok(Object.is(roundTrip(v), v), `${String(v).slice(0, 20)} changed`);
    assertLikeStructuredClone([...values, ...bigints, ...strings]);
  });

  it("wrapper objects keep their primitive and lose their properties", () => {
    const s = Object.assign(new String("ab\udc00"), { extra: 1 });
    const [b, n, str, big] = assertLikeStructuredClone([Object(false), Object(-0), s, Object(-(2n ** 70n))] as object[]);
    assert.equal(Object.prototype.toString.call(b), "[object Boolean]");
    assert.ok(Object.is((n as unknown as number).valueOf(), -0));
    assert.equal((str as unknown as string).valueOf(), "ab\udc00");
    assert.equal(Object.keys(str as object).includes("extra"), false);
    assert.equal((big as unknown as bigint).valueOf(), -(2n ** 70n));
  });

  it("Date (also invalid) and RegExp (source, every flag, lastIndex back to 0)", () => {
    const re = /a\/b[\p{L}]/dgimsuy;
    re.lastIndex = 3;
    const [date, invalid, r, v] = assertLikeStructuredClone<[Date, Date, RegExp, RegExp]>([new Date(1e12), new Date(Number.NaN), re, new RegExp("[\\p{L}--[a-z]]", "v")]);
    assert.equal(date.getTime(), 1e12);
    assert.ok(Number.isNaN(invalid.getTime()));
    assert.equal(r.source, re.source);
    assert.equal(r.flags, "dgimsuy");
    assert.equal(r.lastIndex, 0);
    assert.equal(v.flags, "v");
  });

  it("errors: only built-in names keep their prototype; message, stack and a data cause are kept", () => {
    const inherited = new CustomTypeError("t"); // name "TypeError", from TypeError.prototype
    const renamed = Object.assign(new CustomTypeError("n"), { name: "CustomTypeError" });
    const rangeByName = Object.assign(new Error("r"), { name: "RangeError" });
    const withCause = new Error("c", { cause: { a: [1] } });
    const cloned = assertLikeStructuredClone([inherited, renamed, rangeByName, new AggregateError([1], "agg"), withCause, new URIError("u")]);
    assert.deepStrictEqual(
      cloned.map((e) => Object.getPrototypeOf(e) as unknown),
      [TypeError.prototype, Error.prototype, RangeError.prototype, Error.prototype, Error.prototype, URIError.prototype],
    );
    assert.equal(Object.hasOwn(cloned[3] as object, "errors"), false);
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(cloned[4], "cause"), { value: { a: [1] }, writable: true, enumerable: false, configurable: true });
    assert.equal((cloned[4] as Error).stack, withCause.stack);
  });

  it("errors: the odd cases V8 has rules for", () => {
    const noMessage = new Error();
    const numeric = Object.assign(new Error(), { message: 42 });
    const badStack = Object.assign(new Error("s"), { stack: 42 });
    const extra = Object.assign(new Error("x"), { code: "E_X" });
    const accessors = new Error("a");
    Object.defineProperty(accessors, "message", { get: () => "got", configurable: true });
    Object.defineProperty(accessors, "cause", { get: () => "cause", configurable: true });
    const undefinedCause = new Error("u", { cause: undefined });
    const [a, b, c, d, e, f] = assertLikeStructuredClone<Error[]>([noMessage, numeric, badStack, extra, accessors, undefinedCause]);
    assert.equal(Object.hasOwn(a as Error, "message"), false);
    assert.equal((b as Error).message, "42");
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(c, "stack"), { value: undefined, writable: true, enumerable: false, configurable: true });
    assert.equal(Object.hasOwn(d as Error, "code"), false);
    assert.equal(Object.hasOwn(e as Error, "message") || Object.hasOwn(e as Error, "cause"), false);
    assert.ok(Object.hasOwn(f as Error, "cause"));
    assert.equal((f as Error).cause, undefined);
  });

  it("arrays: holes, trailing holes, huge sparse arrays and extra properties are kept", () => {
    const holey: unknown[] = [];
    holey[0] = 1;
    holey[2] = 3;
    const trailing = [1, 2];
    trailing.length = 5;
    const sparse: unknown[] = [];
    sparse[1_000_000] = "far";
    const extra = Object.assign(["a"], { x: "y", "4294967295": "not an index", "-1": "neither" });
    const [h, t, s, x] = assertLikeStructuredClone<unknown[][]>([holey, trailing, sparse, extra]);
    assert.deepStrictEqual(Object.keys(h as unknown[]), ["0", "2"]);
    assert.equal((t as unknown[]).length, 5);
    assert.deepStrictEqual(Object.keys(s as unknown[]), ["1000000"]);
    assert.equal((s as unknown[]).length, 1_000_001);
    assert.deepStrictEqual(Object.keys(x as unknown[]), Object.keys(extra));
    assert.equal((x as unknown[]).length, 1);
  });

  it("ordinary objects become plain objects with their own enumerable string keys, in order", () => {
    const instance = Object.assign(new Point(), { y: 2 });
    const nullProto = Object.assign(Object.create(null) as object, { b: 1, 2: "two", a: 3 });
    const protoKey = JSON.parse('{"__proto__": {"polluted": true}, "k": 1}') as object;
    const hidden = { shown: 1, [Symbol("s")]: 2 };
    Object.defineProperty(hidden, "hidden", { value: 3, enumerable: false });
    const [i, n, p, h] = assertLikeStructuredClone([instance, nullProto, protoKey, hidden]) as Record<string, unknown>[];
    assert.equal(Object.getPrototypeOf(i), Object.prototype);
    assert.deepStrictEqual(Object.keys(i as object), ["x", "y"]);
    assert.equal(Object.getPrototypeOf(n), Object.prototype);
    assert.deepStrictEqual(Object.keys(n as object), ["2", "b", "a"]);
    assert.equal(Object.getPrototypeOf(p), Object.prototype, "an own __proto__ key set the prototype");
    assert.deepStrictEqual(Object.keys(p as object), ["__proto__", "k"]);
    assert.deepStrictEqual(Reflect.ownKeys(h as object), ["shown"]);
  });

  it("Map and Set keep their entries, in order, cloned", () => {
    const key = { k: 1 };
    const [m, s] = assertLikeStructuredClone<[Map<unknown, unknown>, Set<unknown>]>([
      new Map<unknown, unknown>([["z", 1], [key, new Set([key])], [Number.NaN, -0]]),
      new Set<unknown>([3, "a", key, 1n]),
    ]);
    assert.deepStrictEqual([...m.keys()].slice(0, 1), ["z"]);
    const clonedKey = [...m.keys()][1];
    assert.equal([...(m.get(clonedKey) as Set<unknown>)][0], clonedKey);
    assert.deepStrictEqual([...s].slice(0, 2), [3, "a"]);
  });

  it("ArrayBuffer, typed arrays of every kind and DataView keep bytes, offsets and lengths", () => {
    const buffer = new ArrayBuffer(64);
    new Uint8Array(buffer).forEach((_, i, a) => (a[i] = i * 7));
    const views = VIEW_CTORS.map((ctor) => new ctor(buffer, 8, 2));
    const cloned = assertLikeStructuredClone(views);
    for (const [i, view] of cloned.entries()) {
      assert.equal(view.byteOffset, 8);
      assert.equal(view.byteLength, 2 * elementSize(VIEW_CTORS[i] as ViewCtor));
      assert.equal(view.buffer, cloned[0]?.buffer, "views on one buffer came back on several");
    }
    assert.deepStrictEqual([...new Uint8Array((cloned[0] as ArrayBufferView).buffer as ArrayBuffer)], [...new Uint8Array(buffer)]);
  });

  it("resizable buffers stay resizable; length-tracking views keep tracking, fixed ones do not", () => {
    const buffer = new ResizableArrayBuffer(16, { maxByteLength: 64 });
    new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const [b, tracking, fixed, dv] = assertLikeStructuredClone([buffer, new Float32Array(buffer, 4), new Uint16Array(buffer, 2, 3), new DataView(buffer, 1)]) as [
      ArrayBuffer,
      Float32Array,
      Uint16Array,
      DataView,
    ];
    assert.equal(rab(b).resizable, true);
    assert.equal(rab(b).maxByteLength, 64);
    rab(b).resize(32);
    assert.equal(tracking.length, 7);
    assert.equal(fixed.length, 3);
    assert.equal(dv.byteLength, 31);
    // Finding out whether a view tracks resizes its buffer and back: the original must not show it.
    assert.equal(buffer.byteLength, 16);
    assert.deepStrictEqual([...new Uint8Array(buffer)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  });

  it("length tracking is found also on a buffer already at its maximum length, which comes back intact", () => {
    const full = new ResizableArrayBuffer(8, { maxByteLength: 8 });
    new Uint8Array(full).set([9, 8, 7, 6, 5, 4, 3, 2]);
    const [tracking, fixed] = assertLikeStructuredClone([new Uint16Array(full, 2), new Uint16Array(full, 2, 3)]) as Uint16Array[];
    rab((tracking as Uint16Array).buffer as ArrayBuffer).resize(4);
    assert.equal((tracking as Uint16Array).length, 1);
    assert.equal((fixed as Uint16Array).length, 0, "a fixed view reaching past the shrunk buffer is out of bounds");
    assert.equal(full.byteLength, 8);
    assert.deepStrictEqual([...new Uint8Array(full)], [9, 8, 7, 6, 5, 4, 3, 2]);
  });
});

describe("clone-codec: identity and cycles", () => {
  it("an object reached several times decodes to one object, wherever it is reached", () => {
    const shared = { s: 1 };
    const date = new Date(0);
    const value = { a: shared, b: [shared, date], m: new Map<unknown, unknown>([[shared, date]]), s: new Set([shared]), e: new Error("e", { cause: shared }) };
    const r = assertLikeStructuredClone(value);
    assert.equal(r.b[0], r.a);
    assert.equal([...r.m.keys()][0], r.a);
    assert.equal(r.m.get(r.a), r.b[1]);
    assert.equal([...r.s][0], r.a);
    assert.equal(r.e.cause, r.a);
    assert.notEqual(r.a, shared);
  });

  it("objects, arrays, maps and sets that contain themselves", () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    const a: unknown[] = [];
    a.push(a, { back: a });
    const m = new Map<unknown, unknown>();
    m.set(m, m);
    const s = new Set<unknown>();
    s.add(s);
    const [ro, ra, rm, rs] = assertLikeStructuredClone<[Record<string, unknown>, unknown[], Map<unknown, unknown>, Set<unknown>]>([o, a, m, s]);
    assert.equal(ro.self, ro);
    assert.equal(ra[0], ra);
    assert.equal((ra[1] as { back: unknown }).back, ra);
    assert.equal(rm.get(rm), rm);
    assert.ok(rs.has(rs));
  });

  it("an error whose cause is itself, or leads back to it, decodes as one object (the codec's rule; Node 20's structuredClone refuses it)", () => {
    const self = new TypeError("self");
    self.cause = self;
    const through = new Error("through");
    through.cause = { list: [through] };
    const [s, t] = roundTrip<unknown>([self, through]) as [TypeError, Error];
    assert.equal(Object.getPrototypeOf(s), TypeError.prototype);
    assert.equal(s.message, "self");
    assert.equal(s.stack, self.stack);
    assert.equal(s.cause, s);
    assert.notEqual(s, self);
    assert.equal(t.message, "through");
    assert.equal((t.cause as { list: unknown[] }).list[0], t);
    // The same error reached again after its cause: one object still.
    const again = roundTrip<unknown>({ a: self, b: [self] }) as { a: Error; b: Error[] };
    assert.equal(again.b[0], again.a);
    assert.equal(again.a.cause, again.a);
  });

  it("an error whose cause leads back to the object holding the error", () => {
    const holder: Record<string, unknown> = {};
    holder.error = new Error("e", { cause: holder });
    const r = assertLikeStructuredClone(holder);
    assert.equal((r.error as Error).cause, r);
  });

  it("views keep sharing their buffer with each other and with the buffer itself", () => {
    const buffer = new ArrayBuffer(24);
    const value = { buffer, bytes: new Uint8Array(buffer, 3, 5), floats: new Float64Array(buffer, 8, 2), dv: new DataView(buffer, 1, 2) };
    const r = assertLikeStructuredClone(value);
    assert.equal(r.bytes.buffer, r.buffer);
    assert.equal(r.floats.buffer, r.buffer);
    assert.equal(r.dv.buffer, r.buffer);
    assert.notEqual(r.buffer, buffer);
  });

  it("nesting 100,000 deep round-trips without overflowing the stack (structuredClone itself stops near 5,000)", () => {
    let nested: unknown = "bottom";
    for (let i = 0; i < 100_000; i++) nested = i % 2 ? [nested] : { n: nested };
    let r = roundTrip(nested);
    let depth = 0;
    while (typeof r === "object" && r !== null) {
      r = Array.isArray(r) ? (r[0] as unknown) : (r as { n: unknown }).n;
      depth++;
    }
    assert.equal(depth, 100_000);
    assert.equal(r, "bottom");
  });
});

describe("clone-codec: decoding from shared memory", () => {
  const sample = () => ({
    text: "wide \ud800 漢",
    latin: "x".repeat(100),
    floats: new Float64Array([1.5, -0, Number.NaN]),
    bytes: new Uint8Array([1, 2, 3]),
    map: new Map([["k", [1, 2]]]),
  });

  function assertUnshared(value: ReturnType<typeof sample>, memory: Uint8Array): void {
    for (const view of [value.floats, value.bytes]) {
      assert.equal(Object.prototype.toString.call(view.buffer), "[object ArrayBuffer]");
      assert.equal(view.buffer instanceof SharedArrayBuffer, false);
    }
    // Overwrite the shared memory: nothing decoded may change.
    memory.fill(0xff);
    assert.deepStrictEqual(value, sample());
  }

  it("from a view at an odd offset into a SharedArrayBuffer, into unshared memory", () => {
    const bytes = encode(sample());
    const memory = new Uint8Array(new SharedArrayBuffer(bytes.length + 20), 13, bytes.length);
    memory.set(bytes);
    const value = decode(memory) as ReturnType<typeof sample>;
    assert.deepStrictEqual(value, sample());
    assertUnshared(value, memory);
  });

  it("from a view into a growable SharedArrayBuffer, written after it grew", () => {
    const bytes = encode(sample());
    const shared = new GrowableSharedArrayBuffer(8, { maxByteLength: bytes.length + 64 });
    (shared as unknown as { grow(length: number): void }).grow(bytes.length + 40);
    const memory = new Uint8Array(shared, 7, bytes.length);
    memory.set(bytes);
    const value = decode(memory) as ReturnType<typeof sample>;
    assert.deepStrictEqual(value, sample());
    assertUnshared(value, memory);
  });

  it("encode returns a fresh, unshared array of exactly the bytes written", () => {
    const bytes = encode({ a: [1, 2, 3] });
    assert.equal(Object.prototype.toString.call(bytes.buffer), "[object ArrayBuffer]");
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.length);
    assert.notEqual(encode({ a: [1, 2, 3] }).buffer, bytes.buffer);
  });

  it("bytes that are not an encoded value are rejected", () => {
    assert.throws(() => decode(new Uint8Array([99, 0])), TypeError);
    const bytes = encode({ a: "text" });
    assert.throws(() => decode(bytes.subarray(0, bytes.length - 2)), TypeError);
  });
});

/** Asserts that `fn` throws an error of class `Class` whose message matches `message`. */
function assertThrowsWith(fn: () => unknown, Class: new (...args: never[]) => Error, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Class, `threw ${String(error)}, not a ${Class.name}`);
    assert.match(error.message, message);
    return true;
  });
}

describe("clone-codec: refusals", () => {
  const detach = (buffer: ArrayBuffer): void => void structuredClone(buffer, { transfer: [buffer] });
  const detached = (): ArrayBuffer => {
    const buffer = new ArrayBuffer(8);
    detach(buffer);
    return buffer;
  };
  const onDetached = (): Uint8Array => {
    const view = new Uint8Array(8);
    detach(view.buffer);
    return view;
  };

  const refused: [string, () => unknown, RegExp][] = [
    ["a function", () => ({ cb: () => 1 }), /^value\.cb is a function, which cannot be cloned$/],
    ["a symbol", () => ({ deep: [Symbol("s")] }), /^value\.deep\[0\] is a symbol, which cannot be cloned$/],
    ["a Symbol object", () => [Object(Symbol("s")) as object], /^value\[0\] is a Symbol object/],
    ["a WeakMap", () => new Map([["k", new WeakMap()]]), /^value\[Map entry 0\]\.value is a WeakMap/],
    ["a WeakSet", () => new Set([new WeakSet()]), /^value\[Set entry 0\] is a WeakSet/],
    ["a WeakRef", () => ({ "odd key": new WeakRef({}) }), /^value\["odd key"\] is a WeakRef/],
    ["a Promise", () => ({ p: Promise.resolve(1) }), /^value\.p is a Promise/],
    ["a detached ArrayBuffer", () => ({ buf: detached() }), /^value\.buf is a detached ArrayBuffer/],
    ["a view on a detached ArrayBuffer", () => ({ view: onDetached() }), /^value\.view is a Uint8Array on a detached ArrayBuffer/],
  ];
  for (const [kind, make, message] of refused) {
    it(`${kind}: TypeError naming the path, where structuredClone refuses too`, () => {
      assert.throws(() => structuredClone(make()));
      assertThrowsWith(() => encode(make()), TypeError, message);
    });
  }

  it("a view out of the bounds of its shrunk buffer: TypeError, as structuredClone", () => {
    const buffer = new ResizableArrayBuffer(8, { maxByteLength: 8 });
    const view = new Uint8Array(buffer, 4, 4);
    rab(buffer).resize(2);
    assert.throws(() => structuredClone(view));
    assertThrowsWith(() => encode({ view }), TypeError, /^value\.view is a Uint8Array out of the bounds of its resized ArrayBuffer/);
  });

  it("symbol-keyed properties are skipped, not refused", () => {
    assert.deepStrictEqual(roundTrip({ a: 1, [Symbol("s")]: () => 1 }), { a: 1 });
  });

  it("SharedArrayBuffer, and a view on one: UnencodableError naming the path", () => {
    assertThrowsWith(() => encode({ data: new SharedArrayBuffer(8) }), UnencodableError, /^value\.data is a SharedArrayBuffer/);
    assertThrowsWith(() => encode({ data: [new Int32Array(new SharedArrayBuffer(8))] }), UnencodableError, /^value\.data\[0\]\.buffer is a SharedArrayBuffer/);
    assertThrowsWith(() => encode(new DataView(new SharedArrayBuffer(8))), UnencodableError, /^value\.buffer is a SharedArrayBuffer/);
  });

  it("a MessagePort: UnencodableError naming the path", () => {
    const { port1, port2 } = new MessageChannel();
    try {
      assertThrowsWith(() => encode({ ports: [port1] }), UnencodableError, /^value\.ports\[0\] is a MessagePort/);
    } finally {
      port1.close();
      port2.close();
    }
  });

  it("other platform objects (a Blob): UnencodableError naming the path", () => {
    assertThrowsWith(() => encode({ blob: new Blob(["x"]) }), UnencodableError, /^value\.blob is a Blob/);
  });

  it("UnencodableError is an Error named UnencodableError", () => {
    const error = new UnencodableError("value is a SharedArrayBuffer");
    assert.ok(error instanceof Error);
    assert.equal(error.name, "UnencodableError");
    assert.equal(error.message, "value is a SharedArrayBuffer");
  });
});

describe("clone-codec: getters", () => {
  it("an own getter is invoked once, a prototype's never", () => {
    let own = 0;
    let inherited = 0;
    class WithGetter {
      get fromProto(): number {
        return ++inherited;
      }
    }
    const value = Object.defineProperty(new WithGetter(), "fromOwn", { get: () => ({ calls: ++own }), enumerable: true });
    assert.deepStrictEqual(roundTrip(value), { fromOwn: { calls: 1 } });
    assert.equal(own, 1);
    assert.equal(inherited, 0);
  });

  it("getters run in structuredClone's order, interleaved with writing what they return", () => {
    const run = (clone: (v: unknown) => unknown): { log: string[]; result: unknown } => {
      const log: string[] = [];
      const value: Record<string, unknown> = {
        get a() {
          log.push("a");
          return {
            get inner() {
              log.push("inner");
              return 1;
            },
          };
        },
        get b() {
          log.push("b");
          delete value.c; // deleted before it is reached: skipped
          return 2;
        },
        c: 3,
      };
      return { log, result: clone(value) };
    };
    const ours = run(roundTrip);
    assert.deepStrictEqual(ours, run(structuredClone));
    assert.deepStrictEqual(ours.log, ["a", "inner", "b"]);
  });

  it("an error's name, message and stack are read before its cause (the codec's order; Node 22's too, not Node 20's)", () => {
    const log: string[] = [];
    const error = new Error("x");
    // Redefining the stack first: Node 20 formats the old one then, reading name and message.
    Object.defineProperty(error, "stack", { get: () => (log.push("stack"), "the stack") });
    error.message = { toString: () => (log.push("message"), "m") } as unknown as string;
    Object.defineProperty(error, "name", { get: () => (log.push("name"), "RangeError") });
    error.cause = { get c() { return log.push("cause"); } };
    const clone = roundTrip(error);
    assert.deepStrictEqual(log, ["name", "message", "stack", "cause"]);
    assert.ok(clone instanceof RangeError);
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(clone, "stack"), { value: "the stack", writable: true, enumerable: false, configurable: true });
    assert.equal(clone.message, "m");
    assert.deepStrictEqual(clone.cause, { c: 4 }); // the log length when the cause was read
  });

  it("a throwing getter's error propagates as the same object", () => {
    const boom = new Error("boom");
    const value = {
      a: 1,
      get b(): never {
        throw boom;
      },
    };
    assert.throws(() => encode([value]), (error: unknown) => error === boom);
  });
});

describe("clone-codec: large values", () => {
  it("a 16 MiB Float32Array round-trips with equal contents", () => {
    const big = new Float32Array(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 3 === 0 ? -i / 7 : i;
    big[1] = Number.NaN;
    big[2] = -0;
    const r = roundTrip(big);
    assert.ok(r instanceof Float32Array);
    assert.equal(r.length, big.length);
    assert.notEqual(r.buffer, big.buffer);
    assert.ok(Buffer.from(r.buffer).equals(Buffer.from(big.buffer)), "contents differ");
  });

  it("long strings, one byte and two bytes a unit, cross the decoder's chunks intact", () => {
    const latin = Array.from({ length: 50_000 }, (_, i) => String.fromCharCode(i % 256)).join("");
    const wide = Array.from({ length: 50_000 }, (_, i) => String.fromCharCode((i * 37) % 0x10000)).join("");
    assert.equal(roundTrip(latin), latin);
    assert.equal(roundTrip(wide), wide);
  });
});

describe("clone-codec: the library's own errors keep their class (registered classes)", () => {
  it("every exported error class: instanceof it and FutureError, with its name, message, stack and cause", () => {
    for (const Class of LIBRARY_ERRORS) {
      const root = new Class("the root");
      const error = new Class(`a ${Class.name}`, { cause: new RangeError("the cause", { cause: root }) });
      const r = roundTrip<unknown>({ error, again: root }) as { error: FutureError; again: FutureError };
      assert.ok(r.error instanceof Class, `${Class.name} came back as ${Object.prototype.toString.call(r.error)}`);
      assert.ok(r.error instanceof FutureError);
      assert.equal(Object.prototype.toString.call(r.error), "[object Error]");
      assert.equal(r.error.name, Class.name);
      assert.equal(r.error.message, error.message);
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(r.error, "stack"), { value: error.stack, writable: true, enumerable: false, configurable: true });
      assert.deepStrictEqual(Object.keys(r.error), ["name"], "own enumerable keys as its constructor makes them");
      const cause = r.error.cause as RangeError;
      assert.ok(cause instanceof RangeError);
      assert.ok(cause.cause instanceof Class);
      assert.equal(cause.cause, r.again, "one object, wherever it is reached");
      // A decoded one encodes again as itself.
      assert.ok(roundTrip(r.error) instanceof Class);
    }
  });

  it("a subclass of a registered class comes back as the nearest registered one, keeping its name", () => {
    class QuotaTimeout extends FutureTimeoutError {}
    const r = roundTrip<Error>(new QuotaTimeout("over quota"));
    assert.equal(Object.getPrototypeOf(r), FutureTimeoutError.prototype);
    assert.equal(r.name, "QuotaTimeout");
    assert.equal(r.message, "over quota");
  });

  it("a class registered on the sending thread only comes back as the built-in its name picks, as before", () => {
    class SentOnlyErrorA extends TypeError {}
    registerErrorClass("SentOnlyErrorA", SentOnlyErrorA);
    const bytes = encode(Object.assign(new SentOnlyErrorA("m"), { name: "TypeError" }));
    // The receiver knows no "SentOnlyErrorB": the same bytes, with the last letter of the class name changed.
    const at = Buffer.from(bytes).indexOf("SentOnlyErrorA") + "SentOnlyError".length;
    bytes[at] = "B".charCodeAt(0);
    const r = decode(bytes) as Error;
    assert.equal(Object.getPrototypeOf(r), TypeError.prototype);
    assert.equal(r.message, "m");
    assert.equal(Object.hasOwn(r, "name"), false);
  });
});

describe("clone-codec: the reused encoder", () => {
  it("an encode started by a getter during another gets its own buffer; both results are whole", () => {
    let inner: Uint8Array | undefined;
    const value = {
      get a(): string {
        inner = encode({ inner: "x".repeat(300), n: 1.5 });
        return "outer";
      },
      b: [2.5, "y"],
    };
    const outer = encode(value);
    assert.deepStrictEqual(decode(outer), { a: "outer", b: [2.5, "y"] });
    assert.deepStrictEqual(decode(inner as Uint8Array), { inner: "x".repeat(300), n: 1.5 });
  });

  it("after an encode that threw, the next one starts clean", () => {
    assert.throws(() => encode({ a: "x".repeat(100), f: () => 1 }), TypeError);
    const shared = { s: 1 };
    assert.deepStrictEqual(decode(encode({ a: shared, b: shared, k: 1 })), { a: { s: 1 }, b: { s: 1 }, k: 1 });
    assert.deepStrictEqual(decode(encode("after")), "after");
  });

  it("results never share memory with each other, also after a value larger than the kept buffer", () => {
    const big = encode(new Uint8Array(1 << 17));
    const a = encode([1, 2, 3]);
    const b = encode([1, 2, 3]);
    assert.notEqual(a.buffer, b.buffer);
    assert.notEqual(a.buffer, big.buffer);
    b[1] = 0xff;
    assert.deepStrictEqual(decode(a), [1, 2, 3]);
    assert.equal((decode(big) as Uint8Array).length, 1 << 17);
  });
});

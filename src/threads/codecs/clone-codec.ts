/**
 * A structured-clone serializer in plain JavaScript. Browsers have no
 * synchronous way to read a message port and expose no serializer, so a
 * thread blocked in `Atomics.wait` can only receive a value that the
 * completing thread wrote as bytes into shared memory: this writes and reads
 * those bytes.
 *
 * Why this codec, not a library's structured-clone mode: over a corpus of 87
 * values (lone surrogates, -0, NaN, holes, typed arrays at offsets, shared
 * buffers, Map/Set identity, cycles, Date, RegExp, BigInt, boxed primitives,
 * errors with causes, what must be refused), decode(encode(v)) is what
 * `structuredClone(v)` is for 87/87 on Node.js 22 and 24 and 86/87 on 20 (an
 * error inside its own cause, which Node 20 refuses and this codec keeps, by
 * its rule below); msgpackr 2.1 (`structuredClone: true`) matches 53/87 and
 * cbor-x 1.6 50/87 on all three: lone surrogates become U+FFFD, -0 becomes 0,
 * holes become `undefined`, typed arrays lose their offset and shared
 * buffer, boxed primitives are lost, errors lose their stack (and in cbor-x
 * their class), and functions are dropped instead of refused. Speed, encode +
 * decode, on a loaded 2-core machine: a number or a short string takes
 * 0.7–1.5 µs here, 0.5–1 µs in either library; a 1 KB nested object 38–43 µs
 * here, 24–41 µs there; a 64 KB `Float64Array` 89–145 µs in all three
 * (bench/README.md has the table). Exactness is worth more than the
 * difference: a value must come back as it would from `postMessage`.
 *
 * It carries what `structuredClone` carries and rebuilds what it rebuilds
 * (tested against Node.js 20, 22 and 24): primitives (all UTF-16 strings, lone
 * surrogates included; bigints of any size), wrapper objects, `Date`,
 * `RegExp` (`lastIndex` back to 0), `ArrayBuffer` (resizable ones stay
 * resizable), typed arrays and `DataView` (offsets, lengths, length
 * tracking, and one shared buffer for views that shared one), arrays (holes
 * and extra properties kept), ordinary objects (own enumerable string keys,
 * getters invoked, rebuilt as plain objects), `Map`, `Set` and errors
 * (message, stack and a data `cause` are kept). Shared references and cycles
 * keep their shape. Any depth works: both directions walk the value with an
 * explicit stack.
 *
 * Errors follow this codec's own rules, where V8 versions differ: the
 * prototype is the built-in one its `name` picks (any other name gives
 * `Error.prototype`), or the class registered with `registerErrorClass`
 * (error-codec.ts) nearest on its prototype chain, with its own `name`; the
 * own `message` and `cause` data properties are kept, accessors skipped;
 * `name`, the message and `stack` are read before the cause; the decoded
 * `stack` is an own data property (undefined unless it was a string), never
 * an accessor; an error whose cause leads back to it (itself, or through
 * other objects) decodes as the same object, as any other cycle.
 *
 * What structured clone refuses, `encode` refuses with a `TypeError` naming
 * the path; what it can only send by message (shared memory, ports, other
 * platform objects) makes `encode` throw {@link UnencodableError}.
 *
 * Where plain JavaScript cannot see what V8 sees, it differs: a built-in
 * object given another prototype (`Object.setPrototypeOf(new Map(), null)`)
 * is read by its `Object.prototype.toString` tag, so as a plain object; a
 * proxy is read through its traps (V8 refuses it); a `Symbol.toStringTag`
 * getter on an object that is not plain runs once.
 *
 * Format, little-endian: one version byte, then one value. A value is a tag
 * byte and its payload. Objects are numbered in the order they are first
 * met; a later meeting is written as `REF id`. Varints are unsigned LEB128; a
 * string body is `varint(2 × length + wide)` then its code units, one byte
 * each (all below 256) or two (`wide`). Property keys are written once, then
 * referred to by number (`keyHeader`: 0 ends the keys, 1 introduces a new
 * key, `2 + n` repeats key `n`).
 *
 * ```
 * UNDEFINED | NULL | FALSE | TRUE
 * UINT8 u8 | INT32 i32 | DOUBLE f64 | BIGINT body(hex) | STRING body
 * REF varint
 * OBJECT (keyHeader [body] value)* 0
 * ARRAY varint(length) (value | HOLES varint(count))* END (keyHeader [body] value)* 0
 * MAP (key value)* END            SET value* END
 * DATE f64 | REGEXP body(source) body(flags)
 * BOOLEAN_OBJECT u8 | NUMBER_OBJECT f64 | STRING_OBJECT body | BIGINT_OBJECT body(hex)
 * ARRAY_BUFFER flags varint(byteLength) [varint(maxByteLength)] bytes
 * VIEW kind flags varint(byteOffset) varint(length) (ARRAY_BUFFER… | REF id)
 * ERROR prototype flags [body(class) u8(ownName) [body(name)]] [body(message)] [body(stack)] [value(cause)]
 * ```
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { newRegistered, registeredNameOf } from "./error-codec.js";

/**
 * Thrown by {@link encode} for a value that structured clone can carry but
 * bytes cannot: a `SharedArrayBuffer` (or a view on one), a `MessagePort`, or
 * another platform object. Send that value by message instead. The message
 * says which part of the value it is, as in `value.data.buffer is a
 * SharedArrayBuffer`.
 */
export class UnencodableError extends Error {
  /** Creates the error; `message` names the part of the value and why. */
  constructor(message: string) {
    super(message);
    this.name = "UnencodableError";
  }
}

// 2: an error's stack is written before its cause, behind a flag, and a registered class's name may follow its flags.
const VERSION = 2;

// Tags.
const UNDEFINED = 0;
const NULL = 1;
const FALSE = 2;
const TRUE = 3;
const UINT8 = 4;
const INT32 = 5;
const DOUBLE = 6;
const BIGINT = 7;
const STRING = 8;
const REF = 9;
const OBJECT = 10;
const ARRAY = 11;
const HOLES = 12;
const END = 13;
const DATE = 14;
const REGEXP = 15;
const BOOLEAN_OBJECT = 16;
const NUMBER_OBJECT = 17;
const STRING_OBJECT = 18;
const BIGINT_OBJECT = 19;
const ARRAY_BUFFER = 20;
const VIEW = 21;
const MAP = 22;
const SET = 23;
const ERROR = 24;

// Flags.
const RESIZABLE = 1;
const LENGTH_TRACKING = 1;
const HAS_MESSAGE = 1;
const HAS_CAUSE = 2;
const HAS_STACK = 4;
const REGISTERED = 8;
// A registered error's own `name`: none, non-enumerable, enumerable.
const OWN_NAME = 1;
const ENUMERABLE_NAME = 2;

// Error prototypes V8 keeps, by index; any other name comes back as a plain Error.
const ERROR_NAMES = ["Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"];
const ERROR_CTORS: readonly (new () => Error)[] = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];

interface ViewCtor {
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}
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
];
// Newer runtimes only; appended so that the other kinds keep their numbers.
const float16 = (globalThis as { Float16Array?: ViewCtor }).Float16Array;
if (typeof float16 === "function") VIEW_CTORS.push(float16);
const VIEW_KIND = new Map<string, number>(VIEW_CTORS.map((ctor, kind) => [ctor.name, kind]));
const DATA_VIEW = 255;

// The built-ins' own getters and methods, taken now: they check the internal
// slots (so a look-alike object fails them) and later patches cannot reach them.
type Fn = (this: unknown, ...args: unknown[]) => unknown;
function accessor(proto: object, key: PropertyKey): Fn | undefined {
  return (Object.getOwnPropertyDescriptor(proto, key) as { get?: unknown } | undefined)?.get as Fn | undefined;
}
function method(proto: object, key: PropertyKey): Fn {
  return Object.getOwnPropertyDescriptor(proto, key)?.value as Fn;
}
function required(fn: Fn | undefined): Fn {
  if (fn === undefined) throw new Error("clone-codec: a built-in it needs is missing");
  return fn;
}
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const toTag = method(Object.prototype, "toString");
const hasOwn = method(Object.prototype, "hasOwnProperty");
const taTag = required(accessor(typedArrayProto, Symbol.toStringTag));
const taBuffer = required(accessor(typedArrayProto, "buffer"));
const taByteOffset = required(accessor(typedArrayProto, "byteOffset"));
const taByteLength = required(accessor(typedArrayProto, "byteLength"));
const taLength = required(accessor(typedArrayProto, "length"));
const taAt = method(typedArrayProto, "at");
const dvBuffer = required(accessor(DataView.prototype, "buffer"));
const dvByteOffset = required(accessor(DataView.prototype, "byteOffset"));
const dvByteLength = required(accessor(DataView.prototype, "byteLength"));
const abByteLength = required(accessor(ArrayBuffer.prototype, "byteLength"));
const abResizable = accessor(ArrayBuffer.prototype, "resizable");
const abMaxByteLength = accessor(ArrayBuffer.prototype, "maxByteLength");
const abDetached = accessor(ArrayBuffer.prototype, "detached");
const abResize = (ArrayBuffer.prototype as { resize?: unknown }).resize === undefined ? undefined : method(ArrayBuffer.prototype, "resize");
const mapSize = required(accessor(Map.prototype, "size"));
const mapForEach = method(Map.prototype, "forEach");
const mapSet = method(Map.prototype, "set");
const setSize = required(accessor(Set.prototype, "size"));
const setForEach = method(Set.prototype, "forEach");
const setAdd = method(Set.prototype, "add");
const dateGetTime = method(Date.prototype, "getTime");
const reSource = required(accessor(RegExp.prototype, "source"));
// Flag getters, in the order of RegExp.prototype.flags; absent ones are skipped.
const reFlags: [string, Fn][] = (
  [
    ["d", "hasIndices"],
    ["g", "global"],
    ["i", "ignoreCase"],
    ["m", "multiline"],
    ["s", "dotAll"],
    ["u", "unicode"],
    ["v", "unicodeSets"],
    ["y", "sticky"],
  ] as const
).flatMap(([flag, key]): [string, Fn][] => {
  const get = accessor(RegExp.prototype, key);
  return get === undefined ? [] : [[flag, get]];
});
const booleanValueOf = method(Boolean.prototype, "valueOf");
const numberValueOf = method(Number.prototype, "valueOf");
const stringValueOf = method(String.prototype, "valueOf");
const bigintValueOf = method(BigInt.prototype, "valueOf");
const symbolValueOf = method(Symbol.prototype, "valueOf");
const weakMapHas = method(WeakMap.prototype, "has");
const weakSetHas = method(WeakSet.prototype, "has");
const weakRefDeref = method(WeakRef.prototype, "deref");
const registryUnregister = method(FinalizationRegistry.prototype, "unregister");
const sharedArrayBuffer = (globalThis as { SharedArrayBuffer?: { prototype: object } }).SharedArrayBuffer;
const sabByteLength = sharedArrayBuffer === undefined ? undefined : accessor(sharedArrayBuffer.prototype, "byteLength");
const MessagePortCtor = (globalThis as { MessagePort?: abstract new () => object }).MessagePort;
const ResizableArrayBuffer = ArrayBuffer as unknown as new (length: number, options?: { maxByteLength: number }) => ArrayBuffer;

/** Whether `fn` accepts `value` as its receiver: a brand check, for the uncommon paths only (a failure throws). */
function brand(fn: Fn, value: object, ...args: unknown[]): boolean {
  try {
    fn.call(value, ...args);
    return true;
  } catch {
    return false;
  }
}

/** Whether no object on `value`'s prototype chain defines `Symbol.toStringTag`, so its tag is the built-in one. */
function hasBuiltinTag(value: object): boolean {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.getOwnPropertyDescriptor(o, Symbol.toStringTag) !== undefined) return false;
  }
  return true;
}

/** The object on `value`'s prototype chain that defines `Symbol.toStringTag`. */
function tagOwner(value: object): object | null {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.getOwnPropertyDescriptor(o, Symbol.toStringTag) !== undefined) return o;
  }
  return null;
}

function isDetached(buffer: object): boolean {
  if (abDetached !== undefined) return abDetached.call(buffer) === true;
  if (abByteLength.call(buffer) !== 0) return false;
  // Before ArrayBuffer.prototype.detached, only a throwing constructor tells a detached buffer from an empty one.
  try {
    new Uint8Array(buffer as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

function isResizable(buffer: object): boolean {
  return abResizable !== undefined && abResizable.call(buffer) === true;
}

/** A view's length in bytes now, or -1 if it is out of its (shrunk) buffer's bounds. */
function viewBytes(view: object, isDataView: boolean): number {
  if (isDataView) {
    try {
      return dvByteLength.call(view) as number;
    } catch {
      return -1;
    }
  }
  // The getters answer 0 for a view out of bounds; `at` throws instead.
  if (!brand(taAt, view, 0)) return -1;
  return taByteLength.call(view) as number;
}

/**
 * Whether `view` tracks its resizable buffer's length (was made without a
 * length). Nothing exposes it, so the buffer is resized by one element and
 * back: it is not shared and no other code runs meanwhile, so nobody can see.
 */
function tracksLength(view: object, isDataView: boolean, buffer: object, byteOffset: number, bytes: number, elementSize: number): boolean {
  const length = abByteLength.call(buffer) as number;
  const max = abMaxByteLength === undefined ? length : (abMaxByteLength.call(buffer) as number);
  if (abResize === undefined || length - (byteOffset + bytes) >= elementSize) return false;
  if (length + elementSize <= max) {
    abResize.call(buffer, length + elementSize);
    const grew = viewBytes(view, isDataView) !== bytes;
    abResize.call(buffer, length);
    return grew;
  }
  // At its maximum with no whole element: it could never show one, so tracking or not is the same.
  if (bytes === 0) return false;
  // At its maximum: shrink by one element instead; a fixed view then falls out of bounds, a tracking one does not.
  const tail = new Uint8Array(elementSize);
  tail.set(new Uint8Array(buffer as ArrayBuffer, length - elementSize, elementSize));
  abResize.call(buffer, length - elementSize);
  const tracking = viewBytes(view, isDataView) !== -1;
  abResize.call(buffer, length);
  new Uint8Array(buffer as ArrayBuffer, length - elementSize, elementSize).set(tail);
  return tracking;
}

/** ToString as V8 applies it to an error's name and message: a symbol throws. */
function toText(value: unknown): string {
  if (typeof value === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
  return String(value);
}

/** Whether `key` is an array index (a canonical integer below 2³² − 1). */
function isIndex(key: string): boolean {
  const code = key.charCodeAt(0);
  if (code < 48 || code > 57) return false;
  const n = Number(key);
  return n >>> 0 === n && n !== 4294967295 && String(n) === key;
}

function label(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

// Encoder frames: a container whose children are being written.
const F_OBJECT = 0;
const F_ARRAY = 1;
const F_MAP = 2;
const F_SET = 3;
const F_ERROR = 4;

class EncodeFrame {
  /** Next position in `keys` (objects, arrays' named properties) or `items` (maps, sets). */
  i = 0;
  /** Arrays: index of the element being written, or -1 once writing named properties. */
  at = 0;
  /** Arrays: next index not yet written (the decoder's cursor). */
  next = 0;
  /** Arrays: whether the first `length` keys are exactly the indices 0…length − 1. */
  packed = false;
  /** Arrays: number of index keys at the start of `keys`. */
  indexKeys = 0;
  constructor(
    readonly kind: number,
    readonly obj: object,
    readonly keys: string[],
    readonly items: unknown[],
    readonly length: number,
  ) {}

  /** The path step to the child being written. */
  step(): string {
    switch (this.kind) {
      case F_ARRAY:
        return this.at >= 0 ? `[${this.at}]` : label(this.keys[this.i - 1] ?? "");
      case F_MAP: {
        const j = this.i - 1;
        return `[Map entry ${j >> 1}].${j & 1 ? "value" : "key"}`;
      }
      case F_SET:
        return `[Set entry ${this.i - 1}]`;
      case F_ERROR:
        return ".cause";
      default:
        return label(this.keys[this.i - 1] ?? "");
    }
  }
}

const NO_KEYS: string[] = [];
const NO_ITEMS: unknown[] = [];

/** The largest buffer an idle encoder keeps for the next value. */
const KEEP_BYTES = 1 << 16;

class Encoder {
  private buffer = new ArrayBuffer(256);
  private u8 = new Uint8Array(this.buffer);
  private dv = new DataView(this.buffer);
  private pos = 0;
  private readonly ids = new Map<object, number>();
  private readonly keyIds = new Map<string, number>();
  private readonly stack: EncodeFrame[] = [];

  /** The bytes written, in memory of their own: a copy, unless the buffer is exactly full and too big to keep. */
  finish(): Uint8Array {
    // A large typed array grows the buffer to its exact size: handing that over saves copying it again.
    if (this.pos === this.u8.length && this.pos > KEEP_BYTES) return this.u8;
    return this.u8.slice(0, this.pos);
  }

  /** Makes the encoder ready for another value; false if its buffer grew too big to keep. */
  reset(): boolean {
    this.pos = 0;
    this.ids.clear();
    this.keyIds.clear();
    this.stack.length = 0;
    return this.buffer.byteLength <= KEEP_BYTES;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes > this.u8.length) this.grow(bytes);
  }

  private grow(bytes: number): void {
    // Doubling keeps appends amortized O(1); a large typed array gets its exact room at once.
    const capacity = Math.max(this.u8.length * 2, this.pos + bytes);
    const buffer = new ArrayBuffer(capacity);
    const u8 = new Uint8Array(buffer);
    u8.set(new Uint8Array(this.buffer, 0, this.pos));
    this.buffer = buffer;
    this.u8 = u8;
    this.dv = new DataView(buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.u8[this.pos++] = b;
  }

  private varint(n: number): void {
    this.ensure(8);
    this.varintUnchecked(n);
  }

  private varintUnchecked(n: number): void {
    const u8 = this.u8;
    let p = this.pos;
    // Beyond 31 bits bitwise operators would wrap: big lengths take the arithmetic path.
    while (n > 0x7fffffff) {
      u8[p++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    while (n > 127) {
      u8[p++] = (n & 127) | 128;
      n >>>= 7;
    }
    u8[p++] = n;
    this.pos = p;
  }

  private f64(x: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  private number(v: number): void {
    this.ensure(9);
    const p = this.pos;
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= 0 && v < 256) {
        this.u8[p] = UINT8;
        this.u8[p + 1] = v;
        this.pos = p + 2;
      } else {
        this.u8[p] = INT32;
        this.dv.setInt32(p + 1, v, true);
        this.pos = p + 5;
      }
    } else {
      this.u8[p] = DOUBLE;
      this.dv.setFloat64(p + 1, v, true);
      this.pos = p + 9;
    }
  }

  private text(s: string): void {
    const n = s.length;
    this.ensure(10 + 2 * n);
    const start = this.pos;
    // 2n and 2n + 1 take as many varint bytes: the header can be rewritten in place.
    this.varintUnchecked(2 * n);
    const u8 = this.u8;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) {
        this.pos = start;
        this.varintUnchecked(2 * n + 1);
        this.wide(s);
        return;
      }
      u8[p++] = c;
    }
    this.pos = p;
  }

  private wide(s: string): void {
    const u8 = this.u8;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      u8[p] = c & 0xff;
      u8[p + 1] = c >>> 8;
      p += 2;
    }
    this.pos = p;
  }

  private key(k: string): void {
    const id = this.keyIds.get(k);
    if (id !== undefined) {
      this.varint(id + 2);
      return;
    }
    this.keyIds.set(k, this.keyIds.size);
    this.byte(1);
    this.text(k);
  }

  private path(suffix = ""): string {
    let path = "value";
    for (const frame of this.stack) path += frame.step();
    return path + suffix;
  }

  private refuse(what: string, suffix = ""): never {
    throw new TypeError(`${this.path(suffix)} is ${what}, which cannot be cloned`);
  }

  private unencodable(what: string, suffix = ""): never {
    throw new UnencodableError(`${this.path(suffix)} is ${what}: structured clone can send it by message, but not as bytes`);
  }

  /** Writes `v`; returns whether it pushed a frame whose children are still to write. */
  value(v: unknown): boolean {
    switch (typeof v) {
      case "number":
        this.number(v);
        return false;
      case "string":
        this.byte(STRING);
        this.text(v);
        return false;
      case "boolean":
        this.byte(v ? TRUE : FALSE);
        return false;
      case "undefined":
        this.byte(UNDEFINED);
        return false;
      case "bigint":
        this.byte(BIGINT);
        this.text(v.toString(16));
        return false;
      case "symbol":
        return this.refuse("a symbol");
      case "function":
        return this.refuse("a function");
      default:
        if (v === null) {
          this.byte(NULL);
          return false;
        }
        return this.object(v as object);
    }
  }

  private object(o: object): boolean {
    const id = this.ids.get(o);
    if (id !== undefined) {
      this.byte(REF);
      this.varint(id);
      return false;
    }
    this.ids.set(o, this.ids.size);
    if (Array.isArray(o)) return this.array(o as unknown[]);
    const proto = Object.getPrototypeOf(o) as unknown;
    if (proto === Object.prototype || proto === null) return this.plain(o);
    return this.exotic(o);
  }

  private plain(o: object): true {
    this.byte(OBJECT);
    this.stack.push(new EncodeFrame(F_OBJECT, o, Object.keys(o), NO_ITEMS, 0));
    return true;
  }

  private array(a: unknown[]): true {
    const length = a.length;
    this.byte(ARRAY);
    this.varint(length);
    const keys = Object.keys(a);
    const frame = new EncodeFrame(F_ARRAY, a, keys, NO_ITEMS, length);
    // Index keys come first, ascending: if key length − 1 is the last index, all indices are there.
    frame.packed = length === 0 || (keys.length >= length && keys[length - 1] === String(length - 1));
    if (frame.packed) {
      frame.indexKeys = length;
    } else {
      let lo = 0;
      let hi = Math.min(keys.length, length);
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (isIndex(keys[mid] ?? "")) lo = mid + 1;
        else hi = mid;
      }
      frame.indexKeys = lo;
    }
    this.stack.push(frame);
    return true;
  }

  private exotic(o: object): boolean {
    if (ArrayBuffer.isView(o)) return this.view(o);
    if (MessagePortCtor !== undefined && o instanceof MessagePortCtor) this.unencodable("a MessagePort");
    const tag = toTag.call(o) as string;
    switch (tag) {
      case "[object Object]":
        return this.plain(o);
      case "[object Error]":
        if (hasBuiltinTag(o)) return this.error(o);
        break;
      case "[object Date]":
        if (brand(dateGetTime, o)) {
          this.byte(DATE);
          this.f64(dateGetTime.call(o) as number);
          return false;
        }
        break;
      case "[object RegExp]":
        if (brand(reSource, o)) {
          this.byte(REGEXP);
          this.text(reSource.call(o) as string);
          let flags = "";
          for (const [flag, get] of reFlags) if (get.call(o) === true) flags += flag;
          this.text(flags);
          return false;
        }
        break;
      case "[object Boolean]":
        if (brand(booleanValueOf, o)) {
          this.byte(BOOLEAN_OBJECT);
          this.byte(booleanValueOf.call(o) === true ? 1 : 0);
          return false;
        }
        break;
      case "[object Number]":
        if (brand(numberValueOf, o)) {
          this.byte(NUMBER_OBJECT);
          this.f64(numberValueOf.call(o) as number);
          return false;
        }
        break;
      case "[object String]":
        if (brand(stringValueOf, o)) {
          this.byte(STRING_OBJECT);
          this.text(stringValueOf.call(o) as string);
          return false;
        }
        break;
      case "[object BigInt]":
        if (brand(bigintValueOf, o)) {
          this.byte(BIGINT_OBJECT);
          this.text((bigintValueOf.call(o) as bigint).toString(16));
          return false;
        }
        break;
      case "[object Map]":
        if (brand(mapSize, o)) {
          // A snapshot, as V8 takes: what the entries' getters do to the map does not change what is written.
          const items: unknown[] = [];
          mapForEach.call(o, (v: unknown, k: unknown) => items.push(k, v));
          this.byte(MAP);
          this.stack.push(new EncodeFrame(F_MAP, o, NO_KEYS, items, 0));
          return true;
        }
        break;
      case "[object Set]":
        if (brand(setSize, o)) {
          const items: unknown[] = [];
          setForEach.call(o, (v: unknown) => items.push(v));
          this.byte(SET);
          this.stack.push(new EncodeFrame(F_SET, o, NO_KEYS, items, 0));
          return true;
        }
        break;
      case "[object ArrayBuffer]":
        if (brand(abByteLength, o)) {
          this.arrayBuffer(o, "");
          return false;
        }
        break;
      case "[object SharedArrayBuffer]":
        if (sabByteLength !== undefined && brand(sabByteLength, o)) this.unencodable("a SharedArrayBuffer");
        break;
      case "[object WeakMap]":
        if (brand(weakMapHas, o, {})) this.refuse("a WeakMap");
        break;
      case "[object WeakSet]":
        if (brand(weakSetHas, o, {})) this.refuse("a WeakSet");
        break;
      case "[object WeakRef]":
        if (brand(weakRefDeref, o)) this.refuse("a WeakRef");
        break;
      case "[object FinalizationRegistry]":
        if (brand(registryUnregister, o, {})) this.refuse("a FinalizationRegistry");
        break;
      case "[object Promise]":
        // No side-effect-free brand check exists for promises: trust the built-in tag.
        if (tagOwner(o) === Promise.prototype) this.refuse("a Promise");
        break;
      case "[object Symbol]":
        if (brand(symbolValueOf, o)) this.refuse("a Symbol object");
        break;
    }
    // Anything else may be a platform object (Blob, ImageBitmap, a stream…) or a look-alike: let a message decide.
    return this.unencodable(`a ${tag.slice(8, -1)} (not plain data)`);
  }

  private arrayBuffer(b: object, suffix: string): void {
    if (isDetached(b)) this.refuse("a detached ArrayBuffer", suffix);
    const length = abByteLength.call(b) as number;
    const resizable = isResizable(b);
    this.byte(ARRAY_BUFFER);
    this.byte(resizable ? RESIZABLE : 0);
    this.varint(length);
    if (resizable) this.varint(abMaxByteLength === undefined ? length : (abMaxByteLength.call(b) as number));
    // One copy of the whole buffer, as structured clone makes, whatever part of it the views cover.
    this.ensure(length);
    this.u8.set(new Uint8Array(b as ArrayBuffer, 0, length), this.pos);
    this.pos += length;
  }

  private view(o: object): false {
    const kindName = taTag.call(o) as string | undefined;
    const isDataView = kindName === undefined;
    const kind = isDataView ? DATA_VIEW : (VIEW_KIND.get(kindName) ?? -1);
    if (kind < 0) this.unencodable(`a ${kindName ?? "view"} (not plain data)`);
    const name = isDataView ? "DataView" : kindName;
    const buffer = (isDataView ? dvBuffer.call(o) : taBuffer.call(o)) as object;
    if (!brand(abByteLength, buffer)) this.unencodable("a SharedArrayBuffer", ".buffer");
    if (isDetached(buffer)) this.refuse(`a ${name} on a detached ArrayBuffer`);
    const bytes = viewBytes(o, isDataView);
    if (bytes < 0) this.refuse(`a ${name} out of the bounds of its resized ArrayBuffer`);
    const byteOffset = (isDataView ? dvByteOffset.call(o) : taByteOffset.call(o)) as number;
    const elementSize = isDataView ? 1 : (VIEW_CTORS[kind]?.BYTES_PER_ELEMENT ?? 1);
    const tracking = isResizable(buffer) && tracksLength(o, isDataView, buffer, byteOffset, bytes, elementSize);
    this.byte(VIEW);
    this.byte(kind);
    this.byte(tracking ? LENGTH_TRACKING : 0);
    this.varint(byteOffset);
    this.varint(isDataView ? bytes : (taLength.call(o) as number));
    const id = this.ids.get(buffer);
    if (id !== undefined) {
      this.byte(REF);
      this.varint(id);
    } else {
      this.ids.set(buffer, this.ids.size);
      this.arrayBuffer(buffer, ".buffer");
    }
    return false;
  }

  private error(o: object): boolean {
    // This codec's order: the own message and cause are looked up, then `name`, the message and `stack` are read, then the cause.
    const message = Object.getOwnPropertyDescriptor(o, "message");
    const cause = Object.getOwnPropertyDescriptor(o, "cause");
    const name = toText((o as { name?: unknown }).name);
    const hasMessage = message !== undefined && "value" in message;
    const hasCause = cause !== undefined && "value" in cause;
    const messageText = hasMessage ? toText(message.value) : "";
    const stack = (o as { stack?: unknown }).stack;
    const registered = registeredNameOf(o);
    this.byte(ERROR);
    // The built-in prototype its name picks, also for a registered class: where that is unknown, it decodes as this.
    this.byte(Math.max(0, ERROR_NAMES.indexOf(name)));
    this.byte((hasMessage ? HAS_MESSAGE : 0) | (hasCause ? HAS_CAUSE : 0) | (typeof stack === "string" ? HAS_STACK : 0) | (registered === undefined ? 0 : REGISTERED));
    if (registered !== undefined) {
      this.text(registered);
      // Its own name goes too: a registered class's prototype rarely has the right one (its constructor sets it).
      const own = Object.getOwnPropertyDescriptor(o, "name");
      this.byte(own === undefined ? 0 : own.enumerable === true ? ENUMERABLE_NAME : OWN_NAME);
      if (own !== undefined) this.text(name);
    }
    if (hasMessage) this.text(messageText);
    if (typeof stack === "string") this.text(stack);
    if (!hasCause) return false;
    this.stack.push(new EncodeFrame(F_ERROR, o, NO_KEYS, [cause.value], 0));
    return true;
  }

  /** Writes the children of the frames on the stack until none is left. */
  run(): void {
    const stack = this.stack;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as EncodeFrame;
      if (!this.advance(frame)) stack.pop();
    }
  }

  /** Writes `frame`'s next children; returns false once it is finished (its end written). */
  private advance(frame: EncodeFrame): boolean {
    switch (frame.kind) {
      case F_ARRAY:
        if (frame.at >= 0) {
          if (this.elements(frame)) return true;
          this.byte(END);
          frame.at = -1;
          frame.i = frame.indexKeys;
        }
        return this.properties(frame);
      case F_MAP:
      case F_SET: {
        const items = frame.items;
        while (frame.i < items.length) {
          if (this.value(items[frame.i++])) return true;
        }
        this.byte(END);
        return false;
      }
      case F_ERROR:
        if (frame.i === 0) {
          frame.i = 1;
          if (this.value(frame.items[0])) return true;
        }
        return false;
      default:
        return this.properties(frame);
    }
  }

  /** Writes own enumerable string-keyed properties from `frame.i`; true if it stopped at a child frame. */
  private properties(frame: EncodeFrame): boolean {
    const o = frame.obj as Record<string, unknown>;
    const keys = frame.keys;
    while (frame.i < keys.length) {
      const k = keys[frame.i++] as string;
      // A getter may have deleted a later property: structured clone skips it then.
      if (hasOwn.call(o, k) !== true) continue;
      const v = o[k];
      this.key(k);
      if (this.value(v)) return true;
    }
    this.byte(0);
    return false;
  }

  /** Writes array elements; true if it stopped at a child frame. */
  private elements(frame: EncodeFrame): boolean {
    const a = frame.obj as unknown[];
    if (frame.packed) {
      while (frame.next < frame.length) {
        const i = frame.next++;
        frame.at = i;
        const v = a[i];
        // Deleted by a getter since the keys were taken: a hole now, as in V8.
        if (v === undefined && hasOwn.call(a, i) !== true) {
          this.byte(HOLES);
          this.varint(1);
          continue;
        }
        if (this.value(v)) return true;
      }
      return false;
    }
    const keys = frame.keys;
    while (frame.i < frame.indexKeys) {
      const k = keys[frame.i++] as string;
      if (hasOwn.call(a, k) !== true) continue;
      const index = Number(k);
      frame.at = index;
      const v = a[index];
      if (index > frame.next) {
        this.byte(HOLES);
        this.varint(index - frame.next);
      }
      frame.next = index + 1;
      if (this.value(v)) return true;
    }
    return false;
  }
}

/**
 * Serializes `value` as structured clone would, into a fresh, unshared
 * `Uint8Array`.
 *
 * @throws TypeError for what structured clone refuses (functions, symbols,
 * `WeakMap`, `WeakSet`, `WeakRef`, `Promise`, detached buffers…), naming the
 * path to it, e.g. `value.cb is a function, which cannot be cloned`.
 * @throws {@link UnencodableError} for what only a message can carry.
 * Whatever a getter throws propagates unchanged.
 */
export function encode(value: unknown): Uint8Array {
  // Reused: making a buffer and its views cost more than encoding a small value (about 1 µs of 2).
  // An encode that a getter starts meanwhile finds none idle and makes its own.
  const encoder = idleEncoder ?? new Encoder();
  idleEncoder = undefined;
  try {
    encoder.byte(VERSION);
    if (encoder.value(value)) encoder.run();
    return encoder.finish();
  } finally {
    if (encoder.reset()) idleEncoder = encoder;
  }
}

let idleEncoder: Encoder | undefined;

// Decoder frames: a container whose children are being read.
class DecodeFrame {
  /** Arrays: 0 while reading elements, 1 for named properties. */
  phase = 0;
  /** Arrays: index of the next element. */
  cursor = 0;
  /** Maps: the key read, while its value is pending. */
  key: unknown = undefined;
  hasKey = false;
  constructor(
    readonly kind: number,
    readonly obj: object,
    readonly length: number,
  ) {}
}

const CHUNK = 8192;

// Numbers are read through these, not a DataView per decode (it cost about 200 ns a value).
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class Decoder {
  private readonly u8: Uint8Array;
  pos = 0;
  private readonly objects: unknown[] = [];
  private readonly keys: string[] = [];
  private readonly stack: DecodeFrame[] = [];

  constructor(bytes: Uint8Array) {
    this.u8 = bytes;
  }

  get length(): number {
    return this.u8.length;
  }

  byte(): number {
    return this.u8[this.pos++] ?? corrupt();
  }

  private varint(): number {
    const u8 = this.u8;
    let b = u8[this.pos++] ?? corrupt();
    if (b < 128) return b;
    let n = b & 127;
    let scale = 128;
    do {
      b = u8[this.pos++] ?? corrupt();
      n += (b & 127) * scale;
      scale *= 128;
    } while (b >= 128);
    return n;
  }

  private f64(): number {
    const u8 = this.u8;
    const p = this.pos;
    if (p + 8 > u8.length) corrupt();
    // The bytes are little-endian; Float64Array reads in the platform's order.
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) F64_BYTES[i] = u8[p + i] as number;
    else for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = u8[p + i] as number;
    this.pos = p + 8;
    return F64[0] as number;
  }

  private text(): string {
    const header = this.varint();
    const n = Math.floor(header / 2);
    const start = this.pos;
    if (start + (header & 1 ? 2 * n : n) > this.u8.length) corrupt();
    if (header & 1) return this.wide(n);
    this.pos = start + n;
    const u8 = this.u8;
    if (n <= 16) {
      let s = "";
      for (let i = start; i < start + n; i++) s += String.fromCharCode(u8[i] as number);
      return s;
    }
    let s = "";
    for (let i = 0; i < n; i += CHUNK) {
      const chunk = new Uint8Array(u8.buffer, u8.byteOffset + start + i, Math.min(CHUNK, n - i));
      s += String.fromCharCode.apply(null, chunk as unknown as number[]);
    }
    return s;
  }

  private wide(n: number): string {
    const u8 = this.u8;
    let p = this.pos;
    let s = "";
    // Byte pairs are joined by hand: the data may be unaligned and the platform big-endian.
    for (let i = 0; i < n; i += CHUNK) {
      const units = new Uint16Array(Math.min(CHUNK, n - i));
      for (let j = 0; j < units.length; j++, p += 2) units[j] = (u8[p] as number) | ((u8[p + 1] as number) << 8);
      s += String.fromCharCode.apply(null, units as unknown as number[]);
    }
    this.pos = p;
    return s;
  }

  private bigint(): bigint {
    const hex = this.text();
    return hex.charCodeAt(0) === 45 ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
  }

  private push(kind: number, obj: object, length: number): void {
    this.stack.push(new DecodeFrame(kind, obj, length));
  }

  /** Reads one value; a container comes back empty, with a frame pushed to fill it. */
  value(): unknown {
    return this.tagged(this.byte());
  }

  private tagged(tag: number): unknown {
    switch (tag) {
      case UNDEFINED:
        return undefined;
      case NULL:
        return null;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case UINT8:
        return this.byte();
      case INT32: {
        const u8 = this.u8;
        const p = this.pos;
        if (p + 4 > u8.length) corrupt();
        this.pos = p + 4;
        return (u8[p] as number) | ((u8[p + 1] as number) << 8) | ((u8[p + 2] as number) << 16) | ((u8[p + 3] as number) << 24);
      }
      case DOUBLE:
        return this.f64();
      case BIGINT:
        return this.bigint();
      case STRING:
        return this.text();
      case REF: {
        const id = this.varint();
        if (id >= this.objects.length) corrupt();
        return this.objects[id];
      }
      case OBJECT: {
        const o = {};
        this.objects.push(o);
        this.push(F_OBJECT, o, 0);
        return o;
      }
      case ARRAY: {
        const length = this.varint();
        const a: unknown[] = [];
        this.objects.push(a);
        this.push(F_ARRAY, a, length);
        return a;
      }
      case MAP: {
        const m = new Map();
        this.objects.push(m);
        this.push(F_MAP, m, 0);
        return m;
      }
      case SET: {
        const s = new Set();
        this.objects.push(s);
        this.push(F_SET, s, 0);
        return s;
      }
      case DATE:
        return this.made(new Date(this.f64()));
      case REGEXP: {
        const source = this.text();
        return this.made(new RegExp(source, this.text()));
      }
      case BOOLEAN_OBJECT:
        return this.made(Object(this.byte() === 1) as object);
      case NUMBER_OBJECT:
        return this.made(Object(this.f64()) as object);
      case STRING_OBJECT:
        return this.made(Object(this.text()) as object);
      case BIGINT_OBJECT:
        return this.made(Object(this.bigint()) as object);
      case ARRAY_BUFFER:
        return this.made(this.arrayBuffer());
      case VIEW:
        return this.view();
      case ERROR:
        return this.error();
      default:
        return corrupt();
    }
  }

  private made<T>(o: T): T {
    this.objects.push(o);
    return o;
  }

  private arrayBuffer(): ArrayBuffer {
    const flags = this.byte();
    const length = this.varint();
    const buffer = flags & RESIZABLE ? new ResizableArrayBuffer(length, { maxByteLength: this.varint() }) : new ArrayBuffer(length);
    if (this.pos + length > this.u8.length) corrupt();
    // A copy: the result must not share memory with `bytes`.
    new Uint8Array(buffer).set(new Uint8Array(this.u8.buffer, this.u8.byteOffset + this.pos, length));
    this.pos += length;
    return buffer;
  }

  private view(): ArrayBufferView {
    const kind = this.byte();
    const flags = this.byte();
    const byteOffset = this.varint();
    const length = this.varint();
    // The view is numbered before its buffer, as the encoder numbered them.
    const id = this.objects.length;
    this.objects.push(undefined);
    const buffer = this.value();
    if (!(buffer instanceof ArrayBuffer)) return corrupt();
    const tracking = (flags & LENGTH_TRACKING) !== 0;
    let view: ArrayBufferView;
    if (kind === DATA_VIEW) {
      view = tracking ? new DataView(buffer, byteOffset) : new DataView(buffer, byteOffset, length);
    } else {
      const Ctor = VIEW_CTORS[kind] ?? corrupt();
      view = tracking ? new Ctor(buffer, byteOffset) : new Ctor(buffer, byteOffset, length);
    }
    this.objects[id] = view;
    return view;
  }

  private error(): Error {
    const Ctor = ERROR_CTORS[this.byte()] ?? corrupt();
    const flags = this.byte();
    const error = flags & REGISTERED ? this.registered(Ctor) : new Ctor();
    // Own data properties, in this order: stack (undefined if it was not a string), message, cause.
    const message = flags & HAS_MESSAGE ? this.text() : undefined;
    own(error, "stack", flags & HAS_STACK ? this.text() : undefined);
    if (message !== undefined) own(error, "message", message);
    // Numbered before its cause is read: a cause leading back to the error finds it.
    this.objects.push(error);
    if (flags & HAS_CAUSE) this.push(F_ERROR, error, 0);
    return error;
  }

  /** A registered class's error, with its own name; if the class is not registered here, a built-in one without. */
  private registered(Ctor: new () => Error): Error {
    const error = newRegistered(this.text());
    const ownName = this.byte();
    const name = ownName === 0 ? undefined : this.text();
    if (error === undefined) return new Ctor();
    if (name !== undefined) Object.defineProperty(error, "name", { value: name, writable: true, enumerable: ownName === ENUMERABLE_NAME, configurable: true });
    return error;
  }

  /** Reads key/value pairs into `o` until the keys end; false if it stopped at a child frame. */
  private properties(o: Record<string, unknown>): boolean {
    const depth = this.stack.length;
    for (;;) {
      const header = this.varint();
      if (header === 0) return true;
      let k: string;
      if (header === 1) {
        k = this.text();
        this.keys.push(k);
      } else {
        k = this.keys[header - 2] ?? corrupt();
      }
      const v = this.value();
      // Assigning `__proto__` would set the prototype: define it as the own property it was.
      if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      else o[k] = v;
      if (this.stack.length !== depth) return false;
    }
  }

  /** Fills the containers on the stack until none is left. */
  run(): void {
    const stack = this.stack;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as DecodeFrame;
      // A frame finishes only when it pushed no child: it is still on top.
      if (this.advance(frame)) stack.pop();
    }
  }

  /** Reads `frame`'s next children; true once it is complete. */
  private advance(frame: DecodeFrame): boolean {
    const depth = this.stack.length;
    switch (frame.kind) {
      case F_OBJECT:
        return this.properties(frame.obj as Record<string, unknown>);
      case F_ARRAY: {
        const a = frame.obj as unknown[];
        while (frame.phase === 0) {
          const tag = this.byte();
          if (tag === END) {
            if (a.length < frame.length) a.length = frame.length;
            frame.phase = 1;
          } else if (tag === HOLES) {
            frame.cursor += this.varint();
          } else {
            a[frame.cursor++] = this.tagged(tag);
            if (this.stack.length !== depth) return false;
          }
        }
        return this.properties(a as unknown as Record<string, unknown>);
      }
      case F_MAP: {
        for (;;) {
          if (!frame.hasKey) {
            const tag = this.byte();
            if (tag === END) return true;
            frame.key = this.tagged(tag);
            frame.hasKey = true;
            if (this.stack.length !== depth) return false;
          }
          const v = this.value();
          mapSet.call(frame.obj, frame.key, v);
          frame.hasKey = false;
          frame.key = undefined;
          if (this.stack.length !== depth) return false;
        }
      }
      case F_SET: {
        for (;;) {
          const tag = this.byte();
          if (tag === END) return true;
          setAdd.call(frame.obj, this.tagged(tag));
          if (this.stack.length !== depth) return false;
        }
      }
      default:
        // The cause is an error's last part: the error's frame leaves first, and a frame the cause pushes takes its place.
        this.stack.pop();
        own(frame.obj, "cause", this.value());
        return false;
    }
  }
}

/** Defines `key` on `o` as an own non-enumerable data property, as an error's own properties are. */
function own(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable: false, configurable: true });
}

function corrupt(): never {
  throw new TypeError("clone-codec: these bytes are not a value encoded by this version");
}

/**
 * Rebuilds the value {@link encode} wrote. `bytes` may be a view at any offset
 * into shared (even growable) memory; the result never shares memory with it:
 * buffers and strings are copied out.
 */
export function decode(bytes: Uint8Array): unknown {
  const decoder = new Decoder(bytes);
  if (decoder.byte() !== VERSION) corrupt();
  const root = decoder.value();
  decoder.run();
  if (decoder.pos !== decoder.length) corrupt();
  return root;
}

/**
 * A fast codec for plain values: numbers, strings, booleans, `null`,
 * `undefined`, and arrays and plain objects of those, which is what most
 * RPC arguments and results are. The general codecs (V8's serializer,
 * `clone-codec.ts`) take 2–9 µs for `{ kind, fn, args: [1, 2] }` here; this
 * one a fraction of that, which decides a round trip of a few microseconds.
 *
 * It is exact, or it declines: {@link PlainWriter.write} returns false, and
 * the caller serializes the value the general way, for anything whose
 * structured clone it would not reproduce — other prototypes (classes,
 * `Date`, `Map`, errors…), arrays with holes or extra properties, an object
 * met twice (shared references and cycles keep their shape only in the
 * general codecs), bigints, more than {@link MAX_OBJECTS} objects or
 * {@link MAX_DEPTH} levels. Strings keep every UTF-16 code unit (lone
 * surrogates too), -0 stays -0, getters are read once, as structured clone
 * reads them.
 *
 * Format, native byte order (both ends are threads of one process): a tag
 * byte, then its payload. Strings are `u32 length` then one byte per code
 * unit (all below 256) or, 2-aligned, two.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

const UNDEFINED = 0;
const NULL = 1;
const TRUE = 2;
const FALSE = 3;
const INT32 = 4;
const FLOAT64 = 5;
const LATIN1 = 6;
const UTF16 = 7;
const ARRAY = 8;
const OBJECT = 9;

/** Objects (arrays included) in one value beyond which the general codec takes over. */
export const MAX_OBJECTS = 64;
/** Nesting beyond which the general codec takes over. */
export const MAX_DEPTH = 16;

/** Writes plain values into a growing buffer, reused from one value to the next. */
export class PlainWriter {
  bytes = new Uint8Array(1024);
  view = new DataView(this.bytes.buffer);
  /** Where the next byte goes. */
  pos = 0;
  readonly #seen: object[] = [];

  /**
   * Appends `value` at {@link PlainWriter.pos}; false (with `pos` where it
   * was) if it is not plain, for the caller to serialize it the general way.
   * Whatever a getter throws propagates.
   */
  write(value: unknown): boolean {
    const start = this.pos;
    this.#seen.length = 0;
    let ok = false;
    try {
      ok = this.#value(value, 0);
    } finally {
      this.#seen.length = 0;
      if (!ok) this.pos = start;
    }
    return ok;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.pos + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.bytes.subarray(0, this.pos));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  #value(value: unknown, depth: number): boolean {
    switch (typeof value) {
      case "number":
        this.reserve(9);
        if ((value | 0) === value && !Object.is(value, -0)) {
          this.bytes[this.pos] = INT32;
          this.view.setInt32(this.pos + 1, value, true);
          this.pos += 5;
        } else {
          this.bytes[this.pos] = FLOAT64;
          this.view.setFloat64(this.pos + 1, value, true);
          this.pos += 9;
        }
        return true;
      case "string":
        this.#string(value);
        return true;
      case "boolean":
        this.reserve(1);
        this.bytes[this.pos++] = value ? TRUE : FALSE;
        return true;
      case "undefined":
        this.reserve(1);
        this.bytes[this.pos++] = UNDEFINED;
        return true;
      case "object":
        if (value === null) {
          this.reserve(1);
          this.bytes[this.pos++] = NULL;
          return true;
        }
        return this.#object(value, depth);
      default:
        return false; // bigint (the general codec), function, symbol (refused there, with its message)
    }
  }

  #object(value: object, depth: number): boolean {
    if (depth >= MAX_DEPTH || this.#seen.length >= MAX_OBJECTS || this.#seen.includes(value)) return false;
    this.#seen.push(value);
    const proto: unknown = Object.getPrototypeOf(value);
    if (Array.isArray(value)) {
      if (proto !== Array.prototype) return false;
      const items = value as unknown[];
      const length = items.length;
      // Holes and extra properties are kept only by the general codecs.
      if (Object.keys(items).length !== length) return false;
      this.reserve(5);
      this.bytes[this.pos] = ARRAY;
      this.view.setUint32(this.pos + 1, length, true);
      this.pos += 5;
      for (let i = 0; i < length; i++) if (!this.#value(items[i], depth + 1)) return false;
      return true;
    }
    if (proto !== Object.prototype && proto !== null) return false;
    const keys = Object.keys(value);
    this.reserve(5);
    this.bytes[this.pos] = OBJECT;
    this.view.setUint32(this.pos + 1, keys.length, true);
    this.pos += 5;
    const record = value as Record<string, unknown>;
    for (const key of keys) {
      this.#string(key);
      if (!this.#value(record[key], depth + 1)) return false;
    }
    return true;
  }

  #string(s: string): void {
    const length = s.length;
    this.reserve(6 + 2 * length);
    const at = this.pos;
    this.view.setUint32(at + 1, length, true);
    const bytes = this.bytes;
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) break;
      bytes[at + 5 + i] = c;
    }
    if (i === length) {
      bytes[at] = LATIN1;
      this.pos = at + 5 + length;
      return;
    }
    bytes[at] = UTF16;
    const body = (at + 6) & ~1;
    const units = new Uint16Array(bytes.buffer, body, length);
    for (let j = 0; j < length; j++) units[j] = s.charCodeAt(j);
    this.pos = body + 2 * length;
  }
}

/** Reads what a {@link PlainWriter} wrote, from any bytes (shared memory too). */
export class PlainReader {
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  pos = 0;

  /** Points the reader at `bytes` (a view whose buffer `view` spans), from `pos`. */
  reset(bytes: Uint8Array, view: DataView, pos: number): void {
    this.bytes = bytes;
    this.view = view;
    this.pos = pos;
  }

  /** The value at {@link PlainReader.pos}; `pos` moves past it. */
  read(): unknown {
    const bytes = this.bytes;
    const tag = bytes[this.pos];
    switch (tag) {
      case UNDEFINED:
        this.pos++;
        return undefined;
      case NULL:
        this.pos++;
        return null;
      case TRUE:
        this.pos++;
        return true;
      case FALSE:
        this.pos++;
        return false;
      case INT32: {
        const v = this.view.getInt32(this.pos + 1, true);
        this.pos += 5;
        return v;
      }
      case FLOAT64: {
        const v = this.view.getFloat64(this.pos + 1, true);
        this.pos += 9;
        return v;
      }
      case LATIN1:
      case UTF16:
        return this.#string();
      case ARRAY: {
        const length = this.view.getUint32(this.pos + 1, true);
        this.pos += 5;
        const out = new Array<unknown>(length);
        for (let i = 0; i < length; i++) out[i] = this.read();
        return out;
      }
      case OBJECT: {
        const count = this.view.getUint32(this.pos + 1, true);
        this.pos += 5;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const key = this.#string();
          // A key such as "__proto__" must become an own property, as structured clone makes it.
          Object.defineProperty(out, key, { value: this.read(), writable: true, enumerable: true, configurable: true });
        }
        return out;
      }
      default:
        throw new Error(`internal: plain codec met tag ${String(tag)} at ${String(this.pos)}`);
    }
  }

  #string(): string {
    const bytes = this.bytes;
    const at = this.pos;
    const length = this.view.getUint32(at + 1, true);
    if (bytes[at] === LATIN1) {
      this.pos = at + 5 + length;
      return fromCodes(bytes.subarray(at + 5, at + 5 + length));
    }
    const body = (bytes.byteOffset + at + 6) & ~1;
    this.pos = body - bytes.byteOffset + 2 * length;
    return fromCodes(new Uint16Array(bytes.buffer, body, length));
  }
}

/** The string of `codes`, in chunks that stay below the engines' argument limits. */
function fromCodes(codes: Uint8Array | Uint16Array): string {
  const n = codes.length;
  if (n <= 4096) return String.fromCharCode.apply(null, codes as unknown as number[]);
  let s = "";
  for (let i = 0; i < n; i += 4096) s += String.fromCharCode.apply(null, codes.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

/**
 * Values kept in a berth itself: numbers, booleans, `null`, `undefined` and
 * short strings as they are, anything else as structured-clone bytes if
 * they fit. A berth's `B_TAG` word says which, `B_LEN` how many bytes.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { cells, host } from "../kit/index.js";
import { word, type LinkEnd } from "./end.js";

/** `B_TAG`: structured-clone bytes (`Platform.serialize`). */
export const T_BYTES = 0;
/** `B_TAG`: a number, as a float64. */
export const T_NUMBER = 1;
/** `B_TAG`: `true`. */
export const T_TRUE = 2;
/** `B_TAG`: `false`. */
export const T_FALSE = 3;
/** `B_TAG`: `undefined`. */
export const T_UNDEFINED = 4;
/** `B_TAG`: `null`. */
export const T_NULL = 5;
/** `B_TAG`: a string, as UTF-16 code units. */
export const T_STRING = 6;

/** The tag `payload` is kept under as it is, or undefined if it must be serialized first. */
export function plainTag(payload: unknown, inlineBytes: number): number | undefined {
  if (typeof payload === "number") return T_NUMBER;
  if (typeof payload === "boolean") return payload ? T_TRUE : T_FALSE;
  if (payload === undefined) return T_UNDEFINED;
  if (payload === null) return T_NULL;
  if (typeof payload === "string" && payload.length * 2 <= inlineBytes) return T_STRING;
  return undefined;
}

/** Writes `payload`, kept under `tag` (see {@link plainTag}), at byte `data`; its length in bytes. */
export function writePlain(end: LinkEnd, data: number, tag: number, payload: unknown): number {
  if (tag === T_NUMBER) {
    end.doubles[data >> 3] = payload as number;
  } else if (tag === T_STRING) {
    const text = payload as string;
    const halves = end.halves;
    const first = data >> 1;
    for (let i = 0; i < text.length; i++) halves[first + i] = text.charCodeAt(i);
    return text.length * 2;
  }
  return 0;
}

/** The value kept in `berth`; throws what `Platform.deserialize` throws. */
export function readInlineValue(end: LinkEnd, berth: number): unknown {
  const at = end.layout.berthWord(berth);
  const data = end.layout.berthData(berth);
  const length = word(end.words, at + cells.B_LEN);
  switch (word(end.words, at + cells.B_TAG)) {
    case T_NUMBER:
      return end.doubles[data >> 3];
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    case T_NULL:
      return null;
    case T_STRING:
      return String.fromCharCode(...end.halves.subarray(data >> 1, (data + length) >> 1));
    case T_BYTES:
      return host().deserialize(end.bytes.subarray(data, data + length));
    default:
      return undefined;
  }
}

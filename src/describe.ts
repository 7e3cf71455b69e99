/**
 * Short descriptions of values for error messages.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** Describes a value in a few words: its type and, for primitives, the value itself. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "symbol":
      return value.toString();
    case "function":
      return "a function";
    default: {
      const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      if (Array.isArray(value)) return "an array";
      return typeof name === "string" && name !== "" && name !== "Object" ? `a ${name}` : "an object";
    }
  }
}

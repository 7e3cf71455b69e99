/**
 * How errors cross threads. Structured clone keeps only an error's message
 * and (for some classes) its stack; here they also keep their class, `name`,
 * `cause` (recursively), `AggregateError.errors` and own enumerable
 * properties.
 *
 * Internal: not part of the public API.
 *
 * @module
 */

/** An error, as sent. */
export interface EncodedError {
  readonly $torchFuturesError: 1;
  /** The nearest built-in class it extends, decoded as that class. */
  readonly builtin: string;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly hasCause: boolean;
  readonly cause: unknown;
  readonly errors: unknown[] | undefined;
  readonly props: Record<string, unknown>;
}

type ErrorClass = new (message?: string, options?: ErrorOptions) => Error;

// Most specific first: the prototype walk stops at the first match.
const BUILTINS: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
  ["AggregateError", AggregateError as unknown as ErrorClass],
  ["Error", Error],
]);
const BUILTIN_BY_PROTO = new Map<unknown, string>(
  [...BUILTINS].map(([name, ctor]) => [ctor.prototype, name]),
);

const SPECIAL = new Set(["name", "message", "stack", "cause"]);
const MAX_DEPTH = 32;

/** Whether `value` is an error (also one made in another realm). */
export function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === "[object Error]";
}

function isEncoded(value: unknown): value is EncodedError {
  return typeof value === "object" && value !== null && (value as Partial<EncodedError>).$torchFuturesError === 1;
}

function builtinOf(error: Error): string {
  for (let proto: unknown = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = BUILTIN_BY_PROTO.get(proto);
    if (name !== undefined) return name;
  }
  return "Error";
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** A nested value: errors are encoded, other values kept if they can be cloned. */
function encodeNested(value: unknown, seen: Set<unknown>): { ok: boolean; value: unknown } {
  if (isError(value)) return seen.has(value) || seen.size >= MAX_DEPTH ? { ok: false, value } : { ok: true, value: encode(value, seen) };
  return cloneable(value) ? { ok: true, value } : { ok: false, value };
}

function encode(error: Error, seen: Set<unknown>): EncodedError {
  seen.add(error);
  const read = (key: string): unknown => {
    try {
      return (error as unknown as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  };
  const stack = read("stack");
  const hasCauseKey = Object.prototype.hasOwnProperty.call(error, "cause");
  const cause = hasCauseKey ? encodeNested(read("cause"), seen) : { ok: false, value: undefined };
  const builtin = builtinOf(error);
  const errorsValue = builtin === "AggregateError" ? read("errors") : undefined;
  let errors: unknown[] | undefined;
  if (Array.isArray(errorsValue)) {
    errors = [];
    for (const item of errorsValue as unknown[]) {
      const nested = encodeNested(item, seen);
      if (nested.ok) errors.push(nested.value);
    }
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (SPECIAL.has(key) || (errors !== undefined && key === "errors")) continue;
    // Properties that cannot be cloned (sockets, functions…) are left behind.
    const nested = encodeNested(read(key), seen);
    if (nested.ok) props[key] = nested.value;
  }
  seen.delete(error);
  return {
    $torchFuturesError: 1,
    builtin,
    name: String(read("name")),
    message: String(read("message")),
    stack: typeof stack === "string" ? stack : undefined,
    hasCause: cause.ok,
    cause: cause.ok ? cause.value : undefined,
    errors,
    props,
  };
}

/**
 * Encodes what `setException` received: an error becomes an
 * {@link EncodedError}; any other value goes as it is (structured clone
 * decides whether it can).
 */
export function encodeReason(reason: unknown): unknown {
  return isError(reason) ? encode(reason, new Set()) : reason;
}

function decodeNested(value: unknown): unknown {
  return isEncoded(value) ? decodeError(value) : value;
}

function decodeError(encoded: EncodedError): Error {
  const Ctor = BUILTINS.get(encoded.builtin) ?? Error;
  const options: ErrorOptions | undefined = encoded.hasCause ? { cause: decodeNested(encoded.cause) } : undefined;
  const error =
    encoded.builtin === "AggregateError"
      ? new AggregateError((encoded.errors ?? []).map(decodeNested), encoded.message, options)
      : new Ctor(encoded.message, options);
  if (encoded.name !== (Ctor.prototype as Error).name) {
    Object.defineProperty(error, "name", { value: encoded.name, writable: true, configurable: true, enumerable: false });
  }
  if (encoded.stack !== undefined) {
    Object.defineProperty(error, "stack", { value: encoded.stack, writable: true, configurable: true, enumerable: false });
  }
  for (const [key, value] of Object.entries(encoded.props)) {
    Object.defineProperty(error, key, { value: decodeNested(value), writable: true, configurable: true, enumerable: true });
  }
  return error;
}

/** The inverse of {@link encodeReason}. */
export function decodeReason(reason: unknown): unknown {
  return decodeNested(reason);
}

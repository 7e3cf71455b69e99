/**
 * How errors cross threads. Structured clone keeps only an error's message
 * and (for some classes) its stack; here they also keep their class, `name`,
 * `cause` (recursively), `AggregateError.errors` and own enumerable
 * properties.
 *
 * A built-in class arrives as itself. So does a class registered with
 * {@link registerErrorClass} (the library registers its own here, and
 * `LinkClosedError` where it is defined): the sender writes the name of the
 * nearest registered class on the error's prototype chain, and the receiver,
 * if it knows that name too, rebuilds the error on that class's prototype
 * without running its constructor. An unknown name arrives as the nearest
 * built-in class, keeping its `name`.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import {
  BrokenFutureError,
  DerivedFutureError,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  FutureTimeoutError,
} from "../../errors.js";

/** An error, as sent. */
export interface EncodedError {
  readonly $torchFuturesError: 1;
  /** The nearest built-in class it extends, decoded as that class. */
  readonly builtin: string;
  /** The nearest registered class it extends, decoded as that class where it is registered. */
  readonly registered: string | undefined;
  readonly name: string;
  /** Whether `name` was an own enumerable property (as a constructor's `this.name = …` makes it). */
  readonly nameEnumerable: boolean;
  readonly message: string;
  readonly stack: string | undefined;
  readonly hasCause: boolean;
  readonly cause: unknown;
  readonly errors: unknown[] | undefined;
  readonly props: Record<string, unknown>;
}

type BuiltinClass = new (message?: string, options?: ErrorOptions) => Error;

// Most specific first: the prototype walk stops at the first match.
const BUILTINS: ReadonlyMap<string, BuiltinClass> = new Map<string, BuiltinClass>([
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
  ["AggregateError", AggregateError as unknown as BuiltinClass],
  ["Error", Error],
]);
const BUILTIN_BY_PROTO = new Map<unknown, string>(
  [...BUILTINS].map(([name, ctor]) => [ctor.prototype, name]),
);

/** A class of errors that {@link registerErrorClass} can take: any constructor of errors. */
export type ErrorClass = abstract new (...args: never[]) => Error;

const REGISTERED = new Map<string, ErrorClass>();
const REGISTERED_BY_PROTO = new Map<unknown, string>();

/**
 * Makes errors of class `ctor` cross threads as `ctor` (and through the
 * byte codec of `clone-codec.ts`): both threads must register it under the
 * same `name`, which is what is sent. Registering the same pair again does
 * nothing.
 *
 * @throws TypeError if `name` is not a non-empty string, `ctor` is not a
 * class of errors, `name` is a built-in class's, or either is already
 * registered with another; nothing is registered then.
 *
 * @example
 * ```ts
 * // Internal (this module is not an entry point): the library's own code calls it.
 * declare function registerErrorClass(name: string, ctor: abstract new (...args: never[]) => Error): void;
 * class QuotaError extends Error {}
 * registerErrorClass("QuotaError", QuotaError); // on every thread that may send or receive one
 * ```
 */
export function registerErrorClass(name: string, ctor: ErrorClass): void {
  if (typeof name !== "string") throw new TypeError(`registerErrorClass() expects a non-empty class name, got ${typeof name}`);
  if (name === "") throw new TypeError("registerErrorClass() expects a non-empty class name, got an empty string");
  if (typeof ctor !== "function" || !(ctor.prototype instanceof Error)) {
    throw new TypeError(`registerErrorClass() expects a class that extends Error for "${name}"`);
  }
  if (BUILTINS.has(name)) throw new TypeError(`registerErrorClass(): "${name}" is a built-in error class, which crosses threads already`);
  const known = REGISTERED.get(name);
  const knownName = REGISTERED_BY_PROTO.get(ctor.prototype);
  if (known === ctor && knownName === name) return;
  if (known !== undefined) throw new TypeError(`registerErrorClass(): "${name}" is already registered for another class; pick another name`);
  if (knownName !== undefined) throw new TypeError(`registerErrorClass(): this class is already registered as "${knownName}"`);
  REGISTERED.set(name, ctor);
  REGISTERED_BY_PROTO.set(ctor.prototype, name);
}

// The library's own classes, registered here rather than in errors.ts: the core imports nothing from threads.
registerErrorClass("FutureError", FutureError);
registerErrorClass("FutureAlreadyCompletedError", FutureAlreadyCompletedError);
registerErrorClass("FutureNotCompletedError", FutureNotCompletedError);
registerErrorClass("DerivedFutureError", DerivedFutureError);
registerErrorClass("FutureTimeoutError", FutureTimeoutError);
registerErrorClass("BrokenFutureError", BrokenFutureError);

/** The name of the nearest registered class on `error`'s prototype chain, if any. */
export function registeredNameOf(error: object): string | undefined {
  if (REGISTERED.size === 0) return undefined;
  for (let proto: unknown = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = REGISTERED_BY_PROTO.get(proto);
    if (name !== undefined) return name;
  }
  return undefined;
}

/**
 * A new error of the class registered as `name`, or undefined if none is.
 * Its constructor is not run (its signature varies): the object is made by
 * `Error` with that class's prototype, so it is a real error (brand, tag) with
 * no own properties yet but `stack`, which the caller overwrites.
 */
export function newRegistered(name: string): Error | undefined {
  const ctor = REGISTERED.get(name);
  return ctor === undefined ? undefined : (Reflect.construct(Error, [], ctor) as Error);
}

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
    registered: registeredNameOf(error),
    name: String(read("name")),
    nameEnumerable: Object.getOwnPropertyDescriptor(error, "name")?.enumerable === true,
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

function define(error: Error, key: string, value: unknown, enumerable = false): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
}

/** An error of the registered class, with the own properties its built-in base's constructor would have set. */
function decodeRegistered(encoded: EncodedError, error: Error): Error {
  define(error, "message", encoded.message);
  if (encoded.hasCause) define(error, "cause", decodeNested(encoded.cause));
  if (encoded.errors !== undefined) define(error, "errors", encoded.errors.map(decodeNested));
  return error;
}

function decodeBuiltin(encoded: EncodedError): Error {
  const Ctor = BUILTINS.get(encoded.builtin) ?? Error;
  const options: ErrorOptions | undefined = encoded.hasCause ? { cause: decodeNested(encoded.cause) } : undefined;
  return encoded.builtin === "AggregateError"
    ? new AggregateError((encoded.errors ?? []).map(decodeNested), encoded.message, options)
    : new Ctor(encoded.message, options);
}

function decodeError(encoded: EncodedError): Error {
  // An unknown registered name (not registered on this thread) falls back to the built-in class.
  const registered = encoded.registered === undefined ? undefined : newRegistered(encoded.registered);
  const error = registered === undefined ? decodeBuiltin(encoded) : decodeRegistered(encoded, registered);
  if (encoded.nameEnumerable || encoded.name !== error.name) define(error, "name", encoded.name, encoded.nameEnumerable);
  if (encoded.stack !== undefined) define(error, "stack", encoded.stack);
  for (const [key, value] of Object.entries(encoded.props)) define(error, key, decodeNested(value), true);
  return error;
}

/** The inverse of {@link encodeReason}. */
export function decodeReason(reason: unknown): unknown {
  return decodeNested(reason);
}

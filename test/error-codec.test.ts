// How errors are encoded to cross threads (src/threads/codecs/error-codec.ts), without a thread: the
// registry of error classes that arrive as themselves, and what happens to a name nobody knows.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FutureError, FutureTimeoutError } from "../src/index.js";
import { decodeReason, encodeReason, registerErrorClass, type EncodedError } from "../src/threads/codecs/error-codec.js";
import { LIBRARY_ERRORS } from "./threads/library-errors-worker.js";

/** What the receiving thread makes of `reason`: encoded, structured-cloned as a message is, decoded. */
const across = (reason: unknown): unknown => decodeReason(structuredClone(encodeReason(reason)));

describe("error-codec: registered classes", () => {
  it("every exported error class arrives as itself, with name, message, stack, cause and own properties", () => {
    for (const Class of LIBRARY_ERRORS) {
      const error = Object.assign(new Class(`a ${Class.name}`, { cause: new Class("the root") }), { code: 7 });
      const r = across(error) as FutureError & { code: number };
      assert.ok(r instanceof Class);
      assert.ok(r instanceof FutureError);
      assert.equal(Object.prototype.toString.call(r), "[object Error]");
      assert.equal(r.name, Class.name);
      assert.equal(r.message, error.message);
      assert.equal(r.stack, error.stack);
      assert.ok(r.cause instanceof Class);
      assert.equal(r.cause.message, "the root");
      assert.deepStrictEqual(Object.keys(r), ["name", "code"]);
      assert.equal(r.code, 7);
    }
  });

  it("a subclass of a registered class arrives as the nearest registered one, keeping its name", () => {
    class QuotaTimeout extends FutureTimeoutError {}
    const r = across(new QuotaTimeout("over quota")) as Error;
    assert.equal(Object.getPrototypeOf(r), FutureTimeoutError.prototype);
    assert.equal(r.name, "QuotaTimeout");
  });

  it("a registered AggregateError subclass keeps its errors", () => {
    class AllFailed extends AggregateError {}
    registerErrorClass("AllFailed", AllFailed);
    const r = across(new AllFailed([new RangeError("one")], "all failed")) as AggregateError;
    assert.ok(r instanceof AllFailed);
    assert.ok(r.errors[0] instanceof RangeError);
    assert.equal(r.message, "all failed");
  });

  it("a name this thread does not know falls back to the nearest built-in class, keeping the name", () => {
    const encoded = encodeReason(new FutureTimeoutError("late")) as EncodedError;
    const r = decodeReason({ ...encoded, registered: "NotRegisteredHere" }) as Error;
    assert.equal(Object.getPrototypeOf(r), Error.prototype);
    assert.equal(r.name, "FutureTimeoutError");
    assert.equal(r.message, "late");
  });

  it("registering the same class under the same name again does nothing", () => {
    class Twice extends Error {}
    registerErrorClass("Twice", Twice);
    registerErrorClass("Twice", Twice);
    assert.ok(across(new Twice("t")) instanceof Twice);
  });

  it("refuses bad arguments, built-in names and clashes with a TypeError, registering nothing", () => {
    class Clash extends Error {}
    const refusals: [string, () => void, RegExp][] = [
      ["an empty name", () => { registerErrorClass("", Clash); }, /non-empty class name/],
      ["a class that is not an error's", () => { registerErrorClass("Clash", Object as never); }, /extends Error/],
      ["a built-in name", () => { registerErrorClass("TypeError", Clash); }, /built-in error class/],
      ["a name taken by another class", () => { registerErrorClass("FutureError", Clash); }, /already registered for another class/],
      ["a class registered under another name", () => { registerErrorClass("Other", FutureTimeoutError); }, /already registered as "FutureTimeoutError"/],
    ];
    for (const [what, register, message] of refusals) assert.throws(register, (e: unknown) => e instanceof TypeError && message.test(e.message), what);
    assert.equal(Object.getPrototypeOf(across(new Clash("c"))), Error.prototype, "Clash was registered anyway");
    assert.equal(Object.getPrototypeOf(across(new FutureError("f"))), FutureError.prototype);
  });
});

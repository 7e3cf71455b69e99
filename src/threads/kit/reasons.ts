/**
 * Every sentence the cross-thread layer says to its users, in one place:
 * the reasons a `BrokenFutureError` gives, and the messages of the errors
 * that refuse a call. Each protocol and platform builds its errors from
 * these, so one situation reads the same wherever it arises. (The codecs'
 * own refusals stay in `codecs/`: they never reach users as such.)
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { describeValue } from "../../describe.js";
import { FULFILLED } from "../../states.js";

/** An error's message, or whatever was thrown, as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** "result" or "error", for a completion's `state`. */
export function what(state: number): string {
  return state === FULFILLED ? "result" : "error";
}

// ---------------------------------------------------------------------------
// why a future broke (BrokenFutureError)

/** The ways a thread goes away, as every death reason spells them. */
const GONE_WAYS = "(it exited, threw an uncaught error or was terminated)";

/** An adopter learns that the owner died with the future pending. */
export const OWNER_GONE = `the thread that created this future has gone away ${GONE_WAYS} without completing it`;
/** The owner learns that every adopter died with the future pending. */
export const ADOPTERS_GONE = `every thread this future was handed to has gone away ${GONE_WAYS} without completing it`;
/** A link's sender learns that the receiver died with the future pending. */
export const RECEIVER_GONE =
  `the thread this future was sent to over a FutureLink has gone away ${GONE_WAYS} without completing it`;
/** The thread that won the claim died before it published the value. */
export const COMPLETER_GONE = "the thread that was completing this future went away before its value was sent";
/** An adopter completed it, but the owner, which relays to the other adopters, died first. */
export const RELAY_GONE =
  "another thread completed this future, but the thread that created it, which passes completions on, " +
  "has gone away before passing it on";
/** A link closed with the future sent but never taken. */
export const NEVER_RECEIVED = "the thread this future was sent to closed the FutureLink without receiving it";

/** Another thread completed it with a value this thread cannot deserialize. */
export const UNRECEIVABLE = "another thread completed this future, but its value cannot be received here";

/** {@link UNRECEIVABLE}, with why. */
export function unreceivable(error: unknown): string {
  return `${UNRECEIVABLE}: ${errorText(error)}`;
}

/** The value reached some threads but cannot be cloned for this one; `outcome` is "result", "error" or "outcome". */
export function uncloneableHere(outcome: string, error: unknown): string {
  return `the ${outcome} set on another thread could not be cloned for this one: ${errorText(error)}`;
}

/** A browser port delivered a message that cannot be deserialized (the `unreceivable` cause). */
export const UNDESERIALIZABLE = "the message could not be deserialized on this thread";

// ---------------------------------------------------------------------------
// refused completions

/** `setResult`/`setException` lost; `how` says to what (see `alreadyCompleted`). */
export function lostCompletion(method: string, how: string): string {
  return (
    `${method}() was called on a shared future that ${how}. A Future can be completed only once, by one thread; ` +
    "the first completion is kept."
  );
}

/** For {@link lostCompletion}: another thread holds the claim. */
export const BEING_COMPLETED = "is being completed by another thread";
/** For {@link lostCompletion}: the future broke. */
export const HAS_BROKEN = "has failed with BrokenFutureError (the threads that could complete it went away)";

/** For {@link lostCompletion}: it was completed, with a result or an error. */
export function completedWith(result: boolean): string {
  return `was already completed with ${result ? "a result" : "an error"}`;
}

/** A future given as a value. */
export function futureAsValue(method: string): string {
  return `${method}(): a Future cannot be sent to another thread as a value. share() it and send its handle instead.`;
}

/** The value cannot be cloned; the future is still pending. */
export function uncloneable(method: string, state: number, error: unknown): string {
  return (
    `${method}(): the ${what(state)} cannot be sent to the other thread sharing this future: ${errorText(error)} ` +
    "Only what structured clone accepts crosses threads (not functions, symbols, or objects holding them; " +
    "MessagePorts must be listed in { transfer }). The future is still pending: complete it with another value."
  );
}

/** `{ transfer }` on a future shared with several threads. */
export function transferToMany(method: string, threads: number): string {
  return (
    `${method}(…, { transfer }): this future was shared with ${threads} threads, and a transferred ` +
    "object can go to only one. Share it with one thread, or send a SharedArrayBuffer-backed value without transfer."
  );
}

// ---------------------------------------------------------------------------
// refused blocking (FutureNotCompletedError)

/** `wait()` on a browser window's main thread. */
export const CANNOT_BLOCK_HERE =
  "wait() cannot block on a browser window's main thread: browsers forbid blocking it (Atomics.wait throws " +
  "there). Use `await fut` (or fut.then(...)) to wait without blocking; wait() blocks in Web Workers.";
/** `wait()` for a value that only the event loop can take. */
export const VALUE_ONLY_LATER =
  "wait() cannot block for this future's value: another thread completed it with a value that reaches this " +
  "thread only through its event loop (in browsers: one holding a SharedArrayBuffer or a MessagePort, or too " +
  "big for shared memory). Use `await fut` to take it; the future is complete, and done() will say so then.";

// ---------------------------------------------------------------------------
// refused share(), send(), adopt(), openLink()

/** `share()`/`send()` given something that is not a Future. */
export function notAFuture(method: string, value: unknown): string {
  return `${method}() expects a Future, got ${describeValue(value)}.`;
}

/** `share()`/`send()` (`verb`: "Share"/"Send") on a future returned by a combinator. */
export function derivedFuture(method: string, verb: string): string {
  return (
    `${method}() was called on a future returned by continueWith(), then() or collectAll(); it completes by ` +
    `itself, on this thread. ${verb} a new Future() and complete it from that future's callback instead.`
  );
}

/** `share()` on a future of a FutureLink. */
export const SHARE_LINKED =
  "share() was called on a future that was sent over a FutureLink; such a future belongs to the two " +
  "threads of that link. share() a future before sending it if more threads must complete it.";
/** `share()` on an adopted future. */
export const SHARE_ADOPTED =
  "share() was called on a future this thread adopted; only the thread that created a future can share it. " +
  "Ask that thread to share() it again, or pass the handle on before adopting it.";
/** `share()` on a completed future. */
export const SHARE_COMPLETED =
  "share() was called on a future that is already completed; another thread could never complete it. " +
  "Send its value instead, or share a future before completing it.";

/** `send()` on a future already sent over a link. */
export const SEND_LINKED =
  "send() was called on a future already sent over a FutureLink; it belongs to the two threads of that " +
  "link. share() a future (before sending it) if more threads must complete it.";
/** `send()` on a future received or adopted here. */
export const SEND_RECEIVED =
  "send() was called on a future this thread received or adopted; only the thread that created a future " +
  "can send it. Complete it here, or ask the thread that created it to send it.";
/** `send()` on a completed future. */
export const SEND_COMPLETED =
  "send() was called on a future that is already completed; the other thread could never complete it. " +
  "Send a pending future, or send the value by other means.";

/** `adopt()` given something that is not a handle. */
export function notAHandle(value: unknown): string {
  return `adopt() expects a FutureHandle made by share() and sent with its transferList, got ${describeValue(value)}.`;
}

/** `share()`/`adopt()` on a page that is not cross-origin isolated. */
export function noSharedMemory(method: string): string {
  return (
    `${method}(): futures cross threads through SharedArrayBuffer, which this page does not have: serve it ` +
    "cross-origin isolated (Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: " +
    "require-corp), so that crossOriginIsolated is true."
  );
}

// ---------------------------------------------------------------------------
// FutureLink

/** A link option out of range. */
export function badLinkSize(name: string, min: number, max: number, value: unknown): string {
  return `FutureLink: ${name} must be an integer from ${min} to ${max}, got ${describeValue(value)}.`;
}

/** `openLink()` given something that is not a link's handle. */
export function notALinkHandle(value: unknown): string {
  return `openLink() expects the handle of a FutureLink, sent with its transferList, got ${describeValue(value)}.`;
}

/** `openLink()` given a handle whose memory is not a link's. */
export const NOT_LINK_MEMORY = "openLink(): the handle's memory is not a FutureLink's.";

/** `handle` of a link opened from a handle. */
export const OPENED_LINK_HANDLE =
  "This FutureLink was opened from a handle; a link joins two threads, and its only handle is the one " +
  "this thread opened. Make a new FutureLink() to link with a third thread.";

/** `send()` after this thread closed the link. */
export const SEND_CLOSED_HERE = "send() was called on a FutureLink that this thread closed; it sends no more futures.";
/** `send()` after the other side closed the link. */
export const SEND_CLOSED_THERE =
  "send(): the thread at the other end closed this FutureLink; it takes no more futures. " +
  "The future was not sent and is still pending.";
/** `send()` after the other side died. */
export const SEND_PEER_GONE =
  `send(): the thread at the other end of this FutureLink has gone away ${GONE_WAYS}. ` +
  "The future was not sent and is still pending.";

/** `receive()` after this thread closed the link. */
export const RECEIVE_CLOSED_HERE = "this FutureLink was closed by this thread; it receives no more futures.";
/** `receive()` after the other side closed the link and everything sent was taken. */
export const RECEIVE_CLOSED_THERE = "the thread at the other end closed this FutureLink; no more futures will arrive.";
/** `receive()` after the other side died and everything sent was taken. */
export const RECEIVE_PEER_GONE =
  `the thread at the other end of this FutureLink has gone away ${GONE_WAYS}; no more futures will arrive.`;

/** `receive()` on a browser window's main thread. */
export const RECEIVE_CANNOT_BLOCK_HERE =
  "receive() cannot block on a browser window's main thread: browsers forbid blocking it (Atomics.wait throws " +
  "there). Use `await link.next()` (or `for await (const fut of link)`) to wait without blocking, or " +
  "link.tryReceive(); receive() blocks in Web Workers.";
/** `receive()` in a worker when the next future can come only through the event loop. */
export const RECEIVE_ONLY_LATER =
  "receive() cannot block for the next future of this FutureLink: it (or a message before it) was sent by " +
  "message, which reaches this thread only through its event loop (in browsers: a future sent while the " +
  "link's shared memory was full or one shared with share() before, or a value holding a SharedArrayBuffer " +
  "or a MessagePort). Use `await link.next()` to take it, or make the link with a larger capacity.";

/** `receive(timeoutMs)` timed out. */
export function receiveTimedOut(timeoutMs: number | undefined): string {
  return (
    `receive(${String(timeoutMs)}) timed out: no future arrived over the link. Receive again, or use ` +
    "`await link.next()` to wait without blocking."
  );
}

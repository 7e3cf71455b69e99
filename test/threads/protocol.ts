// What the tests ask of their workers (workerData), and what the workers report back.
import type { FutureHandle } from "../../src/threads/index.js";

export type Death = "return" | "process.exit" | "throw" | "hang" | "oom";
export type ErrorKind = "range-with-cause" | "custom" | "aggregate" | "string" | "object" | "type";

export type Task =
  /** Adopt, then set `value` after `delayMs` (with `transfer` of a Float32Array's buffer if asked). */
  | { kind: "result"; handle: FutureHandle; delayMs: number; value: unknown; waitForGo?: boolean }
  /** Adopt, then fail it with an error of `error` kind after `delayMs`. */
  | { kind: "error"; handle: FutureHandle; delayMs: number; error: ErrorKind }
  /** Adopt, try values that cannot be cloned, report, then on "go" set 7. */
  | { kind: "uncloneable"; handle: FutureHandle }
  /**
   * Adopt, then set a value whose getter signals `signal[0] = 1`, blocks 300 ms (holding the
   * claim) and returns a function, so the value cannot be sent; report the error.
   */
  | { kind: "slow-uncloneable"; handle: FutureHandle; signal: SharedArrayBuffer }
  /** Adopt, set a Float32Array [1, 2, 3] transferring its buffer, report the sender's byteLength. */
  | { kind: "transfer"; handle: FutureHandle }
  /** Adopt, set an Int32Array over a SharedArrayBuffer, then on "go" write 42 into it and notify. */
  | { kind: "shared"; handle: FutureHandle }
  /** Receive the handle (adopt it if asked), report "ready", then go away as `how` after `delayMs`. */
  | { kind: "die"; handle: FutureHandle; adopt: boolean; how: Death; delayMs: number }
  /** Adopt, then report what the future turns into, observed with `how`. */
  | { kind: "observe"; handle: FutureHandle; how: "wait" | "await" }
  /** Create a future, share it, post the handle, then observe it with `how` (or die as `how`). */
  | { kind: "own"; how: "wait" | "await" | Death; delayMs: number };

export type Report =
  | { event: "ready" }
  | { event: "handle"; handle: FutureHandle }
  | { event: "value"; value: unknown; threadId: number; log: string[] }
  | { event: "error"; name: string; message: string; isBroken: boolean }
  | { event: "refused"; errors: { name: string; message: string }[] }
  | { event: "transferred"; byteLength: number }
  | { event: "done" };

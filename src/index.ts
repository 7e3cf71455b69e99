/**
 * torch-futures: PyTorch's `torch.futures` for TypeScript.
 *
 * @module
 */
export { Future, type CompleteOptions } from "./future.js";
export { collectAll, waitAll, type CollectedFutures, type FutureValues } from "./combinators.js";
export { setCallbackErrorHandler, type CallbackErrorHandler } from "./callback-errors.js";
export {
  BrokenFutureError,
  DerivedFutureError,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  FutureTimeoutError,
} from "./errors.js";
export {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  collectAny,
  waitAny,
  waitFor,
  waitForAsync,
  type Completed,
  type FirstValue,
  type ReturnWhen,
  type ValueOf,
  type WaitForAsyncOptions,
  type WaitForOptions,
  type WaitForResult,
} from "./first-of.js";
export { asCompleted, type AsCompleted, type AsCompletedOptions } from "./as-completed.js";
export { failOnAbort, fromPromise, withTimeout, type WithTimeoutOptions } from "./abort.js";

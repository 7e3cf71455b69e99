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

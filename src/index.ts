/**
 * torch-futures: PyTorch's `torch.futures` for TypeScript.
 *
 * @module
 */
export { Future } from "./future.js";
export { collectAll, waitAll } from "./combinators.js";
export { setCallbackErrorHandler, type CallbackErrorHandler } from "./callback-errors.js";
export {
  DerivedFutureError,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
} from "./errors.js";

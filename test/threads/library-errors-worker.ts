// A worker that fails futures with every error class the package exports, through share()/adopt()
// or a FutureLink, and reports the stacks it made. On the main thread it only exports the list.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import {
  BrokenFutureError,
  DerivedFutureError,
  Future,
  FutureAlreadyCompletedError,
  FutureError,
  FutureNotCompletedError,
  FutureTimeoutError,
} from "../../src/index.js";
import { LinkClosedError, adopt, openLink, type FutureHandle, type LinkHandle } from "../../src/threads/index.js";

/** Every error class the package exports, in the order the worker uses them. */
export const LIBRARY_ERRORS: readonly (new (message: string, options?: ErrorOptions) => FutureError)[] = [
  FutureError,
  FutureAlreadyCompletedError,
  FutureNotCompletedError,
  DerivedFutureError,
  FutureTimeoutError,
  BrokenFutureError,
  LinkClosedError,
];

/** The error the worker sets for class `index`: its cause is a built-in error with a cause of its own class. */
export function libraryError(index: number): FutureError {
  const Class = LIBRARY_ERRORS[index] as (typeof LIBRARY_ERRORS)[number];
  return new Class(`${Class.name} from the worker`, { cause: new RangeError("the cause", { cause: new Class("the root") }) });
}

export type ErrorsTask = { how: "share"; handles: FutureHandle[] } | { how: "link"; handle: LinkHandle };

/** What the worker reports: the stacks of the errors it set, the last one thrown by the library itself. */
export interface ErrorsReport {
  readonly event: "stacks";
  readonly stacks: (string | undefined)[];
  readonly thrown: { name: string; stack: string | undefined };
}

/** An error the library throws itself: value() of a pending future. */
function thrownByLibrary(): unknown {
  try {
    new Future().value();
  } catch (error) {
    return error;
  }
  throw new Error("value() of a pending future did not throw");
}

/** The futures to fail: one per class, then one for the thrown error. */
function futuresOf(task: ErrorsTask): Future[] {
  if (task.how === "share") return task.handles.map((handle) => adopt(handle));
  const link = openLink(task.handle);
  return Array.from({ length: LIBRARY_ERRORS.length + 1 }, () => link.receive(20_000));
}

function main(task: ErrorsTask): void {
  const futures = futuresOf(task);
  const stacks = LIBRARY_ERRORS.map((_, i) => {
    const error = libraryError(i);
    (futures[i] as Future).setException(error);
    return error.stack;
  });
  const thrown = thrownByLibrary() as Error;
  (futures[LIBRARY_ERRORS.length] as Future).setException(thrown);
  const report: ErrorsReport = { event: "stacks", stacks, thrown: { name: thrown.name, stack: thrown.stack } };
  parentPort?.postMessage(report);
}

if (!isMainThread && (workerData as Partial<ErrorsTask> | null)?.how !== undefined) main(workerData as ErrorsTask);

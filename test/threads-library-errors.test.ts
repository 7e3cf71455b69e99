// The library's own errors, set in a worker, arrive on the main thread as themselves: their class
// (instanceof it and FutureError), name, message, stack and cause chain, through share()/adopt()
// and through a FutureLink; an error the library throws in the worker too.
import { describe, it } from "node:test";
import type { Transferable } from "node:worker_threads";
import assert from "node:assert/strict";
import { Future, FutureError, FutureNotCompletedError } from "../src/index.js";
import { FutureLink, share } from "../src/threads/index.js";
import { ReportingWorker, timed } from "./threads/harness.js";
import { LIBRARY_ERRORS, type ErrorsReport, type ErrorsTask } from "./threads/library-errors-worker.js";

const T = { timeout: 30_000 };

/** A worker running library-errors-worker.ts on `task`. */
function start(task: ErrorsTask, transferList: Transferable[]): ReportingWorker<ErrorsTask, ErrorsReport> {
  return new ReportingWorker(new URL("./threads/library-errors-worker.js", import.meta.url), task, transferList);
}

/** The error `fut` failed with, waited for. */
function failure(fut: Future): unknown {
  const { error } = timed(() => fut.wait(10_000));
  assert.ok(error !== undefined, "the future did not fail");
  return error;
}

function assertArrived(error: unknown, index: number, stack: string | undefined): void {
  const Class = LIBRARY_ERRORS[index] as (typeof LIBRARY_ERRORS)[number];
  assert.ok(error instanceof Class, `${String(error)} is not a ${Class.name}`);
  assert.ok(error instanceof FutureError);
  assert.equal(error.name, Class.name);
  assert.equal(error.message, `${Class.name} from the worker`);
  assert.equal(error.stack, stack);
  assert.match(error.stack ?? "", /library-errors-worker\.js/);
  assert.deepStrictEqual(Object.keys(error), ["name"], "own enumerable keys as its constructor makes them");
  const cause = error.cause;
  assert.ok(cause instanceof RangeError);
  assert.equal(cause.message, "the cause");
  assert.ok(cause.cause instanceof Class);
  assert.equal(cause.cause.name, Class.name);
  assert.equal(cause.cause.message, "the root");
}

function assertThrownArrived(error: unknown, thrown: ErrorsReport["thrown"]): void {
  assert.ok(error instanceof FutureNotCompletedError);
  assert.equal(error.name, thrown.name);
  assert.equal(error.stack, thrown.stack);
}

describe("threads: the library's own errors cross as themselves", () => {
  it("through share()/adopt(): every exported class, and one the library threw", T, async () => {
    const futures = Array.from({ length: LIBRARY_ERRORS.length + 1 }, () => new Future());
    const handles = futures.map((fut) => share(fut));
    const worker = start({ how: "share", handles }, handles.flatMap((h) => h.transferList));
    const errors = futures.map(failure);
    const { stacks, thrown } = await worker.next("stacks");
    for (const [i, stack] of stacks.entries()) assertArrived(errors[i], i, stack);
    assertThrownArrived(errors[LIBRARY_ERRORS.length], thrown);
    await worker.done();
  });

  it("through a FutureLink: every exported class, and one the library threw", T, async () => {
    const link = new FutureLink();
    const worker = start({ how: "link", handle: link.handle }, link.handle.transferList);
    const futures = Array.from({ length: LIBRARY_ERRORS.length + 1 }, () => {
      const fut = new Future();
      link.send(fut);
      return fut;
    });
    const errors = futures.map(failure);
    const { stacks, thrown } = await worker.next("stacks");
    for (const [i, stack] of stacks.entries()) assertArrived(errors[i], i, stack);
    assertThrownArrived(errors[LIBRARY_ERRORS.length], thrown);
    link.close();
    await worker.done();
  });
});

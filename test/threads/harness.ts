// Starts test workers and waits for their reports, each wait bounded.
import { Worker, type ResourceLimits, type Transferable } from "node:worker_threads";
import assert from "node:assert/strict";
import { BrokenFutureError } from "../../src/index.js";
import type { Report, Task } from "./protocol.js";

/** How long a death may take to be noticed before a test fails. */
export const BOUND_MS = 10_000;

/** A test worker running `script` on `task`, whose reports (`{ event, … }`) are collected. */
export class ReportingWorker<T, R extends { event: string }> {
  readonly worker: Worker;
  /** The worker's exit code, once it has exited. */
  readonly exited: Promise<number>;
  /** Errors the worker threw (uncaught), or failed to start with. */
  readonly errors: Error[] = [];
  private readonly reports: R[] = [];
  private readonly waiting: (() => void)[] = [];

  constructor(script: URL, task: T, transferList: Transferable[] = [], resourceLimits?: ResourceLimits) {
    this.worker = new Worker(script, {
      workerData: task,
      transferList,
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
    });
    this.worker.on("error", (error) => this.errors.push(error));
    this.worker.on("message", (report: R) => {
      this.reports.push(report);
      for (const wake of this.waiting.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.worker.once("exit", resolve));
  }

  /** The next report of kind `event` (earlier ones of other kinds are kept). */
  async next<E extends R["event"]>(event: E, timeoutMs = 10_000): Promise<Extract<R, { event: E }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.reports.findIndex((r) => r.event === event);
      if (index >= 0) return this.reports.splice(index, 1)[0] as Extract<R, { event: E }>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${event}" report from the worker within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends the worker its "go". */
  go(): void {
    this.worker.postMessage("go");
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  /** Waits (bounded) for the worker to exit; terminates it if it does not. */
  async done(timeoutMs = 10_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        void this.worker.terminate().then(() => {
          resolve(-1);
        });
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A worker running worker.ts: one Task with a shared future. */
export class Agent extends ReportingWorker<Task, Report> {
  constructor(task: Task, transferList: Transferable[] = [], resourceLimits?: ResourceLimits) {
    super(new URL("./worker.js", import.meta.url), task, transferList, resourceLimits);
  }
}

/** Runs `fn`, returning how long it took in milliseconds and what it returned or threw. */
export function timed<T>(fn: () => T): { ms: number; value?: T; error?: unknown } {
  const start = performance.now();
  try {
    const value = fn();
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Ends with the error `promise` rejects with, or fails after `ms`. */
export async function rejection(promise: PromiseLike<unknown>, ms = BOUND_MS): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`still pending after ${ms} ms`));
    }, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } catch (error) {
    return error;
  } finally {
    clearTimeout(timer);
  }
  throw new Error("resolved instead of failing");
}

export function assertBroken(error: unknown, pattern: RegExp): void {
  assert.ok(error instanceof BrokenFutureError, `expected BrokenFutureError, got ${String(error)}`);
  assert.match(error.message, pattern);
}

/** The three refusals a worker reports after trying to complete a future with values that cannot be cloned. */
export function assertRefusedUncloneable(errors: { name: string; message: string }[]): void {
  assert.equal(errors.length, 3);
  for (const error of errors) {
    assert.equal(error.name, "TypeError");
    assert.match(error.message, /^setResult\(\): the result cannot be sent to the other thread sharing this future: /);
    assert.match(error.message, /could not be cloned/);
    assert.match(error.message, /still pending/);
  }
}

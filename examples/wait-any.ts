// Waiting on many RPC-style calls: the first reply (torch C++'s collectAny),
// every reply as it arrives (Python's as_completed), giving up on a slow call
// (a timeout), and Python's wait(return_when=FIRST_EXCEPTION).
//
// It prints:
//   first reply: call 1 = pong 1
//   reply from call 1: pong 1
//   reply from call 2: pong 2
//   reply from call 0: pong 0
//   call 3 gave up: FutureTimeoutError
//   FIRST_EXCEPTION: 1 done, 1 pending
import {
  FIRST_EXCEPTION,
  Future,
  FutureTimeoutError,
  asCompleted,
  collectAny,
  waitForAsync,
  withTimeout,
} from "../src/index.js";
import { runIfMain } from "./main.js";

/** A pretend remote call: a future that a timer completes after `ms`. */
function call(id: number, ms: number): Future<string> {
  const fut = new Future<string>();
  setTimeout(() => {
    fut.setResult(`pong ${id}`);
  }, ms);
  return fut;
}

export async function main(): Promise<void> {
  const calls = [call(0, 60), call(1, 10), call(2, 30)];
  const each = asCompleted(calls);

  const { index, future } = await collectAny(calls);
  console.log(`first reply: call ${index} = ${future.value()}`);

  for await (const { index: i, future: reply } of each) console.log(`reply from call ${i}: ${reply.value()}`);

  const slow = new Future<string>();
  try {
    await withTimeout(slow, 20);
  } catch (error) {
    if (error instanceof FutureTimeoutError) console.log(`call 3 gave up: ${error.name}`);
  }

  const failing = new Future<string>();
  setTimeout(() => {
    failing.setException(new Error("connection reset"));
  }, 10);
  const { done, pending } = await waitForAsync([failing, slow], { returnWhen: FIRST_EXCEPTION });
  console.log(`FIRST_EXCEPTION: ${done.size} done, ${pending.size} pending`);
}

runIfMain(import.meta.url, main);

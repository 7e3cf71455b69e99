// `wait_all`: torch's documentation gives no example; this one follows its
// text ("waits for all provided futures to be complete, and returns the list
// of completed values", throwing if `wait` on any of them throws).
//
// It prints:
//   [ 0, 1 ]
//   waitAll threw: ValueError: foo
import { Future, waitAll } from "../src/index.js";
import { runIfMain } from "./main.js";

class ValueError extends Error {
  override name = "ValueError";
}

export function main(): void {
  const fut0 = new Future<number>();
  const fut1 = new Future<number>();
  fut0.setResult(0);
  fut1.setResult(1);
  console.log(waitAll([fut0, fut1]));

  const failed = new Future<number>();
  failed.setException(new ValueError("foo"));
  try {
    waitAll([fut0, failed]);
  } catch (error) {
    console.log(`waitAll threw: ${String(error)}`);
  }
}

runIfMain(import.meta.url, main);

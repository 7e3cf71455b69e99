// torch's `Future.then` example; torch's `then(callback)` is `continueWith`
// here (in JavaScript `then` belongs to await and Promise.all).
//
// torch's documentation prints:
//   RPC return value is 5.
//   Chained cb done. None
// (JavaScript's "nothing" is `undefined` where Python's is `None`.)
import { Future } from "../src/index.js";
import { runIfMain } from "./main.js";

export function main(): void {
  const callback = (fut: Future<number>): void => {
    console.log(`RPC return value is ${fut.wait()}.`);
  };
  const fut = new Future<number>();
  // The callback will print the return value when the "response" arrives.
  const cbFut = fut.continueWith(callback);
  cbFut.continueWith((x) => {
    const result = (x as Future).wait(); // the first callback returned nothing
    console.log(`Chained cb done. ${String(result)}`);
  });
  fut.setResult(5);
}

runIfMain(import.meta.url, main);

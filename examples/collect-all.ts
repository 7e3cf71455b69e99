// torch's `collect_all` example.
//
// torch's documentation prints:
//   fut0 result = 0
//   fut1 result = 1
import { Future, collectAll } from "../src/index.js";
import { runIfMain } from "./main.js";

export function main(): void {
  const fut0 = new Future<number>();
  const fut1 = new Future<number>();
  const fut = collectAll([fut0, fut1]);
  fut0.setResult(0);
  fut1.setResult(1);
  const futList = fut.wait();
  console.log(`fut0 result = ${futList[0].wait()}`);
  console.log(`fut1 result = ${futList[1].wait()}`);
}

runIfMain(import.meta.url, main);

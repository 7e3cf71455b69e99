// torch's `Future.add_done_callback` example.
//
// torch's documentation prints: This will run after the future has finished.
import { Future } from "../src/index.js";
import { runIfMain } from "./main.js";

export function main(): void {
  const callback = (): void => {
    console.log("This will run after the future has finished.");
  };
  const fut = new Future<number>();
  fut.addDoneCallback(callback);
  fut.setResult(5);
}

runIfMain(import.meta.url, main);

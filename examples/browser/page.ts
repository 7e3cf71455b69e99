// torch's first documentation example, in a browser: a Web Worker sleeps half a
// second and sets the result; the page prints it. In torch:
//
//   fut = torch.futures.Future()
//   t = threading.Thread(target=slow_set_future, args=(fut, torch.ones(2) * 3))
//   t.start()
//   print(fut.wait())  # tensor([3., 3.])
//
// A page's main thread may not block, so the page awaits; in a worker,
// fut.wait() would block as in torch. Open examples/browser/index.html from a
// server that sends COOP/COEP headers (see the README), after `npm run build:all`.
import { Future } from "../../src/index.js";
import { share } from "../../src/threads/browser.js";

/** Formats a Float32Array as Node.js prints it, so the output reads the same everywhere. */
function show(value: Float32Array): string {
  return `Float32Array(${value.length}) [ ${Array.from(value).join(", ")} ]`;
}

/** Runs the example; `print` receives each line it prints. */
export async function main(print: (line: string) => void = console.log): Promise<void> {
  const fut = new Future<Float32Array>();
  const handle = share(fut);
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.postMessage(handle, handle.transferList);
  print(show(await fut)); // Float32Array(2) [ 3, 3 ]: torch's tensor([3., 3.])
  worker.terminate(); // t.join(): the worker has nothing left to do
}

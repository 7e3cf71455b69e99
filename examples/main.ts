// Runs an example's main() when its file is the program (node build/examples/<name>.js).
import { pathToFileURL } from "node:url";

export function runIfMain(url: string, main: () => Promise<void> | void): void {
  const entry = process.argv[1];
  if (entry !== undefined && url === pathToFileURL(entry).href) void Promise.resolve(main());
}

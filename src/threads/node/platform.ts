/**
 * The Node.js platform: `worker_threads` ports, read synchronously with
 * `receiveMessageOnPort`, a sentinel worker (`sentinel.ts`), and V8's
 * serializer (the one `postMessage` uses) for values kept in shared memory.
 *
 * The `node/` layer is this platform and the public faces built on it:
 * `handle.ts` (`share`/`adopt`) and `link.ts` (`FutureLink`), which wrap
 * the protocols' data into handles that carry `MessagePort`s.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { Deserializer, Serializer } from "node:v8";
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { Platform } from "../kit/index.js";
import type { Guard } from "./sentinel.js";

let sentinel: Worker | undefined;

function sentinelWorker(): Worker {
  if (sentinel !== undefined) return sentinel;
  const worker = new Worker(new URL("./sentinel.js", import.meta.url), { name: "torch-futures sentinel" });
  // The process may end while it guards: a blocked thread keeps itself alive.
  worker.unref();
  const forget = (): void => {
    if (sentinel === worker) sentinel = undefined;
  };
  worker.on("error", forget);
  worker.on("exit", forget);
  sentinel = worker;
  return worker;
}

/** The Node.js platform. */
export const nodePlatform: Platform<MessagePort> = {
  channel() {
    const { port1, port2 } = new MessageChannel();
    return [port1, port2];
  },
  receive(port) {
    return receiveMessageOnPort(port);
  },
  listen(port, onMessage, onUnreadable, onClose) {
    port.on("message", onMessage);
    port.on("messageerror", onUnreadable);
    port.on("close", onClose);
    port.unref();
  },
  setRef(port, ref) {
    if (ref) port.ref();
    else port.unref();
  },
  guardCell(port, cell, participant, counted) {
    const guard: Guard = { kind: "cell", port, cell, participant, counted };
    sentinelWorker().postMessage(guard, [port]);
  },
  guardLink(port, link, side) {
    const guard: Guard = { kind: "link", port, link, side };
    sentinelWorker().postMessage(guard, [port]);
  },
  guardWords(port, memory, gone, bell) {
    const guard: Guard = { kind: "words", port, memory, gone, bell };
    sentinelWorker().postMessage(guard, [port]);
  },
  serialize(value) {
    // A plain Serializer, not v8.serialize's: typed arrays keep their buffer and offset, as with
    // postMessage, and shared memory or ports throw, so that they go by message.
    const serializer = new Serializer();
    serializer.writeHeader();
    serializer.writeValue(value);
    return serializer.releaseBuffer();
  },
  deserialize(bytes) {
    const deserializer = new Deserializer(bytes);
    deserializer.readHeader();
    return deserializer.readValue() as unknown;
  },
  mortal: !isMainThread,
  canBlock: true,
  lifelines: true,
};

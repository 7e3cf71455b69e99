/**
 * The worker-threads transport on {@link Wire}s: one wire per pair of
 * workers carries both sides' calls and answers. A call's future is the
 * wire's reply future itself (no future made per call on the callee, none
 * derived on the caller); its deadline sits in a time-sliced bucket.
 *
 * Internal: not an entry point.
 *
 * @module
 */
import { FutureTimeoutError } from "../errors.js";
import { Future } from "../future.js";
import { atDeadline } from "./deadlines.js";
import { RpcCannotBlockError, RpcError, RpcWorkerGoneError } from "./errors.js";
import type { CallOptions, RequestHandler, RpcRequest, Transport } from "./transport.js";
import { Wire, type WireOffer } from "./wire.js";
import { settleThen } from "./agent.js";
import type { Connector } from "./threads-core.js";

/** Makes and opens wires during the group's rendezvous, and the transport from them. */
export const wireConnector: Connector<Wire> = {
  make(peer) {
    const { wire, offer, transfer } = Wire.create(peer);
    return { channel: wire, offer, transfer };
  },
  open: (peer, offer) => Wire.open(peer, offer as WireOffer),
  transport: (name, workers, wires, canBlock) => new WireTransport(name, workers, wires, canBlock),
};

export class WireTransport implements Transport {
  readonly name: string;
  readonly workers: readonly string[];
  readonly #wires: ReadonlyMap<string, Wire>;
  readonly #goneListeners: ((peer: string, cause: unknown) => void)[] = [];
  readonly #canBlock: boolean;
  #handler: RequestHandler | undefined;
  /** Requests that arrived before serve(): none when the agent serves at once, as it does. */
  readonly #early: { wire: Wire; id: number; request: unknown }[] = [];
  #closed = false;

  constructor(name: string, workers: readonly string[], wires: ReadonlyMap<string, Wire>, canBlock: boolean) {
    this.name = name;
    this.workers = workers;
    this.#wires = wires;
    this.#canBlock = canBlock;
    for (const wire of wires.values()) {
      wire.start({
        request: (id, request) => {
          if (this.#handler === undefined) this.#early.push({ wire, id, request });
          else this.#serveOne(wire, id, request as RpcRequest, this.#handler);
        },
        gone: (_how, error) => {
          for (const l of this.#goneListeners) l(wire.peer, error);
        },
      });
    }
  }

  alive(peer: string): boolean {
    return !this.#closed && this.#wires.get(peer)?.up === true;
  }

  onGone(listener: (peer: string, cause: unknown) => void): void {
    this.#goneListeners.push(listener);
  }

  serve(handler: RequestHandler): void {
    // Requests that came first wait for the code that called serve() (initRpc) to finish, as later ones do.
    queueMicrotask(() => {
      this.#handler = handler;
      for (const r of this.#early.splice(0)) this.#serveOne(r.wire, r.id, r.request as RpcRequest, handler);
    });
  }

  call(to: string, request: RpcRequest, options: CallOptions): Future {
    const wire = this.#wire(to);
    if (!wire.up) {
      const failed = new Future();
      failed.setException(new RpcWorkerGoneError(to, "it went away earlier"));
      return failed;
    }
    const reply = wire.call(request, options.transfer, options.decode);
    if (options.timeoutMs !== undefined) {
      const bucket = atDeadline(options.timeoutMs, reply, () => {
        wire.fail(reply, options.timeoutError());
      });
      wire.untilDone(reply, bucket);
    }
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => {
        wire.fail(reply, signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      reply.addDoneCallback(() => {
        signal.removeEventListener("abort", onAbort);
      });
    }
    return reply;
  }

  callSync(to: string, request: RpcRequest, options: CallOptions): unknown {
    if (!this.#canBlock) {
      throw new RpcCannotBlockError(
        `rpc worker "${this.name}" cannot block for a call to "${to}": this thread may not block (a page's main thread); use await agent.rpcAsync(...) or await rref.toHereAsync() instead.`,
      );
    }
    const wire = this.#wire(to);
    if (!wire.up) throw new RpcWorkerGoneError(to, "it went away earlier");
    const reply = wire.call(request, options.transfer, options.decode);
    try {
      return reply.wait(options.timeoutMs);
    } catch (error) {
      // Still pending at the deadline: the call fails here, and a late answer is dropped.
      if (error instanceof FutureTimeoutError && !reply.done()) wire.fail(reply, options.timeoutError());
      if (reply.done()) return reply.value();
      throw error;
    }
  }

  async close(error: Error): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wire of this.#wires.values()) wire.close(error);
    await Promise.resolve();
  }

  #wire(to: string): Wire {
    const wire = this.#wires.get(to);
    if (wire === undefined) throw new RpcError(`no worker named "${to}" in this group`);
    return wire;
  }

  /** Serves one request: the answer goes when the handler's value, Promise or Future has settled. */
  #serveOne(wire: Wire, id: number, request: RpcRequest, handler: RequestHandler): void {
    settleThen(
      () => handler(request, wire.peer),
      (ok, value) => {
        this.#answer(wire, id, request, ok, value);
      },
    );
  }

  #answer(wire: Wire, id: number, request: RpcRequest, ok: boolean, value: unknown): void {
    let sent: boolean;
    try {
      sent = wire.answer(id, ok, value);
    } catch (error) {
      // A getter of the value threw while it was written: the caller gets that error.
      sent = wire.answer(id, false, error);
    }
    if (!sent) {
      // The value cannot be cloned: the caller learns why instead of waiting.
      wire.answer(id, false, new RpcError(`rpc worker "${this.name}" could not send the ${ok ? "result" : "error"} of "${request.fn ?? request.kind}" back: it cannot be cloned`));
    }
  }
}

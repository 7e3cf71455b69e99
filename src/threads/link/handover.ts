/**
 * A future handed over by message (see `HandOverMessage`) carries its
 * `share()` port: where the platform cannot post its ports as they are
 * (browsers, whose ports are a `MessagePort` and two mailboxes), the port is
 * packed for the trip and rebuilt on arrival (`Platform.packPort`).
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { host, type Port } from "../kit/index.js";
import type { HandleData } from "../share/protocol.js";

/** `data` as a message can carry it, and what that message must transfer. */
export function packHandle(data: HandleData): { handle: HandleData; transfer: object[] } {
  const p = host();
  if (p.packPort === undefined) return { handle: data, transfer: [data.port] };
  const { packed, transfer } = p.packPort(data.port);
  return { handle: { ...data, port: packed as Port }, transfer };
}

/** The inverse of {@link packHandle}, on the receiving thread. */
export function unpackHandle(handle: HandleData): HandleData {
  const p = host();
  if (p.unpackPort === undefined) return handle;
  return { ...handle, port: p.unpackPort(handle.port) };
}

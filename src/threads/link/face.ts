/**
 * What the two public faces of links (`node/link.ts` and `browser/link.ts`)
 * share: making a link's end or taking the one `openLink()` opened, opening
 * a handle once per end, and the blocking `receive()`. The faces add only
 * their handles, which carry their platform's ports.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import { FutureNotCompletedError } from "../../errors.js";
import { deadlineOf, type Future } from "../../future.js";
import { reasons, type Port } from "../kit/index.js";
import { createLink, openLinkData, receiveBlocking, type LinkData, type LinkSizes } from "./protocol.js";
import type { LinkEnd } from "./end.js";

// Set while openWith() constructs the face of the end it opened.
let opening: LinkEnd | undefined;
// Opening the same end again gives the same face.
const faces = new WeakMap<LinkEnd, object>();

/**
 * For a face's constructor: the end `openLink()` is opening (and no
 * handle), or a new link's end and its handle, made by `wrap`.
 */
export function endOf<P extends Port, H>(
  sizes: LinkSizes | undefined,
  wrap: (data: LinkData<P>) => H,
): { end: LinkEnd; handle: H | undefined } {
  if (opening !== undefined) return { end: opening, handle: undefined };
  const { end, data } = createLink<P>(sizes);
  return { end, handle: wrap(data) };
}

/** For `openLink()`: the face of the end `data` opens, made by `make` the first time. */
export function openWith<L extends object>(data: LinkData, make: () => L): L {
  const end = openLinkData(data);
  const known = faces.get(end);
  if (known !== undefined) return known as L;
  opening = end;
  try {
    const link = make();
    faces.set(end, link);
    return link;
  } finally {
    opening = undefined;
  }
}

/** See `FutureLink.receive`. */
export function receiveOn(end: LinkEnd, timeoutMs: number | undefined): Future {
  const deadline = deadlineOf(timeoutMs, "receive");
  if (!end.canBlock) throw new FutureNotCompletedError(reasons.RECEIVE_CANNOT_BLOCK_HERE);
  return receiveBlocking(end, deadline, timeoutMs);
}

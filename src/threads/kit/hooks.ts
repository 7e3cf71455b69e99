/**
 * The core's hooks (`RemoteHooks`), for every protocol at once: each call is
 * dispatched to the future's {@link SharedRecord}, and blocking goes through
 * {@link blockUntilAny}.
 *
 * Internal: not part of the public API.
 *
 * @module
 */
import type { RemoteHooks } from "../../remote.js";
import { blockUntilAny } from "./blocking.js";
import { installPlatform, type Platform, type Port } from "./platform.js";
import { pendingShared, recordOf } from "./records.js";

/** Installs the platform; returns the hooks for the core's `installRemote`. */
export function createHooks<P extends Port>(p: Platform<P>): RemoteHooks {
  installPlatform(p);
  return {
    complete(fut, state, value, transfer) {
      recordOf(fut).complete(state, value, transfer);
    },
    poll(fut) {
      recordOf(fut).poll();
    },
    blockUntilAny,
    watch(fut) {
      recordOf(fut).watch();
    },
    pendingShared,
  };
}

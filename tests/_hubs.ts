// Any of three SAMP hubs, each with a private lockfile in a new temp dir:
// ours (samp_hub), JSAMP's (`jsamp hub`) and astropy's (SAMPHubServer, via
// tests/peers/astropy_hub.py). The logic lives in scripts/hubs.ts, which the
// benchmarks share; see there for how each hub is kept off ~/.samp and which
// addresses it listens on. Tests that need JSAMP or astropy register through
// peerTest (tests/_peers.ts), so a missing peer means "ignored".

import type { PeerName } from "./_peers.ts";
import type { HubKind } from "../scripts/hubs.ts";

export { type AnyHub, HUB_KINDS, type HubKind, startAnyHub } from "../scripts/hubs.ts";

/** The interop peer a hub kind needs (none for ours). */
export const HUB_PEER: Record<HubKind, PeerName | undefined> = {
  ours: undefined,
  jsamp: "jsamp",
  astropy: "astropy",
};

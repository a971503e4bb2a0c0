/**
 * Finding what to drive: the bare relay (`--relay URL`), or the hub of the
 * lockfile that `SAMP_HUB`, `~/.samp` or `--lockfile` names, with its name.
 *
 * @module
 */

import { findHub } from "../../lib/client/discovery.ts";
import type { BenchOptions } from "./args.ts";
import { HubTarget } from "./hub_target.ts";
import { RelayTarget } from "./relay_target.ts";
import type { Target } from "./target.ts";
import { mapOf, stringOf } from "./_values.ts";

/** The target of a run, and the hub's `samp.name` when it gave one. */
export interface Connected {
  target: Target;
  name?: string;
}

/**
 * The target of a run: the relay when `opts.relay` is set, else the hub
 * found through the lockfile (asked for its name by a short registration).
 *
 * @throws {Error} when no hub is found (from findHub).
 *
 * @example
 * ```ts ignore
 * import { connectTarget } from "./connect.ts";
 * const { target, name } = await connectTarget({ quick: true, json: false, duration: 1, rounds: 1 });
 * console.log(name, target.description);
 * target.close();
 * ```
 */
export async function connectTarget(opts: BenchOptions): Promise<Connected> {
  if (opts.relay) return { target: new RelayTarget(opts.relay) };
  const { lock, location } = await findHub({ lockfile: opts.lockfile });
  const target = new HubTarget(lock.xmlrpcUrl, lock.secret, `hub at ${lock.xmlrpcUrl}`);
  // The hub's name, for the report (optional).
  let name: string | undefined;
  try {
    const { key, hubId } = await target.rawRegister();
    try {
      name = stringOf(
        mapOf(await target.rawCall("samp.hub.getMetadata", [key, hubId]))["samp.name"],
      );
    } finally {
      await target.rawCall("samp.hub.unregister", [key]);
    }
  } catch { /* unnamed */ }
  target.description = `${name ?? "SAMP hub"} at ${lock.xmlrpcUrl} (lockfile ${location})`;
  return { target, name };
}

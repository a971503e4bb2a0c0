/**
 * Finding the hub, as the standard says: `SAMP_HUB=std-lockurl:URL` (a
 * `file:` or `http:` URL), else the lockfile in the home directory. A hub
 * that is missing or gone is reported with what to do about it.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import {
  type LockfileEnv,
  type LockInfo,
  type LockLocation,
  readLockfile,
  resolveLockLocation,
} from "../lockfile.ts";
import { xmlrpcRequest } from "../transport/xmlrpc_client.ts";

// How to start a hub, for people who installed the commands, for those who
// did not (Deno fetches the hub from JSR), and for users of the desktop tools
// that run a hub of their own when none is running.
const START_HUB = "`samp_hub` (not installed? `deno run -A jsr:@sampkit/samp/hub`; " +
  "TOPCAT and Aladin also start one)";

/**
 * No usable hub: no lockfile, or its hub does not answer.
 *
 * @example
 * ```ts ignore
 * import { findHub, HubNotFoundError } from "./discovery.ts";
 * try {
 *   await findHub();
 * } catch (e) {
 *   if (e instanceof HubNotFoundError) console.error(e.message);
 * }
 * ```
 */
export class HubNotFoundError extends Error {
  /** Where the lockfile was looked for. */
  readonly location: string;
  /** True when a lockfile exists but its hub does not answer. */
  readonly stale: boolean;

  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { HubNotFoundError } from "./discovery.ts";
   * new HubNotFoundError("no SAMP hub is running", "/home/ada/.samp", false);
   * ```
   */
  constructor(message: string, location: string, stale: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "HubNotFoundError";
    this.location = location;
    this.stale = stale;
  }
}

/**
 * Where and how to look for the hub.
 *
 * @example
 * ```ts
 * import type { DiscoveryOptions } from "./discovery.ts";
 * const options: DiscoveryOptions = { lockfile: "/tmp/test.samp" };
 * ```
 */
export interface DiscoveryOptions {
  /** A lockfile path or `file:`/`http:` URL to use instead of `SAMP_HUB` and `~/.samp`. */
  lockfile?: string;
  /** Environment to read `SAMP_HUB` and the home directory from. Default `Deno.env`. */
  env?: LockfileEnv;
  /** How long to wait for the hub to answer a ping, in ms. Default 5000. */
  pingTimeoutMs?: number;
  /** Aborts the search. */
  signal?: AbortSignal;
}

/**
 * A hub that answered: its lockfile and where that was found.
 *
 * @example
 * ```ts ignore
 * import { findHub } from "./discovery.ts";
 * const hub = await findHub();
 * console.log(hub.lock.xmlrpcUrl, "from", hub.location);
 * ```
 */
export interface FoundHub {
  /** The parsed lockfile. */
  lock: LockInfo;
  /** The lockfile's path or URL. */
  location: string;
}

/**
 * Locates the hub's lockfile, reads it and pings the hub.
 *
 * @example
 * ```ts ignore
 * import { findHub } from "./discovery.ts";
 * const { lock } = await findHub({ lockfile: "/tmp/test.samp" });
 * console.log(lock.xmlrpcUrl);
 * ```
 */
export async function findHub(options: DiscoveryOptions = {}): Promise<FoundHub> {
  const where = options.lockfile !== undefined
    ? locationOf(options.lockfile)
    : resolveLockLocation(options.env);
  const location = where.kind === "file" ? where.path : where.url;
  const lock = await readLockfile(where, { signal: options.signal });
  if (!lock) {
    throw new HubNotFoundError(
      `no SAMP hub is running (no lockfile at ${location}): start one with ${START_HUB}` +
        (options.lockfile === undefined
          ? "; for a hub elsewhere, set SAMP_HUB=std-lockurl:file:///path/to/lockfile"
          : ""),
      location,
      false,
    );
  }
  try {
    await xmlrpcRequest(lock.xmlrpcUrl, "samp.hub.ping", [], {
      timeoutMs: options.pingTimeoutMs ?? 5000,
      signal: options.signal,
    });
  } catch (e) {
    if (!(e instanceof SampFault)) {
      if (options.signal?.aborted) throw e;
      throw new HubNotFoundError(
        `the SAMP hub in ${location} (${lock.xmlrpcUrl}) is not answering: it has probably ` +
          `stopped without removing its lockfile; start a new one (it takes the lockfile over) ` +
          `with ${START_HUB} [${(e as Error).message}]`,
        location,
        true,
        { cause: e },
      );
    }
  }
  return { lock, location };
}

function locationOf(lockfile: string): LockLocation {
  if (/^https?:/i.test(lockfile)) return { kind: "http", url: lockfile };
  if (/^file:/i.test(lockfile)) {
    return resolveLockLocation({
      get: (n) => n === "SAMP_HUB" ? `std-lockurl:${lockfile}` : undefined,
    });
  }
  return { kind: "file", path: lockfile };
}

/**
 * The SAMP hub: `samp_hub` when run, and the hub API when imported.
 *
 * Run it with `deno task hub [flags]` (see `--help`), or start a hub from
 * code with {@linkcode startHub}. A running {@linkcode Hub} is watched
 * through a read-only view: `clients()`, `client(id)`, `stats()` and
 * `watch(listener)` for every activity. The hub's parts (its core, the
 * profiles, the HTTP fronts, the command line) are not part of the API.
 *
 * @example Start a hub in-process with a private lockfile
 * ```ts ignore
 * import { startHub } from "./hub.ts";
 * await using hub = await startHub({ lockfile: "/tmp/demo.samp" });
 * console.log(`clients: SAMP_HUB=std-lockurl:file:///tmp/demo.samp (${hub.url})`);
 * ```
 *
 * @module
 */

export {
  type Hub,
  HubAlreadyRunningError,
  type HubOptions,
  startHub,
  type WebOptions,
} from "./lib/hub/server.ts";
export {
  acceptAll,
  type Authorizer,
  type ConsentDecision,
  type ConsentEvent,
  type ConsentRequest,
  type PageConsent,
  pageConsent,
  type PendingConsent,
  rejectAll,
  terminalPrompt,
  withAllowList,
} from "./lib/hub/consent.ts";
export { DEFAULT_WEB_SAFE_MTYPES } from "./lib/hub/web_restrictions.ts";
export type { ClientInfo, HubActivity, HubStats } from "./lib/hub/core.ts";
export type { Logger, LogLevel } from "./lib/log.ts";
export type { XmlRpcLimits } from "./lib/transport/xmlrpc_server.ts";
export type { LockfileEnv } from "./lib/lockfile.ts";
export type { SampList, SampMap, SampValue } from "./lib/types.ts";
export { VERSION } from "./lib/version.ts";

import { runHubCli } from "./lib/hub/cli.ts";

if (import.meta.main) {
  Deno.exit(await runHubCli(Deno.args));
}

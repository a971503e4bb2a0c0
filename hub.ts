/**
 * The SAMP hub: `samp_hub` when run, and the hub API when imported.
 *
 * Run it with `deno task hub [flags]` (see `--help`), or start a hub from
 * code with {@linkcode startHub}.
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
  type ConsentRequest,
  originMismatch,
  rejectAll,
  terminalPrompt,
  withAllowList,
} from "./lib/hub/consent.ts";
export { DEFAULT_WEB_SAFE_MTYPES, webMTypePolicy } from "./lib/hub/web_restrictions.ts";
export {
  type ConsentEvent,
  createHubPage,
  type HubPage,
  type HubPageOptions,
  type PageConsent,
  pageConsent,
  type PendingConsent,
} from "./lib/hub/page.ts";
export {
  createWebProfile,
  type WebProfile,
  type WebProfileOptions,
} from "./lib/hub/web_profile.ts";
export {
  createWebHandler,
  isLoopbackAddress,
  isLoopbackHost,
  type WebHandlerOptions,
} from "./lib/hub/web_server.ts";
export {
  type ClientInfo,
  type Delivery,
  DeliveryError,
  errorResponse,
  type HubActivity,
  HubCore,
  type HubCoreOptions,
  type HubStats,
  type MessagePolicy,
} from "./lib/hub/core.ts";
export {
  createStandardProfile,
  type StandardProfile,
  type StandardProfileOptions,
} from "./lib/hub/standard_profile.ts";
export { HUB_USAGE, type HubCommand, parseHubArgs, runHubCli } from "./lib/hub/cli.ts";
export { createLogger, LOG_LEVELS, type Logger, type LogLevel, openLogger } from "./lib/log.ts";
export type { XmlRpcContext, XmlRpcDispatch, XmlRpcLimits } from "./lib/transport/xmlrpc_server.ts";
export type { LockfileEnv } from "./lib/lockfile.ts";

import { runHubCli } from "./lib/hub/cli.ts";

if (import.meta.main) {
  Deno.exit(await runHubCli(Deno.args));
}

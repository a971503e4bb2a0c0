/**
 * A running hub: the core, the Standard Profile on `Deno.serve`, the lockfile,
 * idle timers, logging and an orderly shutdown.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import {
  ensureMultiDir,
  formatLockfile,
  homeDir,
  type LockfileEnv,
  multiLockfilePath,
  readLockfile,
  removeLockfileIfOurs,
  resolveLockLocation,
  writeLockfile,
  writeLockfileExclusive,
} from "../lockfile.ts";
import { type Logger, silentLogger } from "../log.ts";
import { displayText } from "../_display.ts";
import { xmlrpcRequest } from "../transport/xmlrpc_client.ts";
import { startCompactor } from "./_compact.ts";
import { randomHex } from "../_secrets.ts";
import { createOffload, type Offload } from "../transport/_offload.ts";
import {
  createXmlRpcBodyHandler,
  createXmlRpcHandler,
  type XmlRpcContext,
  type XmlRpcDispatch,
  type XmlRpcLimits,
} from "../transport/xmlrpc_server.ts";
import { type HttpPlainRequest, serveHttp } from "../transport/http_server.ts";
import { VERSION } from "../version.ts";
import { type ClientInfo, type HubActivity, HubCore, type HubStats } from "./core.ts";
import { HUB_ICON_SVG } from "./_icon.ts";
import { createStandardProfile, type StandardProfile } from "./standard_profile.ts";
import type { Authorizer } from "./consent.ts";
import { createWebProfile, type WebProfile } from "./web_profile.ts";
import { webMTypePolicy } from "./web_restrictions.ts";
import { createWebHandler } from "./web_server.ts";
import { createHubPage, type HubPage } from "./page.ts";
import type { PageConsent } from "./consent.ts";

/**
 * Options of {@linkcode startHub}; they mirror the `samp_hub` flags.
 *
 * @example
 * ```ts
 * import type { HubOptions } from "./server.ts";
 * const options: HubOptions = { lockfile: "/tmp/test.samp", clientTimeout: 600 };
 * ```
 */
export interface HubOptions {
  /** Address to listen on. Default `127.0.0.1` (loopback only). */
  addr?: string;
  /** Port of the Standard Profile. Default 0: any free port. */
  port?: number;
  /** Registration secret. Default: 128 random bits, hex. */
  secret?: string;
  /** Lockfile path. Default: `SAMP_HUB`'s file, else `~/.samp` (or one under `~/.samp-1` with `multi`). */
  lockfile?: string;
  /** astropy's multiple-hub mode: write the lockfile under `~/.samp-1/`. */
  multi?: boolean;
  /** A label for this hub, written to the lockfile as `hub.label` and shown in its metadata. */
  label?: string;
  /** Shut the hub down after this many seconds without any call. 0 or unset: never. */
  timeout?: number;
  /** Disconnect clients silent for this many seconds. 0 or unset: never. */
  clientTimeout?: number;
  /** Where hub events are logged. Default: nowhere. */
  logger?: Logger;
  /** Longest wait for a client to accept one callback, in ms. Default 120 s. */
  callbackTimeoutMs?: number;
  /** Caps on XML-RPC requests. */
  limits?: XmlRpcLimits;
  /** Run the Web Profile with these settings (default: off for a hub started from code). */
  web?: WebOptions;
  /** Environment for locating the lockfile. Default `Deno.env`. */
  env?: LockfileEnv;
  /**
   * The live status page on the Standard Profile's port, at a URL with a
   * secret token ({@linkcode Hub.pageUrl}). Default on; `false` turns it off.
   * `consent` is the {@linkcode PageConsent} whose requests the page shows and
   * decides: put the same object in (or under) `web.authorizer`.
   */
  page?: false | { consent?: PageConsent };
  /**
   * Give memory back to the system when the hub goes quiet after a burst: a
   * thorough garbage collection, then a short-lived worker so the allocator
   * returns freed pages. It needs Deno started with `--v8-flags=--expose-gc`
   * and does nothing without it. Default false: it is the `samp_hub`
   * program's choice, not every embedder's.
   */
  compact?: boolean;
}

/**
 * Web Profile settings of {@linkcode startHub}.
 *
 * @example
 * ```ts
 * import { acceptAll } from "./consent.ts";
 * import type { WebOptions } from "./server.ts";
 * const web: WebOptions = { port: 21012, authorizer: acceptAll() };
 * ```
 */
export interface WebOptions {
  /** Port for web clients. Default 21012, the standard's. */
  port?: number;
  /** Decides each registration: the user's consent (see consent.ts). */
  authorizer: Authorizer;
  /** MType patterns web clients may send (default: the safe list; `["*"]` lifts it). */
  safeMTypes?: readonly string[];
  /** Restrict the URL translator to URLs mentioned to the client. Default true. */
  urlControl?: boolean;
  /** Disconnect a callable web client that stops polling for this long, in ms. Default 15 min. */
  pollTimeoutMs?: number;
  /** Disconnect a non-callable web client silent for this long, in ms. Default 30 min. */
  idleTimeoutMs?: number;
  /** Caps on web XML-RPC requests. Default: 8 MiB bodies. */
  limits?: XmlRpcLimits;
}

/**
 * A running hub.
 *
 * @example
 * ```ts ignore
 * import { startHub } from "./server.ts";
 * await using hub = await startHub({ lockfile: "/tmp/x.samp" });
 * console.log(hub.url);
 * ```
 */
export interface Hub extends AsyncDisposable {
  /** The Standard Profile XML-RPC URL (`samp.hub.xmlrpc.url`). */
  readonly url: string;
  /** The Web Profile URL, when it runs. */
  readonly webUrl?: string;
  /** The live status page (`/page/<token>/`), unless it is off. Keep it private. */
  readonly pageUrl?: string;
  /** Path of the lockfile this hub wrote. */
  readonly lockfile: string;
  /** The registration secret (`samp.secret`). */
  readonly secret: string;
  /** The registered clients, the hub's own first, as they are now. */
  clients(): ClientInfo[];
  /** One registered client by its public id, or undefined. */
  client(id: string): ClientInfo | undefined;
  /** Counts of what the hub holds: clients, pending calls, deliveries in flight, queues. */
  stats(): HubStats;
  /**
   * Calls `listener` for every hub activity (registrations, metadata,
   * messages, replies, failed deliveries) until the returned function is
   * called. The listener runs synchronously inside the hub: keep it cheap; an
   * exception it throws is caught and ignored.
   */
  watch(listener: (activity: HubActivity) => void): () => void;
  /** Settles when the hub has stopped, whoever stopped it. */
  readonly finished: Promise<void>;
  /** Sends `samp.hub.event.shutdown`, stops serving and removes the lockfile. */
  close(reason?: string): Promise<void>;
}

/**
 * Thrown by {@linkcode startHub} when a live hub already owns the lockfile.
 *
 * @example
 * ```ts ignore
 * import { HubAlreadyRunningError, startHub } from "./server.ts";
 * try {
 *   await startHub();
 * } catch (e) {
 *   if (e instanceof HubAlreadyRunningError) console.error(e.message);
 * }
 * ```
 */
export class HubAlreadyRunningError extends Error {
  /** URL of the hub that is running. */
  readonly url: string;
  /** The lockfile it owns. */
  readonly lockfile: string;

  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { HubAlreadyRunningError } from "./server.ts";
   * new HubAlreadyRunningError("http://127.0.0.1:4000/xmlrpc", "/home/ada/.samp", "");
   * ```
   */
  constructor(url: string, lockfile: string, impl: string) {
    super(
      `a SAMP hub${impl ? ` (${impl})` : ""} is already running at ${url}, ` +
        `owning the lockfile ${lockfile}: use that hub, stop it first, ` +
        "or start another with --lockfile PATH or --multi",
    );
    this.name = "HubAlreadyRunningError";
    this.url = url;
    this.lockfile = lockfile;
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

// Most code points of client-supplied text in a log line (see displayText):
/** a client's name, as in the consent prompt; */
const NAME_MAX = 80;
/** an error text or a reason; */
const TEXT_MAX = 500;
/** an internal error's stack. */
const STACK_MAX = 4000;

/** An error's text for a log line: escaped, and cut. */
/** An XML-RPC call's context on the fast path: its `Request` and signal made only when asked for. */
class PlainContext implements XmlRpcContext {
  constructor(readonly plain: HttpPlainRequest) {}
  get request(): Request {
    return this.plain.toRequest();
  }
  get signal(): AbortSignal {
    return this.plain.signal;
  }
}

function errorText(e: unknown): string {
  return displayText(String((e as Error)?.message ?? e), TEXT_MAX);
}

/** An internal error's stack for a log line: escaped (one line), and cut. */
function stackText(e: unknown): string {
  return displayText(String((e as Error)?.stack ?? e), STACK_MAX);
}

/**
 * Starts a hub: listens, writes the lockfile (taking over a stale one) and
 * serves until closed.
 *
 * @example
 * ```ts ignore
 * import { startHub } from "./server.ts";
 * const hub = await startHub({ lockfile: "/tmp/my.samp" });
 * // … clients use SAMP_HUB=std-lockurl:file:///tmp/my.samp
 * await hub.close();
 * ```
 */
export async function startHub(options: HubOptions = {}): Promise<Hub> {
  return (await launchHub(options)).hub;
}

/**
 * Starts a hub as {@linkcode startHub} does, and also returns its core: for
 * this package's own tests and tools, which need more than the monitor view
 * (the package does not export it).
 *
 * @example
 * ```ts
 * import { launchHub } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const { hub, core } = await launchHub({ lockfile: `${dir}/hub.samp`, page: false });
 * console.log(core.hubId === hub.clients()[0].id); // true
 * await hub.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function launchHub(options: HubOptions = {}): Promise<{ hub: Hub; core: HubCore }> {
  const log = options.logger ?? silentLogger;
  const addr = options.addr ?? "127.0.0.1";
  const secret = options.secret ?? randomHex(16);
  if (/[=\s]/.test(secret) || secret.length === 0) {
    throw new Error("the hub secret must be non-empty with no spaces or '=' (lockfile syntax)");
  }
  const lockfile = await lockfilePath(options);
  await checkNoLiveHub(lockfile, log);
  if (!LOOPBACK.has(addr)) {
    log.warn(
      `listening on ${addr}, not loopback: other machines may reach this hub; ` +
        "anyone who reads the lockfile can register",
    );
  }

  // The profile needs the core, and the core needs the server's URL (its icon):
  // requests cannot arrive before the lockfile exists, so fill this in below.
  const front: { profile?: StandardProfile; page?: HubPage } = {};
  const dispatch: XmlRpcDispatch = (method, params, ctx) =>
    front.profile!.dispatch(method, params, ctx);
  const internalError = (e: unknown, method: string) =>
    log.error(`internal error in ${displayText(method)}: ${stackText(e)}`);
  // Big calls (a 1,000,000-row rowList) are decoded, and their big values
  // encoded once, in a worker: the main thread keeps serving everyone else.
  const offload = createOffload();
  const xmlrpc = createXmlRpcHandler(dispatch, options.limits, internalError, offload);
  const xmlrpcBody = createXmlRpcBodyHandler(dispatch, options.limits, internalError, offload);
  const isXmlRpc = (method: string, path: string) =>
    method === "POST" && (path === "/xmlrpc" || path === "/" || path === "/RPC2");
  // Not Deno.serve, which loses a request whose client hangs up right after
  // sending it, as SAOImage DS9 does with its replies (see http_server.ts).
  const server = serveHttp({
    hostname: addr,
    port: options.port ?? 0,
    maxBodyBytes: options.limits?.maxBodyBytes,
    requestTimeoutMs: options.limits?.bodyTimeoutMs,
    // XML-RPC calls of up to 1 MiB skip the Request and Response objects.
    fastPath: {
      match: isXmlRpc,
      handle: (r) => xmlrpcBody(r.body, new PlainContext(r)),
    },
    onError: (e) => {
      log.error(`HTTP error: ${errorText(e)}`);
      return new Response("internal error\n", { status: 500 });
    },
  }, (request, info) => {
    const path = pathOf(request.url);
    if (path === "/page" || path.startsWith("/page/")) {
      const page = front.page?.handle(request, info);
      if (page) return page;
    }
    if (isXmlRpc(request.method, path)) {
      return xmlrpc(request);
    }
    if (request.method === "GET" || request.method === "HEAD") {
      if (path === "/icon.svg") {
        return new Response(HUB_ICON_SVG, { headers: { "content-type": "image/svg+xml" } });
      }
      if (path === "/" || path === "/xmlrpc") {
        return new Response(
          `SAMP hub (sampkit ${VERSION}): a SAMP Standard Profile XML-RPC endpoint.\n`,
          { headers: { "content-type": "text/plain; charset=utf-8" } },
        );
      }
    }
    return new Response("not found\n", { status: 404 });
  });
  const host = hostForUrl(addr);
  const base = `http://${host}:${server.addr.port}`;
  const url = `${base}/xmlrpc`;

  const watchers = new Set<(activity: HubActivity) => void>();
  const core = new HubCore({
    policy: webMTypePolicy(options.web?.safeMTypes),
    hubMetadata: {
      "samp.name": "Hub",
      "samp.description.text": `SAMP 1.3 hub (sampkit for Deno ${VERSION})${
        options.label ? ` — ${options.label}` : ""
      }`,
      "samp.icon.url": `${base}/icon.svg`,
      "hub.version": VERSION,
    },
    onActivity: (a) => {
      logActivity(log, a);
      front.page?.activity(a);
      for (const listener of watchers) {
        try {
          listener(a);
        } catch {
          // A monitor's bug must not break the hub.
        }
      }
    },
  });
  const pageToken = randomHex(16);
  if (options.page !== false) {
    front.page = createHubPage({
      core,
      token: pageToken,
      consent: options.page?.consent,
      startedAt: Date.now(),
    });
  }
  const pageUrl = front.page ? `${base}/page/${pageToken}/` : undefined;
  const profile = createStandardProfile({
    core,
    secret,
    callbackTimeoutMs: options.callbackTimeoutMs,
    offload,
  });
  front.profile = profile;
  const web = options.web ? startWeb(options.web, core, log, offload) : undefined;

  const entries: Record<string, string> = {
    "samp.secret": secret,
    "samp.hub.xmlrpc.url": url,
    "samp.profile.version": "1.3",
    "hub.impl": `sampkit-deno/${VERSION}`,
    "hub.start.date": new Date().toISOString(),
  };
  if (options.label) entries["hub.label"] = options.label.replace(/[=\r\n]/g, " ").trim();
  const text = formatLockfile(
    entries,
    "SAMP Standard Profile lockfile written by samp_hub (sampkit)",
  );
  try {
    if (!await writeLockfileExclusive(lockfile, text)) {
      log.warn(`taking over the stale lockfile ${lockfile} (its hub no longer answers)`);
      await writeLockfile(lockfile, text);
    }
  } catch (e) {
    front.page?.close();
    profile.close();
    await web?.close();
    await core.close(0);
    await server.shutdown();
    throw e;
  }
  log.info(`hub started at ${url} (lockfile ${lockfile})`);
  if (web) log.info(`Web Profile at ${web.url}`);

  let closing: Promise<void> | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);
  const hubTimeoutMs = (options.timeout ?? 0) * 1000;
  const clientTimeoutMs = (options.clientTimeout ?? 0) * 1000;
  const webTimeouts = [options.web?.pollTimeoutMs, options.web?.idleTimeoutMs];
  const quick = hubTimeoutMs > 0 || clientTimeoutMs > 0 ||
    webTimeouts.some((t) => t !== undefined && t < 120_000);
  const tickMs = quick ? Math.min(1000, ...webTimeouts.map((t) => (t ?? 4000) / 4)) : 60_000;
  const timer = setInterval(() => {
    web?.profile.sweep();
    for (const id of core.sweep(clientTimeoutMs)) {
      log.info(`client ${id} silent for over ${options.clientTimeout} s: disconnected`);
    }
    if (hubTimeoutMs > 0 && Date.now() - core.lastActivity > hubTimeoutMs) {
      close(`no activity for ${options.timeout} s`);
    }
  }, tickMs);

  const compactor = startCompactor({
    enabled: options.compact === true,
    lastActivity: () => core.lastActivity,
    onCompact: (before, after) =>
      log.debug(
        `quiet after a burst: V8 heap compacted from ${mib(before)} to ${mib(after)}, ` +
          "freed memory handed back to the system",
      ),
  });

  function close(reason = "requested"): Promise<void> {
    closing ??= (async () => {
      clearInterval(timer);
      compactor.close();
      log.info(`hub shutting down (${reason})`);
      await core.close();
      front.page?.close();
      profile.close();
      await web?.close();
      await server.shutdown();
      offload.close();
      try {
        await removeLockfileIfOurs(lockfile, secret);
      } catch (e) {
        log.warn(`could not remove the lockfile ${lockfile}: ${(e as Error).message}`);
      }
      log.info("hub stopped");
      resolveFinished();
    })();
    return closing;
  }

  const hub: Hub = {
    url,
    webUrl: web?.url,
    pageUrl,
    lockfile,
    secret,
    clients: () => core.clients(),
    client: (id) => core.client(id),
    stats: () => core.stats(),
    watch(listener) {
      const own = (a: HubActivity) => listener(a);
      watchers.add(own);
      return () => void watchers.delete(own);
    },
    finished,
    close,
    [Symbol.asyncDispose]: () => close(),
  };
  return { hub, core };
}

async function lockfilePath(options: HubOptions): Promise<string> {
  if (options.lockfile) return options.lockfile;
  if (options.multi) {
    const home = homeDir(options.env);
    await ensureMultiDir(home);
    return multiLockfilePath(home, `${Deno.pid}-${randomHex(4)}`);
  }
  const location = resolveLockLocation(options.env);
  if (location.kind !== "file") {
    throw new Error(
      `SAMP_HUB points at ${location.url}, but a hub can only write a lockfile on disk: ` +
        "unset SAMP_HUB or give --lockfile PATH",
    );
  }
  return location.path;
}

async function checkNoLiveHub(lockfile: string, log: Logger): Promise<void> {
  let info;
  try {
    info = await readLockfile({ kind: "file", path: lockfile });
  } catch (e) {
    // A lockfile that cannot be read at all (no --allow-read, no OS access, a
    // directory) may belong to a live hub: refuse rather than replace it. Only
    // one that reads but does not parse (no cause) is safe to take over.
    if ((e as Error).cause !== undefined) throw e;
    log.warn(`ignoring the invalid lockfile ${lockfile}: ${(e as Error).message}`);
    return;
  }
  if (!info) return;
  if (await answersPing(info.xmlrpcUrl)) {
    throw new HubAlreadyRunningError(info.xmlrpcUrl, lockfile, info.entries["hub.impl"] ?? "");
  }
}

async function answersPing(url: string): Promise<boolean> {
  try {
    await xmlrpcRequest(url, "samp.hub.ping", [], { timeoutMs: 2000 });
    return true;
  } catch (e) {
    // A fault is still an answer from a live hub.
    return e instanceof SampFault;
  }
}

function hostForUrl(addr: string): string {
  if (addr === "0.0.0.0" || addr === "::" || addr === "localhost") return "127.0.0.1";
  return addr.includes(":") ? `[${addr}]` : addr;
}

/** Logs one hub activity; every client-supplied part goes through displayText. */
function logActivity(log: Logger, a: HubActivity): void {
  // One of these per message: its line is built only when it will be written.
  if ((a.kind === "send" || a.kind === "reply") && log.level !== "DEBUG") return;
  const t = (text: string) => displayText(text);
  switch (a.kind) {
    case "register":
      return log.info(`register ${t(a.client.id)} (${a.client.profile} profile)`);
    case "unregister":
      return log.info(`unregister ${name(a.client)}: ${displayText(a.reason, TEXT_MAX)}`);
    case "metadata":
      return log.info(`metadata ${name(a.client)}`);
    case "subscriptions":
      return log.info(
        `subscriptions ${name(a.client)}: ${Object.keys(a.client.subscriptions).length} patterns`,
      );
    case "callable":
      return log.debug(
        `${t(a.client.id)} ${a.client.callable ? "is callable" : "is not callable"}`,
      );
    case "send":
      return log.debug(
        `${a.mode} ${t(a.sender)} -> ${t(a.recipient)} ${t(a.mtype)}` +
          (a.msgId ? ` (${t(a.msgId)})` : ""),
      );
    case "reply":
      return log.debug(
        `reply ${t(a.responder)} -> ${t(a.sender)} ${t(a.msgId)}: ${t(a.status)}`,
      );
    case "delivery-failed": {
      const [callback, recipient] = [t(a.callback), t(a.recipient)];
      const error = displayText(a.error, TEXT_MAX);
      if (!a.maybeDelivered) {
        return log.warn(`could not deliver ${callback} to ${recipient}: ${error}`);
      }
      // It may have arrived: calls wait for the recipient's own reply.
      if (a.repeated) return log.debug(`${callback} to ${recipient}: ${error}`);
      return log.warn(
        `${callback} to ${recipient} went out, but its answer failed: ${error}. ` +
          `It may have arrived, so a call waits for ${recipient}'s own reply (or its ` +
          `leaving, or the call's timeout); further such failures of ${recipient} are ` +
          `logged at debug level`,
      );
    }
    case "sync-timeout":
      return log.warn(
        `callAndWait ${t(a.msgId)} from ${t(a.sender)} to ${t(a.recipient)} ` +
          `timed out after ${a.seconds} s`,
      );
  }
}

/** "c3 (name)" for a log line, the name escaped and cut. */
function name(c: { id: string; metadata: Record<string, unknown> }): string {
  const n = c.metadata["samp.name"];
  const id = displayText(c.id);
  return typeof n === "string" ? `${id} (${displayText(n, NAME_MAX)})` : id;
}

/** A page-supplied name in double quotes: escaped, cut, and its own quotes escaped. */
function quoted(text: string): string {
  // displayText escapes every backslash, so \" cannot be forged.
  return `"${displayText(text, NAME_MAX).replaceAll('"', '\\"')}"`;
}

/** Serves the Web Profile on 127.0.0.1 and, where the system has it, [::1]. */
function startWeb(
  options: WebOptions,
  core: HubCore,
  log: Logger,
  offload: Offload,
): { url: string; profile: WebProfile; close(): Promise<void> } {
  const front: { profile?: WebProfile } = {};
  const handler = createWebHandler({
    dispatch: (m, p, c) => front.profile!.dispatch(m, p, c),
    checkTranslation: (k, u) => front.profile!.checkTranslation(k, u),
    sweep: (n) => front.profile!.sweep(n),
    close: () => front.profile!.close(),
  }, {
    limits: { maxBodyBytes: 8 * 1024 * 1024, ...options.limits },
    onError: (e, what) =>
      log.error(`Web Profile internal error in ${displayText(what)}: ${stackText(e)}`),
    onRefused: (reason) =>
      log.warn(`Web Profile refused a request: ${displayText(reason, TEXT_MAX)}`),
    offload,
  });
  const serve = (hostname: string, port: number) =>
    Deno.serve({
      hostname,
      port,
      onListen: () => {},
      onError: (e) => {
        log.error(`Web Profile HTTP error: ${errorText(e)}`);
        return new Response("internal error\n", { status: 500 });
      },
    }, handler);
  let v4: Deno.HttpServer<Deno.NetAddr>;
  try {
    v4 = serve("127.0.0.1", options.port ?? 21012);
  } catch (e) {
    throw new Error(
      `cannot listen for web clients on port ${options.port ?? 21012} (${(e as Error).message}): ` +
        "another hub may be running its Web Profile; stop it, or use --web-port or --no-web-profile",
    );
  }
  const port = v4.addr.port;
  let v6: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    v6 = serve("::1", port);
  } catch (e) {
    log.debug(`Web Profile not on [::1]:${port}: ${(e as Error).message}`);
  }
  const url = `http://localhost:${port}/`;
  front.profile = createWebProfile({
    core,
    authorizer: options.authorizer,
    translatorBase: `http://localhost:${port}/proxied/`,
    urlControl: options.urlControl,
    pollTimeoutMs: options.pollTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    onConsent: (name, origin, accepted, reason) =>
      log.info(
        `web registration of ${quoted(name)} from ` +
          `${origin === undefined ? "no origin" : displayText(origin)}: ` +
          `${accepted ? "accepted" : "refused"} (${displayText(reason, TEXT_MAX)})`,
      ),
  });
  const profile = front.profile;
  return {
    url,
    profile,
    async close() {
      profile.close();
      options.authorizer.close?.();
      await Promise.all([v4.shutdown(), v6?.shutdown()]);
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * The path of a request URL as Deno gives it (`http://host:port/path?query`),
 * without a URL parser: this runs for every request. Unlike
 * `URL.pathname` it does not resolve dot segments, so "/x/../xmlrpc" is not
 * "/xmlrpc" here (and gets a 404).
 */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

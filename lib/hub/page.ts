/**
 * The hub's live status page: served by the Standard Profile's server on
 * loopback under `/page/<token>/`, with the clients, live message traffic
 * (server-sent events), pending Web Profile consent requests (which the user
 * can accept or reject there), uptime and counts.
 *
 * Its rules: the token is required (a wrong or missing one gets 404, which
 * reveals nothing); the peer must be loopback and the Host header must name
 * loopback (403 otherwise: this blocks DNS rebinding); there are never any
 * `Access-Control-*` headers; a POST must carry no cross-site `Origin`.
 * What it shows of clients (names, metadata, MTypes, reasons, error texts,
 * consent requests) is escaped by `displayText` before it leaves the hub, so
 * no control, bidi override or line separator reaches the page.
 *
 * @module
 */

import type { ClientInfo, HubActivity, HubCore } from "./core.ts";
import type { ConsentEvent, PageConsent, PendingConsent } from "./consent.ts";
import { isLoopbackAddress, isLoopbackHost } from "./web_server.ts";
import { displayText, hasUnsafeText } from "../_display.ts";
import { PAGE_HTML } from "./_page_markup.ts";
import { timingSafeEqual } from "../_secrets.ts";

/**
 * Options of {@linkcode createHubPage}.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import type { HubPageOptions } from "./page.ts";
 * const options: HubPageOptions = { core: new HubCore(), token: "00ff", startedAt: Date.now() };
 * await options.core.close();
 * ```
 */
export interface HubPageOptions {
  /** The hub's core, for clients and counts. */
  core: HubCore;
  /** The secret path segment: `/page/<token>/`. */
  token: string;
  /** Consent requests to show and decide. */
  consent?: PageConsent;
  /** When the hub started (ms since the epoch). */
  startedAt: number;
  /** Keep-alive comment interval on event streams, in ms. Default 15 000. */
  keepAliveMs?: number;
}

/**
 * The status page: a request handler, the feed of hub activity, and close.
 *
 * @example
 * ```ts
 * import type { HubPage } from "./page.ts";
 * function stop(page: HubPage) {
 *   page.close();
 * }
 * ```
 */
export interface HubPage {
  /** Answers a request, or returns null when its path is not the page's. */
  handle(request: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response> | null;
  /** Feeds one hub activity to the open event streams. */
  activity(a: HubActivity): void;
  /** Ends every event stream and stops listening. */
  close(): void;
}

/** A client as the page shows it. */
interface ClientView {
  id: string;
  profile: string;
  name?: string;
  icon?: string;
  metadata: Record<string, unknown>;
  subscriptions: string[];
  callable: boolean;
  registeredAt: number;
}

// Most code points the page shows of a client-supplied string (see displayText):
/** a metadata value; */
const VALUE_MAX = 2000;
/** an error text or a reason. */
const TEXT_MAX = 500;

/** A client-supplied value as the page shows it: every string (key or value) escaped and cut. */
function displayValue(value: unknown): unknown {
  if (typeof value === "string") return displayText(value, VALUE_MAX);
  if (Array.isArray(value)) return value.map(displayValue);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[displayText(k)] = displayValue(v);
    return out;
  }
  return value;
}

function clientView(c: ClientInfo): ClientView {
  const name = c.metadata["samp.name"];
  const icon = c.metadata["samp.icon.url"];
  return {
    id: displayText(c.id),
    profile: c.profile,
    name: typeof name === "string" ? displayText(name) : undefined,
    // Only used as an image's address, never shown: kept whole, or left out.
    icon: typeof icon === "string" && /^(https?:|data:image\/)/i.test(icon) && !hasUnsafeText(icon)
      ? icon
      : undefined,
    metadata: displayValue(c.metadata) as Record<string, unknown>,
    subscriptions: Object.keys(c.subscriptions).map((p) => displayText(p)),
    callable: c.callable,
    registeredAt: c.registeredAt,
  };
}

/** A consent request as the page shows it: the page's name, Origin and Referer escaped. */
function pendingView(p: PendingConsent): PendingConsent {
  return {
    ...p,
    name: displayText(p.name),
    ...(p.origin === undefined ? {} : { origin: displayText(p.origin) }),
    ...(p.referer === undefined ? {} : { referer: displayText(p.referer) }),
  };
}

/** A consent event as the page shows it. */
function consentView(e: ConsentEvent): ConsentEvent {
  return e.type === "pending"
    ? { type: "pending", request: pendingView(e.request) }
    : { ...e, reason: displayText(e.reason, TEXT_MAX) };
}

/** A traffic activity as the page shows it: its strings (MTypes, errors…) escaped. */
function activityView(a: HubActivity): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) {
    out[k] = typeof v === "string" ? displayText(v, TEXT_MAX) : v;
  }
  return out;
}

const encoder = new TextEncoder();

const SECURITY_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" },
  });
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * Makes the hub page (see the module documentation for its rules).
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import { createHubPage } from "./page.ts";
 * const core = new HubCore();
 * const page = createHubPage({ core, token: "0123abcd", startedAt: Date.now() });
 * page.close();
 * await core.close();
 * ```
 */
export function createHubPage(options: HubPageOptions): HubPage {
  const { core, token, consent, startedAt } = options;
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let closed = false;
  let keepAlive: ReturnType<typeof setInterval> | undefined;

  const snapshot = () => ({
    startedAt,
    now: Date.now(),
    uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
    stats: core.stats(),
    clients: core.clients().map(clientView),
    consent: (consent?.pending() ?? []).map(pendingView),
    consentOnPage: consent !== undefined,
  });

  const send = (event: string, data: unknown) => {
    if (streams.size === 0) return;
    const chunk = encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    for (const c of [...streams]) write(c, chunk);
  };
  const write = (c: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array) => {
    try {
      c.enqueue(chunk);
    } catch {
      drop(c);
    }
  };
  const drop = (c: ReadableStreamDefaultController<Uint8Array>) => {
    streams.delete(c);
    if (streams.size === 0 && keepAlive !== undefined) {
      clearInterval(keepAlive);
      keepAlive = undefined;
    }
  };

  const unlisten = consent?.listen((e) => send("consent", consentView(e)));

  const events = (request: Request): Response => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        streams.add(c);
        c.enqueue(encoder.encode(`event: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`));
        keepAlive ??= setInterval(() => {
          const ping = encoder.encode(`: keep-alive ${Date.now()}\n\n`);
          for (const s of [...streams]) write(s, ping);
        }, options.keepAliveMs ?? 15_000);
      },
      cancel() {
        drop(controller);
      },
    });
    request.signal.addEventListener("abort", () => {
      if (!streams.has(controller)) return;
      drop(controller);
      try {
        controller.close();
      } catch {
        // already closed
      }
    }, { once: true });
    return new Response(body, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "x-accel-buffering": "no",
      },
    });
  };

  return {
    handle(request, info) {
      const url = new URL(request.url);
      const path = url.pathname;
      if (path !== "/page" && !path.startsWith("/page/")) return null;
      const peer = (info.remoteAddr as Deno.NetAddr).hostname ?? "";
      const host = request.headers.get("host");
      if (!isLoopbackAddress(peer) || !isLoopbackHost(host)) {
        return text(403, "forbidden: the hub page answers only on this machine, to localhost\n");
      }
      const parts = path.split("/"); // ["", "page", token, ...rest]
      if (parts.length < 4 || !timingSafeEqual(parts[2], token) || closed) {
        return text(404, "not found\n");
      }
      const rest = parts.slice(3).join("/");
      const method = request.method;
      if (method === "GET" || method === "HEAD") {
        if (rest === "") {
          return new Response(method === "HEAD" ? null : PAGE_HTML, {
            headers: {
              ...SECURITY_HEADERS,
              "content-type": "text/html; charset=utf-8",
              "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; " +
                "style-src 'unsafe-inline'; img-src http: https: data:; connect-src 'self'; " +
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            },
          });
        }
        if (rest === "state") return json(snapshot());
        if (rest === "events" && method === "GET") return events(request);
        return text(404, "not found\n");
      }
      const decision = /^consent\/([0-9]+)$/.exec(rest);
      if (method === "POST" && decision) {
        const origin = request.headers.get("origin");
        if (origin !== null && origin !== `${url.protocol}//${host}`) {
          return text(403, "forbidden: cross-site request\n");
        }
        return (async () => {
          const answer = (await request.text()).trim().toLowerCase();
          if (answer !== "accept" && answer !== "reject") {
            return text(400, "the body must be accept or reject\n");
          }
          if (!consent?.decide(decision[1], answer === "accept")) {
            return text(409, "no such pending request (already decided?)\n");
          }
          return json({ id: decision[1], accepted: answer === "accept" });
        })();
      }
      return text(405, "method not allowed\n");
    },
    activity(a) {
      if (closed || streams.size === 0) return;
      const at = Date.now();
      const stats = core.stats();
      switch (a.kind) {
        case "register":
        case "unregister":
        case "metadata":
        case "subscriptions":
        case "callable":
          return send("activity", {
            at,
            stats,
            kind: a.kind,
            client: clientView(a.client),
            ...(a.kind === "unregister" ? { reason: displayText(a.reason, TEXT_MAX) } : {}),
          });
        default:
          return send("activity", { at, stats, ...activityView(a) });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      unlisten?.();
      clearInterval(keepAlive);
      keepAlive = undefined;
      for (const c of [...streams]) {
        streams.delete(c);
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

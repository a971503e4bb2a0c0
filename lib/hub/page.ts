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
import type { Authorizer, ConsentDecision, ConsentRequest } from "./consent.ts";
import { isLoopbackAddress, isLoopbackHost } from "./web_server.ts";
import { displayText, hasUnsafeText } from "../_display.ts";

/**
 * A consent request waiting for an answer, as the page shows it.
 *
 * @example
 * ```ts
 * import type { PendingConsent } from "./page.ts";
 * const p: PendingConsent = { id: "1", name: "Aladin", since: Date.now() };
 * ```
 */
export interface PendingConsent {
  /** Id used in `POST /page/<token>/consent/<id>`. */
  id: string;
  /** The `samp.name` the page declares (not checked). */
  name: string;
  /** Its `Origin` header, if any. */
  origin?: string;
  /** Its `Referer` header, if any. */
  referer?: string;
  /** When it was asked (ms since the epoch). */
  since: number;
}

/**
 * What a {@linkcode PageConsent} reports to its listeners.
 *
 * @example
 * ```ts
 * import type { ConsentEvent } from "./page.ts";
 * const describe = (e: ConsentEvent) =>
 *   e.type === "pending" ? `${e.request.name} asks` : `${e.id}: ${e.accepted ? "accepted" : "refused"}`;
 * ```
 */
export type ConsentEvent =
  | { type: "pending"; request: PendingConsent }
  | { type: "decided"; id: string; accepted: boolean; reason: string };

/**
 * An {@linkcode Authorizer} whose requests the hub page shows and can decide.
 *
 * @example
 * ```ts
 * import { pageConsent } from "./page.ts";
 * const consent = pageConsent(undefined, { timeoutMs: 1000 });
 * consent.close?.();
 * ```
 */
export interface PageConsent extends Authorizer {
  /** The requests waiting for an answer, oldest first. */
  pending(): PendingConsent[];
  /** Answers a pending request; false if there is no such request (any more). */
  decide(id: string, accepted: boolean): boolean;
  /** Listens for new and decided requests; returns a function that stops listening. */
  listen(listener: (event: ConsentEvent) => void): () => void;
}

/**
 * Wraps `fallback` (e.g. the terminal prompt) so that each request is also
 * shown on the hub page: whichever answers first, the page or `fallback`,
 * decides, and the other is withdrawn (its `signal` aborts). Without a
 * `fallback`, a request not answered on the page within `timeoutMs`
 * (default 120 000) is refused. `close()` refuses what is pending and closes
 * `fallback`.
 *
 * @example
 * ```ts
 * import { rejectAll } from "./consent.ts";
 * import { pageConsent } from "./page.ts";
 * const consent = pageConsent(rejectAll());
 * const d = await consent.authorize({ name: "x" });
 * d.accepted; // false
 * ```
 */
export function pageConsent(
  fallback?: Authorizer,
  options: { timeoutMs?: number } = {},
): PageConsent {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const seconds = Number((timeoutMs / 1000).toFixed(3));
  const listeners = new Set<(event: ConsentEvent) => void>();
  const waiting = new Map<string, { info: PendingConsent; settle(d: ConsentDecision): void }>();
  let next = 0;
  let closed = false;
  const emit = (event: ConsentEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch {
        // a broken listener must not break consent
      }
    }
  };

  return {
    authorize(request: ConsentRequest, signal?: AbortSignal): Promise<ConsentDecision> {
      if (closed) {
        return Promise.resolve({ accepted: false, reason: "the hub is closing" });
      }
      if (signal?.aborted) {
        return Promise.resolve({ accepted: false, reason: "the page withdrew its request" });
      }
      const id = String(++next);
      const info: PendingConsent = {
        id,
        name: String(request.name),
        origin: request.origin,
        referer: request.referer,
        since: Date.now(),
      };
      const withdraw = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      return new Promise<ConsentDecision>((resolve) => {
        const onAbort = () => settle({ accepted: false, reason: "the page withdrew its request" });
        const settle = (d: ConsentDecision) => {
          if (!waiting.has(id)) return;
          waiting.delete(id);
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          withdraw.abort();
          emit({ type: "decided", id, accepted: d.accepted, reason: d.reason });
          resolve(d);
        };
        waiting.set(id, { info, settle });
        signal?.addEventListener("abort", onAbort, { once: true });
        emit({ type: "pending", request: info });
        if (fallback) {
          fallback.authorize(request, withdraw.signal).then(
            settle,
            (e) =>
              settle({ accepted: false, reason: `consent failed: ${(e as Error)?.message ?? e}` }),
          );
        } else {
          timer = setTimeout(
            () =>
              settle({
                accepted: false,
                reason: `nobody answered on the hub page within ${seconds} s`,
              }),
            timeoutMs,
          );
        }
      });
    },
    pending: () => [...waiting.values()].map((w) => w.info),
    decide(id: string, accepted: boolean): boolean {
      const w = waiting.get(id);
      if (!w) return false;
      w.settle({
        accepted,
        reason: accepted ? "accepted by the user on the hub page" : "rejected on the hub page",
      });
      return true;
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close(): void {
      closed = true;
      for (const w of [...waiting.values()]) {
        w.settle({ accepted: false, reason: "the hub is closing" });
      }
      fallback?.close?.();
    },
  };
}

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

/** Compares without stopping at the first difference. */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
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
      if (parts.length < 4 || !sameToken(parts[2], token) || closed) {
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

/** The page itself: one document, inline CSS and JS, no external resources. */
const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>SAMP hub</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7280; --line: #e3e6ec; --bg: #f6f7f9; --ok: #137333;
          --err: #b3261e; --warn: #a15c00; --accent: #2d5bd1; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline;
           padding: 14px 24px; background: #1d2330; color: #fff; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header .stat { color: #c9d1e0; } header .stat b { color: #fff; font-weight: 600; }
  #conn { margin-left: auto; font-size: 12px; }
  #conn.live::before { content: "\\25CF  "; color: #4ade80; }
  #conn.down::before { content: "\\25CF  "; color: #f87171; }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: 1fr; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  h2 { margin: 0 0 8px; font-size: 15px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 5px 8px; border-top: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; border-top: none; }
  td.icon img { width: 24px; height: 24px; object-fit: contain; }
  .muted { color: var(--muted); }
  .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12px; }
  .subs span { display: inline-block; background: #eef2fb; color: var(--accent); border-radius: 4px;
               padding: 0 5px; margin: 1px 3px 1px 0; font-size: 12px; }
  details summary { cursor: pointer; color: var(--accent); }
  .status-ok { color: var(--ok); font-weight: 600; }
  .status-err, .status-failed { color: var(--err); font-weight: 600; }
  .status-warning, .status-pending { color: var(--warn); }
  #traffic-wrap { max-height: 420px; overflow: auto; }
  .consent { display: flex; align-items: center; gap: 12px; padding: 8px 0; border-top: 1px solid var(--line); }
  .consent:first-of-type { border-top: none; }
  .consent .who { flex: 1; }
  button { font: inherit; padding: 4px 14px; border-radius: 6px; border: 1px solid var(--line);
           background: #fff; cursor: pointer; }
  button.accept { background: var(--ok); border-color: var(--ok); color: #fff; }
  button.reject { color: var(--err); border-color: var(--err); }
  .decided { font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>SAMP hub</h1>
  <span class="stat">up <b id="uptime">0s</b></span>
  <span class="stat">clients <b id="count-clients">0</b></span>
  <span class="stat">messages <b id="count-messages">0</b></span>
  <span class="stat">pending calls <b id="count-pending">0</b></span>
  <span id="conn" class="down">connecting</span>
</header>
<main>
  <section id="consent-section">
    <h2>Web Profile consent requests</h2>
    <div id="consent"><p class="muted" id="consent-empty">No page is asking to register.</p></div>
    <div id="decided"></div>
  </section>
  <section>
    <h2>Clients</h2>
    <table id="clients">
      <thead><tr><th></th><th>Name</th><th>Id</th><th>Profile</th><th>Subscriptions</th><th>Metadata</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Traffic <span class="muted" style="font-weight:normal">(newest first)</span></h2>
    <div id="traffic-wrap">
      <table id="traffic">
        <thead><tr><th>Time</th><th>Kind</th><th>From</th><th>To</th><th>MType</th><th>Status</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
</main>
<script>
"use strict";
(() => {
  const MAX_ROWS = 200;
  const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  const clients = new Map();
  const calls = new Map();
  let startedAt = Date.now(), skew = 0;
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    if (props) for (const [k, v] of Object.entries(props)) {
      if (k === "class") e.className = v; else if (k === "title") e.title = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
    return e;
  };
  const nameOf = (id) => {
    const c = clients.get(id);
    return c && c.name ? c.name + " (" + id + ")" : id;
  };
  const setStats = (s) => {
    if (!s) return;
    $("count-clients").textContent = String(s.clients);
    $("count-messages").textContent = String(s.messages);
    $("count-pending").textContent = String(s.pendingCalls);
  };
  const renderClients = () => {
    const body = $("clients").tBodies[0];
    body.replaceChildren();
    for (const c of clients.values()) {
      const icon = el("td", { class: "icon" });
      if (c.icon) { const img = document.createElement("img"); img.alt = ""; img.src = c.icon; icon.append(img); }
      const subs = el("td", { class: "subs" });
      for (const s of c.subscriptions) subs.append(el("span", null, s));
      const meta = el("td");
      const keys = Object.keys(c.metadata || {});
      if (keys.length) {
        const d = el("details", null, el("summary", null, keys.length + " entries"));
        const t = el("table");
        for (const k of keys) {
          const v = c.metadata[k];
          t.append(el("tr", null, el("td", { class: "mono" }, k),
            el("td", { class: "mono" }, typeof v === "string" ? v : JSON.stringify(v))));
        }
        d.append(t); meta.append(d);
      }
      body.append(el("tr", { "data-id": c.id }, icon, el("td", { class: "name" }, c.name || ""),
        el("td", { class: "mono" }, c.id), el("td", null, c.profile + (c.callable ? "" : " (not callable)")),
        subs, meta));
    }
  };
  const statusClass = (s) => {
    if (s === "samp.ok") return "status-ok";
    if (s === "samp.warning") return "status-warning";
    if (s === "samp.error" || s === "failed" || s === "timed out") return "status-err";
    return s === "pending" ? "status-pending" : "muted";
  };
  const addRow = (at, kind, from, to, mtype, status) => {
    const st = el("td", { class: "status " + statusClass(status) }, status);
    const row = el("tr", null, el("td", { class: "mono" }, new Date(at).toLocaleTimeString()),
      el("td", { class: "kind" }, kind), el("td", null, from), el("td", null, to),
      el("td", { class: "mtype mono" }, mtype), st);
    const body = $("traffic").tBodies[0];
    body.prepend(row);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    return st;
  };
  const setStatus = (cell, status) => {
    cell.textContent = status; cell.className = "status " + statusClass(status);
  };
  const renderConsent = (list) => {
    const box = $("consent");
    box.replaceChildren();
    if (!list.length) { box.append(el("p", { class: "muted", id: "consent-empty" }, "No page is asking to register.")); return; }
    for (const r of list) {
      const accept = el("button", { class: "accept" }, "Accept");
      const reject = el("button", { class: "reject" }, "Reject");
      accept.onclick = () => answer(r.id, "accept");
      reject.onclick = () => answer(r.id, "reject");
      box.append(el("div", { class: "consent", "data-id": r.id },
        el("div", { class: "who" }, el("b", { class: "consent-name" }, r.name), " wants to register",
          el("div", { class: "muted mono" }, "Origin: " + (r.origin || "undeclared") +
            (r.referer ? "  Referer: " + r.referer : ""))),
        accept, reject));
    }
  };
  let pending = [];
  const answer = async (id, what) => {
    try {
      await fetch(base + "consent/" + encodeURIComponent(id), { method: "POST", body: what });
    } catch (e) { console.warn("consent answer failed", e); }
  };
  const onSnapshot = (s) => {
    startedAt = s.startedAt; skew = Date.now() - s.now;
    clients.clear();
    for (const c of s.clients) clients.set(c.id, c);
    renderClients(); setStats(s.stats);
    pending = s.consent; renderConsent(pending);
    $("consent-section").hidden = !s.consentOnPage && !pending.length;
  };
  const onActivity = (a) => {
    setStats(a.stats);
    switch (a.kind) {
      case "register": case "metadata": case "subscriptions": case "callable":
        clients.set(a.client.id, a.client); renderClients();
        if (a.kind === "register") addRow(a.at, "register", nameOf(a.client.id), "", "", a.client.profile);
        return;
      case "unregister":
        addRow(a.at, "unregister", nameOf(a.client.id), "", "", a.reason);
        clients.delete(a.client.id); renderClients(); return;
      case "send": {
        const cell = addRow(a.at, a.mode, nameOf(a.sender), nameOf(a.recipient), a.mtype,
          a.mode === "notify" ? "sent" : "pending");
        if (a.msgId) calls.set(a.msgId, cell);
        if (calls.size > MAX_ROWS * 2) calls.delete(calls.keys().next().value);
        return;
      }
      case "reply": {
        const cell = calls.get(a.msgId);
        if (cell) { setStatus(cell, a.status); calls.delete(a.msgId); }
        return;
      }
      case "sync-timeout": {
        const cell = calls.get(a.msgId);
        if (cell) { setStatus(cell, "timed out"); calls.delete(a.msgId); }
        return;
      }
      case "delivery-failed":
        addRow(a.at, "failed", "hub", nameOf(a.recipient), a.callback, "failed").title = a.error;
        return;
    }
  };
  const onConsent = (e) => {
    if (e.type === "pending") { pending.push(e.request); $("consent-section").hidden = false; }
    else {
      const r = pending.find((p) => p.id === e.id);
      pending = pending.filter((p) => p.id !== e.id);
      const d = $("decided");
      d.prepend(el("div", { class: "decided " + (e.accepted ? "status-ok" : "status-err") },
        (r ? r.name : "request " + e.id) + ": " + (e.accepted ? "accepted" : "refused") + " (" + e.reason + ")"));
      while (d.childElementCount > 5) d.lastElementChild.remove();
    }
    renderConsent(pending);
  };
  const fmt = (s) => {
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + (s % 60) + "s";
  };
  setInterval(() => {
    $("uptime").textContent = fmt(Math.max(0, Math.floor((Date.now() - skew - startedAt) / 1000)));
  }, 1000);
  const source = new EventSource(base + "events");
  const parse = (f) => (ev) => { try { f(JSON.parse(ev.data)); } catch (e) { console.warn(e); } };
  source.addEventListener("snapshot", parse(onSnapshot));
  source.addEventListener("activity", parse(onActivity));
  source.addEventListener("consent", parse(onConsent));
  source.onopen = () => { $("conn").className = "live"; $("conn").textContent = "live"; };
  source.onerror = () => {
    $("conn").className = "down";
    $("conn").textContent = source.readyState === EventSource.CLOSED ? "hub stopped" : "reconnecting";
  };
})();
</script>
</body>
</html>
`;

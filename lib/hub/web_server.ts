/**
 * The Web Profile's HTTP front: what a browser may reach, and nothing more.
 *
 * Every request passes these checks, in order, before anything is parsed:
 * 1. the peer is on loopback (127.0.0.0/8, ::1, ::ffff:127.x), else 403;
 * 2. the Host header names loopback (`localhost`, `127.x.x.x`, `[::1]`),
 *    else 403: this defeats DNS rebinding, where a hostile page makes its own
 *    host name resolve to 127.0.0.1;
 * 3. CORS: the Origin is echoed (with `Vary: Origin`) only on the hub's own
 *    endpoints; preflights are answered for them alone, including Private
 *    Network Access (`Access-Control-Allow-Private-Network: true`).
 *
 * The endpoints: XML-RPC at `/`, the URL translator at `/proxied/<key>?<url>`,
 * and the cross-domain policy files `/crossdomain.xml` and
 * `/clientaccesspolicy.xml`.
 *
 * @module
 */

import { createXmlRpcHandler, type XmlRpcLimits } from "../transport/xmlrpc_server.ts";
import type { WebProfile } from "./web_profile.ts";
import { fetchTranslated, TranslatorRefusal } from "./_translator_fetch.ts";
import type { Offload } from "../transport/_offload.ts";

/**
 * Options of {@linkcode createWebHandler}.
 *
 * @example
 * ```ts
 * import type { WebHandlerOptions } from "./web_server.ts";
 * const options: WebHandlerOptions = { limits: { maxBodyBytes: 1 << 20 } };
 * ```
 */
export interface WebHandlerOptions {
  /** Caps on XML-RPC requests (web clients get smaller ones than desktop tools). */
  limits?: XmlRpcLimits;
  /** Reports unexpected errors. */
  onError?: (error: unknown, what: string) => void;
  /** Reports refused requests (for the log). */
  onRefused?: (reason: string) => void;
  /**
   * Resolves a host name a redirect leads to (default: the system resolver):
   * see {@linkcode fetchTranslated} for where redirects may go.
   */
  resolveHost?: (hostname: string) => Promise<string[]>;
  /** The hub's offload, so answers carrying big values splice their encodings in. */
  offload?: Offload;
}

const CROSSDOMAIN_XML = `<?xml version="1.0"?>
<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd">
<cross-domain-policy>
  <site-control permitted-cross-domain-policies="all"/>
  <allow-access-from domain="*"/>
  <allow-http-request-headers-from domain="*" headers="*"/>
</cross-domain-policy>
`;

const CLIENTACCESSPOLICY_XML = `<?xml version="1.0" encoding="utf-8"?>
<access-policy>
  <cross-domain-access>
    <policy>
      <allow-from>
        <domain uri="*"/>
      </allow-from>
      <grant-to>
        <resource path="/" include-subpaths="true"/>
      </grant-to>
    </policy>
  </cross-domain-access>
</access-policy>
`;

/**
 * Whether an address is on loopback.
 *
 * @example
 * ```ts
 * import { isLoopbackAddress } from "./web_server.ts";
 * isLoopbackAddress("127.0.0.1"); // true
 * isLoopbackAddress("192.168.1.5"); // false
 * ```
 */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === "::1" ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * Whether a Host header names loopback: `localhost`, a 127.x address or
 * `[::1]`, with any port.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./web_server.ts";
 * isLoopbackHost("localhost:21012"); // true
 * isLoopbackHost("evil.example:21012"); // false
 * ```
 */
export function isLoopbackHost(host: string | null): boolean {
  if (!host) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host.trim().toLowerCase());
  if (!m) return false;
  const name = m[1];
  return name === "localhost" || isLoopbackAddress(name);
}

/**
 * Makes the `Deno.serve` handler of the Web Profile port.
 *
 * @example
 * ```ts ignore
 * import { createWebHandler } from "./web_server.ts";
 * Deno.serve({ hostname: "127.0.0.1", port: 21012 }, createWebHandler(webProfile));
 * ```
 */
export function createWebHandler(
  profile: WebProfile,
  options: WebHandlerOptions = {},
): (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response> {
  const xmlrpc = createXmlRpcHandler(
    profile.dispatch,
    options.limits,
    (e, method) => options.onError?.(e, method),
    // Only to splice big values into answers: a page's own calls are decoded
    // here, whole, so that URL control sees every URL a page supplies.
    options.offload && { ...options.offload, minBytes: Infinity },
  );
  const refuse = (status: number, reason: string) => {
    options.onRefused?.(reason);
    return text(status, reason);
  };

  return async (request, info) => {
    const peer = (info.remoteAddr as Deno.NetAddr).hostname;
    if (!isLoopbackAddress(peer)) {
      return refuse(403, `access from ${peer} refused: the Web Profile serves only this machine`);
    }
    const host = request.headers.get("host");
    if (!isLoopbackHost(host)) {
      return refuse(
        403,
        `Host ${
          JSON.stringify(host)
        } refused: the Web Profile answers only to localhost/127.0.0.1 ` +
          "(this blocks DNS-rebinding attacks)",
      );
    }
    const url = new URL(request.url);
    const path = url.pathname;
    const origin = request.headers.get("origin");
    // "/RPC2" too: astropy's Python web-profile client posts there, as to
    // the Standard Profile.
    const rpc = path === "/" || path === "/RPC2";
    const ours = rpc || path.startsWith("/proxied/");

    if (request.method === "OPTIONS") {
      if (!ours) return text(404, "not found");
      return preflight(request, origin);
    }
    if (path === "/crossdomain.xml" || path === "/clientaccesspolicy.xml") {
      if (request.method !== "GET" && request.method !== "HEAD") {
        return text(405, "use GET", { allow: "GET, HEAD" });
      }
      const body = path === "/crossdomain.xml" ? CROSSDOMAIN_XML : CLIENTACCESSPOLICY_XML;
      const type = path === "/crossdomain.xml" ? "text/x-cross-domain-policy" : "text/xml";
      return new Response(request.method === "HEAD" ? null : body, {
        headers: { "content-type": type },
      });
    }
    if (rpc) {
      if (request.method !== "POST") {
        return withCors(
          text(405, "the SAMP Web Profile takes XML-RPC POSTs here", {
            allow: "POST, OPTIONS",
          }),
          origin,
        );
      }
      return withCors(await xmlrpc(request), origin);
    }
    if (path.startsWith("/proxied/")) {
      return withCors(await translate(request, url), origin);
    }
    return text(404, "not found");
  };

  async function translate(request: Request, url: URL): Promise<Response> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "the URL translator takes GET and HEAD", { allow: "GET, HEAD" });
    }
    const key = decodeURIComponent(url.pathname.slice("/proxied/".length));
    const raw = url.search.slice(1);
    if (!raw) return text(404, "no URL to translate: append it after '?'");
    let target: URL;
    let targetText = raw;
    try {
      if (!URL.canParse(targetText)) targetText = decodeURIComponent(raw);
      target = new URL(targetText);
    } catch {
      return text(400, "the text after '?' is not a URL");
    }
    if (!["file:", "http:", "https:"].includes(target.protocol)) {
      return text(
        400,
        `the translator fetches only file:, http: and https: URLs, not ${target.protocol}`,
      );
    }
    const refused = profile.checkTranslation(key, target.href);
    if (refused) return refuse(refused.status, refused.reason);
    try {
      const got = await fetchTranslated(target, request.method as "GET" | "HEAD", {
        permits: (hop) => profile.checkTranslation(key, hop.href) === null,
        resolve: options.resolveHost,
      });
      const headers = new Headers();
      for (const h of ["content-type", "content-length", "content-encoding", "last-modified"]) {
        const v = got.headers.get(h);
        if (v) headers.set(h, v);
      }
      return new Response(request.method === "HEAD" ? null : got.body, {
        status: got.ok ? 200 : 404,
        headers,
      });
    } catch (e) {
      if (e instanceof TranslatorRefusal) return refuse(e.status, e.message);
      return text(404, `could not fetch ${target.href}: ${(e as Error).message}`);
    }
  }
}

function preflight(request: Request, origin: string | null): Response {
  const method = request.headers.get("access-control-request-method");
  const headers = new Headers({ vary: "Origin" });
  if (origin && isWebOrigin(origin) && method) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-methods", "POST, GET, HEAD, OPTIONS");
    const asked = request.headers.get("access-control-request-headers");
    headers.set("access-control-allow-headers", asked ? allowedHeaders(asked) : "Content-Type");
    headers.set("access-control-max-age", "600");
    if (request.headers.get("access-control-request-private-network") === "true") {
      headers.set("access-control-allow-private-network", "true");
    }
  }
  return new Response(null, { status: 204, headers });
}

/** Only the headers a SAMP web client needs. */
function allowedHeaders(asked: string): string {
  const ok = asked.split(",").map((h) => h.trim()).filter((h) =>
    /^(content-type|x-requested-with)$/i.test(h)
  );
  return ok.length > 0 ? ok.join(", ") : "Content-Type";
}

/** A real web origin (`scheme://host[:port]`), not `null` (file: pages, sandboxes). */
function isWebOrigin(origin: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^\s/]+$/i.test(origin);
}

function withCors(response: Response, origin: string | null): Response {
  response.headers.append("vary", "Origin");
  if (origin && isWebOrigin(origin)) {
    response.headers.set("access-control-allow-origin", origin);
  }
  return response;
}

function text(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/**
 * What the Web Profile's URL translator fetches, and where it refuses to go.
 * The first URL has been checked by URL control. A redirect is followed hop
 * by hop, each hop checked again:
 *
 * - a hop the page is itself permitted (a tool sent it that exact URL) is
 *   followed, wherever it points;
 * - any other hop must be `http:` or `https:` and its host must resolve only
 *   to public addresses ({@linkcode isPublicAddress}): never loopback (so
 *   never the hub's own ports or other local services), private networks or
 *   link-local metadata services. The request is then pinned to the address
 *   that was checked, so a name that resolves differently a moment later
 *   (DNS rebinding) cannot move it.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { isPublicAddress } from "./_addresses.ts";

/**
 * Why the translator will not fetch something, with the HTTP status to answer.
 *
 * @example
 * ```ts
 * import { TranslatorRefusal } from "./_translator_fetch.ts";
 * const refusal = new TranslatorRefusal(403, "redirect to http://127.0.0.1:22/ refused");
 * console.log(refusal.status); // 403
 * ```
 */
export class TranslatorRefusal extends Error {
  /** The HTTP status to answer with. */
  readonly status: number;
  /** Makes the refusal; `message` names the cause. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "TranslatorRefusal";
    this.status = status;
  }
}

/**
 * Options of {@linkcode fetchTranslated}.
 *
 * @example
 * ```ts
 * import type { TranslatorFetchOptions } from "./_translator_fetch.ts";
 * const options: TranslatorFetchOptions = { permits: () => false, maxRedirects: 3 };
 * ```
 */
export interface TranslatorFetchOptions {
  /** Whether URL control permits the page this exact URL. */
  permits(url: URL): boolean;
  /** Redirects followed at most. Default 5. */
  maxRedirects?: number;
  /** Resolves a host name to its addresses (default: the system resolver, as `fetch` uses). */
  resolve?: (hostname: string) => Promise<string[]>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches `start` (already permitted) for the translator, following
 * redirects only where the rules above allow.
 *
 * @example
 * ```ts ignore
 * const response = await fetchTranslated(new URL("file:///data/t.vot"), "GET", {
 *   permits: (url) => control.isPermitted(id, url),
 * });
 * ```
 *
 * @throws {TranslatorRefusal} when a redirect leads where the page may not go.
 */
export async function fetchTranslated(
  start: URL,
  method: "GET" | "HEAD",
  options: TranslatorFetchOptions,
): Promise<Response> {
  const maxRedirects = options.maxRedirects ?? 5;
  const resolve = options.resolve ?? systemResolve;
  let url = start;
  let permitted = true;
  for (let hop = 0;; hop++) {
    if (url.protocol === "file:") return await readFile(url, method);
    const pin = permitted ? undefined : await publicAddressOf(url, resolve);
    const response = await fetchHttp(url, method, pin);
    const location = response.headers.get("location");
    if (!REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel();
    if (hop >= maxRedirects) {
      throw new TranslatorRefusal(502, `${start.href} redirects more than ${maxRedirects} times`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new TranslatorRefusal(502, `${url.href} redirects to an invalid URL`);
    }
    permitted = options.permits(next);
    if (!permitted && next.protocol !== "http:" && next.protocol !== "https:") {
      throw new TranslatorRefusal(
        403,
        `${url.href} redirects to ${next.href}, which no tool sent this page: refused`,
      );
    }
    url = next;
  }
}

/** The checked address to connect to for a hop nobody permitted, or a refusal. */
async function publicAddressOf(
  url: URL,
  resolve: (hostname: string) => Promise<string[]>,
): Promise<string> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (e) {
    throw new TranslatorRefusal(
      502,
      `a redirect leads to ${url.href}, whose host does not resolve (${(e as Error).message})`,
    );
  }
  const local = addresses.find((a) => !isPublicAddress(a));
  if (addresses.length === 0 || local !== undefined) {
    throw new TranslatorRefusal(
      403,
      `a redirect leads to ${url.href}, on ${local ?? "no address"}: the translator follows ` +
        "redirects to loopback, private or link-local addresses only to URLs a tool sent this page",
    );
  }
  return addresses[0];
}

async function systemResolve(hostname: string): Promise<string[]> {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((f) => f.address);
}

/** One HTTP request, redirects not followed, connected to `pin` when given. */
async function fetchHttp(url: URL, method: "GET" | "HEAD", pin?: string): Promise<Response> {
  if (pin === undefined) return await fetch(url, { method, redirect: "manual" });
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  const client = Deno.createHttpClient({ proxy: { transport: "tcp", hostname: pin, port } });
  try {
    // The body outlives the client: closing it only stops new connections.
    return await fetch(url, { method, redirect: "manual", client });
  } finally {
    client.close();
  }
}

async function readFile(url: URL, method: "GET" | "HEAD"): Promise<Response> {
  const path = decodeURIComponent(url.pathname).replace(/^\/([A-Za-z]:)/, "$1");
  const file = await Deno.open(path, { read: true });
  const { size, isFile } = await file.stat();
  if (!isFile) {
    file.close();
    throw new Error("not a file");
  }
  if (method === "HEAD") file.close();
  return new Response(method === "HEAD" ? null : file.readable, {
    headers: { "content-length": String(size) },
  });
}

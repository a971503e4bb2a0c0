/**
 * URL control for the Web Profile's URL translator. One rule, kept here:
 *
 * > A web client may fetch a URL through the hub only if that URL appeared in
 * > a message, response or metadata that came from a non-web client (or from
 * > the hub itself) and was delivered to that web client. Nothing a web
 * > client supplies ever makes a URL fetchable, for itself or for another
 * > page.
 *
 * So the profile tells this module two things: what was *delivered* to a web
 * client from a trusted source ({@linkcode UrlControl.noteDelivered}), and
 * what any web client *supplied* ({@linkcode UrlControl.noteSupplied}). A
 * supplied URL is tainted for good: when a desktop tool later quotes it back
 * (in an error text, a response, its own metadata), it is still not made
 * fetchable. URLs are compared in a canonical form (dot segments, `%XX` of
 * unreserved characters, `file://localhost`, a query on a `file:` URL), so a
 * tool that normalises a page's URL does not launder it.
 *
 * The records are bounded without ever forgetting a taint: a web client that
 * has supplied more than its share of distinct URLs gets a fault for further
 * messages with new URLs ({@linkcode UrlControlFullError}); a web client whose
 * permitted record is full simply gets no new permissions (fail closed).
 *
 * @module
 */

import { posix } from "node:path";
import { SampFault } from "../errors.ts";
import type { SampValue } from "../types.ts";

/**
 * Memory bounds of a {@linkcode UrlControl}, in characters of URL text.
 *
 * @example
 * ```ts
 * import type { UrlControlLimits } from "./url_control.ts";
 * const limits: UrlControlLimits = { permittedPerClient: 1 << 20 };
 * ```
 */
export interface UrlControlLimits {
  /** URL text permitted to one web client; beyond it, nothing more is permitted. Default 4 Mi. */
  permittedPerClient?: number;
  /** Distinct URL text one web client may supply; beyond it, its messages fail. Default 4 Mi. */
  suppliedPerClient?: number;
  /** Distinct URL text all web clients together may supply in the hub's life. Default 64 Mi. */
  suppliedTotal?: number;
}

/**
 * Thrown by {@linkcode UrlControl.noteSupplied} when a web client has supplied
 * more distinct URLs than the hub will track; the message is then refused.
 *
 * @example
 * ```ts
 * import { UrlControl, UrlControlFullError } from "./url_control.ts";
 * const control = new UrlControl({ suppliedPerClient: 30 });
 * try {
 *   control.noteSupplied("c1", ["http://a.example/1", "http://a.example/2"]);
 * } catch (e) {
 *   console.log(e instanceof UrlControlFullError); // true
 * }
 * ```
 */
export class UrlControlFullError extends SampFault {
  /** Makes the fault; `message` names the cause and the fix. */
  constructor(message: string) {
    super(message);
    this.name = "UrlControlFullError";
  }
}

/**
 * Which URLs each web client may fetch through the URL translator.
 *
 * @example
 * ```ts
 * import { UrlControl } from "./url_control.ts";
 * const control = new UrlControl();
 * control.noteDelivered("c3", { url: "file:///data/m31.fits" });
 * control.isPermitted("c3", "file:///data/m31.fits"); // true
 * control.isPermitted("c3", "file:///etc/passwd"); // false
 * control.noteSupplied("c4", { url: "file:///etc/passwd" });
 * control.noteDelivered("c3", { error: "file:///etc/passwd" }); // a tool quoting it
 * control.isPermitted("c3", "file:///etc/passwd"); // still false
 * ```
 */
export class UrlControl {
  readonly #permitted = new Map<string, { urls: Set<string>; size: number }>();
  /** Every URL any web client supplied, canonical, with its file-path alias. Never shrinks. */
  readonly #tainted = new Set<string>();
  readonly #suppliedBy = new Map<string, number>();
  #suppliedTotal = 0;
  readonly #limits: Required<UrlControlLimits>;

  /**
   * Makes an empty record with the given memory bounds.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * const control = new UrlControl({ suppliedTotal: 16 << 20 });
   * ```
   */
  constructor(limits: UrlControlLimits = {}) {
    this.#limits = {
      permittedPerClient: limits.permittedPerClient ?? 4 << 20,
      suppliedPerClient: limits.suppliedPerClient ?? 4 << 20,
      suppliedTotal: limits.suppliedTotal ?? 64 << 20,
    };
  }

  /**
   * Notes the URLs in a value that web client `id` supplied (any argument of
   * any call it makes). They can never become fetchable afterwards.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * new UrlControl().noteSupplied("c1", { "samp.icon.url": "file:///etc/passwd" });
   * ```
   *
   * @throws {UrlControlFullError} when `id` (or all web clients together) has
   * supplied more distinct URL text than the limits allow; nothing of `value`
   * is then noted, and the caller must refuse the message.
   */
  noteSupplied(id: string, value: SampValue): void {
    const fresh = new Set<string>();
    let size = 0;
    for (const url of urlsIn(value)) {
      for (const key of taintKeys(url)) {
        if (this.#tainted.has(key) || fresh.has(key)) continue;
        fresh.add(key);
        size += key.length;
      }
    }
    if (fresh.size === 0) return;
    const mine = (this.#suppliedBy.get(id) ?? 0) + size;
    if (mine > this.#limits.suppliedPerClient) {
      throw new UrlControlFullError(
        `This web client has sent more than ${this.#limits.suppliedPerClient} characters of ` +
          "distinct URLs, and the hub keeps each one to stop pages fetching what they name " +
          "through the URL translator: send fewer distinct URLs, or register again",
      );
    }
    if (this.#suppliedTotal + size > this.#limits.suppliedTotal) {
      throw new UrlControlFullError(
        `Web clients have sent more than ${this.#limits.suppliedTotal} characters of distinct ` +
          "URLs since the hub started, and the hub keeps each one for URL control: restart the hub",
      );
    }
    this.#suppliedBy.set(id, mine);
    this.#suppliedTotal += size;
    for (const key of fresh) this.#tainted.add(key);
  }

  /**
   * Notes the URLs in a value delivered to web client `id` from a trusted
   * source (a non-web client, or the hub): each is permitted to it, unless a
   * web client supplied it first or the client's record is full.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * new UrlControl().noteDelivered("c1", ["http://127.0.0.1:8000/t.vot"]);
   * ```
   */
  noteDelivered(id: string, value: SampValue): void {
    let record = this.#permitted.get(id);
    for (const url of urlsIn(value)) {
      if (taintKeys(url).some((k) => this.#tainted.has(k))) continue;
      const key = canonicalUrl(url);
      if (!record) this.#permitted.set(id, record = { urls: new Set(), size: 0 });
      if (record.urls.has(key)) continue;
      if (record.size + key.length > this.#limits.permittedPerClient) return;
      record.urls.add(key);
      record.size += key.length;
    }
  }

  /**
   * Whether web client `id` may fetch `url` through the translator.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * new UrlControl().isPermitted("c1", "file:///etc/passwd"); // false
   * ```
   */
  isPermitted(id: string, url: string | URL): boolean {
    const record = this.#permitted.get(id);
    if (!record) return false;
    const parsed = typeof url === "string" ? parseUrl(url) : url;
    return parsed !== undefined && record.urls.has(canonicalUrl(parsed));
  }

  /**
   * Forgets what a client that has left was permitted. What it supplied stays
   * tainted.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * new UrlControl().forget("c1");
   * ```
   */
  forget(id: string): void {
    this.#permitted.delete(id);
  }
}

const TRANSLATABLE = new Set(["file:", "http:", "https:"]);
const MAX_URL = 8192;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

function parseUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return TRANSLATABLE.has(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The form URLs are compared in: the parsed `href` (dot segments resolved,
 * scheme and host lower-cased, `file://localhost` as `file://`), without a
 * fragment, with `%XX` of unreserved characters decoded and other escapes in
 * upper case.
 */
function canonicalUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.hash = "";
  return copy.href.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

/**
 * The keys a supplied URL taints: its canonical form and, for `file:`, the
 * file it names (fully decoded, normalised, without query), so a tool that
 * turns the URL into a path and back cannot launder it.
 */
function taintKeys(url: URL): string[] {
  const keys = [canonicalUrl(url)];
  if (url.protocol === "file:") keys.push(filePathKey(url));
  return keys;
}

function filePathKey(url: URL): string {
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // Malformed escapes: the path as written.
  }
  return `file-path:${url.hostname}:${posix.normalize(path)}`;
}

/**
 * The translatable URLs (`file:`, `http:`, `https:`) among the strings of a
 * SAMP value, at any depth, parsed.
 */
function* urlsIn(value: SampValue, depth = 0): Generator<URL> {
  if (typeof value === "string") {
    // Cheap filter first: a scheme, possibly after blanks the URL parser strips.
    // deno-lint-ignore no-control-regex
    if (value.length < MAX_URL && /^[\x00-\x20]*[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) {
      const url = parseUrl(value);
      if (url) yield url;
    }
    return;
  }
  if (depth > 64) return;
  const items = Array.isArray(value) ? value : Object.values(value);
  for (const v of items) yield* urlsIn(v, depth + 1);
}

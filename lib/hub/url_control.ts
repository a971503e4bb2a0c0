/**
 * URL control for the Web Profile's URL translator: a web client may fetch
 * through the hub only URLs that were first mentioned *to* it (in messages,
 * responses or hub answers from trusted clients), never URLs it mentioned
 * itself. So a page cannot read `file:///etc/passwd` through the hub by
 * asking, nor by echoing a URL to itself.
 *
 * @module
 */

import type { SampValue } from "../types.ts";

/**
 * Per-client sets of permitted and blocked URLs, bounded in size.
 *
 * @example
 * ```ts
 * import { UrlControl } from "./url_control.ts";
 * const control = new UrlControl();
 * control.noteIncoming("c3", { url: "file:///data/m31.fits" });
 * control.isPermitted("c3", "file:///data/m31.fits"); // true
 * control.isPermitted("c3", "file:///etc/passwd"); // false
 * ```
 */
export class UrlControl {
  readonly #permitted = new Map<string, Set<string>>();
  readonly #blocked = new Map<string, Set<string>>();
  readonly #limit: number;

  /**
   * Makes an empty tracker remembering at most `limit` URLs per client and
   * kind (the oldest are forgotten first).
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * const control = new UrlControl(1000);
   * ```
   */
  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  /**
   * Notes the URLs in a value sent *to* web client `id`: permitted, unless
   * the client mentioned them first.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * new UrlControl().noteIncoming("c1", ["http://127.0.0.1:8000/t.vot"]);
   * ```
   */
  noteIncoming(id: string, value: SampValue): void {
    const blocked = this.#blocked.get(id);
    for (const url of urlsIn(value)) {
      if (!blocked?.has(url)) add(this.#permitted, id, url, this.#limit);
    }
  }

  /**
   * Notes the URLs in a value sent *by* web client `id`: blocked, unless
   * already permitted.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * new UrlControl().noteOutgoing("c1", { url: "file:///etc/passwd" });
   * ```
   */
  noteOutgoing(id: string, value: SampValue): void {
    const permitted = this.#permitted.get(id);
    for (const url of urlsIn(value)) {
      if (!permitted?.has(url)) add(this.#blocked, id, url, this.#limit);
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
  isPermitted(id: string, url: string): boolean {
    return this.#permitted.get(id)?.has(url) ?? false;
  }

  /**
   * Forgets a client that has left.
   *
   * @example
   * ```ts
   * import { UrlControl } from "./url_control.ts";
   * new UrlControl().forget("c1");
   * ```
   */
  forget(id: string): void {
    this.#permitted.delete(id);
    this.#blocked.delete(id);
  }
}

function add(map: Map<string, Set<string>>, id: string, url: string, limit: number): void {
  let set = map.get(id);
  if (!set) map.set(id, set = new Set());
  if (set.has(url)) return;
  if (set.size >= limit) set.delete(set.values().next().value!);
  set.add(url);
}

/** The strings in a SAMP value that look like absolute URLs (contain ":/" and parse). */
function* urlsIn(value: SampValue, depth = 0): Generator<string> {
  if (typeof value === "string") {
    if (value.includes(":/") && value.length < 8192 && URL.canParse(value)) yield value;
    return;
  }
  if (depth > 64) return;
  const items = Array.isArray(value) ? value : Object.values(value);
  for (const v of items) yield* urlsIn(v, depth + 1);
}

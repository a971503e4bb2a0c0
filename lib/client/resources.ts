/**
 * In-memory data served at http URLs, so a script can send rows or an image
 * it holds to TOPCAT, DS9 or Aladin without writing a file: SAMP messages
 * carry URLs, and the recipient fetches the data from the URL when it
 * handles the message.
 *
 * A {@linkcode ResourceStore} holds the offered data; the Standard Profile
 * transport mounts it on the client's own callback HTTP server (loopback
 * only), beside the XML-RPC callback endpoint, as JSAMP's `ResourceHandler`
 * does. Each resource gets an unguessable path (128 random bits) and answers
 * GET and HEAD with its Content-Type and Content-Length until it is revoked,
 * expires, or the store is cleared (when the client closes); then 404. No
 * other path under the prefix answers, and nothing lists what is there.
 *
 * `SampClient.offer` (lib/client/client.ts) is the everyday entry point.
 *
 * @example Serve bytes from a store mounted by hand
 * ```ts
 * import { ResourceStore } from "./resources.ts";
 * const store = new ResourceStore();
 * const server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   (req) => store.handle(req) ?? new Response("not here", { status: 404 }),
 * );
 * store.attach(`http://127.0.0.1:${server.addr.port}`);
 * using res = store.offer("a,b\n1,2\n", { name: "t.csv" });
 * console.log(await (await fetch(res.url)).text()); // "a,b\n1,2\n"
 * store.detach(`http://127.0.0.1:${server.addr.port}`);
 * await server.shutdown();
 * ```
 *
 * @module
 */

/** The path prefix under which resources are served. */
export const RESOURCE_PREFIX = "/sampkit/data/";

/**
 * Options of {@linkcode ResourceStore.offer} (and `SampClient.offer`).
 *
 * @example
 * ```ts
 * import type { OfferOptions } from "./resources.ts";
 * const options: OfferOptions = { name: "m31.fits", contentType: "image/fits", lifetime: 600 };
 * ```
 */
export interface OfferOptions {
  /**
   * The file name at the end of the URL (letters, digits, `.`, `-` and `_`
   * are kept; anything else becomes `_`). Tools show it, and some guess the
   * format from its extension. Default `data`.
   */
  name?: string;
  /**
   * The Content-Type to answer with. Default: from the name's extension
   * (`.vot`/`.votable` VOTable, `.fits`/`.fit`/`.fts` FITS, `.csv`, `.txt`,
   * `.json`), else `text/plain; charset=utf-8` for a string and
   * `application/octet-stream` for bytes.
   */
  contentType?: string;
  /** Seconds until the resource is revoked by itself. Default: never (until revoked or closed). */
  lifetime?: number;
}

/**
 * Data offered at a URL. Revoke it when no recipient needs it any more (or
 * let `using` do it); the client revokes whatever is left when it closes.
 *
 * @example
 * ```ts ignore
 * using res = client.offer(fitsBytes, { name: "m31.fits" });
 * await client.call(ds9, "image.load.fits", { url: res.url });
 * console.log(`fetched ${res.fetches} time(s)`);
 * ```
 */
export interface OfferedResource extends Disposable {
  /** The http URL that serves the data. */
  readonly url: string;
  /** The Content-Type it is served with. */
  readonly contentType: string;
  /** Its size in bytes (the Content-Length). */
  readonly size: number;
  /** How many GET requests it has answered with the data. */
  readonly fetches: number;
  /** Whether it has been revoked (or expired): its URL answers 404. */
  readonly revoked: boolean;
  /** Stops serving it: its URL answers 404 from now on. Safe to call twice. */
  revoke(): void;
  /** Revokes it `seconds` from now, replacing any earlier expiry. */
  expireIn(seconds: number): void;
}

/**
 * Thrown by `offer` when no server can serve the data: the client uses the
 * Web Profile (a browser page has no HTTP server), is not callable, has a
 * callback server that is not on the loopback interface, or its transport
 * mounts no store. The message names the cause and the fix.
 *
 * @example
 * ```ts ignore
 * import { NoResourceServerError } from "./resources.ts";
 * try {
 *   client.offer("data");
 * } catch (e) {
 *   if (e instanceof NoResourceServerError) console.error(e.message);
 * }
 * ```
 */
export class NoResourceServerError extends Error {
  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { NoResourceServerError } from "./resources.ts";
   * const e = new NoResourceServerError("no server: connect with the Standard Profile");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "NoResourceServerError";
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

type Entry = {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  fetches: number;
  timer?: ReturnType<typeof setTimeout>;
};

const TYPES: Record<string, string> = {
  vot: "application/x-votable+xml",
  votable: "application/x-votable+xml",
  fits: "image/fits",
  fit: "image/fits",
  fts: "image/fits",
  csv: "text/csv; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  json: "application/json",
};

/**
 * Holds offered data and answers HTTP requests for it. Mount it on a server
 * with {@linkcode ResourceStore.handle} and tell it where with
 * {@linkcode ResourceStore.attach}.
 *
 * @example
 * ```ts
 * import { ResourceStore } from "./resources.ts";
 * const store = new ResourceStore();
 * console.log(store.origin); // undefined until a server attaches it
 * ```
 */
export class ResourceStore {
  readonly #entries = new Map<string, Entry>();
  #origin?: string;
  #port?: number;

  /**
   * The origin (`http://127.0.0.1:PORT`) of the server that serves this
   * store now, if any.
   */
  get origin(): string | undefined {
    return this.#origin;
  }

  /**
   * The port of the last server that served this store: a server that
   * replaces it (after a reconnection) binds it again when it can, so URLs
   * already handed out keep working.
   */
  get lastPort(): number | undefined {
    return this.#port;
  }

  /** How many resources are being served. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Says that a server at `origin` (e.g. `http://127.0.0.1:41234`) now
   * passes requests to {@linkcode ResourceStore.handle}.
   *
   * @example
   * ```ts
   * import { ResourceStore } from "./resources.ts";
   * new ResourceStore().attach("http://127.0.0.1:41234");
   * ```
   */
  attach(origin: string): void {
    const url = new URL(origin);
    this.#origin = url.origin;
    this.#port = Number(url.port) || undefined;
  }

  /**
   * Says that the server at `origin` has stopped (another one may have
   * attached since: then nothing changes).
   *
   * @example
   * ```ts
   * import { ResourceStore } from "./resources.ts";
   * const store = new ResourceStore();
   * store.attach("http://127.0.0.1:41234");
   * store.detach("http://127.0.0.1:41234");
   * ```
   */
  detach(origin: string): void {
    if (this.#origin === new URL(origin).origin) this.#origin = undefined;
  }

  /**
   * Serves `data` at a new unguessable URL on the attached server.
   *
   * @param data The bytes, or a string (served as UTF-8). Bytes are not
   * copied: leave them unchanged while offered.
   * @throws {NoResourceServerError} If no server is attached.
   *
   * @example
   * ```ts ignore
   * using res = store.offer(new Uint8Array([1, 2, 3]), { name: "raw.bin" });
   * console.log(res.url); // http://127.0.0.1:PORT/sampkit/data/<32 hex digits>/raw.bin
   * ```
   */
  offer(data: Uint8Array | string, options: OfferOptions = {}): OfferedResource {
    if (this.#origin === undefined) {
      throw new NoResourceServerError(
        "no HTTP server serves this client's data: offer() needs a connected Standard Profile " +
          "client that is callable (its callback server serves the data)",
      );
    }
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError("offer() takes a Uint8Array or a string");
    }
    const name = fileName(options.name);
    const body = typeof data === "string"
      ? new TextEncoder().encode(data)
      : data.buffer instanceof ArrayBuffer
      ? data as Uint8Array<ArrayBuffer>
      : new Uint8Array(data);
    const contentType = options.contentType ?? typeFor(name) ??
      (typeof data === "string" ? "text/plain; charset=utf-8" : "application/octet-stream");
    if (/[\r\n]/.test(contentType)) throw new TypeError("a Content-Type is one line");
    if (options.lifetime !== undefined && !(options.lifetime >= 0)) {
      throw new RangeError(`lifetime is seconds >= 0, not ${options.lifetime}`);
    }
    const path = `${RESOURCE_PREFIX}${token()}/${name}`;
    const entry: Entry = { body, contentType, fetches: 0 };
    this.#entries.set(path, entry);
    const url = this.#origin + path;
    const entries = this.#entries;
    const revoke = () => {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      if (entries.get(path) === entry) entries.delete(path);
    };
    const expireIn = (seconds: number) => {
      if (!(seconds >= 0)) throw new RangeError(`expireIn takes seconds >= 0, not ${seconds}`);
      if (entries.get(path) !== entry) return;
      clearTimeout(entry.timer);
      entry.timer = undefined;
      // (Beyond what a timer holds, about 24.8 days, it stays until revoked.)
      if (seconds * 1000 > MAX_TIMER_MS) return;
      const timer = setTimeout(revoke, seconds * 1000);
      Deno.unrefTimer(timer);
      entry.timer = timer;
    };
    if (options.lifetime !== undefined) expireIn(options.lifetime);
    return {
      url,
      contentType,
      size: body.byteLength,
      get fetches() {
        return entry.fetches;
      },
      get revoked() {
        return entries.get(path) !== entry;
      },
      revoke,
      expireIn,
      [Symbol.dispose]: revoke,
    };
  }

  /**
   * Answers a request for a resource path (GET or HEAD: the data or 404;
   * other methods: 405). Returns `undefined` for a path outside the
   * resource prefix, for the server's other handlers.
   *
   * @example
   * ```ts
   * import { ResourceStore } from "./resources.ts";
   * const store = new ResourceStore();
   * const r = store.handle(new Request("http://127.0.0.1:1/sampkit/data/nothing"));
   * console.log(r?.status); // 404
   * ```
   */
  handle(request: Request): Response | undefined {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(RESOURCE_PREFIX)) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return plain(405, "resources answer GET and HEAD only", { allow: "GET, HEAD" });
    }
    const entry = this.#entries.get(path);
    if (!entry) return plain(404, "no such resource: it was revoked, expired or never offered");
    const headers = {
      "content-type": entry.contentType,
      "content-length": String(entry.body.byteLength),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    };
    if (request.method === "HEAD") return new Response(null, { headers });
    entry.fetches++;
    return new Response(entry.body, { headers });
  }

  /**
   * Revokes every resource (the client does it when it closes).
   *
   * @example
   * ```ts
   * import { ResourceStore } from "./resources.ts";
   * new ResourceStore().clear();
   * ```
   */
  clear(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }
}

/**
 * Whether `host` names the loopback interface (`127.0.0.0/8`, `::1`,
 * `localhost`): the only place resources are served from.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./resources.ts";
 * console.log(isLoopbackHost("127.0.0.1"), isLoopbackHost("0.0.0.0")); // true false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

function token(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fileName(name: string | undefined): string {
  const cleaned = (name ?? "").replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "").slice(0, 80);
  return cleaned === "" ? "data" : cleaned;
}

function typeFor(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? undefined : TYPES[name.slice(dot + 1).toLowerCase()];
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

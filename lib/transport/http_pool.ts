/**
 * A small HTTP/1.1 client for XML-RPC POSTs over plain TCP (`Deno.connect`),
 * with keep-alive connections pooled per origin.
 *
 * Why not `fetch`: on loopback, a POST through this pool costs about a third
 * of what `fetch` costs in CPU and latency, and keeps far less native memory
 * per connection (measured with a throwaway loopback comparison when the pool
 * was written; `deno task bench` shows the hub's end-to-end figures). The hub
 * makes one such POST for every message it delivers, so this is most of its
 * work. `fetch` stays the transport of everything else (browsers, `https:`).
 *
 * What it does: `Content-Length` request bodies (JSAMP needs them); responses
 * framed by `Content-Length`, chunked, or the end of the connection; HTTP/1.0
 * servers (astropy's, JSAMP's); interim 1xx responses; a cap on the response
 * size; abort through an `AbortSignal`.
 *
 * A request is never sent twice once the server may have it whole: the
 * hub's POSTs deliver messages, and a tool that acted on one and then closed
 * the connection without answering would act on it again (see
 * {@linkcode HttpPool.post} for the one case where a request is sent again,
 * and why that one is safe). Instead, the pool keeps the race with a server
 * closing a kept-alive connection small: idle connections keep a read
 * pending, so one the server closes leaves the pool at once; one is not
 * reused after the server's `Keep-Alive: timeout` (less a second), nor after
 * half the idle time its server was once seen to close one after, nor at all
 * for a server seen to close one soon after answering (as SAOImage DS9 does,
 * saying HTTP/1.1 all the same).
 *
 * Strict in what it sends (CRLF, exact lengths), liberal in what it reads, as
 * RFC 9112 lets a recipient be: a bare LF ends a line anywhere a CRLF does
 * (SAOImage DS9 writes LF only), in the head, chunk-size lines, chunk ends and
 * trailers; a status line may lack its reason phrase; header names are read in
 * any case, with any space before the colon dropped; an obs-fold line
 * continues the previous field as one space. The limits stay (64 KiB of head,
 * `maxResponseBytes` of body), and anything else malformed fails.
 *
 * Errors say how far the request got (see `./_http_errors.ts`): every
 * {@linkcode HttpProtocolError} comes after the request was written whole.
 *
 * @module
 */

import { concatBytes, frameMessage, frameText, piecesLength, writeAll } from "./_bytes.ts";
import { createDeadlines } from "./_deadlines.ts";
import { framingField, headEnd, headTerminatorLength, takeLine } from "./_http_head.ts";
import {
  HttpClosedError,
  HttpPoolClosedError,
  HttpProtocolError,
  HttpTimeoutError,
  HttpTooLargeError,
} from "./_http_errors.ts";

export {
  HttpClosedError,
  HttpPoolClosedError,
  HttpProtocolError,
  HttpTimeoutError,
  HttpTooLargeError,
};

/**
 * Options of {@linkcode createHttpPool}.
 *
 * @example
 * ```ts
 * import type { HttpPoolOptions } from "./http_pool.ts";
 * const options: HttpPoolOptions = { maxIdlePerOrigin: 8 };
 * ```
 */
export interface HttpPoolOptions {
  /** Idle connections kept per origin (`host:port`). Default 8. */
  maxIdlePerOrigin?: number;
  /** Idle connections kept in all; the longest idle is closed first. Default 512. */
  maxIdle?: number;
  /**
   * Idle connections older than this are not reused. Default 15,000 ms:
   * below the 20-30 s after which many servers close idle connections
   * without saying so in a `Keep-Alive` header.
   */
  idleTimeoutMs?: number;
  /** Sent as `User-Agent`. Default `sampkit-deno`. */
  userAgent?: string;
}

/**
 * Options of one {@linkcode HttpPool.post}.
 *
 * @example
 * ```ts
 * import type { HttpPostOptions } from "./http_pool.ts";
 * const options: HttpPostOptions = { maxResponseBytes: 65536 };
 * ```
 */
export interface HttpPostOptions {
  /** Aborts the request (the connection is closed); the promise rejects with its reason. */
  signal?: AbortSignal;
  /** Longest response body read, in bytes; a longer one fails the request. Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * Gives up after this many milliseconds (connecting, sending and reading
   * the answer), closing the connection: the promise rejects with an
   * {@linkcode HttpTimeoutError}.
   */
  timeoutMs?: number;
}

/**
 * A response read by {@linkcode HttpPool.post}.
 *
 * @example
 * ```ts
 * import type { HttpPostResponse } from "./http_pool.ts";
 * const r: HttpPostResponse = { status: 200, statusText: "OK", body: "" };
 * ```
 */
export interface HttpPostResponse {
  /** The HTTP status code. */
  status: number;
  /** The reason phrase, possibly empty. */
  statusText: string;
  /** The body, decoded as UTF-8. */
  body: string;
}

/**
 * Keep-alive HTTP/1.1 connections for POSTs of text/xml; see the module doc.
 *
 * @example
 * ```ts ignore
 * import { createHttpPool } from "./http_pool.ts";
 * const pool = createHttpPool();
 * const r = await pool.post("http://127.0.0.1:21000/xmlrpc", "<methodCall>…</methodCall>");
 * pool.close();
 * ```
 */
export interface HttpPool {
  /**
   * POSTs `body` (text, or its UTF-8 in pieces sent one after the other;
   * `Content-Type: text/xml`) to an `http:` URL and reads the answer.
   *
   * Once the request may have reached the server whole, it is not sent
   * again, whatever happens next: a failure then is an
   * {@linkcode HttpProtocolError} (an {@linkcode HttpClosedError} for a
   * connection lost before the answer), or an {@linkcode HttpTimeoutError}
   * with `requestSent`, and the server may have acted on it. The one request
   * sent again (once, on a new connection) is one whose kept-alive
   * connection failed while it was being written: its last bytes never left
   * this host, so the server cannot have read it whole.
   */
  post(
    url: string,
    body: string | readonly Uint8Array[],
    options?: HttpPostOptions,
  ): Promise<HttpPostResponse>;
  /** Idle connections held now. */
  readonly idle: number;
  /** URLs whose parsed form the pool remembers now (at most 1024). */
  readonly remembered: number;
  /**
   * Forgets `url`'s parsed form, as when the client behind it has left.
   * Connections to its origin stay: other clients may share it.
   */
  forget(url: string): void;
  /** Closes every connection, idle or busy; later posts fail. */
  close(): void;
}

const INITIAL_BUFFER = 4096;
const KEEP_BUFFER = 65536;
const MAX_HEAD = 65536;
const CR = 13;
const SP = 32;
const HTAB = 9;

const decoder = new TextDecoder();

/** One TCP connection and its read buffer (bytes `start`..`end` unread). */
interface Conn {
  readonly tcp: Deno.TcpConn;
  readonly origin: string;
  buf: Uint8Array;
  start: number;
  end: number;
  /** The read left pending while idle; the next request's first read. */
  pending?: Promise<number | null>;
  idle: boolean;
  closed: boolean;
  idleSince: number;
  /** Requests answered on it so far. */
  uses: number;
  /** While idle: how long it may stay idle and still be reused, in ms. */
  keepMs: number;
  /** Whether Nagle's algorithm is off (set before a request goes out in several writes). */
  noDelay: boolean;
}

/** What a URL tells a request: where to connect, and its head up to the length. */
interface Target {
  hostname: string;
  port: number;
  origin: string;
  head: string;
}

/** URLs remembered parsed (the oldest is forgotten first). */
const MAX_TARGETS = 1024;
/** Origins whose closing of idle connections is remembered (the oldest is forgotten first). */
const MAX_ORIGINS = 1024;
/** How much sooner than a server's `Keep-Alive: timeout` a connection stops being reused. */
const KEEP_ALIVE_MARGIN_MS = 1000;
/**
 * A server seen to close a connection idle for less than this keeps none:
 * its connections are closed after each answer rather than risk a request
 * crossing its close (a request that may have arrived is not sent again).
 */
const MIN_KEPT_IDLE_MS = 2000;
/**
 * A connection idle longer than this is written to in two steps, so that a
 * server that has closed it is found out before the request is whole.
 */
const PROBE_IDLE_MS = 1000;

/** One POST on its way: what a timeout or an abort ends, and how far it got. */
interface Exchange {
  readonly hostname: string;
  readonly port: number;
  readonly origin: string;
  /** The request: its head with the body (or the body's first pieces), then any further pieces. */
  readonly framed: Uint8Array[];
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** The longest answer body read. */
  readonly max: number;
  /** The connection in use. */
  conn?: Conn;
  /** The connect in progress, when a timeout or an abort may end it. */
  connecting?: AbortController;
  timedOut: boolean;
  /** Whether the current attempt has written the whole request. */
  sent: boolean;
}

interface Head {
  status: number;
  statusText: string;
  minor: number;
  contentLength?: number;
  chunked: boolean;
  close: boolean;
  keepAlive: boolean;
  /** The `timeout` of a `Keep-Alive` header, in seconds. */
  keepAliveTimeout?: number;
}

/**
 * Creates a pool of keep-alive HTTP/1.1 connections.
 *
 * @example
 * ```ts ignore
 * import { createHttpPool } from "./http_pool.ts";
 * const pool = createHttpPool({ maxIdlePerOrigin: 4 });
 * try {
 *   const r = await pool.post("http://127.0.0.1:21000/xmlrpc", body);
 *   console.log(r.status, r.body);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export function createHttpPool(options: HttpPoolOptions = {}): HttpPool {
  const maxPerOrigin = options.maxIdlePerOrigin ?? 8;
  const maxIdle = options.maxIdle ?? 512;
  const idleTimeoutMs = options.idleTimeoutMs ?? 15_000;
  const userAgent = options.userAgent ?? "sampkit-deno";
  /** Idle connections per origin, most recently used last. */
  const idle = new Map<string, Conn[]>();
  /** Every open connection, for close(). */
  const open = new Set<Conn>();
  let idleCount = 0;
  let closed = false;
  const deadlines = createDeadlines();
  /** Per origin, the shortest idle time after which its server was seen to close a connection. */
  const closedAfter = new Map<string, number>();

  /** Remembers that `origin`'s server closed a connection idle for `idleMs`. */
  function learn(origin: string, idleMs: number): void {
    const known = closedAfter.get(origin);
    if (known !== undefined && known <= idleMs) return;
    if (known === undefined && closedAfter.size >= MAX_ORIGINS) {
      closedAfter.delete(closedAfter.keys().next().value!);
    }
    closedAfter.set(origin, idleMs);
  }

  /** How long a connection to `origin` may idle and still be reused, after an answer with `head`. */
  function keepFor(origin: string, head: Head): number {
    let ms = idleTimeoutMs;
    if (head.keepAliveTimeout !== undefined) {
      ms = Math.min(ms, head.keepAliveTimeout * 1000 - KEEP_ALIVE_MARGIN_MS);
    }
    const seen = closedAfter.get(origin);
    if (seen !== undefined) ms = Math.min(ms, seen < MIN_KEPT_IDLE_MS ? 0 : seen / 2);
    return ms;
  }

  function destroy(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    open.delete(c);
    if (c.idle) unpark(c);
    try {
      c.tcp.close();
    } catch {
      // already closed by the runtime
    }
  }

  function unpark(c: Conn): void {
    c.idle = false;
    const list = idle.get(c.origin);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) {
      list.splice(i, 1);
      idleCount--;
    }
    if (list.length === 0) idle.delete(c.origin);
  }

  function park(c: Conn, keepMs: number): void {
    if (closed || c.closed || keepMs <= 0) return destroy(c);
    if (c.buf.length > KEEP_BUFFER) c.buf = new Uint8Array(INITIAL_BUFFER);
    c.start = c.end = 0;
    const crowded = idle.get(c.origin);
    if (crowded && crowded.length >= maxPerOrigin) destroy(crowded[0]);
    if (idleCount >= maxIdle) evictOldest();
    let list = idle.get(c.origin);
    if (!list) idle.set(c.origin, list = []);
    c.idle = true;
    c.idleSince = performance.now();
    c.keepMs = keepMs;
    list.push(c);
    idleCount++;
    // A read stays pending while idle: the server closing the connection
    // (or sending anything unasked) ends it here, not in the next request.
    const pending = c.tcp.read(c.buf);
    c.pending = pending;
    c.tcp.unref();
    pending.then((n) => {
      if (!c.idle || c.pending !== pending) return;
      // Closed by the server (rather than sent something unasked): remember how soon.
      if (n === null) learn(c.origin, performance.now() - c.idleSince);
      destroy(c);
    }, (e) => {
      if (!c.idle || c.pending !== pending) return;
      if (isConnectionLoss(e)) learn(c.origin, performance.now() - c.idleSince);
      destroy(c);
    });
  }

  function evictOldest(): void {
    let oldest: Conn | undefined;
    for (const list of idle.values()) {
      if (list.length && (!oldest || list[0].idleSince < oldest.idleSince)) oldest = list[0];
    }
    if (oldest) destroy(oldest);
  }

  /** The most recently parked connection to `origin` still fit for reuse, and how long it idled. */
  function takeIdle(origin: string): { c: Conn; idleMs: number } | undefined {
    const list = idle.get(origin);
    const now = performance.now();
    while (list?.length) {
      const c = list[list.length - 1];
      // A parked connection the server closed has left the pool already
      // (its pending read ended): what is here was open when last seen.
      if (c.closed || now - c.idleSince > c.keepMs) {
        destroy(c);
        continue;
      }
      unpark(c);
      c.tcp.ref();
      return { c, idleMs: now - c.idleSince };
    }
    return undefined;
  }

  async function connect(origin: string, hostname: string, port: number, signal?: AbortSignal) {
    const tcp = await Deno.connect({ hostname, port, transport: "tcp", signal });
    const c: Conn = {
      tcp,
      origin,
      buf: new Uint8Array(INITIAL_BUFFER),
      start: 0,
      end: 0,
      idle: false,
      closed: false,
      idleSince: 0,
      uses: 0,
      keepMs: 0,
      noDelay: false,
    };
    if (closed) {
      destroy(c);
      throw new HttpPoolClosedError("the HTTP pool was closed");
    }
    open.add(c);
    return c;
  }

  /** Parsed URLs, as the hub calls back the same few again and again. */
  const targets = new Map<string, Target>();
  function target(url: string): Target {
    let t = targets.get(url);
    if (t) return t;
    const u = new URL(url);
    if (u.protocol !== "http:") {
      throw new TypeError(`the HTTP pool speaks plain http: only, not ${u.protocol} (${url})`);
    }
    const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    const port = u.port ? Number(u.port) : 80;
    t = {
      hostname,
      port,
      origin: `${hostname}:${port}`,
      head: `POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
        `Content-Type: text/xml\r\nUser-Agent: ${userAgent}\r\nContent-Length: `,
    };
    if (targets.size >= MAX_TARGETS) targets.delete(targets.keys().next().value!);
    targets.set(url, t);
    return t;
  }

  /**
   * POSTs `body` (see {@linkcode HttpPool.post}). What is checked and
   * framed at once is done here; the rest is {@linkcode exchange}'s, whose
   * state while it waits for the answer is one small object.
   */
  function post(
    url: string,
    body: string | readonly Uint8Array[],
    opts: HttpPostOptions = {},
  ): Promise<HttpPostResponse> {
    try {
      if (closed) throw new HttpPoolClosedError("the HTTP pool was closed");
      const { hostname, port, origin, head: headStart } = target(url);
      const framed = typeof body === "string"
        ? frameText(body, headStart, "\r\n\r\n")
        : frameMessage(`${headStart}${piecesLength(body)}\r\n\r\n`, body);
      opts.signal?.throwIfAborted();
      return exchange({
        hostname,
        port,
        origin,
        framed,
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
        max: opts.maxResponseBytes ?? 64 * 1024 * 1024,
        timedOut: false,
        sent: false,
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Ends what `x` is doing now: the connection in use, or the connect in progress. */
  function end(x: Exchange): void {
    if (x.conn) destroy(x.conn);
    x.connecting?.abort();
  }

  /** What a failure of `x` becomes, once a timeout, an abort or the pool's closing ended it. */
  function failure(x: Exchange, e: unknown): unknown {
    if (x.timedOut) {
      return new HttpTimeoutError(
        x.sent
          ? `no answer within ${x.timeoutMs} ms`
          : `could not connect and send the request within ${x.timeoutMs} ms`,
        x.sent,
        { cause: e },
      );
    }
    if (x.signal?.aborted) return x.signal.reason;
    if (closed) return new HttpPoolClosedError("the HTTP pool was closed", { cause: e });
    return e;
  }

  async function exchange(x: Exchange): Promise<HttpPostResponse> {
    const { origin, framed, signal } = x;
    const request = framed[0];
    const onAbort = signal ? () => end(x) : undefined;
    const cancelTimeout = x.timeoutMs === undefined ? undefined : deadlines.add(x.timeoutMs, () => {
      x.timedOut = true;
      end(x);
    });
    if (onAbort) signal!.addEventListener("abort", onAbort, { once: true });
    try {
      for (let attempt = 0;; attempt++) {
        x.sent = false;
        const taken = attempt === 0 ? takeIdle(origin) : undefined;
        if (taken) {
          x.conn = taken.c;
        } else {
          x.connecting = onAbort || cancelTimeout ? new AbortController() : undefined;
          try {
            x.conn = await connect(origin, x.hostname, x.port, x.connecting?.signal);
          } catch (e) {
            throw failure(x, e);
          }
          x.connecting = undefined;
          if (x.timedOut || signal?.aborted) {
            // Connected just as the time ran out: not used, not kept.
            destroy(x.conn);
            throw failure(x, undefined);
          }
        }
        const c = x.conn;
        try {
          if (taken && (c.uses === 1 || taken.idleMs > PROBE_IDLE_MS)) {
            // A connection not yet reused, or idle a while, may have been
            // closed by its server just now, before the pool could see it.
            // A server that has closed its socket answers the first bytes
            // it gets with a reset, which (on loopback, within the write
            // itself) makes the second write fail: the request is then
            // known never to have been whole over there, and goes again
            // below. If the reset comes later, the failure comes after the
            // request went out, and it is not sent again.
            noDelay(c);
            await writeAll(c.tcp, request.subarray(0, 1));
            await writeAll(c.tcp, request.subarray(1));
          } else {
            // One write takes a request of a few KiB whole: no loop, no helper.
            const n = await c.tcp.write(request);
            if (n < request.length) await writeAll(c.tcp, request.subarray(n));
          }
          if (framed.length > 1) noDelay(c);
          for (let i = 1; i < framed.length; i++) await writeAll(c.tcp, framed[i]);
        } catch (e) {
          destroy(c);
          x.conn = undefined;
          const f = failure(x, e);
          if (f !== e) throw f;
          // The write failed: the request's last bytes never left this
          // host, so the server cannot have read it whole, and with its
          // Content-Length it acts on nothing less. On a kept-alive
          // connection that is a server that closed it while idle: the
          // request goes again, once, on a new connection. On a new
          // connection the server is refusing it: that is the failure.
          if (taken && isConnectionLoss(e)) {
            learn(origin, taken.idleMs);
            continue;
          }
          throw e;
        }
        x.sent = true;
        let answered = false;
        try {
          // Most answers come whole in the first read: parsed here, with no
          // further reads (the general reader below takes the rest).
          const first = c.pending ?? c.tcp.read(c.buf.subarray(c.end));
          c.pending = undefined;
          const n = await first;
          if (n !== null) {
            c.end += n;
            answered = true;
          }
          const response = (n !== null ? answerInBuffer(c, x.max) : undefined) ??
            await readResponse(c, x.max, () => answered = true);
          c.uses++;
          x.conn = undefined;
          if (response.reusable) park(c, keepFor(origin, response.head));
          else destroy(c);
          return response.response;
        } catch (e) {
          destroy(c);
          x.conn = undefined;
          const f = failure(x, e);
          if (f !== e) throw f;
          // The request went out whole: the server may have read it, acted
          // on it, and closed the connection without answering. It is not
          // sent again. A kept-alive connection lost before any answer may
          // as well be one the server closed while it idled, just as the
          // request crossed its close: its connections are kept less long.
          const lost = e instanceof HttpClosedError || isConnectionLoss(e);
          if (taken && !answered && lost) learn(origin, taken.idleMs);
          if (e instanceof HttpProtocolError) throw e;
          // Whatever else ended the read, the request had gone out whole.
          throw new HttpClosedError(
            `${isConnectionLoss(e) ? "the server reset the connection" : "the connection failed"} ${
              answered ? "in the middle of the answer" : "before answering"
            } (${(e as Error)?.message ?? e})`,
            answered,
            { cause: e },
          );
        }
      }
    } finally {
      cancelTimeout?.();
      if (onAbort) signal!.removeEventListener("abort", onAbort);
    }
  }

  return {
    post,
    get idle() {
      return idleCount;
    },
    get remembered() {
      return targets.size;
    },
    forget(url) {
      targets.delete(url);
    },
    close() {
      closed = true;
      for (const c of [...open]) destroy(c);
      idle.clear();
      idleCount = 0;
    },
  };
}

/**
 * Turns Nagle's algorithm off before a request goes out in several writes
 * (a request written whole in one write is never held back by it).
 */
function noDelay(c: Conn): void {
  if (c.noDelay) return;
  c.noDelay = true;
  try {
    c.tcp.setNoDelay(true);
  } catch {
    // not fatal: only slower
  }
}

/**
 * The answer, if the buffer holds all of it already, framed by its length
 * (or bodiless), after no interim answer; else undefined, and nothing taken.
 */
function answerInBuffer(
  c: Conn,
  max: number,
): { response: HttpPostResponse; reusable: boolean; head: Head } | undefined {
  const at = headEnd(c.buf, c.start, c.end);
  if (at < 0) return undefined;
  const bodyAt = at + headTerminatorLength(c.buf, at);
  const head = parseHead(decoder.decode(c.buf.subarray(c.start, at)));
  const bodiless = head.status === 204 || head.status === 304;
  if (head.status < 200 || head.chunked || (!bodiless && head.contentLength === undefined)) {
    return undefined;
  }
  const length = bodiless ? 0 : head.contentLength!;
  if (length > max) throw new HttpTooLargeError(`the answer is longer than ${max} bytes`);
  if (c.end - bodyAt < length) return undefined;
  c.start = bodyAt + length;
  return answered(c, head, c.buf.subarray(bodyAt, bodyAt + length), true);
}

/** Whether `e` is the runtime's word for a connection the peer ended. */
function isConnectionLoss(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.UnexpectedEof ||
    e instanceof Deno.errors.NotConnected;
}

/** Reads more bytes into the buffer, growing it to at most `limit` bytes. */
async function fill(c: Conn, limit: number): Promise<boolean> {
  if (c.pending) {
    const p = c.pending;
    c.pending = undefined;
    const n = await p;
    if (n === null) return false;
    c.end += n;
    return true;
  }
  if (c.end === c.buf.length) {
    if (c.start > 0) {
      c.buf.copyWithin(0, c.start, c.end);
      c.end -= c.start;
      c.start = 0;
    }
    if (c.end === c.buf.length) {
      if (c.buf.length >= limit) {
        throw new HttpTooLargeError(`the answer is longer than ${limit} bytes`);
      }
      const grown = new Uint8Array(Math.min(limit, c.buf.length * 2));
      grown.set(c.buf.subarray(0, c.end));
      c.buf = grown;
    }
  }
  const n = await c.tcp.read(c.buf.subarray(c.end));
  if (n === null) return false;
  c.end += n;
  return true;
}

async function readResponse(
  c: Conn,
  max: number,
  onFirstByte: () => void,
): Promise<{ response: HttpPostResponse; reusable: boolean; head: Head }> {
  let head: Head;
  for (;;) {
    head = await readHead(c, onFirstByte);
    if (head.status >= 200) break;
    if (head.status === 101) throw new HttpProtocolError("the server switched protocols");
    // 100 Continue and other interim answers: the real one follows.
  }
  let bytes: Uint8Array;
  let framed = true;
  if (head.status === 204 || head.status === 304) {
    bytes = new Uint8Array(0);
  } else if (head.chunked) {
    bytes = await readChunked(c, max);
  } else if (head.contentLength !== undefined) {
    if (head.contentLength > max) {
      throw new HttpTooLargeError(`the answer is longer than ${max} bytes`);
    }
    bytes = await readExactly(c, head.contentLength);
  } else {
    framed = false;
    bytes = await readToEnd(c, max);
  }
  return answered(c, head, bytes, framed);
}

/**
 * An answer read whole: its body as text, and whether its connection may
 * carry another request (a persistent one, its answer framed by a length
 * or chunks, nothing unasked after it).
 */
function answered(
  c: Conn,
  head: Head,
  body: Uint8Array,
  framed: boolean,
): { response: HttpPostResponse; reusable: boolean; head: Head } {
  const persistent = head.minor >= 1 ? !head.close : head.keepAlive && !head.close;
  return {
    response: { status: head.status, statusText: head.statusText, body: decoder.decode(body) },
    reusable: framed && persistent && c.start === c.end,
    head,
  };
}

async function readHead(c: Conn, onFirstByte: () => void): Promise<Head> {
  let scanned = c.start;
  for (;;) {
    // A blank line may straddle the last read: look again from 2 bytes back.
    const at = headEnd(c.buf, Math.max(c.start, scanned - 2), c.end);
    if (at >= 0) {
      const text = decoder.decode(c.buf.subarray(c.start, at));
      c.start = at + headTerminatorLength(c.buf, at);
      return parseHead(text);
    }
    scanned = c.end;
    if (c.end - c.start > MAX_HEAD) {
      throw new HttpProtocolError(`the answer's header is longer than ${MAX_HEAD} bytes`);
    }
    if (!await fill(c, MAX_HEAD + 4)) {
      const partial = c.end > c.start;
      throw new HttpClosedError(
        partial
          ? "the server closed the connection in the middle of the header"
          : "the server closed the connection before answering",
        partial,
      );
    }
    onFirstByte();
  }
}

/** An HTTP/1.x status line; the reason phrase may be missing or empty. */
const STATUS_LINE = /^HTTP\/1\.(\d) +(\d{3})(?:[ \t](.*))?$/;

/**
 * Parses a head whose lines end with LF or CRLF (the final line break
 * excluded). A head of plain field lines (names of visible ASCII, no
 * obs-fold) is read in one pass that looks only at the fields framing and
 * persistence depend on; any other is read by {@linkcode parseHeadFully}.
 */
function parseHead(text: string): Head {
  let eol = text.indexOf("\n");
  if (eol < 0) eol = text.length;
  const head = statusOf(withoutCr(text.slice(0, eol)));
  while (eol < text.length) {
    const from = eol + 1;
    eol = text.indexOf("\n", from);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(":", from);
    const name = framingField(text, from, colon, eol);
    if (name === undefined) return parseHeadFully(text);
    if (name) applyField(head, name, text.slice(colon + 1, eol).trim());
  }
  // With both, chunked framing wins and the length is ignored (RFC 9112 §6.3).
  if (head.chunked) head.contentLength = undefined;
  return head;
}

/** A head from its status line, before any field is applied. */
function statusOf(status: string): Head {
  const m = STATUS_LINE.exec(status);
  if (!m) {
    throw new HttpProtocolError(
      `not an HTTP/1.x status line: ${JSON.stringify(status.slice(0, 80))}`,
    );
  }
  return {
    minor: Number(m[1]),
    status: Number(m[2]),
    statusText: m[3]?.trim() ?? "",
    chunked: false,
    close: false,
    keepAlive: false,
  };
}

/** {@linkcode parseHead} for any head: every field line parsed, obs-fold lines joined. */
function parseHeadFully(text: string): Head {
  const lines = text.split("\n");
  const head = statusOf(withoutCr(lines[0]));
  // A field is applied once its obs-fold lines, if any, have been joined to it.
  let name = "";
  let value = "";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const first = line.charCodeAt(0);
    if (first === SP || first === HTAB) {
      // obs-fold: one space in the previous field's value (RFC 9112 §5.2);
      // before any field there is none to continue, and it is skipped (§2.2).
      if (name) value = `${value} ${line.trim()}`.trim();
      continue;
    }
    if (name) applyField(head, name, value);
    const colon = line.indexOf(":");
    // Space before the colon is dropped (as RFC 9112 §5.1 has a proxy do).
    name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "";
    if (!name) {
      throw new HttpProtocolError(
        `malformed header line ${JSON.stringify(withoutCr(line).slice(0, 80))}`,
      );
    }
    value = line.slice(colon + 1).trim();
  }
  if (name) applyField(head, name, value);
  // With both, chunked framing wins and the length is ignored (RFC 9112 §6.3).
  if (head.chunked) head.contentLength = undefined;
  return head;
}

/** Records what one header field says about framing and persistence. */
function applyField(head: Head, name: string, value: string): void {
  if (name === "content-length") {
    const n = contentLength(value);
    if (head.contentLength !== undefined && head.contentLength !== n) {
      throw new HttpProtocolError("two different Content-Length headers");
    }
    head.contentLength = n;
  } else if (name === "transfer-encoding") {
    const codings = value.toLowerCase().split(",").map((s) => s.trim());
    if (codings.at(-1) !== "chunked") {
      throw new HttpProtocolError(`unsupported Transfer-Encoding ${JSON.stringify(value)}`);
    }
    head.chunked = true;
  } else if (name === "connection") {
    const tokens = value.toLowerCase().split(",").map((s) => s.trim());
    if (tokens.includes("close")) head.close = true;
    if (tokens.includes("keep-alive")) head.keepAlive = true;
  } else if (name === "keep-alive") {
    // `timeout=5, max=100` (RFC 2068 §19.7.1.1): how long the server keeps it idle.
    const m = /(?:^|[\s,;])timeout\s*=\s*"?(\d{1,9})/i.exec(value);
    if (m) head.keepAliveTimeout = Math.min(head.keepAliveTimeout ?? Infinity, Number(m[1]));
  }
}

/** A Content-Length value: digits, or a list of one number repeated (RFC 9110 §8.6). */
function contentLength(value: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const parts = value.split(",").map((s) => s.trim());
  if (parts.length > 1 && /^\d{1,15}$/.test(parts[0]) && parts.every((p) => p === parts[0])) {
    return Number(parts[0]);
  }
  throw new HttpProtocolError(`bad Content-Length ${JSON.stringify(value)}`);
}

function withoutCr(line: string): string {
  return line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

async function readExactly(c: Conn, n: number): Promise<Uint8Array> {
  while (c.end - c.start < n) {
    if (!await fill(c, n)) {
      throw new HttpClosedError(
        "the server closed the connection in the middle of the answer",
        true,
      );
    }
  }
  const out = c.buf.subarray(c.start, c.start + n);
  c.start += n;
  return out;
}

/** Reads one line of a chunked body (chunk size, chunk end, trailer), ended by LF or CRLF. */
async function readLine(c: Conn): Promise<string> {
  for (;;) {
    const taken = takeLine(c.buf, c.start, c.end);
    if (taken) {
      c.start = taken.next;
      return taken.line;
    }
    if (c.end - c.start > 4096) throw new HttpProtocolError("a chunk header line is too long");
    if (!await fill(c, 8192)) {
      throw new HttpClosedError("the server closed the connection in the middle of a chunk", true);
    }
  }
}

async function readChunked(c: Conn, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const line = await readLine(c);
    const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
    if (!m) throw new HttpProtocolError(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
    const size = parseInt(m[1], 16);
    if (size === 0) break;
    total += size;
    if (total > max) throw new HttpTooLargeError(`the answer is longer than ${max} bytes`);
    parts.push((await readExactly(c, size)).slice());
    if (await readLine(c) !== "") {
      throw new HttpProtocolError("a chunk is not followed by a line break (is its size wrong?)");
    }
  }
  // Trailer fields, ignored, up to the empty line.
  for (let i = 0; (await readLine(c)) !== ""; i++) {
    if (i > 100) throw new HttpProtocolError("too many trailer fields");
  }
  return concatBytes(parts, total);
}

async function readToEnd(c: Conn, max: number): Promise<Uint8Array> {
  while (await fill(c, max + 1)) {
    if (c.end - c.start > max) {
      throw new HttpTooLargeError(`the answer is longer than ${max} bytes`);
    }
  }
  if (c.end - c.start > max) throw new HttpTooLargeError(`the answer is longer than ${max} bytes`);
  const out = c.buf.subarray(c.start, c.end);
  c.start = c.end;
  return out;
}

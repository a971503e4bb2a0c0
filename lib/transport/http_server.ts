/**
 * A small HTTP/1.x server on plain TCP (`Deno.listen`): the hub's Standard
 * Profile port (XML-RPC, the hub page, its icon), in place of `Deno.serve`.
 *
 * Why not `Deno.serve`: it loses a request whose client closes the
 * connection just after sending it: reading the body then fails with
 * `BadResource` (denoland/deno#27132), so the hub never sees the call.
 * SAOImage DS9 does exactly that with its `samp.hub.reply`: its XML-RPC
 * client (Tcl, one thread) waits for every answer in a `vwait` on one
 * global variable, a callback that arrives meanwhile is handled inside that
 * wait, and the reply it sends from there is woken by the answer to the
 * outer call, closes its connection before our answer comes, and is
 * reported to DS9 as done. The request was whole on the wire: JSAMP's and
 * astropy's hubs read it and act on it, and so does this server, which
 * reads each request from the socket to its end whatever the client does
 * next, and writes the answer if the client still listens.
 *
 * What it does: HTTP/1.0 and 1.1 requests, kept alive when HTTP/1.1 (unless
 * `Connection: close`) or when an HTTP/1.0 client asks `keep-alive`;
 * `Content-Length` and chunked request bodies; `Expect: 100-continue`.
 * Answers carry `Content-Length` (and always a reason phrase: DS9's reader
 * needs one), except event streams (`text/event-stream`), sent chunked, or
 * until the connection closes to an HTTP/1.0 client. Liberal in what it
 * reads, as `./http_pool.ts` is: bare LF line ends, empty lines before a
 * request line, obs-fold header lines.
 *
 * Limits: a head of at most 64 KiB (431 otherwise), arriving whole within
 * `requestTimeoutMs` of its first byte; a chunked body of at most
 * `maxBodyBytes` (413), also within `requestTimeoutMs`. A `Content-Length`
 * body is the handler's to limit, as it sees the length first: the body
 * is handed over as it is (read already, or streamed from the socket), and
 * a connection whose request body the handler left unread is closed after
 * the answer. Connections idle for `idleTimeoutMs` are closed.
 *
 * `request.signal` aborts when the client hangs up (its end of the
 * connection closes) while the request is handled, as with `Deno.serve`.
 *
 * @module
 */

import { createDeadlines, type Deadlines } from "./_deadlines.ts";
import { concatBytes, frameMessage, frameText, piecesLength, writeAll } from "./_bytes.ts";
import { framingField, headEnd, headTerminatorLength, takeLine } from "./_http_head.ts";

/**
 * Options of {@linkcode serveHttp}.
 *
 * @example
 * ```ts
 * import type { HttpServeOptions } from "./http_server.ts";
 * const options: HttpServeOptions = { hostname: "127.0.0.1", port: 0 };
 * ```
 */
export interface HttpServeOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  hostname?: string;
  /** Port to listen on. Default 0: any free port. */
  port?: number;
  /** Makes the answer when the handler throws. Default: a plain 500. */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** Time for a request's head (and a chunked body) to arrive, from its first byte. Default 30 s. */
  requestTimeoutMs?: number;
  /** A kept-alive connection with no request for this long is closed. Default 300 s. */
  idleTimeoutMs?: number;
  /** Longest chunked request body, in bytes. Default 64 MiB. */
  maxBodyBytes?: number;
  /**
   * Requests answered without a `Request` or a `Response` object: the hub's
   * XML-RPC calls, most of its work. See {@linkcode HttpFastPath}.
   */
  fastPath?: HttpFastPath;
}

/**
 * A route for requests answered as plain data: those `match` accepts and
 * whose body, if any, has a `Content-Length` of at most 1 MiB; the body is
 * read whole (answered 408 if it does not come within `requestTimeoutMs`)
 * before `handle` is called. Others go to the handler, their bodies streamed.
 *
 * @example
 * ```ts
 * import type { HttpFastPath } from "./http_server.ts";
 * const fastPath: HttpFastPath = {
 *   match: (method, path) => method === "POST" && path === "/echo",
 *   handle: (r) => ({ status: 200, contentType: "application/octet-stream", body: r.body }),
 * };
 * ```
 */
export interface HttpFastPath {
  /** Whether a request with this method and path (the target without its query) takes this route. */
  match(method: string, path: string): boolean;
  /** Answers it. */
  handle(request: HttpPlainRequest): HttpPlainResponse | Promise<HttpPlainResponse>;
}

/**
 * A request of the fast path, its body read whole.
 *
 * @example
 * ```ts
 * import type { HttpPlainRequest } from "./http_server.ts";
 * const describe = (r: HttpPlainRequest) => `${r.method} ${r.target}: ${r.body.length} bytes`;
 * ```
 */
export interface HttpPlainRequest {
  /** The method, as sent. */
  readonly method: string;
  /** The request target, as sent (usually a path and a query). */
  readonly target: string;
  /** The body. */
  readonly body: Uint8Array;
  /** Where the request came from. */
  readonly remoteAddr: Deno.NetAddr;
  /** A header field's value (several joined by ", "), or null; the name in lower case. */
  header(name: string): string | null;
  /** Aborted when the client hangs up while the request is handled. */
  readonly signal: AbortSignal;
  /** The request as a `Request` (its head only), made when asked for. */
  toRequest(): Request;
}

/**
 * The answer to a request of the fast path, sent with `Content-Length`.
 *
 * @example
 * ```ts
 * import type { HttpPlainResponse } from "./http_server.ts";
 * const answer: HttpPlainResponse = { status: 200, contentType: "text/plain", body: "ok\n" };
 * ```
 */
export interface HttpPlainResponse {
  /** The status. */
  status: number;
  /** The body's `Content-Type`. */
  contentType: string;
  /** The body: text is sent as UTF-8; pieces are sent one after the other, not joined. */
  body: string | Uint8Array | readonly Uint8Array[];
}

/**
 * Answers one request; `info` is what `Deno.serve` gives its handlers.
 *
 * @example
 * ```ts
 * import type { HttpServeHandler } from "./http_server.ts";
 * const handler: HttpServeHandler = (request, info) =>
 *   new Response(`${request.method} from ${info.remoteAddr.hostname}\n`);
 * ```
 */
export type HttpServeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/**
 * A running server: where it listens and how to stop it.
 *
 * @example
 * ```ts
 * import { serveHttp } from "./http_server.ts";
 * await using server = serveHttp({ port: 0 }, () => new Response("hi\n"));
 * console.log(`listening on port ${server.addr.port}`);
 * ```
 */
export interface HttpServer extends AsyncDisposable {
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /** Settles once the server has shut down. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting connections, closes idle ones, lets requests being
   * handled finish (their answers close their connections), and resolves
   * when every connection is closed.
   */
  shutdown(): Promise<void>;
}

const INITIAL_BUFFER = 4096;
const KEEP_BUFFER = 65536;
const MAX_HEAD = 65536;
/** Longest body a request of the fast path may have. */
const FAST_BODY_MAX = 1024 * 1024;
/** How long a closing connection reads (and drops) what its client still sends. */
const LINGER_MS = 5000;
/** Largest read of a streamed request body. */
const BODY_PIECE = 1024 * 1024;
const LF = 10;
const CR = 13;
const SP = 32;
const HTAB = 9;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** `METHOD SP request-target SP HTTP/1.x`, spaces or tabs between. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+(\S+)[ \t]+HTTP\/1\.(\d)[ \t]*$/;
/** Host header values used to build the request URL; others fall back to the listening address. */
const HOST = /^[A-Za-z0-9._~!$&'()*+,;=%-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** Fields this server writes itself; a handler's own are dropped. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "content-length", "transfer-encoding"]);

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/** One client connection and its read buffer (bytes `start`..`end` unread). */
interface Conn {
  readonly tcp: Deno.TcpConn;
  readonly remoteAddr: Deno.NetAddr;
  buf: Uint8Array;
  start: number;
  end: number;
  /** A read in flight into `buf` at `end`: the watch for a hang-up while a request is handled. */
  pending?: Promise<number | null>;
  /** The client's end is closed (or the connection failed). */
  eof: boolean;
  /** From handing a request to the handler to the end of its answer. */
  handling: boolean;
  closed: boolean;
  /** Called when the client hangs up while a request is handled. */
  onHangUp?: () => void;
  /** Closes it (for deadlines). */
  kill: () => void;
}

/** A request that cannot be served: answered with `status`, then the connection closes. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Serves HTTP/1.x on `hostname:port` with `handler`; see the module doc.
 *
 * @example
 * ```ts
 * import { serveHttp } from "./http_server.ts";
 * const server = serveHttp({ hostname: "127.0.0.1", port: 0 }, async (request) =>
 *   new Response(`got ${(await request.bytes()).length} bytes\n`));
 * await server.shutdown();
 * ```
 */
export function serveHttp(options: HttpServeOptions, handler: HttpServeHandler): HttpServer {
  const hostname = options.hostname ?? "127.0.0.1";
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const listener = Deno.listen({ hostname, port: options.port ?? 0, transport: "tcp" });
  const addr = listener.addr;
  const fallbackHost = addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
  const deadlines: Deadlines = createDeadlines();
  const conns = new Set<Conn>();
  const loops = new Set<Promise<void>>();
  let shuttingDown = false;

  function destroy(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    c.eof = true;
    conns.delete(c);
    try {
      c.tcp.close();
    } catch {
      // already closed by the runtime
    }
  }

  /** Reads more bytes into `c.buf` (growing it up to `limit`); false at the end of the stream. */
  async function fill(c: Conn, limit: number): Promise<boolean> {
    if (c.pending) {
      const p = c.pending;
      c.pending = undefined;
      const n = await p;
      if (n === null) return false;
      c.end += n;
      return true;
    }
    if (c.eof) return false;
    makeRoom(c, limit);
    let n: number | null;
    try {
      n = await c.tcp.read(c.buf.subarray(c.end));
    } catch (e) {
      if (c.closed) return false;
      throw e;
    }
    if (n === null) {
      c.eof = true;
      return false;
    }
    c.end += n;
    return true;
  }

  /**
   * Keeps a read pending while a request is handled: the client closing
   * its end ends it at once (`onHangUp`); bytes of a next request stay in
   * the buffer for the next {@linkcode fill}.
   */
  function watch(c: Conn): void {
    if (c.pending || c.eof || c.closed) return;
    if (c.start === c.end) c.start = c.end = 0;
    makeRoom(c, c.buf.length + INITIAL_BUFFER);
    const p = c.tcp.read(c.buf.subarray(c.end)).then((n) => {
      if (n === null) hangUp(c);
      return n;
    }, () => {
      hangUp(c);
      return null;
    });
    c.pending = p;
  }

  /** What a request of the fast path needs of its server, made once for all of them. */
  const plain: PlainSide = {
    fallbackHost,
    watch(c, abort) {
      c.onHangUp = () => abort.abort(hangUpReason());
      watch(c);
      if (c.eof) c.onHangUp();
    },
  };

  function hangUp(c: Conn): void {
    c.eof = true;
    const f = c.onHangUp;
    c.onHangUp = undefined;
    f?.();
  }

  /**
   * The next request's head if the buffer holds all of it (as text without
   * its blank line), else undefined; throws if it is too long already.
   */
  function headInBuffer(c: Conn): string | undefined {
    while (c.start < c.end && (c.buf[c.start] === LF || c.buf[c.start] === CR)) c.start++;
    const at = headEnd(c.buf, c.start, c.end);
    if (at >= 0) {
      const text = decoder.decode(c.buf.subarray(c.start, at));
      c.start = at + headTerminatorLength(c.buf, at);
      return text;
    }
    if (c.end - c.start > MAX_HEAD) {
      throw new BadRequest(431, `the request head is longer than ${MAX_HEAD} bytes`);
    }
    return undefined;
  }

  /**
   * The next request's head, as text without its blank line; undefined when
   * the connection ends (or idles out, or the server shuts down) first.
   */
  async function readHead(c: Conn): Promise<string | undefined> {
    // How many bytes after c.start were searched already (fill may move them).
    let scanned = 0;
    let began = false;
    // A deadline is armed only to wait for bytes: idle first, then for the rest of the head.
    let cancel: (() => void) | undefined;
    try {
      for (;;) {
        if (!began) {
          // Empty lines before a request line are skipped (RFC 9112 §2.2).
          while (c.start < c.end && (c.buf[c.start] === LF || c.buf[c.start] === CR)) c.start++;
          if (c.start < c.end) {
            began = true;
            cancel?.();
            cancel = undefined;
          }
        }
        // A blank line may straddle the last read: look again from 2 bytes back.
        const at = headEnd(c.buf, c.start + Math.max(0, scanned - 2), c.end);
        if (at >= 0) {
          const text = decoder.decode(c.buf.subarray(c.start, at));
          c.start = at + headTerminatorLength(c.buf, at);
          return text;
        }
        scanned = c.end - c.start;
        if (c.end - c.start > MAX_HEAD) {
          throw new BadRequest(431, `the request head is longer than ${MAX_HEAD} bytes`);
        }
        if (shuttingDown) return undefined;
        cancel ??= deadlines.add(began ? requestTimeoutMs : idleTimeoutMs, c.kill);
        if (!await fill(c, MAX_HEAD + 4)) {
          if (began) throw new BadRequest(400, "the request head was cut off");
          return undefined;
        }
      }
    } finally {
      cancel?.();
    }
  }

  /** Reads exactly `n` bytes (copied out of the buffer). */
  async function readExactly(c: Conn, n: number): Promise<Uint8Array> {
    while (c.end - c.start < n) {
      if (!await fill(c, Math.max(n, INITIAL_BUFFER))) {
        throw new BadRequest(400, "the request body was cut off");
      }
    }
    const out = c.buf.slice(c.start, c.start + n);
    c.start += n;
    return out;
  }

  async function readLine(c: Conn): Promise<string> {
    for (;;) {
      const taken = takeLine(c.buf, c.start, c.end);
      if (taken) {
        c.start = taken.next;
        return taken.line;
      }
      if (c.end - c.start > 4096) throw new BadRequest(400, "a chunk header line is too long");
      if (!await fill(c, 8192)) throw new BadRequest(400, "the chunked request body was cut off");
    }
  }

  async function readChunked(c: Conn): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(await readLine(c));
      if (!m) throw new BadRequest(400, "bad chunk size line in the request body");
      const size = parseInt(m[1], 16);
      if (size === 0) break;
      total += size;
      if (total > maxBodyBytes) {
        throw new BadRequest(413, `the request body is longer than ${maxBodyBytes} bytes`);
      }
      parts.push(await readExactly(c, size));
      if (await readLine(c) !== "") throw new BadRequest(400, "a chunk is not followed by CRLF");
    }
    for (let i = 0; (await readLine(c)) !== ""; i++) {
      if (i > 100) throw new BadRequest(400, "too many trailer fields");
    }
    return concatBytes(parts, total);
  }

  /** Serves the requests of one connection, one after the other, until it closes. */
  async function serveConn(c: Conn): Promise<void> {
    try {
      for (;;) {
        let keepAlive: boolean;
        try {
          // Most heads are in the buffer already: no wait, no deadline.
          const text = headInBuffer(c) ?? await readHead(c);
          if (text === undefined) return;
          const head = parseHead(text);
          const fast = options.fastPath;
          if (
            fast && head.te === null && head.length <= FAST_BODY_MAX &&
            c.end - c.start >= head.length && fast.match(head.method, pathOf(head.target))
          ) {
            const body = c.buf.slice(c.start, c.start + head.length);
            c.start += head.length;
            keepAlive = await serveFast(c, fast, head, body);
          } else {
            keepAlive = await serveRequest(c, head);
          }
        } catch (e) {
          if (!(e instanceof BadRequest) || c.eof) return;
          await writeAll(c.tcp, simpleAnswer(e.status, `${e.message}\n`)).catch(() => {});
          return;
        }
        if (!keepAlive || c.eof || shuttingDown) return;
        if (c.buf.length > KEEP_BUFFER && c.start === c.end && !c.pending) {
          c.buf = new Uint8Array(INITIAL_BUFFER);
          c.start = c.end = 0;
        }
      }
    } catch {
      // The connection failed (reset, closed at shutdown): nobody to answer.
    } finally {
      await lingerClose(c);
    }
  }

  /**
   * Closes a connection the client may still be sending on (a body refused
   * unread, a bad request) without losing the answer: closing at once with
   * bytes unread makes the system send a reset, which can reach the client
   * before it has read our answer (a 413 for a body over the cap). So our
   * side is shut for writing, and what the client still sends is read and
   * dropped until it closes too, for at most LINGER_MS (RFC 9112 §9.6).
   */
  async function lingerClose(c: Conn): Promise<void> {
    if (c.eof || c.closed || shuttingDown) return destroy(c);
    const timer = setTimeout(() => destroy(c), LINGER_MS);
    try {
      await c.tcp.closeWrite();
      if (c.pending) await c.pending;
      const scratch = new Uint8Array(65536);
      while (!c.closed && await c.tcp.read(scratch) !== null) {
        // dropped
      }
    } catch {
      // reset, or closed by the timer or at shutdown
    } finally {
      clearTimeout(timer);
      destroy(c);
    }
  }

  /** Handles one request whose head is `head`; says whether the connection stays open. */
  async function serveRequest(c: Conn, head: Head): Promise<boolean> {
    const { method, target, minor, te, cl, length } = head;
    const fields = fieldsOf(head);
    let keepAlive = head.keepAlive;
    const fast = options.fastPath;
    if (fast && te === null && length <= FAST_BODY_MAX && fast.match(method, pathOf(target))) {
      let body: Uint8Array;
      if (c.end - c.start >= length) {
        body = c.buf.slice(c.start, c.start + length);
        c.start += length;
      } else {
        continueIfExpected(c, fields, minor);
        body = await withTimeout(c, () => readExactly(c, length));
      }
      return await serveFast(c, fast, head, body);
    }

    let headers: Headers;
    try {
      headers = new Headers(fields);
    } catch (e) {
      throw new BadRequest(400, `malformed header field: ${(e as Error).message}`);
    }
    // The body: read already, read here (chunked), or streamed from the socket.
    let body: Uint8Array | ReadableStream<Uint8Array> | null = null;
    let consumed = true;
    if (te !== null) {
      if (tokens(te).at(-1) !== "chunked") {
        throw new BadRequest(501, `unsupported Transfer-Encoding ${JSON.stringify(te)}`);
      }
      // A length beside chunked framing is ignored, and the connection closed after (RFC 9112 §6.3).
      if (cl !== null) keepAlive = false;
      continueIfExpected(c, fields, minor);
      body = await withTimeout(c, () => readChunked(c));
    } else if (length > 0 && c.end - c.start >= length) {
      body = c.buf.slice(c.start, c.start + length);
      c.start += length;
    } else if (length > 0) {
      continueIfExpected(c, fields, minor);
      consumed = false;
      body = bodyStream(c, length, () => {
        consumed = true;
        watch(c);
      });
    }
    if (method === "GET" || method === "HEAD") {
      // No body is passed on for these; one not read yet closes the connection.
      body = null;
    }

    let url: string;
    if (target.startsWith("/")) {
      const host = field(fields, "host");
      url = `http://${host !== null && HOST.test(host) ? host : fallbackHost}${target}`;
    } else if (/^https?:\/\//i.test(target)) {
      url = target;
    } else {
      throw new BadRequest(
        400,
        `unsupported request target ${JSON.stringify(target.slice(0, 80))}`,
      );
    }
    const abort = new AbortController();
    let request: Request;
    try {
      request = new Request(url, {
        method,
        headers,
        body,
        signal: abort.signal,
        duplex: "half",
      } as RequestInit);
    } catch (e) {
      throw new BadRequest(400, `cannot serve this request: ${(e as Error).message}`);
    }
    let done: PromiseWithResolvers<void> | undefined;
    const info: Deno.ServeHandlerInfo<Deno.NetAddr> = {
      remoteAddr: c.remoteAddr,
      get completed() {
        return (done ??= Promise.withResolvers<void>()).promise;
      },
    };
    c.onHangUp = () => abort.abort(hangUpReason());
    if (consumed) watch(c);
    if (c.eof) c.onHangUp();
    c.handling = true;
    try {
      let response: Response;
      try {
        response = await handler(request, info);
      } catch (e) {
        response = await errorAnswer(e);
      }
      keepAlive = keepAlive && consumed && !shuttingDown && !c.eof;
      const ok = await writeResponse(c, method, minor, response, keepAlive);
      return ok && keepAlive;
    } finally {
      c.handling = false;
      c.onHangUp = undefined;
      done?.resolve();
    }
  }

  /** Answers a request of the fast path, its body read; says whether the connection stays open. */
  async function serveFast(
    c: Conn,
    fast: HttpFastPath,
    r: Head,
    body: Uint8Array,
  ): Promise<boolean> {
    // The signal and the Request are made only for a handler that asks; only
    // then is the connection watched for a hang-up while the request is
    // handled (else the next request is read after the answer is written).
    const request = new PlainRequest(r, body, c, plain);
    c.handling = true;
    try {
      let answer: HttpPlainResponse;
      try {
        const a = fast.handle(request);
        answer = a instanceof Promise ? await a : a;
      } catch (e) {
        const keep = r.keepAlive && !shuttingDown && !c.eof;
        return await writeResponse(c, r.method, r.minor, await errorAnswer(e), keep) && keep;
      }
      const keepAlive = r.keepAlive && !shuttingDown && !c.eof;
      const body = answer.body;
      // The head, but for the body's length between its two halves.
      const headStart = `HTTP/1.${r.minor === 0 ? 0 : 1} ${answer.status} ${
        REASONS[answer.status] ?? "Status"
      }\r\ncontent-type: ${answer.contentType}\r\ncontent-length: `;
      const headEnd = !keepAlive
        ? "\r\nconnection: close\r\n\r\n"
        : r.minor === 0
        ? "\r\nconnection: keep-alive\r\n\r\n"
        : "\r\n\r\n";
      // A big answer (metadata encoded once for all who ask) is not copied.
      const buffers = typeof body === "string"
        ? frameText(body, headStart, headEnd)
        : body instanceof Uint8Array
        ? frameMessage(headStart + body.length + headEnd, [body])
        : frameMessage(headStart + piecesLength(body) + headEnd, body);
      try {
        if (buffers.length === 1) {
          // One write takes an answer of a few KiB whole: no loop, no helper.
          const n = await c.tcp.write(buffers[0]);
          if (n < buffers[0].length) await writeAll(c.tcp, buffers[0].subarray(n));
        } else {
          for (const buffer of buffers) await writeAll(c.tcp, buffer);
        }
      } catch {
        return false; // the client is gone: its answer has nowhere to go
      }
      return keepAlive;
    } finally {
      c.handling = false;
      c.onHangUp = undefined;
    }
  }

  async function errorAnswer(e: unknown): Promise<Response> {
    if (options.onError) {
      try {
        return await options.onError(e);
      } catch {
        // fall through to the plain answer
      }
    }
    return new Response("internal error\n", { status: 500 });
  }

  /** Writes the answer; false if the connection failed meanwhile. */
  async function writeResponse(
    c: Conn,
    method: string,
    minor: number,
    response: Response,
    keepAlive: boolean,
  ): Promise<boolean> {
    const status = response.status;
    const noBody = method === "HEAD" || status === 204 || status === 304 || status < 200;
    const stream = !noBody && response.body !== null &&
      /^text\/event-stream\b/i.test(response.headers.get("content-type") ?? "");
    let bytes = EMPTY;
    if (noBody) {
      await response.body?.cancel().catch(() => {});
    } else if (!stream && response.body !== null) {
      try {
        bytes = await response.bytes();
      } catch (e) {
        return writeResponse(c, method, minor, await errorAnswer(e), keepAlive);
      }
    }
    const chunked = stream && minor >= 1;
    if (stream && !chunked) keepAlive = false;
    let text = `HTTP/1.${minor === 0 ? 0 : 1} ${status} ${reasonPhrase(response)}\r\n`;
    for (const [name, value] of response.headers) {
      if (!HOP_BY_HOP.has(name)) text += `${name}: ${value}\r\n`;
    }
    if (chunked) text += "transfer-encoding: chunked\r\n";
    else if (!noBody && !stream) text += `content-length: ${bytes.length}\r\n`;
    if (!keepAlive) text += "connection: close\r\n";
    else if (minor === 0) text += "connection: keep-alive\r\n";
    text += "\r\n";
    const headBytes = encoder.encode(text);
    try {
      if (!stream) {
        const all = new Uint8Array(headBytes.length + bytes.length);
        all.set(headBytes);
        all.set(bytes, headBytes.length);
        await writeAll(c.tcp, all);
        return true;
      }
      await writeAll(c.tcp, headBytes);
      const reader = response.body!.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value.length === 0) continue;
          await writeAll(c.tcp, chunked ? chunk(value) : value);
        }
      } catch {
        await reader.cancel().catch(() => {});
        return false;
      }
      if (chunked) await writeAll(c.tcp, encoder.encode("0\r\n\r\n"));
      return true;
    } catch {
      // The client is gone: its answer has nowhere to go.
      return false;
    }
  }

  function bodyStream(c: Conn, length: number, onEnd: () => void): ReadableStream<Uint8Array> {
    let left = length;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (c.start < c.end) {
          // What the connection's buffer holds first.
          const take = Math.min(c.end - c.start, left);
          controller.enqueue(c.buf.slice(c.start, c.start + take));
          c.start += take;
          left -= take;
        } else {
          // Then straight from the socket into pieces of the body's own.
          const piece = new Uint8Array(Math.min(left, BODY_PIECE));
          let n: number | null = null;
          try {
            n = c.eof ? null : await c.tcp.read(piece);
          } catch {
            // closed: the body is cut off
          }
          if (n === null) {
            c.eof = true;
            controller.error(
              new TypeError("the client closed the connection before the whole body"),
            );
            return;
          }
          controller.enqueue(piece.subarray(0, n));
          left -= n;
        }
        if (left === 0) {
          controller.close();
          onEnd();
        }
      },
    }, { highWaterMark: 0 });
  }

  function continueIfExpected(c: Conn, fields: [string, string][], minor: number): void {
    if (minor >= 1 && tokens(field(fields, "expect")).includes("100-continue")) {
      writeAll(c.tcp, encoder.encode("HTTP/1.1 100 Continue\r\n\r\n")).catch(() => {});
    }
  }

  /** Runs `read`; if it takes over `requestTimeoutMs`, answers 408 and closes the connection. */
  async function withTimeout<T>(c: Conn, read: () => Promise<T>): Promise<T> {
    const cancel = deadlines.add(requestTimeoutMs, () => {
      const answer = simpleAnswer(408, "the request body did not arrive in time\n");
      writeAll(c.tcp, answer).catch(() => {}).finally(() => destroy(c));
    });
    try {
      return await read();
    } finally {
      cancel();
    }
  }

  async function acceptLoop(): Promise<void> {
    for (;;) {
      let tcp: Deno.TcpConn;
      try {
        tcp = await listener.accept();
      } catch {
        return; // closed at shutdown
      }
      if (shuttingDown) {
        tcp.close();
        continue;
      }
      try {
        tcp.setNoDelay(true);
      } catch {
        // not fatal: only slower
      }
      const c: Conn = {
        kill: () => destroy(c),
        tcp,
        remoteAddr: tcp.remoteAddr,
        buf: new Uint8Array(INITIAL_BUFFER),
        start: 0,
        end: 0,
        eof: false,
        handling: false,
        closed: false,
      };
      conns.add(c);
      const loop = serveConn(c).finally(() => loops.delete(loop));
      loops.add(loop);
    }
  }

  const accepting = acceptLoop();
  const finished = Promise.withResolvers<void>();
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      shuttingDown = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
      await accepting;
      for (const c of [...conns]) if (!c.handling) destroy(c);
      while (loops.size > 0) await Promise.all([...loops]);
      finished.resolve();
    })();
    return stopping;
  };

  return {
    addr,
    finished: finished.promise,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

/** What a {@linkcode PlainRequest} needs of its server. */
interface PlainSide {
  /** The listening address, for a `Request` URL when the Host header is unusable. */
  readonly fallbackHost: string;
  /** Watches `c` for a hang-up while its request is handled; a hang-up aborts `abort`. */
  watch(c: Conn, abort: AbortController): void;
}

/** {@linkcode HttpPlainRequest}: its signal and `Request` made only when asked for. */
class PlainRequest implements HttpPlainRequest {
  #abort?: AbortController;
  constructor(
    readonly head: Head,
    readonly body: Uint8Array,
    readonly conn: Conn,
    readonly side: PlainSide,
  ) {}
  get remoteAddr(): Deno.NetAddr {
    return this.conn.remoteAddr;
  }
  get method(): string {
    return this.head.method;
  }
  get target(): string {
    return this.head.target;
  }
  header(name: string): string | null {
    return field(fieldsOf(this.head), name.toLowerCase());
  }
  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      this.side.watch(this.conn, this.#abort);
    }
    return this.#abort.signal;
  }
  toRequest(): Request {
    const host = field(fieldsOf(this.head), "host");
    const base = `http://${host !== null && HOST.test(host) ? host : this.side.fallbackHost}`;
    return new Request(new URL(this.head.target, base), {
      method: this.head.method,
      headers: new Headers(fieldsOf(this.head)),
    });
  }
}

/** A request's head, parsed. */
interface Head {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** The head's text: its fields are parsed whole only when asked for ({@linkcode fieldsOf}). */
  text: string;
  /** Every field, names in lower case, once parsed. */
  fields?: [string, string][];
  /** Whether the client lets the connection stay open. */
  keepAlive: boolean;
  te: string | null;
  cl: string | null;
  /** The Content-Length (0 when chunked or none). */
  length: number;
}

/**
 * Parses a request head (its lines, LF or CRLF); throws {@linkcode BadRequest}.
 * A head of plain field lines (names of visible ASCII, no obs-fold) is read
 * in one pass that keeps only what framing and persistence need; any other
 * is parsed whole at once.
 */
function parseHead(text: string): Head {
  let eol = text.indexOf("\n");
  if (eol < 0) eol = text.length;
  const requestLine = withoutCr(text.slice(0, eol));
  const m = REQUEST_LINE.exec(requestLine);
  if (!m) {
    throw new BadRequest(
      400,
      `not an HTTP/1.x request line: ${JSON.stringify(requestLine.slice(0, 80))}`,
    );
  }
  const minor = Number(m[3]);
  const head: Head = {
    method: m[1],
    target: m[2],
    minor,
    text,
    keepAlive: minor >= 1,
    te: null,
    cl: null,
    length: 0,
  };
  let connection: string | null = null;
  while (eol < text.length) {
    const from = eol + 1;
    eol = text.indexOf("\n", from);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(":", from);
    const name = framingField(text, from, colon, eol);
    if (name === undefined) {
      // obs-fold, a name with spaces or other characters, no colon: the whole parse decides.
      const fields = fieldsOf(head);
      connection = field(fields, "connection");
      head.te = field(fields, "transfer-encoding");
      head.cl = field(fields, "content-length");
      break;
    }
    // Keep-Alive says nothing to a server: only these three are read.
    if (name === "" || name === "keep-alive") continue;
    const value = text.slice(colon + 1, eol).trim();
    if (name === "content-length") head.cl = joined(head.cl, value);
    else if (name === "transfer-encoding") head.te = joined(head.te, value);
    else connection = joined(connection, value);
  }
  if (connection !== null) {
    head.keepAlive = minor >= 1
      ? !tokens(connection).includes("close")
      : tokens(connection).includes("keep-alive");
  }
  if (head.te === null && head.cl !== null) head.length = contentLength(head.cl);
  return head;
}

/** A field's values joined as {@linkcode field} joins repeated ones. */
function joined(before: string | null, value: string): string {
  return before === null ? value : `${before}, ${value}`;
}

/** Every header field of `head`, names in lower case, obs-fold lines joined (parsed once). */
function fieldsOf(head: Head): [string, string][] {
  return head.fields ??= parseFields(head.text);
}

/** Header fields of a head (its request line skipped), names in lower case, obs-fold lines joined. */
function parseFields(text: string): [string, string][] {
  const lines = text.split("\n");
  const fields: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = withoutCr(lines[i]);
    const first = line.charCodeAt(0);
    if (first === SP || first === HTAB) {
      // obs-fold: one space in the previous field's value (RFC 9112 §5.2).
      const last = fields.at(-1);
      if (last) last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "";
    if (!name) {
      throw new BadRequest(400, `malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    }
    fields.push([name, line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** A Content-Length value: digits, or a list of one number repeated (RFC 9110 §8.6). */
function contentLength(value: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const parts = value.split(",").map((s) => s.trim());
  if (parts.length > 1 && /^\d{1,15}$/.test(parts[0]) && parts.every((p) => p === parts[0])) {
    return Number(parts[0]);
  }
  throw new BadRequest(400, `bad Content-Length ${JSON.stringify(value)}`);
}

/** A field's value (several joined by ", "), or null; `name` in lower case, as the fields' are. */
function field(fields: [string, string][], name: string): string | null {
  let value: string | null = null;
  for (const [n, v] of fields) {
    if (n === name) value = value === null ? v : `${value}, ${v}`;
  }
  return value;
}

/** The path of a request target (its query dropped). */
function pathOf(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? target : target.slice(0, q);
}

function hangUpReason(): DOMException {
  return new DOMException("the client hung up", "AbortError");
}

function tokens(value: string | null): string[] {
  return value === null ? [] : value.toLowerCase().split(",").map((s) => s.trim());
}

function withoutCr(line: string): string {
  return line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

function reasonPhrase(response: Response): string {
  const text = response.statusText.replace(/[\r\n]/g, " ").trim();
  return text || REASONS[response.status] || "Status";
}

function chunk(bytes: Uint8Array): Uint8Array {
  const head = encoder.encode(`${bytes.length.toString(16)}\r\n`);
  const out = new Uint8Array(head.length + bytes.length + 2);
  out.set(head);
  out.set(bytes, head.length);
  out[out.length - 2] = CR;
  out[out.length - 1] = LF;
  return out;
}

/** A plain-text answer written by the server itself; the connection closes after it. */
function simpleAnswer(status: number, text: string): Uint8Array {
  const body = encoder.encode(text);
  return encoder.encode(
    `HTTP/1.1 ${status} ${
      REASONS[status] ?? "Error"
    }\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${text}`,
  );
}

/** Makes room after `end` in `c.buf`: moves unread bytes to the front, or grows it up to `limit`. */
function makeRoom(c: Conn, limit: number): void {
  if (c.end < c.buf.length) return;
  if (c.start > 0) {
    c.buf.copyWithin(0, c.start, c.end);
    c.end -= c.start;
    c.start = 0;
    if (c.end < c.buf.length) return;
  }
  const grown = new Uint8Array(Math.max(c.buf.length + 1, Math.min(limit, c.buf.length * 2)));
  grown.set(c.buf.subarray(0, c.end));
  c.buf = grown;
}

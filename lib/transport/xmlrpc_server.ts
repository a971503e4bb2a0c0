/**
 * XML-RPC over HTTP, serving side: turns a request (a `Request`, or a body
 * already read by `./http_server.ts`) into a method call and the result (or
 * fault) back into a `text/xml` answer. Body size and arrival time are capped
 * before any XML is parsed.
 *
 * @module
 */

import { concatBytes } from "./_bytes.ts";
import { createDeadlines, type Deadlines } from "./_deadlines.ts";
import { SampFault } from "../errors.ts";
import type { SampValue } from "../types.ts";
import {
  decodeCall,
  encodeFault,
  encodeResponse,
  encodeResponseBytes,
  type XmlRpcCall,
  XmlRpcDecodeError,
} from "../xmlrpc.ts";
import { type Offload, OffloadDecodeError } from "./_offload.ts";

/**
 * Limits applied to every XML-RPC request.
 *
 * @example
 * ```ts
 * import type { XmlRpcLimits } from "./xmlrpc_server.ts";
 * const limits: XmlRpcLimits = { maxBodyBytes: 1 << 20, maxDepth: 32, bodyTimeoutMs: 5000 };
 * ```
 */
export interface XmlRpcLimits {
  /** Largest request body accepted, in bytes. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Deepest nesting of lists and maps accepted. Default 64. */
  maxDepth?: number;
  /** Time allowed for the whole body to arrive, in ms. Default 30 s. */
  bodyTimeoutMs?: number;
}

/**
 * What a method handler knows about the request that called it.
 *
 * @example
 * ```ts
 * import type { XmlRpcContext } from "./xmlrpc_server.ts";
 * function who(ctx: XmlRpcContext): string {
 *   return ctx.request.headers.get("origin") ?? "no origin";
 * }
 * ```
 */
export interface XmlRpcContext {
  /** The HTTP request (headers only: the body has been read). */
  request: Request;
  /** Aborted when the caller hangs up. */
  signal: AbortSignal;
}

/**
 * Handles one decoded XML-RPC call. Throw a {@linkcode SampFault} to answer
 * with a fault.
 *
 * @example
 * ```ts
 * import type { XmlRpcDispatch } from "./xmlrpc_server.ts";
 * const dispatch: XmlRpcDispatch = (method) => method === "test.ping" ? "" : Promise.reject(new Error("no"));
 * ```
 */
export type XmlRpcDispatch = (
  method: string,
  params: SampValue[],
  context: XmlRpcContext,
) => SampValue | Promise<SampValue>;

/**
 * Reads a request body as UTF-8 text, refusing it with an HTTP response when
 * it is too large, arrives too slowly or is not UTF-8.
 *
 * @example
 * ```ts ignore
 * import { readBody } from "./xmlrpc_server.ts";
 * const body = await readBody(request, { maxBodyBytes: 1024 });
 * if (body instanceof Response) return body;
 * ```
 */
export function readBody(
  request: Request,
  limits: XmlRpcLimits = {},
): Promise<string | Response> {
  return readBodyWithin(request, limits);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder();

/**
 * A body's UTF-8 as text; throws a TypeError on bytes that are not UTF-8.
 * Decoded first without the check, which the runtime does about 4× faster
 * for a call of a few hundred bytes; a U+FFFD in the text (a replaced
 * byte, or one the sender wrote) has it decoded again strictly.
 */
function decodeUtf8(bytes: Uint8Array): string {
  const text = lenientUtf8.decode(bytes);
  return text.includes("\uFFFD") ? strictUtf8.decode(bytes) : text;
}

const TIMED_OUT = Symbol("timed out");

async function readBodyWithin(
  request: Request,
  limits: XmlRpcLimits,
  deadlines?: Deadlines,
): Promise<string | Response> {
  const bytes = await readBodyBytes(request, limits, deadlines);
  if (bytes instanceof Response) return bytes;
  try {
    return decodeUtf8(bytes);
  } catch {
    return plain(400, NOT_UTF8);
  }
}

async function readBodyBytes(
  request: Request,
  limits: XmlRpcLimits,
  deadlines?: Deadlines,
): Promise<Uint8Array | Response> {
  const max = limits.maxBodyBytes ?? 64 * 1024 * 1024;
  const timeoutMs = limits.bodyTimeoutMs ?? 30_000;
  const header = request.headers.get("content-length");
  const declared = Number(header ?? NaN);
  if (declared > max) return tooLarge(max);
  if (declared === 0) return new Uint8Array();
  let bytes: Uint8Array;
  if (header !== null) {
    // HTTP framing stops the body at its declared length, which is within
    // the limit: read it in one go, racing the body timeout.
    let cancel!: () => void;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => {
      cancel = deadlines
        ? deadlines.add(timeoutMs, () => resolve(TIMED_OUT))
        : timeoutCancel(timeoutMs, () => resolve(TIMED_OUT));
    });
    const reading = request.bytes();
    try {
      const got = await Promise.race([reading, expired]);
      if (got === TIMED_OUT) {
        // The connection is closed after the answer, which ends the read.
        reading.catch(() => {});
        return plain(408, "request body did not arrive in time");
      }
      bytes = got;
    } catch {
      return plain(400, "request body was cut off");
    } finally {
      cancel();
    }
  } else {
    // (Only here is request.body touched: making its stream is not free.)
    if (!request.body) return new Uint8Array();
    const body = await readStream(request.body, max, timeoutMs, deadlines);
    if (body instanceof Response) return body;
    bytes = body;
  }
  return bytes;
}

/** A body of undeclared length (chunked): read piece by piece up to `max`. */
async function readStream(
  stream: ReadableStream<Uint8Array>,
  max: number,
  timeoutMs: number,
  deadlines?: Deadlines,
): Promise<Uint8Array | Response> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timedOut = false;
  const expire = () => {
    timedOut = true;
    reader.cancel().catch(() => {});
  };
  const cancel = deadlines ? deadlines.add(timeoutMs, expire) : timeoutCancel(timeoutMs, expire);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        reader.cancel().catch(() => {});
        return tooLarge(max);
      }
      chunks.push(value);
    }
  } catch {
    return plain(
      timedOut ? 408 : 400,
      timedOut ? "request body did not arrive in time" : "request body was cut off",
    );
  } finally {
    cancel();
  }
  if (timedOut) return plain(408, "request body did not arrive in time");
  return concatBytes(chunks, size);
}

function timeoutCancel(ms: number, fire: () => void): () => void {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
}

/**
 * An XML-RPC answer as plain data, for a server that writes it itself.
 *
 * @example
 * ```ts
 * import type { XmlRpcAnswer } from "./xmlrpc_server.ts";
 * const answer: XmlRpcAnswer = { status: 200, contentType: "text/xml; charset=utf-8", body: "…" };
 * ```
 */
export interface XmlRpcAnswer {
  /** The HTTP status. */
  status: number;
  /** The `Content-Type` of `body`. */
  contentType: string;
  /** The answer's text, or its UTF-8 in pieces to send one after the other. */
  body: string | readonly Uint8Array[];
}

/**
 * Makes a `Deno.serve` handler for XML-RPC POSTs. Malformed XML-RPC gets a
 * fault; input that is not XML-RPC at all gets HTTP 400; unexpected errors in
 * `dispatch` are reported to `onError` and answered with a fault.
 *
 * @example
 * ```ts ignore
 * import { createXmlRpcHandler } from "./xmlrpc_server.ts";
 * const handler = createXmlRpcHandler((method) => method === "test.echo" ? "hi" : "");
 * Deno.serve({ hostname: "127.0.0.1", port: 0 }, handler);
 * ```
 */
export function createXmlRpcHandler(
  dispatch: XmlRpcDispatch,
  limits: XmlRpcLimits = {},
  onError: (error: unknown, method: string) => void = () => {},
  offload?: Offload,
): (request: Request) => Promise<Response> {
  // Body timeouts of all requests share one timer.
  const deadlines = createDeadlines();
  return async (request) => {
    if (request.method !== "POST") {
      return plain(405, "this is a SAMP XML-RPC endpoint: send a POST", { allow: "POST" });
    }
    const body = await readBodyBytes(request, limits, deadlines);
    if (body instanceof Response) return body;
    // request.signal is read only by methods that need it (callAndWait).
    const context: XmlRpcContext = {
      request,
      get signal() {
        return request.signal;
      },
    };
    const a = await answerBytes(body, dispatch, context, limits, onError, offload);
    const answer = typeof a.body === "string"
      ? a.body
      : new Blob(a.body as Uint8Array<ArrayBuffer>[]);
    return new Response(answer, {
      status: a.status,
      headers: { "content-type": a.contentType },
    });
  };
}

/**
 * Makes the same handler for a server that has read a POST's body whole
 * already (see `./http_server.ts`): the same limits (but the body timeout,
 * which is the server's), checks and answers, as plain data and without a
 * `Request` or `Response` object for each call.
 *
 * @example
 * ```ts
 * import { createXmlRpcBodyHandler } from "./xmlrpc_server.ts";
 * const handle = createXmlRpcBodyHandler(() => "pong");
 * const ctx = { request: new Request("http://x/"), signal: new AbortController().signal };
 * const body = new TextEncoder().encode("<methodCall><methodName>a.b</methodName></methodCall>");
 * const answer = await handle(body, ctx);
 * console.assert(answer.status === 200 && String(answer.body).includes("pong"));
 * ```
 */
export function createXmlRpcBodyHandler(
  dispatch: XmlRpcDispatch,
  limits: XmlRpcLimits = {},
  onError: (error: unknown, method: string) => void = () => {},
  offload?: Offload,
): (body: Uint8Array, context: XmlRpcContext) => XmlRpcAnswer | Promise<XmlRpcAnswer> {
  const max = limits.maxBodyBytes ?? 64 * 1024 * 1024;
  return (body, context) => {
    if (body.length > max) return tooLargeAnswer(max);
    return answerBytes(body, dispatch, context, limits, onError, offload);
  };
}

/**
 * Decodes one call (a big one in the offload's worker), runs it, and encodes
 * its result or fault (splicing in what the worker encoded already).
 */
function answerBytes(
  body: Uint8Array,
  dispatch: XmlRpcDispatch,
  context: XmlRpcContext,
  limits: XmlRpcLimits,
  onError: (error: unknown, method: string) => void,
  offload: Offload | undefined,
): XmlRpcAnswer | Promise<XmlRpcAnswer> {
  const maxDepth = limits.maxDepth ?? 64;
  if (offload && body.length >= offload.minBytes) {
    return offload.decodeCall(body, maxDepth).then(
      (call) => run(call, dispatch, context, onError, offload),
      (e) => {
        if (!(e instanceof OffloadDecodeError)) {
          return plainAnswer(
            503,
            `the hub could not decode this request now: ${(e as Error).message}`,
          );
        }
        if (e.kind === "utf8") return plainAnswer(400, NOT_UTF8);
        if (e.kind === "xmlrpc") {
          return xmlAnswer(encodeFault(1, `Malformed XML-RPC request: ${e.message}`));
        }
        return plainAnswer(400, `not an XML-RPC request: ${e.message}`);
      },
    );
  }
  let text: string;
  try {
    text = decodeUtf8(body);
  } catch {
    return plainAnswer(400, NOT_UTF8);
  }
  let call: XmlRpcCall;
  try {
    call = decodeCall(text, { maxDepth });
  } catch (e) {
    if (e instanceof XmlRpcDecodeError && e.xmlRpc) {
      return xmlAnswer(encodeFault(1, `Malformed XML-RPC request: ${e.message}`));
    }
    return plainAnswer(400, `not an XML-RPC request: ${(e as Error).message}`);
  }
  return run(call, dispatch, context, onError, offload);
}

/** Runs a decoded call; a method that answers at once is answered without a promise. */
function run(
  call: XmlRpcCall,
  dispatch: XmlRpcDispatch,
  context: XmlRpcContext,
  onError: (error: unknown, method: string) => void,
  offload: Offload | undefined,
): XmlRpcAnswer | Promise<XmlRpcAnswer> {
  try {
    const result = dispatch(call.method, call.params, context);
    if (result instanceof Promise) {
      return result.then((r) => {
        try {
          return resultAnswer(r, offload);
        } catch (e) {
          return faultAnswer(e, call.method, onError);
        }
      }, (e) => faultAnswer(e, call.method, onError));
    }
    return resultAnswer(result, offload);
  } catch (e) {
    return faultAnswer(e, call.method, onError);
  }
}

function resultAnswer(result: SampValue, offload: Offload | undefined): XmlRpcAnswer {
  if (offload && typeof result === "object" && offload.holdsEncoded(result)) {
    return { status: 200, contentType: XML, body: encodeResponseBytes(result, offload.encodedOf) };
  }
  return xmlAnswer(encodeResponse(result));
}

function faultAnswer(
  e: unknown,
  method: string,
  onError: (error: unknown, method: string) => void,
): XmlRpcAnswer {
  if (e instanceof SampFault) return xmlAnswer(encodeFault(e.code, e.message));
  onError(e, method);
  return xmlAnswer(encodeFault(1, `Internal hub error in ${method}: ${(e as Error).message}`));
}

const XML = "text/xml; charset=utf-8";
const PLAIN = "text/plain; charset=utf-8";
const NOT_UTF8 = "request body is not valid UTF-8: SAMP over XML-RPC uses UTF-8";

function xmlAnswer(body: string): XmlRpcAnswer {
  return { status: 200, contentType: XML, body };
}

function plainAnswer(status: number, text: string): XmlRpcAnswer {
  return { status, contentType: PLAIN, body: text + "\n" };
}

function tooLargeAnswer(max: number): XmlRpcAnswer {
  return plainAnswer(413, `request body exceeds the hub's limit of ${max} bytes`);
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

function tooLarge(max: number): Response {
  return plain(413, `request body exceeds the hub's limit of ${max} bytes`);
}

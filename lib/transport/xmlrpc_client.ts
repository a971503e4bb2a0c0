/**
 * XML-RPC over HTTP, calling side: one POST with a fully buffered body
 * (peers such as JSAMP need Content-Length). By default it goes through
 * `fetch`, which reuses connections and runs in browsers too; with a
 * `pool` from `./http_pool.ts` (Deno only), plain `http:` URLs go through
 * that leaner keep-alive client instead, which is what the hub does for
 * its callbacks.
 *
 * @module
 */

import { SampFault, TransportError } from "../errors.ts";
import { refusesConnections } from "./_probe.ts";
import type { SampValue } from "../types.ts";
import type { HttpPool, HttpPostResponse } from "./http_pool.ts";
import { HttpProtocolError, HttpTimeoutError, HttpTooLargeError } from "./_http_errors.ts";
import { decodeResponse, encodeCall } from "../xmlrpc.ts";

/**
 * Options of {@linkcode xmlrpcRequest}.
 *
 * @example
 * ```ts
 * import type { XmlRpcRequestOptions } from "./xmlrpc_client.ts";
 * const options: XmlRpcRequestOptions = { timeoutMs: 5000 };
 * ```
 */
export interface XmlRpcRequestOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /**
   * The caller does not need the result, only to know the call succeeded:
   * a response with no fault is not parsed (the hub's callbacks use this).
   */
  ignoreResult?: boolean;
  /**
   * Largest response body read, in bytes: a longer one is cut off and the
   * call fails. Default 64 MiB, or 64 KiB with `ignoreResult`.
   */
  maxResponseBytes?: number;
  /** Deepest nesting of lists and maps accepted in the result. Default 64. */
  maxDepth?: number;
  /**
   * Sends `http:` requests through this pool instead of `fetch` (other
   * schemes still use `fetch`).
   */
  pool?: HttpPool;
  /**
   * The request already encoded (see `encodeCallBytes`): sent as it is,
   * `method` and `params` only name it in errors.
   */
  encoded?: readonly Uint8Array[];
}

// Browsers refuse to set User-Agent; they send their own.
const HEADERS: Record<string, string> = typeof Deno !== "undefined"
  ? { "content-type": "text/xml", "user-agent": "sampkit-deno" }
  : { "content-type": "text/xml" };

/**
 * Calls an XML-RPC method and returns its result. A fault becomes a
 * {@linkcode SampFault}; an HTTP failure a {@linkcode TransportError}, whose
 * `maybeReceived` is true when the request went out whole and only the
 * answer failed (cut, unreadable, too long or late).
 *
 * @example
 * ```ts ignore
 * import { xmlrpcRequest } from "./xmlrpc_client.ts";
 * await xmlrpcRequest("http://127.0.0.1:21000/xmlrpc", "samp.hub.ping", []);
 * ```
 */
export function xmlrpcRequest(
  url: string,
  method: string,
  params: readonly SampValue[],
  options: XmlRpcRequestOptions = {},
): Promise<SampValue> {
  const { pool } = options;
  return pool && url.startsWith("http:")
    ? poolRequest(pool, url, method, params, options)
    : fetchRequest(url, method, params, options);
}

/**
 * The call through the hub's pool: one small frame waits for the answer
 * (the hub has one of these in flight for every callback).
 */
async function poolRequest(
  pool: HttpPool,
  url: string,
  method: string,
  params: readonly SampValue[],
  options: XmlRpcRequestOptions,
): Promise<SampValue> {
  const body = options.encoded ?? encodeCall(method, params);
  const max = maxResponse(options);
  let answer: HttpPostResponse;
  try {
    // The pool times out and aborts by itself: no controller, no timer here.
    answer = await pool.post(url, body, {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: max,
    });
  } catch (e) {
    throw await poolFailure(url, method, options, max, e);
  }
  return resultOf(
    url,
    method,
    okText(url, method, answer.status, answer.statusText, answer.body),
    options,
  );
}

/** The call through `fetch`. */
async function fetchRequest(
  url: string,
  method: string,
  params: readonly SampValue[],
  options: XmlRpcRequestOptions,
): Promise<SampValue> {
  const body = options.encoded ?? encodeCall(method, params);
  return resultOf(url, method, await fetchPost(url, body, method, options), options);
}

/** The result of a call answered with `text`; a fault becomes a {@linkcode SampFault}. */
function resultOf(
  url: string,
  method: string,
  text: string,
  options: XmlRpcRequestOptions,
): SampValue {
  if (options.ignoreResult && !text.includes("<fault")) return "";
  let result;
  try {
    result = decodeResponse(text, { maxDepth: options.maxDepth });
  } catch (e) {
    throw new TransportError(
      `${url} answered ${method} with something that is not an XML-RPC response: ${
        (e as Error).message
      }`,
      url,
      { maybeReceived: true },
      { cause: e },
    );
  }
  if (!result.ok) throw new SampFault(result.message, result.code);
  return result.value;
}

/** The largest answer read for these options. */
function maxResponse(options: XmlRpcRequestOptions): number {
  return options.maxResponseBytes ?? (options.ignoreResult ? 64 * 1024 : 64 * 1024 * 1024);
}

/** What a failed post through the pool becomes. */
async function poolFailure(
  url: string,
  method: string,
  options: XmlRpcRequestOptions,
  max: number,
  e: unknown,
): Promise<unknown> {
  const { signal, timeoutMs } = options;
  if (e instanceof HttpTimeoutError) return timedOut(url, method, timeoutMs, e, e.requestSent);
  if (signal?.aborted) return signal.reason ?? e;
  if (e instanceof HttpTooLargeError) return tooLong(url, method, max, e);
  // Thrown only after the whole request went out.
  if (e instanceof HttpProtocolError) return unreadable(url, method, e);
  return await unreachable(url, e);
}

/** The body of a 2xx answer; any other status is a TransportError. */
function okText(
  url: string,
  method: string,
  status: number,
  statusText: string,
  text: string,
): string {
  if (status < 200 || status > 299) {
    throw new TransportError(`${url} answered ${method} with HTTP ${status} ${statusText}`, url);
  }
  return text;
}

/** The POST through `fetch`. */
async function fetchPost(
  url: string,
  body: string | readonly Uint8Array[],
  method: string,
  options: XmlRpcRequestOptions,
): Promise<string> {
  const max = maxResponse(options);
  const { signal, timeoutMs } = options;
  let status: number, statusText: string, text: string;
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  let expired = false;
  /** Whether the answer had begun (so the request had gone out). */
  let answered = false;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    expired = true;
    controller.abort();
  }, timeoutMs);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: HEADERS,
      body: typeof body === "string" ? body : new Blob(body as Uint8Array<ArrayBuffer>[]),
      signal: controller.signal,
    });
    ({ status, statusText } = response);
    answered = true;
    text = await readText(response, max, url, method);
  } catch (e) {
    if (e instanceof TransportError) throw e;
    // fetch does not tell whether a request it gave up on went out: it may have.
    if (expired) throw timedOut(url, method, timeoutMs, e, true);
    if (signal?.aborted) throw signal.reason ?? e;
    if (answered) throw unreadable(url, method, e);
    throw await unreachable(url, e);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  return okText(url, method, status, statusText, text);
}

function timedOut(
  url: string,
  method: string,
  timeoutMs: number | undefined,
  cause: unknown,
  sent: boolean,
): TransportError {
  return new TransportError(
    sent
      ? `no answer from ${url} to ${method} within ${timeoutMs} ms`
      : `could not send ${method} to ${url} within ${timeoutMs} ms`,
    url,
    { timedOut: true, maybeReceived: sent },
    { cause },
  );
}

/** The request went out whole; its answer was cut short or could not be read. */
function unreadable(url: string, method: string, cause: unknown): TransportError {
  return new TransportError(
    `could not read the answer of ${url} to ${method}: ${(cause as Error)?.message ?? cause}`,
    url,
    { maybeReceived: true },
    { cause },
  );
}

async function unreachable(url: string, e: unknown): Promise<TransportError> {
  const refused = isRefused(e) || (isFetchFailure(e) && await refusesConnections(url));
  return new TransportError(
    refused
      ? `connection refused by ${url} (nothing listens there any more)`
      : `cannot reach ${url}: ${(e as Error).message}`,
    url,
    { refused },
    { cause: e },
  );
}

/** Whether Deno reported a refused connection, as a typed error anywhere in the causes. */
function isRefused(e: unknown): boolean {
  if (typeof Deno === "undefined") return false;
  for (let err = e; err instanceof Error; err = err.cause) {
    if (err instanceof Deno.errors.ConnectionRefused) return true;
  }
  return false;
}

/**
 * Whether `fetch` failed before any answer (a TypeError, the Fetch standard's
 * network error): it says why only in text, so the port is probed instead.
 */
function isFetchFailure(e: unknown): boolean {
  return e instanceof TypeError;
}

/** Reads a response body as UTF-8 text, failing once it exceeds `max` bytes. */
async function readText(
  response: Response,
  max: number,
  url: string,
  method: string,
): Promise<string> {
  const declared = response.headers.get("content-length");
  if (declared !== null) {
    // HTTP framing stops the body at its declared length: read it in one go.
    if (Number(declared) <= max) return await response.text();
    await response.body?.cancel().catch(() => {});
    throw tooLong(url, method, max);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLong(url, method, max);
    }
    text += decoder.decode(value, { stream: true });
  }
}

function tooLong(url: string, method: string, max: number, cause?: unknown): TransportError {
  return new TransportError(
    `${url} answered ${method} with more than ${max} bytes: the answer was cut off`,
    url,
    { maybeReceived: true },
    { cause },
  );
}

/**
 * XML-RPC over HTTP, serving side: turns a `Deno.serve` request into a method
 * call and the result (or fault) back into a `text/xml` response. Body size
 * and arrival time are capped before any XML is parsed.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import type { SampValue } from "../types.ts";
import { decodeCall, encodeFault, encodeResponse, XmlRpcDecodeError } from "../xmlrpc.ts";

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
export async function readBody(
  request: Request,
  limits: XmlRpcLimits = {},
): Promise<string | Response> {
  const max = limits.maxBodyBytes ?? 64 * 1024 * 1024;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > max) return tooLarge(max);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, limits.bodyTimeoutMs ?? 30_000);
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
    clearTimeout(timer);
  }
  if (timedOut) return plain(408, "request body did not arrive in time");
  const bytes = chunks.length === 1 ? chunks[0] : concat(chunks, size);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return plain(400, "request body is not valid UTF-8: SAMP over XML-RPC uses UTF-8");
  }
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
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== "POST") {
      return plain(405, "this is a SAMP XML-RPC endpoint: send a POST", { allow: "POST" });
    }
    const body = await readBody(request, limits);
    if (body instanceof Response) return body;
    let call;
    try {
      call = decodeCall(body, { maxDepth: limits.maxDepth ?? 64 });
    } catch (e) {
      if (e instanceof XmlRpcDecodeError && e.xmlRpc) {
        return xml(encodeFault(1, `Malformed XML-RPC request: ${e.message}`));
      }
      return plain(400, `not an XML-RPC request: ${(e as Error).message}`);
    }
    try {
      // request.signal is read only by methods that need it (callAndWait).
      const context: XmlRpcContext = {
        request,
        get signal() {
          return request.signal;
        },
      };
      const result = await dispatch(call.method, call.params, context);
      return xml(encodeResponse(result));
    } catch (e) {
      if (e instanceof SampFault) return xml(encodeFault(e.code, e.message));
      onError(e, call.method);
      return xml(encodeFault(1, `Internal hub error in ${call.method}: ${(e as Error).message}`));
    }
  };
}

function xml(text: string): Response {
  return new Response(text, { headers: { "content-type": "text/xml; charset=utf-8" } });
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

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

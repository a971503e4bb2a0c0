/**
 * The HTTP answer of the bench's callback servers and of the bare relay.
 *
 * @module
 */

import { encodeResponse } from "../../lib/xmlrpc.ts";

/** An XML-RPC response with an empty string: the answer to every callback. */
const EMPTY_RESPONSE = encodeResponse("");
const XML_HEADERS = { "content-type": "text/xml" };

/**
 * An HTTP 200 `text/xml` response with `body` (by default an XML-RPC
 * response holding an empty string).
 *
 * @example
 * ```ts
 * import { xmlResponse } from "./_xml_response.ts";
 * const res = xmlResponse();
 * console.log(res.headers.get("content-type")); // "text/xml"
 * ```
 */
export function xmlResponse(body: string = EMPTY_RESPONSE): Response {
  return new Response(body, { headers: XML_HEADERS });
}

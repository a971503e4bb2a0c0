/**
 * Reading a client callback (`samp.client.receive*`) fast: a scanner picks
 * out only what the bench needs (the leading ids, `seq`, `id`, the MType,
 * the status of a response) without building the message; what it does not
 * recognise goes to the full XML-RPC decoder, and is counted.
 *
 * @module
 */

import { decodeCall } from "../../lib/xmlrpc.ts";
import { mapOf, stringOf } from "./_values.ts";

/** What a receiver needs from a client callback. */
export interface Callback {
  method: string;
  /** Leading scalar params (private-key, sender/responder id, msg-id/msg-tag). */
  args: string[];
  /** `seq` from the message params (or the response result). */
  seq?: string;
  /** `id` from a hub event's params. */
  id?: string;
  /** The MType of a message. */
  mtype?: string;
  /** For receiveResponse: whether samp.status is samp.ok. */
  ok?: boolean;
}

/** Counts kept while parsing callbacks (reported as `slowParses`). */
export interface CallbackCounts {
  /** Callbacks that needed the full decoder (the fast scanner gave up). */
  slowParses: number;
}

function unxml(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] === "#") {
      return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    }
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e as "lt"];
  });
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Reads the string held by the `<value>` at `pos`: `<value><string>x</string></value>`,
 * `<value>x</value>` (JSAMP's bare strings) or an empty value. Returns the
 * string and the position after it, or null for anything else.
 *
 * @example
 * ```ts
 * import { scalarAt } from "./callback.ts";
 * console.log(scalarAt("<value><string>a&amp;b</string></value>", 0)); // ["a&b", 31]
 * ```
 */
export function scalarAt(xml: string, pos: number): [string, number] | null {
  if (xml.startsWith("<value/>", pos)) return ["", pos + 8];
  if (!xml.startsWith("<value>", pos)) return null;
  const p = pos + 7;
  let q = p;
  while (isSpace(xml.charCodeAt(q))) q++;
  if (xml.startsWith("<string>", q)) {
    const e = xml.indexOf("</string>", q + 8);
    if (e < 0) return null;
    return [unxml(xml.slice(q + 8, e)), e + 9];
  }
  if (xml.startsWith("<string/>", q)) return ["", q + 9];
  const e = xml.indexOf("</value>", p);
  if (e < 0) return null;
  const text = xml.slice(p, e);
  if (text.indexOf("<") >= 0) return null;
  return [unxml(text), e + 8];
}

/**
 * The string value of the first struct member `name` at or after `from`.
 *
 * @example
 * ```ts
 * import { memberAt } from "./callback.ts";
 * import { encodeResponse } from "../../lib/xmlrpc.ts";
 * console.log(memberAt(encodeResponse({ seq: "4" }), "seq")); // "4"
 * ```
 */
export function memberAt(xml: string, name: string, from = 0): string | undefined {
  const i = xml.indexOf(`<name>${name}</name>`, from);
  if (i < 0) return undefined;
  const v = xml.indexOf("<value", i);
  if (v < 0) return undefined;
  return scalarAt(xml, v)?.[0];
}

/**
 * The method name and the first `nargs` scalar params of an XML-RPC call,
 * read from the front of the document only (a big message's params are not
 * scanned), with the position after them; null when they are not scalars.
 *
 * @example
 * ```ts
 * import { leadingArgs } from "./callback.ts";
 * import { encodeCall } from "../../lib/xmlrpc.ts";
 * const xml = encodeCall("samp.client.receiveCall", ["k", "c1", "m1", {}]);
 * console.log(leadingArgs(xml, 3)?.args); // ["k", "c1", "m1"]
 * ```
 */
export function leadingArgs(
  xml: string,
  nargs: number,
): { method: string; args: string[]; end: number } | null {
  const m0 = xml.indexOf("<methodName>");
  const m1 = m0 < 0 ? -1 : xml.indexOf("</methodName>", m0);
  if (m0 < 0 || m1 < 0) return null;
  const method = xml.slice(m0 + 12, m1).trim();
  let pos = xml.indexOf("<params>", m1);
  if (pos < 0) return null;
  const args: string[] = [];
  for (let i = 0; i < nargs; i++) {
    pos = xml.indexOf("<param>", pos);
    if (pos < 0) return null;
    pos = xml.indexOf("<value", pos);
    if (pos < 0) return null;
    const v = scalarAt(xml, pos);
    if (!v) return null;
    args.push(v[0]);
    pos = v[1];
  }
  return { method, args, end: pos };
}

/** Scans a callback without building it (only the parts the bench reads). */
function fastParse(xml: string, nargs: number): Callback | null {
  const head = leadingArgs(xml, nargs);
  if (!head) return null;
  const { method, args, end: pos } = head;
  const cb: Callback = { method, args };
  cb.mtype = memberAt(xml, "samp.mtype", pos);
  cb.seq = memberAt(xml, "seq", pos);
  cb.id = memberAt(xml, "id", pos);
  if (method === "samp.client.receiveResponse") {
    cb.ok = memberAt(xml, "samp.status", pos) === "samp.ok";
  }
  // A message without the members the bench needs goes to the full decoder.
  if (method !== "samp.client.receiveResponse" && cb.mtype === undefined) return null;
  return cb;
}

/** The same, with the full XML-RPC decoder. */
function slowParse(xml: string): Callback {
  const call = decodeCall(xml);
  const p = call.params;
  const cb: Callback = { method: call.method, args: [] };
  const nargs = call.method === "samp.client.receiveNotification" ? 2 : 3;
  for (let i = 0; i < nargs; i++) cb.args.push(stringOf(p[i]) ?? "");
  const body = mapOf(p[nargs]);
  if (call.method === "samp.client.receiveResponse") {
    cb.ok = body["samp.status"] === "samp.ok";
    cb.seq = stringOf(mapOf(body["samp.result"]).seq);
  } else {
    cb.mtype = stringOf(body["samp.mtype"]);
    const params = mapOf(body["samp.params"]);
    cb.seq = stringOf(params.seq);
    cb.id = stringOf(params.id);
  }
  return cb;
}

/**
 * Reads a callback's XML-RPC request body; a body the scanner cannot read
 * goes to the full decoder and adds one to `counts.slowParses`.
 *
 * @throws {Error} when the body is not an XML-RPC call at all.
 *
 * @example
 * ```ts
 * import { parseCallback } from "./callback.ts";
 * import { encodeCall } from "../../lib/xmlrpc.ts";
 * const xml = encodeCall("samp.client.receiveNotification", [
 *   "key",
 *   "c1",
 *   { "samp.mtype": "bench.x", "samp.params": { seq: "7" } },
 * ]);
 * const counts = { slowParses: 0 };
 * console.log(parseCallback(xml, counts).seq); // "7"
 * ```
 */
export function parseCallback(xml: string, counts: CallbackCounts): Callback {
  const nargs = xml.indexOf("samp.client.receiveNotification") >= 0 ? 2 : 3;
  const fast = fastParse(xml, nargs);
  if (fast) return fast;
  counts.slowParses++;
  return slowParse(xml);
}

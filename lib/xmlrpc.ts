/**
 * XML-RPC codec for the SAMP Standard Profile.
 *
 * Decoding streams parser events straight into SAMP values (no DOM). It
 * follows what real SAMP peers send:
 *
 * - A `<value>` holding an element uses that element; whitespace around it is
 *   ignored. A `<value>` holding only text is a string made of the *entire*
 *   text, never trimmed (JSAMP writes bare, pretty-printed values).
 * - `<int>`, `<i4>`, `<i8>` and `<double>` become their decimal string and
 *   `<boolean>` becomes `"1"` or `"0"` (SAMP has only strings, lists and maps).
 *   `<nil/>`, `<base64>`, `<dateTime.iso8601>` and unknown elements are refused.
 * - DOCTYPEs (so entity declarations, external entities and entity expansion
 *   bombs) are refused, as is nesting of arrays and structs deeper than
 *   {@linkcode DecodeOptions.maxDepth}, checked while parsing.
 *
 * Encoding always writes UTF-8 declared XML with every string as
 * `<value><string>…</string></value>`, and refuses strings holding characters
 * that XML 1.0 cannot carry rather than altering them.
 *
 * @module
 */

import { parseXml, type SaxHandler } from "./_sax.ts";
import { readPlainCall } from "./_xmlrpc_plain.ts";
import type { SampList, SampMap, SampValue } from "./types.ts";
import { setMember } from "./types.ts";

/**
 * A decoded XML-RPC method call.
 *
 * @example
 * ```ts
 * import type { XmlRpcCall } from "./xmlrpc.ts";
 * const call: XmlRpcCall = { method: "samp.hub.ping", params: [] };
 * ```
 */
export interface XmlRpcCall {
  /** The method name, e.g. `samp.hub.notify`. */
  method: string;
  /** The parameters, in order. */
  params: SampValue[];
}

/**
 * A decoded XML-RPC method response: either a value or a fault.
 *
 * @example Telling success from failure
 * ```ts
 * import type { XmlRpcResult } from "./xmlrpc.ts";
 * function show(r: XmlRpcResult): string {
 *   return r.ok ? JSON.stringify(r.value) : `fault ${r.code}: ${r.message}`;
 * }
 * show({ ok: false, code: 1, message: "Unknown private key" });
 * ```
 */
export type XmlRpcResult =
  | { ok: true; value: SampValue }
  | { ok: false; code: number; message: string };

/**
 * Options for {@linkcode decodeCall} and {@linkcode decodeResponse}.
 *
 * @example
 * ```ts
 * import { decodeCall, type DecodeOptions } from "./xmlrpc.ts";
 * const options: DecodeOptions = { maxDepth: 8 };
 * decodeCall("<methodCall><methodName>samp.hub.ping</methodName></methodCall>", options);
 * ```
 */
export interface DecodeOptions {
  /**
   * The greatest allowed nesting of array and struct values; a plain string
   * is at depth 0 and `[["x"]]` at depth 2. Defaults to 64.
   */
  maxDepth?: number;
}

/**
 * Thrown by {@linkcode decodeCall} and {@linkcode decodeResponse} when the
 * input is not acceptable: malformed XML, a forbidden construct, an XML-RPC
 * structure error or a non-SAMP type.
 *
 * @example Answering bad input
 * ```ts
 * import { decodeCall, XmlRpcDecodeError } from "./xmlrpc.ts";
 * try {
 *   decodeCall("<methodCall><methodName>x</methodName><params><param><value><nil/></value></param></params></methodCall>");
 * } catch (e) {
 *   if (e instanceof XmlRpcDecodeError && e.xmlRpc) {
 *     // It looked like XML-RPC, so answer with a fault carrying e.message.
 *   }
 * }
 * ```
 */
export class XmlRpcDecodeError extends Error {
  /**
   * True if the root element was `<methodCall>` or `<methodResponse>`, i.e.
   * the input looked like XML-RPC and the peer can be answered with a fault.
   */
  readonly xmlRpc: boolean;

  /**
   * Makes an error.
   *
   * @param message What is wrong.
   * @param xmlRpc Whether the input looked like XML-RPC.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, xmlRpc: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "XmlRpcDecodeError";
    this.xmlRpc = xmlRpc;
  }
}

// ---------------------------------------------------------------------------
// Decoding

const DEFAULT_MAX_DEPTH = 64;

// Parser frame kinds.
const K_CALL = 1;
const K_RESPONSE = 2;
const K_METHOD_NAME = 3;
const K_PARAMS = 4;
const K_PARAM = 5;
const K_FAULT = 6;
const K_VALUE = 7;
const K_SCALAR = 8;
const K_ARRAY = 9;
const K_DATA = 10;
const K_STRUCT = 11;
const K_MEMBER = 12;
const K_NAME = 13;

// Bits of Frame.seen: which children have already appeared.
const SEEN_METHOD_NAME = 1;
const SEEN_PARAMS = 2;
const SEEN_FAULT = 4;
const SEEN_VALUE = 8;
const SEEN_NAME = 16;
const SEEN_DATA = 32;

const WHITESPACE = /^[ \t\r\n]*$/;
const TRIM = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const INT_SYNTAX = /^([+-]?)0*([0-9]+)$/;
const DOUBLE_SYNTAX = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const DIGITS = /^[+-]?[0-9]+$/;

const SCALAR_TYPES = new Set(["string", "int", "i4", "i8", "double", "boolean"]);
const NON_SAMP_TYPES = new Set(["nil", "base64", "dateTime.iso8601"]);

/** One open element. Fields are used according to `kind`. */
class Frame {
  kind: number;
  /** Element name (for messages and scalar conversion). */
  tag: string;
  /** Accumulated text: value, scalar, name and methodName. */
  text = "";
  /** Child value (value, param, member, fault) or the container (array, data, struct). */
  value: SampValue | undefined = undefined;
  /** Member key. */
  name = "";
  /** Bit set of SEEN_* flags. */
  seen = 0;
  /** Number of <param> children of <params>. */
  count = 0;

  constructor(kind: number, tag: string, value?: SampValue) {
    this.kind = kind;
    this.tag = tag;
    this.value = value;
  }
}

/** Builds SAMP values from parser events. One instance per document. */
class Decoder implements SaxHandler {
  readonly #root: string;
  readonly #maxDepth: number;
  readonly #stack: Frame[] = [];
  #depth = 0;
  /** Whether the root element was methodCall or methodResponse. */
  xmlRpc = false;
  method = "";
  params: SampValue[] = [];
  fault: SampValue | undefined = undefined;
  done = false;

  constructor(root: string, maxDepth: number) {
    this.#root = root;
    this.#maxDepth = maxDepth;
  }

  #error(message: string): XmlRpcDecodeError {
    return new XmlRpcDecodeError(message, this.xmlRpc);
  }

  #unexpected(name: string, parent: Frame): XmlRpcDecodeError {
    return this.#error(`unexpected <${name}> in <${parent.tag}>`);
  }

  #once(top: Frame, bit: number, name: string): void {
    if (top.seen & bit) throw this.#error(`<${top.tag}> holds more than one <${name}>`);
    top.seen |= bit;
  }

  onOpen(name: string): void {
    const stack = this.#stack;
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (this.done) throw this.#error(`unexpected <${name}> after the root element`);
      if (name === "methodCall" || name === "methodResponse") this.xmlRpc = true;
      if (name !== this.#root) {
        throw this.#error(`expected root element <${this.#root}>, found <${name}>`);
      }
      stack.push(new Frame(name === "methodCall" ? K_CALL : K_RESPONSE, name));
      return;
    }
    switch (top.kind) {
      case K_VALUE: {
        if (top.seen & SEEN_VALUE) throw this.#error("<value> holds more than one element");
        if (!WHITESPACE.test(top.text)) {
          throw this.#error(`<value> mixes text with a <${name}> element`);
        }
        top.seen |= SEEN_VALUE;
        if (SCALAR_TYPES.has(name)) {
          stack.push(new Frame(K_SCALAR, name));
        } else if (name === "array" || name === "struct") {
          if (++this.#depth > this.#maxDepth) {
            throw this.#error(
              `XML-RPC values nest deeper than the limit of ${this.#maxDepth} arrays/structs`,
            );
          }
          stack.push(
            name === "array" ? new Frame(K_ARRAY, name, []) : new Frame(K_STRUCT, name, {}),
          );
        } else if (NON_SAMP_TYPES.has(name)) {
          throw this.#error(`XML-RPC type <${name}> is not a SAMP type: send a string`);
        } else {
          throw this.#error(`unknown XML-RPC type <${name}> in <value>`);
        }
        return;
      }
      case K_DATA:
        if (name !== "value") throw this.#unexpected(name, top);
        stack.push(new Frame(K_VALUE, name));
        return;
      case K_MEMBER:
        if (name === "name") {
          this.#once(top, SEEN_NAME, name);
          stack.push(new Frame(K_NAME, name));
        } else if (name === "value") {
          this.#once(top, SEEN_VALUE, name);
          stack.push(new Frame(K_VALUE, name));
        } else {
          throw this.#unexpected(name, top);
        }
        return;
      case K_STRUCT:
        if (name !== "member") throw this.#unexpected(name, top);
        stack.push(new Frame(K_MEMBER, name));
        return;
      case K_ARRAY:
        if (name !== "data") throw this.#unexpected(name, top);
        this.#once(top, SEEN_DATA, name);
        stack.push(new Frame(K_DATA, name, top.value));
        return;
      case K_PARAM:
      case K_FAULT:
        if (name !== "value") throw this.#unexpected(name, top);
        this.#once(top, SEEN_VALUE, name);
        stack.push(new Frame(K_VALUE, name));
        return;
      case K_PARAMS:
        if (name !== "param") throw this.#unexpected(name, top);
        top.count++;
        stack.push(new Frame(K_PARAM, name));
        return;
      case K_CALL:
        if (name === "methodName") {
          this.#once(top, SEEN_METHOD_NAME, name);
          stack.push(new Frame(K_METHOD_NAME, name));
        } else if (name === "params") {
          this.#once(top, SEEN_PARAMS, name);
          stack.push(new Frame(K_PARAMS, name));
        } else {
          throw this.#unexpected(name, top);
        }
        return;
      case K_RESPONSE:
        if (name !== "params" && name !== "fault") throw this.#unexpected(name, top);
        if (top.seen & (SEEN_PARAMS | SEEN_FAULT)) {
          throw this.#error("<methodResponse> must hold exactly one <params> or <fault>");
        }
        top.seen |= name === "params" ? SEEN_PARAMS : SEEN_FAULT;
        stack.push(new Frame(name === "params" ? K_PARAMS : K_FAULT, name));
        return;
      default:
        // K_SCALAR, K_NAME, K_METHOD_NAME: text only.
        throw this.#error(`<${top.tag}> must hold only text, found <${name}>`);
    }
  }

  onText(text: string): void {
    const top = this.#stack[this.#stack.length - 1];
    if (top === undefined) return; // whitespace around the root; saxes refuses anything else
    switch (top.kind) {
      case K_VALUE:
        if (top.seen & SEEN_VALUE) {
          if (!WHITESPACE.test(text)) {
            throw this.#error("<value> mixes text with an element");
          }
        } else {
          top.text += text;
        }
        return;
      case K_SCALAR:
      case K_NAME:
      case K_METHOD_NAME:
        top.text += text;
        return;
      default:
        if (!WHITESPACE.test(text)) throw this.#error(`unexpected text in <${top.tag}>`);
    }
  }

  onClose(_name: string): void {
    const stack = this.#stack;
    const f = stack.pop()!; // saxes guarantees balanced, matching tags
    const parent = stack[stack.length - 1];
    switch (f.kind) {
      case K_VALUE: {
        const v = f.seen & SEEN_VALUE ? f.value! : f.text;
        if (parent.kind === K_DATA) (parent.value as SampList).push(v);
        else parent.value = v; // member, param, fault
        return;
      }
      case K_SCALAR:
        parent.value = this.#scalar(f.tag, f.text);
        return;
      case K_NAME:
        parent.name = f.text;
        return;
      case K_MEMBER: {
        if (!(f.seen & SEEN_NAME)) throw this.#error("<member> without <name>");
        if (!(f.seen & SEEN_VALUE)) throw this.#error(`<member> "${f.name}" without <value>`);
        const map = parent.value as SampMap;
        setMember(map, f.name, f.value!);
        return;
      }
      case K_ARRAY:
      case K_STRUCT:
        this.#depth--;
        parent.value = f.value;
        return;
      case K_DATA:
        return;
      case K_PARAM:
        if (!(f.seen & SEEN_VALUE)) throw this.#error("<param> without <value>");
        this.params.push(f.value!);
        return;
      case K_PARAMS:
        if (parent.kind === K_RESPONSE && f.count !== 1) {
          throw this.#error(
            `<methodResponse> <params> must hold exactly one <param>, found ${f.count}`,
          );
        }
        return;
      case K_FAULT:
        if (!(f.seen & SEEN_VALUE)) throw this.#error("<fault> without <value>");
        this.fault = f.value;
        return;
      case K_METHOD_NAME: {
        const method = f.text.replace(TRIM, "");
        if (method === "") throw this.#error("empty <methodName>");
        this.method = method;
        return;
      }
      case K_CALL:
        if (!(f.seen & SEEN_METHOD_NAME)) throw this.#error("<methodCall> without <methodName>");
        this.done = true;
        return;
      case K_RESPONSE:
        if (!(f.seen & (SEEN_PARAMS | SEEN_FAULT))) {
          throw this.#error("<methodResponse> must hold exactly one <params> or <fault>");
        }
        this.done = true;
        return;
    }
  }

  #scalar(type: string, text: string): string {
    if (type === "string") return text;
    const t = text.replace(TRIM, "");
    if (type === "double") {
      if (!DOUBLE_SYNTAX.test(t)) throw this.#badScalar(type, text);
      return t[0] === "+" ? t.slice(1) : t;
    }
    if (type === "boolean") {
      const b = t.toLowerCase();
      if (b === "1" || b === "true") return "1";
      if (b === "0" || b === "false") return "0";
      throw this.#badScalar(type, text);
    }
    // int, i4, i8: normalise sign and leading zeros.
    const m = INT_SYNTAX.exec(t);
    if (m === null) throw this.#badScalar(type, text);
    return m[1] === "-" && m[2] !== "0" ? "-" + m[2] : m[2];
  }

  #badScalar(type: string, text: string): XmlRpcDecodeError {
    const shown = text.length > 40 ? text.slice(0, 40) + "…" : text;
    return this.#error(`bad <${type}> value ${JSON.stringify(shown)}`);
  }
}

function maxDepthOf(options?: DecodeOptions): number {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) {
    throw new RangeError(`maxDepth must be a non-negative integer, got ${maxDepth}`);
  }
  return maxDepth;
}

function runDecoder(xml: string, root: string, options?: DecodeOptions): Decoder {
  const maxDepth = maxDepthOf(options);
  const decoder = new Decoder(root, maxDepth);
  try {
    parseXml(xml, decoder);
  } catch (e) {
    if (e instanceof XmlRpcDecodeError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new XmlRpcDecodeError(message, decoder.xmlRpc, { cause: e });
  }
  return decoder;
}

/**
 * Decodes an XML-RPC `<methodCall>` document.
 *
 * A missing or empty `<params>` gives zero parameters.
 *
 * @example Decoding a JSAMP-style call
 * ```ts
 * import { decodeCall } from "./xmlrpc.ts";
 * const call = decodeCall(`<?xml version="1.0"?>
 * <methodCall>
 *   <methodName>samp.hub.register</methodName>
 *   <params>
 *     <param><value>0123456789abcdef</value></param>
 *   </params>
 * </methodCall>`);
 * // call.method is "samp.hub.register", call.params is ["0123456789abcdef"]
 * ```
 *
 * @param xml The request body.
 * @param options Decoding limits.
 * @returns The method name and parameters.
 * @throws {XmlRpcDecodeError} If the input is not an acceptable XML-RPC call.
 */
export function decodeCall(xml: string, options?: DecodeOptions): XmlRpcCall {
  // Calls written the way peers write them are read directly; anything else
  // (and every error) goes through the XML parser's events.
  const plain = readPlainCall(xml, maxDepthOf(options));
  if (plain !== null) return { method: plain.method, params: plain.params };
  return decodeCallByEvents(xml, options);
}

/**
 * {@linkcode decodeCall} without the direct reader of `_xmlrpc_plain.ts`:
 * every document goes through the XML parser's events. The reference the
 * direct reader is tested against, and the way for a caller that has
 * already tried the direct reader.
 *
 * @example
 * ```ts
 * import { decodeCallByEvents } from "./xmlrpc.ts";
 * decodeCallByEvents("<methodCall><methodName>samp.hub.ping</methodName></methodCall>");
 * // { method: "samp.hub.ping", params: [] }
 * ```
 *
 * @throws {XmlRpcDecodeError} If the input is not an acceptable XML-RPC call.
 */
export function decodeCallByEvents(xml: string, options?: DecodeOptions): XmlRpcCall {
  const d = runDecoder(xml, "methodCall", options);
  return { method: d.method, params: d.params };
}

/**
 * Decodes an XML-RPC `<methodResponse>` document: either one value or a fault.
 *
 * A fault must be a struct holding `faultCode` (an integer, written as
 * `<int>`, `<i4>` or a string of digits) and `faultString`; other members are
 * ignored.
 *
 * @example Decoding a fault
 * ```ts
 * import { decodeResponse } from "./xmlrpc.ts";
 * const r = decodeResponse(
 *   "<methodResponse><fault><value><struct>" +
 *     "<member><name>faultCode</name><value><int>1</int></value></member>" +
 *     "<member><name>faultString</name><value>Unknown private key</value></member>" +
 *     "</struct></value></fault></methodResponse>",
 * );
 * // r is { ok: false, code: 1, message: "Unknown private key" }
 * ```
 *
 * @param xml The response body.
 * @param options Decoding limits.
 * @returns The returned value, or the fault code and string.
 * @throws {XmlRpcDecodeError} If the input is not an acceptable XML-RPC response.
 */
export function decodeResponse(xml: string, options?: DecodeOptions): XmlRpcResult {
  const d = runDecoder(xml, "methodResponse", options);
  if (d.fault === undefined) return { ok: true, value: d.params[0] };
  const fault = d.fault;
  if (typeof fault !== "object" || Array.isArray(fault)) {
    throw new XmlRpcDecodeError("<fault> value must be a struct", true);
  }
  const code = Object.hasOwn(fault, "faultCode") ? fault.faultCode : undefined;
  const message = Object.hasOwn(fault, "faultString") ? fault.faultString : undefined;
  if (typeof code !== "string" || !DIGITS.test(code.replace(TRIM, ""))) {
    throw new XmlRpcDecodeError("<fault> struct needs an integer faultCode", true);
  }
  const n = Number(code.replace(TRIM, ""));
  if (!Number.isSafeInteger(n)) {
    throw new XmlRpcDecodeError(`<fault> faultCode ${code} is out of range`, true);
  }
  if (typeof message !== "string") {
    throw new XmlRpcDecodeError("<fault> struct needs a string faultString", true);
  }
  return { ok: false, code: n === 0 ? 0 : n, message };
}

// ---------------------------------------------------------------------------
// Encoding

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Anything that needs escaping or checking; absent in most strings. */
// deno-lint-ignore no-control-regex
const NEEDS_WORK = /[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;
/** Characters XML 1.0 cannot carry, even escaped; `\p{Cs}` matches lone surrogates only. */
// deno-lint-ignore no-control-regex
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|\p{Cs}/u;
/** Escapes text content; throws if `s` holds a character XML cannot carry. */
function escapeText(s: string): string {
  if (!NEEDS_WORK.test(s)) return s;
  const bad = NOT_XML.exec(s);
  if (bad !== null) {
    const hex = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new Error(`string contains character U+${hex}, which XML cannot carry`);
  }
  // A plain loop is several times faster than String.prototype.replace with a callback.
  let out = "";
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let entity: string;
    switch (s.charCodeAt(i)) {
      case 0x26:
        entity = "&amp;";
        break;
      case 0x3c:
        entity = "&lt;";
        break;
      case 0x3e:
        entity = "&gt;";
        break;
      case 0x0d:
        entity = "&#13;";
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + entity;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/**
 * Encodes one XML-RPC `<value>` element, as the encoders of this module
 * write it: for a worker that encodes a big value once, ahead of time, for
 * {@linkcode encodeCallBytes} and {@linkcode encodeResponseBytes} to reuse.
 *
 * @example
 * ```ts
 * import { encodeValueXml } from "./xmlrpc.ts";
 * encodeValueXml(["a"]); // "<value><array><data><value><string>a</string></value></data></array></value>"
 * ```
 *
 * @throws {Error} If a string holds a character XML 1.0 cannot carry.
 * @throws {TypeError} If `value` is not a SAMP value.
 */
export function encodeValueXml(value: SampValue): string {
  return encodeValue(value);
}

/**
 * Finds the UTF-8 of a value's `<value>` element encoded ahead of time, if
 * any (see {@linkcode encodeCallBytes}).
 */
export type EncodedLookup = (value: SampMap | SampList) => Uint8Array | undefined;

/** Pieces already encoded, met while encoding with a lookup; NUL marks where each goes. */
interface Splices {
  lookup: EncodedLookup;
  parts: Uint8Array[];
}

/** NUL cannot appear in an encoded document (escapeText refuses it): it marks a splice. */
const SPLICE = "\u0000";

function encodeValue(v: SampValue, splices?: Splices): string {
  if (typeof v === "string") return "<value><string>" + escapeText(v) + "</string></value>";
  if (splices !== undefined && typeof v === "object" && v !== null) {
    const ready = splices.lookup(v);
    if (ready !== undefined) {
      splices.parts.push(ready);
      return SPLICE;
    }
  }
  if (Array.isArray(v)) {
    let out = "<value><array><data>";
    for (let i = 0; i < v.length; i++) out += encodeValue(v[i], splices);
    return out + "</data></array></value>";
  }
  if (typeof v === "object" && v !== null) {
    let out = "<value><struct>";
    for (const k of Object.keys(v)) {
      out += "<member><name>" + escapeText(k) + "</name>" + encodeValue(v[k], splices) +
        "</member>";
    }
    return out + "</struct></value>";
  }
  throw new TypeError(`not a SAMP value: ${v === null ? "null" : typeof v}`);
}

/**
 * Encodes an XML-RPC `<methodCall>` document.
 *
 * @example Encoding a notify call
 * ```ts
 * import { encodeCall } from "./xmlrpc.ts";
 * const xml = encodeCall("samp.hub.notify", [
 *   "k:1_abc",
 *   "c2",
 *   { "samp.mtype": "samp.app.ping", "samp.params": {} },
 * ]);
 * // xml starts with '<?xml version="1.0" encoding="UTF-8"?>'
 * ```
 *
 * @param method The method name.
 * @param params The parameters, in order.
 * @returns The XML document.
 * @throws {Error} If a string (or the method name) holds a character XML 1.0
 * cannot carry, e.g. U+0001.
 * @throws {TypeError} If a parameter is not a SAMP value.
 */
export function encodeCall(method: string, params: readonly SampValue[]): string {
  let out = XML_DECL + "<methodCall><methodName>" + escapeText(method) + "</methodName><params>";
  for (let i = 0; i < params.length; i++) {
    out += "<param>" + encodeValue(params[i]) + "</param>";
  }
  return out + "</params></methodCall>\n";
}

/**
 * Encodes a successful XML-RPC `<methodResponse>` holding one value.
 *
 * @example
 * ```ts
 * import { encodeResponse } from "./xmlrpc.ts";
 * const xml = encodeResponse({ "samp.status": "samp.ok", "samp.result": {} });
 * ```
 *
 * @param value The returned value (SAMP methods with nothing to return send `""`).
 * @returns The XML document.
 * @throws {Error} If a string holds a character XML 1.0 cannot carry.
 * @throws {TypeError} If `value` is not a SAMP value.
 */
export function encodeResponse(value: SampValue): string {
  return XML_DECL + "<methodResponse><params><param>" + encodeValue(value) +
    "</param></params></methodResponse>\n";
}

/**
 * Encodes a `<methodCall>` as UTF-8, in pieces to be sent one after the
 * other: values encoded ahead of time (`lookup` finds them, at any depth)
 * are pieces of their own, shared, neither encoded nor copied again. A big
 * message is encoded once for all its recipients, off the main thread.
 *
 * @example
 * ```ts
 * import { encodeCall, encodeCallBytes, encodeValueXml } from "./xmlrpc.ts";
 * const message = { "samp.mtype": "x.y", "samp.params": { rows: ["1", "2"] } };
 * const ready = new TextEncoder().encode(encodeValueXml(message));
 * const pieces = encodeCallBytes("m", ["k", message], (v) => v === message ? ready : undefined);
 * pieces.map((p) => new TextDecoder().decode(p)).join("") === encodeCall("m", ["k", message]); // true
 * ```
 *
 * @throws {Error} If a string holds a character XML 1.0 cannot carry.
 * @throws {TypeError} If a parameter is not a SAMP value.
 */
export function encodeCallBytes(
  method: string,
  params: readonly SampValue[],
  lookup: EncodedLookup,
): Uint8Array[] {
  const splices: Splices = { lookup, parts: [] };
  let out = XML_DECL + "<methodCall><methodName>" + escapeText(method) + "</methodName><params>";
  for (let i = 0; i < params.length; i++) {
    out += "<param>" + encodeValue(params[i], splices) + "</param>";
  }
  return joinSplices(out + "</params></methodCall>\n", splices.parts);
}

/**
 * Encodes a successful `<methodResponse>` as UTF-8 pieces, values encoded
 * ahead of time shared as they are, as {@linkcode encodeCallBytes} does.
 *
 * @example
 * ```ts
 * import { encodeResponseBytes } from "./xmlrpc.ts";
 * const bytes = encodeResponseBytes({ "samp.name": "topcat" }, () => undefined);
 * ```
 *
 * @throws {Error} If a string holds a character XML 1.0 cannot carry.
 * @throws {TypeError} If `value` is not a SAMP value.
 */
export function encodeResponseBytes(value: SampValue, lookup: EncodedLookup): Uint8Array[] {
  const splices: Splices = { lookup, parts: [] };
  const text = XML_DECL + "<methodResponse><params><param>" + encodeValue(value, splices) +
    "</param></params></methodResponse>\n";
  return joinSplices(text, splices.parts);
}

const utf8Encoder = new TextEncoder();

function joinSplices(text: string, parts: Uint8Array[]): Uint8Array[] {
  if (parts.length === 0) return [utf8Encoder.encode(text)];
  const pieces = text.split(SPLICE);
  const out: Uint8Array[] = [];
  for (let i = 0; i < pieces.length; i++) {
    if (pieces[i] !== "") out.push(utf8Encoder.encode(pieces[i]));
    if (i < parts.length) out.push(parts[i]);
  }
  return out;
}

/**
 * Encodes an XML-RPC fault response: a struct of exactly two members,
 * `faultCode` as `<int>` and `faultString` as `<string>`.
 *
 * @example
 * ```ts
 * import { encodeFault } from "./xmlrpc.ts";
 * const xml = encodeFault(1, "Unknown private key");
 * ```
 *
 * @param code The fault code, a 32-bit signed integer.
 * @param message The fault string.
 * @returns The XML document.
 * @throws {RangeError} If `code` is not a 32-bit signed integer.
 * @throws {Error} If `message` holds a character XML 1.0 cannot carry.
 */
export function encodeFault(code: number, message: string): string {
  if (!Number.isInteger(code) || code < -2147483648 || code > 2147483647) {
    throw new RangeError(`fault code must be a 32-bit integer, got ${code}`);
  }
  return XML_DECL +
    "<methodResponse><fault><value><struct>" +
    "<member><name>faultCode</name><value><int>" + (code === 0 ? 0 : code) +
    "</int></value></member>" +
    "<member><name>faultString</name><value><string>" + escapeText(message) +
    "</string></value></member>" +
    "</struct></value></fault></methodResponse>\n";
}

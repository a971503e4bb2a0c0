/**
 * A direct reader for XML-RPC calls written the way SAMP peers write them:
 * it walks the text once and builds the SAMP values as it goes, with no
 * parser events in between. It reads only the plain subset of
 * `scanPlainXml` (`_sax.ts`) and, within it, only the XML-RPC shapes peers
 * send; on anything else, including every error, it gives up with `null`
 * and `decodeCall` reads the document the general way, which words every
 * refusal. So for a document it accepts it must give exactly what
 * `decodeCall` gives, and the tests hold it to that.
 *
 * What it reads: an optional version 1.0 declaration; `<methodCall>` with
 * `<methodName>` and then an optional `<params>`; `<param>`s holding one
 * `<value>`; values that are bare text, `<string>`, `<array><data>` or
 * `<struct>` of `<member>`s with `<name>` before `<value>`; whitespace (space,
 * tab, LF) between elements. No attributes, no empty-element tags, no other
 * scalar types: those go the general way.
 *
 * It also says where each parameter's `<value>` element starts and ends, so
 * that a big parameter can be passed on as the sender wrote it.
 *
 * @module
 */

import { decodeReferences, inPlainCharacters, plainPrologEnd } from "./_sax.ts";
import { type SampMap, type SampValue, setMember } from "./types.ts";

/**
 * A call read by {@linkcode readPlainCall}: its method, its parameters, and
 * where each parameter's `<value>…</value>` lies in the text (`spans[2 * i]`
 * to `spans[2 * i + 1]`, end exclusive).
 */
export interface PlainCall {
  /** The method name, trimmed as `decodeCall` trims it. */
  method: string;
  /** The parameters. */
  params: SampValue[];
  /** Start and end of each parameter's `<value>` element in the text. */
  spans: number[];
}

/**
 * Deepest nesting of arrays and structs read here, whatever the caller's
 * limit (the reader recurses once per level).
 */
const MAX_DEPTH = 64;

/** Thrown inside the reader to give up; never leaves this module. */
class NotPlain extends Error {}
const GIVE_UP = new NotPlain();

/**
 * Reads an XML-RPC call in the plain subset, or returns `null` when the
 * text is anything else (then `decodeCall` must read it).
 *
 * @example
 * ```ts
 * import { readPlainCall } from "./_xmlrpc_plain.ts";
 * const call = readPlainCall(
 *   "<methodCall><methodName>samp.hub.ping</methodName><params>" +
 *     "<param><value>k</value></param></params></methodCall>",
 *   64,
 * );
 * console.log(call?.method, call?.params, call?.spans); // samp.hub.ping [ "k" ] [ 65, 81 ]
 * readPlainCall("<methodCall><methodName>x</methodName><params><param><value>" +
 *   "<int>1</int></value></param></params></methodCall>", 64); // null: <int> goes the general way
 * ```
 *
 * @param text The whole document.
 * @param maxDepth The caller's limit on nested arrays and structs; a
 * document past it (or past 64) is left to the general reader.
 */
export function readPlainCall(text: string, maxDepth: number): PlainCall | null {
  if (!inPlainCharacters(text)) return null;
  const start = plainPrologEnd(text);
  if (start < 0) return null;
  try {
    return new Reader(text, Math.min(maxDepth, MAX_DEPTH)).call(start);
  } catch (e) {
    if (e instanceof NotPlain) return null;
    throw e;
  }
}

const TRIM = /^[ \t\r\n]+|[ \t\r\n]+$/g;

class Reader {
  readonly #text: string;
  readonly #maxDepth: number;
  #i = 0;

  constructor(text: string, maxDepth: number) {
    this.#text = text;
    this.#maxDepth = maxDepth;
  }

  call(start: number): PlainCall {
    this.#i = start;
    this.#skipSpace();
    this.#expect("<methodCall>");
    this.#skipSpace();
    this.#expect("<methodName>");
    const method = this.#textUntil("</methodName>").replace(TRIM, "");
    if (method === "") throw GIVE_UP;
    this.#skipSpace();
    const params: SampValue[] = [];
    const spans: number[] = [];
    if (this.#take("<params>")) {
      for (;;) {
        this.#skipSpace();
        if (this.#take("</params>")) break;
        this.#expect("<param>");
        this.#skipSpace();
        spans.push(this.#i);
        params.push(this.#value(0));
        spans.push(this.#i);
        this.#skipSpace();
        this.#expect("</param>");
      }
      this.#skipSpace();
    }
    this.#expect("</methodCall>");
    this.#skipSpace();
    if (this.#i !== this.#text.length) throw GIVE_UP;
    return { method, params, spans };
  }

  /** A `<value>` element, from its start tag to past its end tag. */
  #value(depth: number): SampValue {
    this.#expect("<value>");
    const text = this.#text;
    const afterTag = this.#i;
    this.#skipSpace();
    if (text.charCodeAt(this.#i) !== 0x3c /* < */) {
      // Bare text: the whole of it, spaces included.
      this.#i = afterTag;
      return this.#textUntil("</value>");
    }
    let v: SampValue;
    if (this.#take("</value>")) {
      // Only whitespace: a string of it.
      return text.slice(afterTag, this.#i - 8);
    } else if (this.#take("<string>")) {
      v = this.#textUntil("</string>");
    } else if (this.#take("<array>")) {
      if (depth >= this.#maxDepth) throw GIVE_UP;
      v = this.#array(depth + 1);
    } else if (this.#take("<struct>")) {
      if (depth >= this.#maxDepth) throw GIVE_UP;
      v = this.#struct(depth + 1);
    } else {
      throw GIVE_UP;
    }
    this.#skipSpace();
    this.#expect("</value>");
    return v;
  }

  /** After `<array>`: `<data>` of values, `</data>`, `</array>`. */
  #array(depth: number): SampValue[] {
    this.#skipSpace();
    this.#expect("<data>");
    const list: SampValue[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#take("</data>")) break;
      list.push(this.#value(depth));
    }
    this.#skipSpace();
    this.#expect("</array>");
    return list;
  }

  /** After `<struct>`: members with their name first, then `</struct>`. */
  #struct(depth: number): SampMap {
    const map: SampMap = {};
    for (;;) {
      this.#skipSpace();
      if (this.#take("</struct>")) return map;
      this.#expect("<member>");
      this.#skipSpace();
      this.#expect("<name>");
      const name = this.#textUntil("</name>");
      this.#skipSpace();
      setMember(map, name, this.#value(depth));
      this.#skipSpace();
      this.#expect("</member>");
    }
  }

  /** Text up to `end` (which is consumed), with references replaced. */
  #textUntil(end: string): string {
    const text = this.#text;
    const from = this.#i;
    const lt = text.indexOf("<", from);
    if (lt < 0 || !text.startsWith(end, lt)) throw GIVE_UP;
    let t = text.slice(from, lt);
    if (t.indexOf("&") >= 0) {
      const decoded = decodeReferences(t);
      if (decoded === null) throw GIVE_UP;
      t = decoded;
    }
    this.#i = lt + end.length;
    return t;
  }

  #take(tag: string): boolean {
    if (!this.#text.startsWith(tag, this.#i)) return false;
    this.#i += tag.length;
    return true;
  }

  #expect(tag: string): void {
    if (!this.#text.startsWith(tag, this.#i)) throw GIVE_UP;
    this.#i += tag.length;
  }

  #skipSpace(): void {
    const text = this.#text;
    let i = this.#i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x09) break;
      i++;
    }
    this.#i = i;
  }
}

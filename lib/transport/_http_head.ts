/**
 * Where an HTTP/1.x head ends, for both directions of the hub's HTTP code
 * (`./http_pool.ts` reads answers, `./http_server.ts` reads requests). A
 * bare LF ends a line wherever a CRLF does (RFC 9112 §2.2 lets a recipient
 * accept it; SAOImage DS9 writes LF only).
 *
 * @module
 */

const LF = 10;
const CR = 13;
const SP = 32;
const DEL = 127;

/**
 * Where the head in `buf[from..to)` ends: the index of the LF that ends its
 * last line, when an empty line (LF or CRLF) follows it; -1 if none is there
 * yet. A plain loop: heads are short, and `indexOf` on a typed array is a
 * call into the runtime for each line (slower here for heads of ten lines).
 *
 * @example
 * ```ts
 * import { headEnd } from "./_http_head.ts";
 * const bytes = new TextEncoder().encode("HTTP/1.1 200 OK\nA: b\n\nbody");
 * console.assert(headEnd(bytes, 0, bytes.length) === 20);
 * ```
 */
export function headEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 1 < to; i++) {
    if (buf[i] !== LF) continue;
    const next = buf[i + 1];
    if (next === LF) return i;
    if (next === CR) {
      if (i + 2 >= to) return -1;
      if (buf[i + 2] === LF) return i;
    }
  }
  return -1;
}

/**
 * How many bytes the blank line after a head's last line takes, the LF at
 * `at` (as found by {@linkcode headEnd}) included: 2 for LF LF, 3 for LF CR LF.
 *
 * @example
 * ```ts
 * import { headEnd, headTerminatorLength } from "./_http_head.ts";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n");
 * const at = headEnd(bytes, 0, bytes.length);
 * console.assert(at + headTerminatorLength(bytes, at) === bytes.length);
 * ```
 */
export function headTerminatorLength(buf: Uint8Array, at: number): number {
  return buf[at + 1] === LF ? 2 : 3;
}

const decoder = new TextDecoder();

/**
 * The first line in `buf[from..to)`, ended by LF or CRLF, as text without
 * its line break, and the index after it; undefined if no line ends there
 * yet. Chunk-size lines, chunk ends and trailers are read with it.
 *
 * @example
 * ```ts
 * import { takeLine } from "./_http_head.ts";
 * const bytes = new TextEncoder().encode("1a\r\nxyz");
 * console.assert(takeLine(bytes, 0, bytes.length)?.line === "1a");
 * ```
 */
export function takeLine(
  buf: Uint8Array,
  from: number,
  to: number,
): { line: string; next: number } | undefined {
  const at = buf.indexOf(LF, from);
  if (at < 0 || at >= to) return undefined;
  const end = at > from && buf[at - 1] === CR ? at - 1 : at;
  return { line: decoder.decode(buf.subarray(from, end)), next: at + 1 };
}

/** The fields whose values decide an HTTP/1.x message's framing and its connection's persistence. */
export type FramingField = "content-length" | "transfer-encoding" | "connection" | "keep-alive";

/**
 * What the field line starting at `from` in a head's text is, for a reader
 * that looks only at framing and persistence: the line ends at `eol` and
 * its colon is at `colon` (the first after `from`, or -1). One of the
 * {@linkcode FramingField} names (in any ASCII case in the text), `""` for
 * any other field, or undefined when the line is not a plain field line (no
 * colon, an empty name, a name with spaces or other than visible ASCII, an
 * obs-fold line): such a head is left to the reader that parses every field
 * and words every refusal.
 *
 * @example
 * ```ts
 * import { framingField } from "./_http_head.ts";
 * const head = "Content-LENGTH: 5\nX-A: b\n Folded: c";
 * console.assert(framingField(head, 0, head.indexOf(":"), 17) === "content-length");
 * console.assert(framingField(head, 18, head.indexOf(":", 18), 24) === "");
 * console.assert(framingField(head, 25, head.indexOf(":", 25), head.length) === undefined);
 * ```
 */
export function framingField(
  text: string,
  from: number,
  colon: number,
  eol: number,
): FramingField | "" | undefined {
  if (colon <= from || colon >= eol) return undefined;
  for (let i = from; i < colon; i++) {
    const c = text.charCodeAt(i);
    if (c <= SP || c >= DEL) return undefined;
  }
  switch (colon - from) {
    case 14:
      return isName(text, from, "content-length") ? "content-length" : "";
    case 17:
      return isName(text, from, "transfer-encoding") ? "transfer-encoding" : "";
    case 10:
      return isName(text, from, "connection")
        ? "connection"
        : isName(text, from, "keep-alive")
        ? "keep-alive"
        : "";
    default:
      return "";
  }
}

/** Whether the name at `from` in `text` is `lower` (lower case) in any ASCII case. */
function isName(text: string, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = text.charCodeAt(from + i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

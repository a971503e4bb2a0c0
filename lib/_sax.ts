/**
 * A minimal, hardened streaming XML reader.
 *
 * This is the only module that knows which XML parser the toolkit uses
 * (currently `saxes`), so the dependency can be swapped without touching the
 * XML-RPC codec. It reports element starts, element ends and character data,
 * and refuses anything a SAMP peer has no business sending: document type
 * declarations (and with them entity declarations, external entities and
 * "billion laughs" expansion), processing instructions other than the XML
 * declaration, and undefined entities. Documents are always read as XML 1.0,
 * whatever version their declaration states.
 *
 * Most documents a hub reads are in a plain subset of XML that every SAMP
 * implementation writes: an optional `<?xml version="1.0"?>` declaration,
 * elements with ASCII names and no attributes, and text with the five
 * predefined entities and character references. A small scanner
 * ({@linkcode scanPlainXml}) reads that subset at a few times the speed of
 * saxes and hands anything else (comments, CDATA, attributes, CR line ends,
 * unusual characters, and every error) to saxes, so saxes alone decides what
 * is malformed and words the error. Both paths report the same events; a
 * differential fuzz test holds them to it.
 *
 * @module
 */

import { SaxesParser } from "npm:saxes@6.0.0";

/**
 * Receives the events of {@linkcode parseXml}, in document order.
 *
 * Namespaces are not processed: `name` is the element name exactly as written,
 * prefix included. Attributes are not reported. Character data may arrive in
 * several pieces for one run of text (for example around comments or CDATA
 * sections); CDATA content is delivered through `onText` like any other text.
 * Entity and character references are already decoded, and line ends are
 * normalised to LF as XML requires (a CR written as `&#13;` survives).
 *
 * Any exception thrown by a handler method stops parsing and propagates out of
 * {@linkcode parseXml} unchanged.
 *
 * @example Collecting element names
 * ```ts
 * import { parseXml, type SaxHandler } from "./_sax.ts";
 * const names: string[] = [];
 * const handler: SaxHandler = {
 *   onOpen: (name) => names.push(name),
 *   onClose: () => {},
 *   onText: () => {},
 * };
 * parseXml("<a><b/></a>", handler);
 * // names is now ["a", "b"]
 * ```
 */
export interface SaxHandler {
  /** Called when an element starts (also for an empty element `<x/>`). */
  onOpen(name: string): void;
  /** Called when an element ends (also right after `onOpen` for `<x/>`). */
  onClose(name: string): void;
  /** Called with character data, including the content of CDATA sections. */
  onText(text: string): void;
}

/**
 * Parses a complete XML document held in a string, calling `handler` for each
 * element start, element end and piece of text.
 *
 * Throws a plain `Error` whose message says what is wrong and, when known,
 * where (line and column), if the document is not well-formed, contains a
 * DOCTYPE, contains a processing instruction (other than the leading XML
 * declaration) or uses an undefined entity. Errors thrown by `handler` are
 * passed through unchanged.
 *
 * @example Reading the text of an element
 * ```ts
 * import { parseXml } from "./_sax.ts";
 * let text = "";
 * parseXml("<?xml version='1.0'?><greeting>hi &amp; bye</greeting>", {
 *   onOpen() {},
 *   onClose() {},
 *   onText(t) {
 *     text += t;
 *   },
 * });
 * // text is now "hi & bye"
 * ```
 *
 * @param text The whole document.
 * @param handler Receives the parse events.
 */
export function parseXml(text: string, handler: SaxHandler): void {
  const events = scanPlainXml(text);
  if (events === null) {
    parseXmlWithSaxes(text, handler);
    return;
  }
  for (let i = 0; i < events.length; i += 2) {
    const value = events[i + 1] as string;
    switch (events[i]) {
      case OPEN:
        handler.onOpen(value);
        break;
      case CLOSE:
        handler.onClose(value);
        break;
      default:
        handler.onText(value);
    }
  }
}

/**
 * {@linkcode parseXml} without the plain-subset scanner: every document goes
 * through saxes. The reference the scanner is tested against.
 *
 * @example
 * ```ts
 * import { parseXmlWithSaxes } from "./_sax.ts";
 * const names: string[] = [];
 * parseXmlWithSaxes("<a><!-- note --><b/></a>", {
 *   onOpen: (name) => names.push(name),
 *   onClose: () => {},
 *   onText: () => {},
 * });
 * // names is now ["a", "b"]
 * ```
 */
export function parseXmlWithSaxes(text: string, handler: SaxHandler): void {
  // XML 1.0 is forced so that a `version="1.1"` declaration cannot smuggle in
  // control characters (`&#1;`) that no XML 1.0 writer could pass on.
  const parser = new SaxesParser({
    xmlns: false,
    position: true,
    defaultXMLVersion: "1.0",
    forceXMLVersion: true,
  });

  const fail = (message: string): never => {
    throw new Error(`XML parse error at line ${parser.line}, column ${parser.column}: ${message}`);
  };

  parser.on("error", (err: Error): never => {
    // saxes formats its messages as "<line>:<column>: <message>".
    const m = /^(\d+):(\d+): ([\s\S]*)$/.exec(err.message);
    if (m === null) throw new Error(`XML parse error: ${err.message}`);
    throw new Error(`XML parse error at line ${m[1]}, column ${m[2]}: ${m[3]}`);
  });
  parser.on("doctype", (): never => fail("DOCTYPE declarations are not allowed"));
  parser.on(
    "processinginstruction",
    (pi): never => fail(`processing instruction <?${pi.target}?> is not allowed`),
  );
  parser.on("opentag", (tag): void => handler.onOpen(tag.name));
  parser.on("closetag", (tag): void => handler.onClose(tag.name));
  parser.on("text", (t): void => handler.onText(t));
  parser.on("cdata", (t): void => handler.onText(t));

  parser.write(text);
  parser.close();
}

// ------------------------------------------------------------ plain subset

/** Event codes of {@linkcode scanPlainXml}'s result. */
const OPEN = 0;
const CLOSE = 1;
const TEXT = 2;

/**
 * The events of a document in the plain subset, as a flat list of pairs
 * `[code, value, code, value, ...]` (codes: 0 element start, 1 element end,
 * 2 text), or `null` when the document is outside the subset, which includes
 * every document that is not well-formed. A `null` says nothing about the
 * document: {@linkcode parseXml} then reads it with saxes.
 *
 * The subset: an optional declaration of version 1.0 (with an optional
 * encoding name); elements whose names are ASCII letters, digits, `_`, `.`
 * and `-`, without attributes; text in which `&` starts only `&amp;`, `&lt;`,
 * `&gt;`, `&quot;`, `&apos;` or a character reference to an XML character;
 * and characters from tab, LF, printable ASCII and U+00A0 to U+FFFD outside
 * the surrogates (so no CR, no control characters, no BOM, no `]]>`).
 * Whitespace before the root is reported only after a declaration, and after
 * the root always, as saxes does. Documents over 1 Mi characters or nested
 * over 128 elements deep are left to saxes too.
 *
 * @example
 * ```ts
 * import { scanPlainXml } from "./_sax.ts";
 * scanPlainXml("<a>x &amp; y</a>"); // [0, "a", 2, "x & y", 1, "a"]
 * scanPlainXml("<a><!-- c --></a>"); // null: comments are for saxes
 * ```
 */
export function scanPlainXml(text: string): (number | string)[] | null {
  // Big or deep documents go to saxes, which streams: a hostile one stops at
  // the first error instead of being listed whole first.
  if (text.length > PLAIN_MAX_LENGTH) return null;
  if (!inPlainCharacters(text)) return null;
  const n = text.length;
  let i = plainPrologEnd(text);
  if (i < 0) return null;
  const events: (number | string)[] = [];
  const open: string[] = [];
  let rootDone = false;
  while (i < n) {
    if (text.charCodeAt(i) === 0x3c /* < */) {
      // <name>, </name>, <name/>, with optional spaces before > or />.
      let j = i + 1;
      const closing = text.charCodeAt(j) === 0x2f; /* / */
      if (closing) j++;
      const start = j;
      if (!isNameStart(text.charCodeAt(j))) return null;
      do j++; while (isNameChar(text.charCodeAt(j)));
      const end = j;
      while (isSpace(text.charCodeAt(j))) j++;
      const empty = text.charCodeAt(j) === 0x2f; /* / */
      if (empty) j++;
      if (text.charCodeAt(j) !== 0x3e /* > */ || (closing && empty)) return null;
      i = j + 1;
      if (closing) {
        // Compared in place: no new string for an end tag.
        const name = open.pop();
        if (name === undefined || name.length !== end - start || !text.startsWith(name, start)) {
          return null;
        }
        events.push(CLOSE, name);
        rootDone = open.length === 0;
      } else {
        const name = text.slice(start, end);
        if (rootDone) return null;
        events.push(OPEN, name);
        if (empty) {
          events.push(CLOSE, name);
          rootDone = open.length === 0;
        } else {
          if (open.length === PLAIN_MAX_DEPTH) return null;
          open.push(name);
        }
      }
    } else {
      let j = text.indexOf("<", i);
      if (j < 0) j = n;
      let t = text.slice(i, j);
      if (open.length === 0) {
        if (!ONLY_SPACE.test(t)) return null;
      } else if (t.indexOf("&") >= 0) {
        const decoded = decodeReferences(t);
        if (decoded === null) return null;
        t = decoded;
      }
      events.push(TEXT, t);
      i = j;
    }
  }
  return rootDone ? events : null;
}

/**
 * Whether every character of `text` is in the plain subset of
 * {@linkcode scanPlainXml} (tab, LF, printable ASCII, U+00A0 to U+FFFD
 * outside the surrogates, no BOM) and `]]>` does not occur.
 *
 * @example
 * ```ts
 * import { inPlainCharacters } from "./_sax.ts";
 * inPlainCharacters("<a>x</a>"); // true
 * inPlainCharacters("<a>x\r\n</a>"); // false: CR is for saxes
 * ```
 */
export function inPlainCharacters(text: string): boolean {
  return !UNUSUAL.test(text) && !text.includes("]]>");
}

/**
 * Where the root element may start in a plain-subset document: after a
 * version 1.0 declaration (whitespace after it is then text outside the
 * root), or after leading whitespace when there is no declaration; -1 when
 * the document starts with any other `<?`.
 *
 * @example
 * ```ts
 * import { plainPrologEnd } from "./_sax.ts";
 * plainPrologEnd('<?xml version="1.0"?><a/>'); // 21
 * plainPrologEnd("  <a/>"); // 2
 * ```
 */
export function plainPrologEnd(text: string): number {
  if (text.startsWith("<?")) {
    DECLARATION.lastIndex = 0;
    return DECLARATION.test(text) ? DECLARATION.lastIndex : -1;
  }
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Longest document the scanner reads (characters): SAMP messages are a few KiB. */
const PLAIN_MAX_LENGTH = 1 << 20;
/** Deepest element nesting the scanner reads (a SAMP map in a list in a map is 10). */
const PLAIN_MAX_DEPTH = 128;

/** Anything that sends a document to saxes without looking further. */
const UNUSUAL = /[^\t\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;
const DECLARATION =
  /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.0\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?[ \t\n]*\?>/y;
const ONLY_SPACE = /^[ \t\n]*$/;
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/y;
const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a;
}

/** ASCII letters and `_` (NaN past the end: false). */
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** ASCII letters, digits, `_`, `.` and `-`. */
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}

/**
 * Text with its references (the five predefined entities and character
 * references to XML characters) replaced, or null for any other use of `&`.
 *
 * @example
 * ```ts
 * import { decodeReferences } from "./_sax.ts";
 * decodeReferences("a &amp; b &#x41;"); // "a & b A"
 * decodeReferences("a & b"); // null
 * ```
 */
export function decodeReferences(t: string): string | null {
  let out = "";
  let from = 0;
  for (let amp = t.indexOf("&"); amp >= 0; amp = t.indexOf("&", from)) {
    REFERENCE.lastIndex = amp;
    const m = REFERENCE.exec(t);
    if (m === null) return null;
    let ch: string;
    if (m[1] !== undefined) {
      ch = PREDEFINED[m[1]];
    } else {
      const code = m[2] !== undefined ? parseInt(m[2], 10) : parseInt(m[3], 16);
      if (!isXmlChar(code)) return null;
      ch = String.fromCodePoint(code);
    }
    out += t.slice(from, amp) + ch;
    from = REFERENCE.lastIndex;
  }
  return out + t.slice(from);
}

/** XML 1.0's Char production. */
function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

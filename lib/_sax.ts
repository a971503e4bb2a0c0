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
 * @module
 */

import { SaxesParser } from "saxes";

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

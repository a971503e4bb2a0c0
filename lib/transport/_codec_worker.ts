/**
 * The worker behind `_offload.ts`: decodes a big XML-RPC call off the hub's
 * main thread and encodes its big parameters once, as UTF-8 `<value>`
 * elements, so that delivering them to any number of recipients costs the
 * main thread a copy, not an encoding. A plain ASCII call (what peers send)
 * is read directly and its big parameters are kept as the sender wrote them,
 * which costs a copy instead of an encoding.
 *
 * Messages in: `{ id, bytes, maxDepth, bigChars }` (`bytes` transferred).
 * Messages out: `{ id, method, params, encoded: [index, bytes][] }` (the
 * encodings transferred, each big parameter replaced by its stub: the main
 * thread never holds, clones or collects a million strings), or
 * `{ id, error: "utf8" | "xmlrpc" | "xml", message }`.
 *
 * @module
 */

import { decodeCallByEvents, encodeValueXml, XmlRpcDecodeError } from "../xmlrpc.ts";
import { type SampMap, type SampValue, setMember } from "../types.ts";
import { atLeastChars } from "./_offload_size.ts";
import { readPlainCall } from "../_xmlrpc_plain.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Strings longer than this, and lists longer than `LIST_MAX`, stay in the worker. */
const STRING_MAX = 1024;
const LIST_MAX = 1024;
/**
 * What stands in for a big string: NUL, which no XML-RPC document can carry,
 * so a stub encoded without its splice fails loudly instead of sending less.
 */
const GONE = "\u0000";

/**
 * The value the hub's main thread holds for a big parameter: its small
 * members as they are (`samp.mtype`, `samp.name`…), its big strings and
 * lists replaced by {@linkcode GONE}. Its full encoding travels beside it.
 */
function stub(v: SampValue): SampValue {
  if (typeof v === "string") return v.length > STRING_MAX ? GONE : v;
  if (Array.isArray(v)) return v.length > LIST_MAX ? [GONE] : v.map(stub);
  const out: SampMap = {};
  for (const k of Object.keys(v)) setMember(out, k, stub(v[k]));
  return out;
}
const encoder = new TextEncoder();

interface Request {
  id: number;
  bytes: Uint8Array;
  maxDepth: number;
  bigChars: number;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = ({ data: { id, bytes, maxDepth, bigChars } }) => {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    scope.postMessage({ id, error: "utf8", message: "not UTF-8" });
    return;
  }
  try {
    // A call in the plain subset is read directly, and where it is all ASCII
    // (one byte per character) a big parameter's <value> element is passed
    // on as the sender wrote it: the reader has checked every byte of it, so
    // it says exactly what the decoded value says.
    const plain = readPlainCall(text, maxDepth);
    const call = plain ?? decodeCallByEvents(text, { maxDepth });
    const asWritten = plain !== null && text.length === bytes.length ? plain.spans : null;
    const encoded: [number, Uint8Array][] = [];
    const params = call.params.map((p, i) => {
      // A huge string as a whole parameter (a key, an id, a tag) is never
      // passed on, only compared or named in a fault: a description will do.
      if (typeof p === "string") {
        return p.length < bigChars ? p : `(a string of ${p.length} characters)`;
      }
      if (!atLeastChars(p, bigChars)) return p;
      encoded.push([
        i,
        asWritten !== null
          ? bytes.slice(asWritten[2 * i], asWritten[2 * i + 1])
          : encoder.encode(encodeValueXml(p)),
      ]);
      return stub(p);
    });
    scope.postMessage(
      { id, method: call.method, params, encoded },
      encoded.map(([, b]) => b.buffer as ArrayBuffer),
    );
    // The decoded call is garbage now: where the hub may collect (samp_hub
    // runs with --expose-gc), give its hundreds of MB back before the next.
    (globalThis as { gc?: () => void }).gc?.();
  } catch (e) {
    scope.postMessage({
      id,
      error: e instanceof XmlRpcDecodeError ? (e.xmlRpc ? "xmlrpc" : "xml") : "xml",
      message: (e as Error)?.message ?? String(e),
    });
  }
};

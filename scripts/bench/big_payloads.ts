/**
 * The big payloads of the big-message scenarios and their checks: a
 * `table.select.rowList` whose row-list holds the row indices 0 … n−1 in
 * order, and a big metadata text of numbered lines (with characters that
 * XML must escape). A receiver reads what it got with a scanner of its own
 * (the full decoder only when the scanner cannot read it) and counts the
 * items lost and corrupted: every item must arrive, in order, exactly once.
 *
 * @module
 */

import type { SampMap } from "../../lib/types.ts";
import { decodeCall, decodeResponse } from "../../lib/xmlrpc.ts";
import { scalarAt } from "./callback.ts";
import { mapOf, stringOf } from "./_values.ts";

/** The MType of the big row list. */
export const ROW_LIST_MTYPE = "table.select.rowList";

/** The metadata key that carries the big text. */
export const BIG_METADATA_KEY = "samp.description.text";

/** What a receiver found in one big payload. */
export interface ItemCheck {
  /** Items read. */
  received: number;
  /** Items expected and not read (each index, or line, once). */
  lost: number;
  /**
   * Items read that are not what was sent: not an expected item, a second
   * copy of one, or out of order.
   */
  corrupted: number;
  /** Why the payload could not be read at all (then every item is lost). */
  unreadable?: string;
}

/**
 * The row indices 0 … n−1 as SAMP strings (the row-list of every transfer).
 *
 * @example
 * ```ts
 * import { rowIndices } from "./big_payloads.ts";
 * console.log(rowIndices(3)); // ["0", "1", "2"]
 * ```
 */
export function rowIndices(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i));
}

/**
 * A `table.select.rowList` message with these rows, numbered `seq` (an
 * extra param, as the bench's other messages carry).
 *
 * @example
 * ```ts
 * import { rowIndices, rowListMessage } from "./big_payloads.ts";
 * const msg = rowListMessage(rowIndices(2), 7, "run1");
 * console.log(msg["samp.mtype"]); // "table.select.rowList"
 * ```
 */
export function rowListMessage(rows: string[], seq: number, run: string): SampMap {
  return {
    "samp.mtype": ROW_LIST_MTYPE,
    "samp.params": {
      "table-id": `bench-${run}`,
      url: `file:///tmp/bench-${run}.vot`,
      "row-list": rows,
      seq: String(seq),
    },
  };
}

/** Counts items against the expected sequence, one at a time. */
class Counter {
  readonly #seen: Uint8Array;
  #prev = -1;
  #distinct = 0;
  received = 0;
  corrupted = 0;

  constructor(readonly n: number) {
    this.#seen = new Uint8Array(n);
  }

  /** One row index as read. */
  add(s: string): void {
    const pos = this.received++;
    let k: number;
    if (pos < this.n && s === String(pos)) k = pos;
    else if (/^(0|[1-9][0-9]{0,15})$/.test(s) && Number(s) < this.n) k = Number(s);
    else {
      this.corrupted++;
      return;
    }
    if (this.#seen[k] || k < this.#prev) {
      this.corrupted++;
      if (this.#seen[k]) return;
    }
    this.#seen[k] = 1;
    this.#distinct++;
    this.#prev = k;
  }

  result(): ItemCheck {
    return { received: this.received, lost: this.n - this.#distinct, corrupted: this.corrupted };
  }
}

function skipSpace(xml: string, pos: number): number {
  let c = xml.charCodeAt(pos);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = xml.charCodeAt(++pos);
  return pos;
}

/** Scans the row-list of a callback body into `count`; false when it cannot. */
function scanRowList(xml: string, count: Counter): boolean {
  const name = xml.indexOf("<name>row-list</name>");
  if (name < 0) return false;
  let pos = skipSpace(xml, name + 21);
  if (!xml.startsWith("<value>", pos)) return false;
  pos = skipSpace(xml, pos + 7);
  if (!xml.startsWith("<array>", pos)) return false;
  pos = skipSpace(xml, pos + 7);
  if (xml.startsWith("<data/>", pos)) return true;
  if (!xml.startsWith("<data>", pos)) return false;
  pos += 6;
  while (true) {
    pos = skipSpace(xml, pos);
    if (xml.startsWith("</data>", pos)) return true;
    const v = scalarAt(xml, pos);
    if (!v) return false;
    count.add(v[0]);
    pos = v[1];
  }
}

/**
 * Reads the row-list of a `table.select.rowList` callback body (a
 * receiveNotification or receiveCall) and checks it holds 0 … n−1, in
 * order, each once.
 *
 * @example
 * ```ts
 * import { checkRowList, rowIndices, rowListMessage } from "./big_payloads.ts";
 * import { encodeCall } from "../../lib/xmlrpc.ts";
 * const body = encodeCall("samp.client.receiveNotification", [
 *   "key",
 *   "c1",
 *   rowListMessage(rowIndices(5), 1, "x"),
 * ]);
 * console.log(checkRowList(body, 5)); // { received: 5, lost: 0, corrupted: 0 }
 * ```
 */
export function checkRowList(xml: string, n: number): ItemCheck {
  const fast = new Counter(n);
  if (scanRowList(xml, fast)) return fast.result();
  // Not in the shape the scanner reads: the full decoder decides.
  const slow = new Counter(n);
  try {
    const call = decodeCall(xml);
    const msg = mapOf(call.params[call.params.length - 1]);
    const list = mapOf(msg["samp.params"])["row-list"];
    if (!Array.isArray(list)) throw new Error("no row-list in the message");
    for (const v of list) {
      const s = stringOf(v);
      if (s !== undefined) slow.add(s);
      else {
        slow.received++;
        slow.corrupted++;
      }
    }
    return slow.result();
  } catch (e) {
    return { received: 0, lost: n, corrupted: 0, unreadable: (e as Error).message };
  }
}

/**
 * The big metadata text: numbered lines of about 100 characters, each with
 * `<`, `&`, `>` and quotes that XML must escape, cut to exactly `chars`.
 *
 * @example
 * ```ts
 * import { metadataText } from "./big_payloads.ts";
 * const text = metadataText(250);
 * console.log(text.length, text.split("\n").length); // 250 3
 * ```
 */
export function metadataText(chars: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const line = `${String(i).padStart(8, "0")} <row & "column"> 'value' ` +
      "bench metadata line ".repeat(3) + "end\n";
    parts.push(line);
    length += line.length;
  }
  return parts.join("").slice(0, chars);
}

/** Compares received text with the expected one, line by line. */
function compareLines(got: string, expected: string): ItemCheck {
  if (got === expected) {
    const n = expected.split("\n").length;
    return { received: n, lost: 0, corrupted: 0 };
  }
  const a = got.split("\n");
  const b = expected.split("\n");
  let corrupted = 0;
  for (let i = 0; i < a.length; i++) if (i >= b.length || a[i] !== b[i]) corrupted++;
  return { received: a.length, lost: Math.max(0, b.length - a.length), corrupted };
}

/**
 * Reads `samp.description.text` from a `samp.hub.getMetadata` response body
 * and checks it is `expected`, line by line (a line not as sent, or one
 * too many, is corrupted; one missing, lost).
 *
 * @example
 * ```ts
 * import { checkMetadata, metadataText } from "./big_payloads.ts";
 * import { encodeResponse } from "../../lib/xmlrpc.ts";
 * const text = metadataText(1000);
 * const body = encodeResponse({ "samp.name": "x", "samp.description.text": text });
 * console.log(checkMetadata(body, text).lost); // 0
 * ```
 */
export function checkMetadata(xml: string, expected: string): ItemCheck {
  const lines = expected.split("\n").length;
  const name = xml.indexOf(`<name>${BIG_METADATA_KEY}</name>`);
  if (name >= 0) {
    const v = scalarAt(xml, skipSpace(xml, name + BIG_METADATA_KEY.length + 13));
    if (v) return compareLines(v[0], expected);
  }
  try {
    const r = decodeResponse(xml);
    if (!r.ok) throw new Error(`the hub answered a fault: ${r.message}`);
    const text = stringOf(mapOf(r.value)[BIG_METADATA_KEY]);
    if (text === undefined) throw new Error(`no ${BIG_METADATA_KEY} in the metadata`);
    return compareLines(text, expected);
  } catch (e) {
    return { received: 0, lost: lines, corrupted: 0, unreadable: (e as Error).message };
  }
}

/**
 * Makes text that a client supplied (a name, metadata, an MType, an error
 * text, an `Origin` header) safe to show on a terminal, in a log line or on
 * the hub page.
 *
 * A client must not be able to drive the terminal (clear the screen, move the
 * cursor, set the title: C0 and C1 controls), forge a line of the hub's log
 * (newlines, carriage returns, U+2028/U+2029), reorder or hide what is shown
 * around its text (bidirectional embeddings, overrides, isolates and marks),
 * or make the output invalid UTF-16 (lone surrogates). Such characters are
 * never emitted: they are shown escaped, as a JavaScript string literal
 * would write them. A backslash is escaped too, so text can never forge an
 * escape: every `\` in the output starts one.
 *
 * @module
 */

/**
 * How many code points {@linkcode displayText} keeps by default.
 *
 * @example
 * ```ts
 * import { DISPLAY_MAX, displayText } from "./_display.ts";
 * displayText("y".repeat(DISPLAY_MAX + 1)).endsWith("…(+1 char)"); // true
 * ```
 */
export const DISPLAY_MAX = 200;

/**
 * Characters unsafe to show: C0, DEL, C1, bidi controls (U+061C, U+200E,
 * U+200F, U+202A-U+202E, U+2066-U+2069), U+2028, U+2029 and (with the `u`
 * flag, which sees a pair as one code point) lone surrogates.
 */
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;
/** What {@linkcode displayText} escapes: the unsafe characters and the backslash. */
const ESCAPED =
  // deno-lint-ignore no-control-regex
  /[\x00-\x1f\x7f-\x9f\\\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

/** The escape of one code point that {@linkcode ESCAPED} matches. */
function escapeOf(ch: string): string {
  const short = SHORT[ch];
  if (short !== undefined) return short;
  const code = ch.charCodeAt(0); // all escaped characters are in the BMP
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Returns `text` as it may be shown on a terminal, in a log line or on the
 * hub page:
 *
 * - C0 controls (U+0000-U+001F), DEL, C1 controls (U+0080-U+009F), the
 *   bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 *   U+2066-U+2069), U+2028, U+2029 and lone surrogates are escaped: `\n`,
 *   `\r`, `\t`, `\xHH` below U+0100, `\uHHHH` above. A backslash becomes
 *   `\\`, so no escape can be forged. Nothing else changes.
 * - When the result would be longer than `max` code points, it is cut
 *   before the first character or escape that would not fit, and a marker
 *   says how many code points of `text` were left out: `…(+123 chars)`.
 *   A surrogate pair or an escape is never split.
 *
 * Text with none of those characters and at most `max` code points comes
 * back unchanged. Apply it to each client-supplied piece of a message, not
 * to the whole line, so that the hub's own text stays as it is.
 *
 * @param text The client-supplied text.
 * @param max Most code points kept before the marker (default
 * {@linkcode DISPLAY_MAX}); `Infinity` never cuts.
 * @throws {RangeError} if `max` is not a non-negative integer or `Infinity`.
 *
 * @example
 * ```ts
 * import { displayText } from "./_display.ts";
 * displayText("\x1b[2J\nfake log line"); // "\\x1b[2J\\nfake log line"
 * displayText("abc\u202edef"); // "abc\\u202edef"
 * displayText("C:\\data"); // "C:\\\\data"
 * displayText("Aladin"); // "Aladin"
 * displayText("x".repeat(10), 4); // "xxxx…(+6 chars)"
 * ```
 */
export function displayText(text: string, max: number = DISPLAY_MAX): string {
  if (!(max >= 0 && (Number.isInteger(max) || max === Infinity))) {
    throw new RangeError(`max must be a non-negative integer or Infinity, not ${max}`);
  }
  text = String(text);
  if (!ESCAPED.test(text) && (text.length <= max || codePoints(text) <= max)) return text;
  const chars = Array.from(text); // code points; a lone surrogate is one
  let out = "";
  let used = 0;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const piece = ESCAPED.test(ch) ? escapeOf(ch) : ch;
    const width = piece === ch ? 1 : piece.length; // escapes are ASCII
    if (used + width > max) {
      const left = chars.length - i;
      return `${out}…(+${left} char${left === 1 ? "" : "s"})`;
    }
    out += piece;
    used += width;
  }
  return out;
}

/**
 * Whether `text` holds a character that is unsafe to show as it is (one that
 * {@linkcode displayText} escapes, the backslash apart). For a last check of
 * whole lines, such as the hub log's, whose client-supplied parts should
 * have gone through {@linkcode displayText} already.
 *
 * @example
 * ```ts
 * import { hasUnsafeText } from "./_display.ts";
 * hasUnsafeText("c3 (Aladin)"); // false
 * hasUnsafeText("c3 (\x9b2J)"); // true
 * hasUnsafeText("C:\\data"); // false
 * ```
 */
export function hasUnsafeText(text: string): boolean {
  return UNSAFE.test(text);
}

/** Code points in `text`, counting a lone surrogate as one. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

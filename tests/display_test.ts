// displayText, the one rule for showing client-supplied text on a terminal,
// in a log line and on the hub page: exact escapes, cutting, and properties
// over every code point and over arbitrary strings (no control, bidi control,
// line separator or lone surrogate gets out; the length is bounded; clean
// short text is unchanged; the escapes are unambiguous), and the hub logger's
// last guard, which escapes a whole message that still holds a control.

import assert from "node:assert/strict";
import { DISPLAY_MAX, displayText, hasUnsafeText } from "../lib/_display.ts";
import { createLogger } from "../lib/log.ts";
import { fc } from "./_fuzz.ts";

/** Whether code unit `c` must never reach a terminal (surrogates are checked apart). */
function forbidden(c: number): boolean {
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || c === 0x061c || c === 0x200e ||
    c === 0x200f || c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069);
}

/** The first unsafe code unit of `s` (a control, bidi control, U+2028/9 or lone surrogate). */
function firstUnsafe(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const hex = `U+${c.toString(16).padStart(4, "0")} at ${i}`;
    if (forbidden(c)) return hex;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return `lone ${hex}`;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return `lone ${hex}`;
  }
  return undefined;
}

/** Whether `s` holds anything displayText escapes (the backslash included). */
function needsEscape(s: string): boolean {
  return s.includes("\\") || firstUnsafe(s) !== undefined;
}

/** Reads the escapes back; throws on a backslash that starts no escape. */
function unescape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "\\") {
      out += s[i];
      continue;
    }
    const k = s[++i];
    if (k === "n") out += "\n";
    else if (k === "r") out += "\r";
    else if (k === "t") out += "\t";
    else if (k === "\\") out += "\\";
    else if (k === "x" && /^[0-9a-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (k === "u" && /^[0-9a-f]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else throw new Error(`a backslash that starts no escape at ${i - 1} in ${JSON.stringify(s)}`);
  }
  return out;
}

const MARKER = /…\(\+(\d+) chars?\)$/;

/** Checks everything displayText promises for one input. */
function check(text: string, max: number): void {
  const out = displayText(text, max);
  assert.equal(firstUnsafe(out), undefined, `unsafe output for ${JSON.stringify(text)}`);
  const chars = [...text];
  const whole = displayText(text, Infinity);
  assert.equal(unescape(whole), text); // unambiguous: it reads back
  if (!needsEscape(text)) assert.equal(whole, text);
  if ([...whole].length <= max) {
    assert.equal(out, whole);
    return;
  }
  // Cut: a whole number of characters or escapes, then the marker, which
  // counts exactly what was left out.
  const cut = MARKER.exec(out);
  assert.ok(cut, `no marker: ${JSON.stringify(out)}`);
  const body = out.slice(0, cut.index);
  assert.ok([...body].length <= max, `longer than ${max}: ${JSON.stringify(out)}`);
  assert.ok(whole.startsWith(body));
  const shown = [...unescape(body)];
  assert.ok(shown.length < chars.length);
  assert.equal(Number(cut[1]), chars.length - shown.length);
  assert.deepEqual(shown, chars.slice(0, shown.length));
}

Deno.test("displayText escapes controls, bidi controls, separators and backslashes exactly", () => {
  const cases: [string, string][] = [
    ["\x1b[2J", "\\x1b[2J"],
    ["\x9b2J", "\\x9b2J"],
    ["a\nb\rc\td", "a\\nb\\rc\\td"],
    [
      "\x00\x07\x08\x0b\x0c\x1f\x7f\x80\x85\x9f",
      "\\x00\\x07\\x08\\x0b\\x0c\\x1f\\x7f\\x80\\x85\\x9f",
    ],
    ["evil\u202etxt.exe", "evil\\u202etxt.exe"],
    [
      "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069",
      "\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069",
    ],
    ["\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"],
    ["line\u2028para\u2029", "line\\u2028para\\u2029"],
    ["\ud800x\udc00", "\\ud800x\\udc00"],
    ["\udbff", "\\udbff"],
    ["C:\\data\\x1b", "C:\\\\data\\\\x1b"],
    ["\\n", "\\\\n"],
    ["🌌 Å ✓ \u00a0 é", "🌌 Å ✓ \u00a0 é"],
    ["", ""],
    ["Aladin", "Aladin"],
  ];
  for (const [text, shown] of cases) assert.equal(displayText(text), shown, JSON.stringify(text));
});

Deno.test("displayText cuts long text by code points with a marker, never inside a pair or an escape", () => {
  assert.equal(displayText("x".repeat(10), 4), "xxxx…(+6 chars)");
  assert.equal(displayText("x".repeat(5), 4), "xxxx…(+1 char)");
  assert.equal(displayText("x".repeat(4), 4), "xxxx");
  assert.equal(displayText("🌌🌌🌌", 2), "🌌🌌…(+1 char)");
  assert.equal(displayText("🌌🌌", 2), "🌌🌌");
  // "\x1b" needs 4 places: it goes whole, or not at all.
  assert.equal(displayText("ab\x1bcd", 5), "ab…(+3 chars)");
  assert.equal(displayText("ab\x1bcd", 6), "ab\\x1b…(+2 chars)");
  assert.equal(displayText("ab\u202e", 7), "ab…(+1 char)");
  assert.equal(displayText("abc", 0), "…(+3 chars)");
  assert.equal(displayText("", 0), "");
  assert.equal(displayText("y".repeat(DISPLAY_MAX)), "y".repeat(DISPLAY_MAX));
  assert.equal(
    displayText("y".repeat(DISPLAY_MAX + 1)),
    `${"y".repeat(DISPLAY_MAX)}…(+1 char)`,
  );
  const long = "z".repeat(100_000);
  assert.equal(displayText(long, Infinity), long);
  for (const bad of [-1, 1.5, NaN]) assert.throws(() => displayText("x", bad), RangeError);
});

Deno.test("displayText lets no control, bidi control, separator or lone surrogate out, and hasUnsafeText finds them: every code point", () => {
  for (let c = 0; c <= 0x10ffff; c++) {
    // fromCharCode for the surrogates: each one alone.
    const ch = c <= 0xffff ? String.fromCharCode(c) : String.fromCodePoint(c);
    const out = displayText(ch);
    if (firstUnsafe(out) !== undefined || (out !== ch) !== needsEscape(ch)) {
      assert.fail(`U+${c.toString(16)} shown as ${JSON.stringify(out)}`);
    }
    if (out !== ch && unescape(out) !== ch) assert.fail(`U+${c.toString(16)} reads back wrong`);
    if (hasUnsafeText(ch) !== (firstUnsafe(ch) !== undefined)) {
      assert.fail(`hasUnsafeText is wrong about U+${c.toString(16)}`);
    }
  }
});

/** Code units that matter here, mixed with arbitrary ones. */
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "\x1b",
      "[2J",
      "\x9b",
      "\n",
      "\r",
      "\t",
      "\\",
      "\\x1b",
      "\u202e",
      "\u2066",
      "\u2028",
      "\u2029",
      "\x7f",
      "\x85",
      "…(+3 chars)",
      "🌌",
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map(String.fromCharCode) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map(String.fromCharCode) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 4 }) },
);

Deno.test("displayText on arbitrary strings: safe, bounded, unchanged when clean, unambiguous", () => {
  fc.assert(
    fc.property(
      fc.string({ unit, maxLength: 60 }),
      fc.oneof(fc.nat(80), fc.constant(Infinity), fc.constant(DISPLAY_MAX)),
      (text, max) => {
        check(text, max);
        assert.equal(hasUnsafeText(text), firstUnsafe(text) !== undefined);
      },
    ),
    { numRuns: 20_000 },
  );
});

Deno.test("the hub's logger writes a message that still holds a control escaped as a whole, one line", () => {
  const lines: string[] = [];
  const log = createLogger("DEBUG", (l) => lines.push(l), () => new Date(0));
  log.info("plain C:\\data text");
  log.warn("forgot to escape: \x9b2J\n1970-01-01T00:00:00.000Z INFO forged \u202e C:\\data");
  assert.deepEqual(lines, [
    "1970-01-01T00:00:00.000Z INFO plain C:\\data text",
    "1970-01-01T00:00:00.000Z WARNING forgot to escape: \\x9b2J\\n" +
    "1970-01-01T00:00:00.000Z INFO forged \\u202e C:\\\\data",
  ]);
});

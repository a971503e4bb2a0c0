// How the HTTP code of both directions frames a text body.

import assert from "node:assert/strict";
import { concatBytes, frameText, piecesLength } from "../lib/transport/_bytes.ts";

const decoder = new TextDecoder();
const join = (buffers: Uint8Array[]): Uint8Array => concatBytes(buffers, piecesLength(buffers));
const HEAD_START = "POST / HTTP/1.1\r\nContent-Length: ";
const HEAD_END = "\r\n\r\n";
const head = (n: number): string => `${HEAD_START}${n}${HEAD_END}`;

Deno.test("frameText sends any text as its UTF-8 bytes behind a head that counts those bytes", () => {
  const cases = [
    "",
    "<value>plain ASCII, tab\t, CR LF\r\n, and DEL \x7f</value>",
    "\x80 just past ASCII",
    "ASCII first, then é",
    "Ångström ✓ 🌌",
    "a lone surrogate \ud800 becomes U+FFFD",
    "x".repeat(64 * 1024),
    "x".repeat(64 * 1024 + 1),
    "x".repeat(64 * 1024 - 1) + "é",
  ];
  for (const text of cases) {
    const expected = new TextEncoder().encode(text);
    const got = join(frameText(text, HEAD_START, HEAD_END));
    const headBytes = head(expected.length).length;
    assert.deepEqual(decoder.decode(got.subarray(0, headBytes)), head(expected.length));
    assert.deepEqual(got.subarray(headBytes), expected, JSON.stringify(text.slice(0, 40)));
  }
});

Deno.test("frameText puts a small ASCII text and its head in one buffer", () => {
  const buffers = frameText("<methodResponse/>", HEAD_START, HEAD_END);
  assert.deepEqual(buffers.length, 1);
  assert.deepEqual(decoder.decode(buffers[0]), head(17) + "<methodResponse/>");
});

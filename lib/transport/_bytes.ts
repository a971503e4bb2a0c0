/**
 * Byte helpers shared by the HTTP code of both directions.
 *
 * @module
 */

/** Joins byte chunks whose lengths add up to `size` into one array. */
export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Bodies up to this size are copied behind their head and written with it in one go. */
const COPY_MAX = 256 * 1024;

/**
 * An HTTP message as the buffers to write, in order: the head (ASCII text)
 * with a small body copied behind it in one buffer, or, for a big body (a
 * message encoded once for all its recipients), the head alone and then the
 * body's pieces as they are, not copied.
 */
export function frameMessage(head: string, pieces: readonly Uint8Array[]): Uint8Array[] {
  const length = piecesLength(pieces);
  const whole = length <= COPY_MAX;
  const first = headFirst(head, whole ? length : 0);
  if (!whole) return [first, ...pieces];
  let at = head.length;
  for (const p of pieces) {
    first.set(p, at);
    at += p.length;
  }
  return [first];
}

/** Text bodies up to this many characters are first tried as ASCII. */
const ASCII_MAX = 64 * 1024;

const encoder = new TextEncoder();

/**
 * An HTTP message with a text body, as the buffers to write: its head is
 * `headStart`, the body's length in UTF-8 bytes, then `headEnd`. A body of at most
 * 64 Ki characters is first encoded straight behind a head that assumes it is
 * ASCII (what XML-RPC peers send almost always), in one buffer: no buffer of
 * its own and no second copy. If it proves not to be ASCII (its bytes
 * outnumber its characters), it is encoded again, head and body apart.
 *
 * @example
 * ```ts
 * import { frameText } from "./_bytes.ts";
 * const [message] = frameText("héllo", "Content-Length: ", "\r\n\r\n");
 * console.log(new TextDecoder().decode(message)); // "Content-Length: 6\r\n\r\nhéllo"
 * ```
 */
export function frameText(body: string, headStart: string, headEnd: string): Uint8Array[] {
  if (body.length <= ASCII_MAX) {
    const text = headStart + body.length + headEnd;
    const out = headFirst(text, body.length);
    // The whole body fits in one byte per UTF-16 code unit only if it is ASCII.
    if (encoder.encodeInto(body, out.subarray(text.length)).read === body.length) return [out];
  }
  const bytes = encoder.encode(body);
  return frameMessage(headStart + bytes.length + headEnd, [bytes]);
}

/** A buffer holding the ASCII `head` (one byte per character) and `room` more bytes. */
function headFirst(head: string, room: number): Uint8Array {
  const out = new Uint8Array(head.length + room);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  return out;
}

/** The total length of byte pieces. */
export function piecesLength(pieces: readonly Uint8Array[]): number {
  let length = 0;
  for (const p of pieces) length += p.length;
  return length;
}

/** Writes all of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

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

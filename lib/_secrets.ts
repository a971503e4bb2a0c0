/**
 * Secrets and their checks: random hex for secrets, keys and tokens, and a
 * comparison whose time does not depend on where two strings differ.
 *
 * @module
 */

/**
 * `bytes` random bytes from `crypto.getRandomValues`, as lower-case hex.
 *
 * @example
 * ```ts
 * import { randomHex } from "./_secrets.ts";
 * randomHex(16).length; // 32
 * ```
 */
export function randomHex(bytes: number): string {
  let hex = "";
  for (const b of crypto.getRandomValues(new Uint8Array(bytes))) {
    hex += b.toString(16).padStart(2, "0");
  }
  return hex;
}

/**
 * Whether two strings are equal, in time that depends only on their
 * lengths: one pass over the longer one's UTF-8 bytes, no early exit.
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "./_secrets.ts";
 * timingSafeEqual("s3cret", "s3cret"); // true
 * timingSafeEqual("s3cret", "s3creT"); // false
 * ```
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

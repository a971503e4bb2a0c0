/**
 * A cheap lower bound on how big a SAMP value's XML is, that stops counting
 * as soon as it knows: deciding whether a value is worth encoding once and
 * reusing costs little for small values and nothing more for huge ones.
 *
 * @module
 */

import type { SampValue } from "../types.ts";

/** Markup counted per value, array item or struct member (`<value><string>…`). */
const PER_ITEM = 30;

/**
 * Whether `value`'s XML-RPC encoding is at least about `chars` characters.
 *
 * @example
 * ```ts
 * import { atLeastChars } from "./_offload_size.ts";
 * atLeastChars({ a: "x" }, 1000); // false
 * atLeastChars(Array.from({ length: 100 }, () => "x"), 1000); // true
 * ```
 */
export function atLeastChars(value: SampValue, chars: number): boolean {
  // Each value's markup is counted when it is met; a string's text when it is taken.
  let left = chars - PER_ITEM;
  const stack: SampValue[] = [value];
  while (stack.length > 0) {
    if (left <= 0) return true;
    const v = stack.pop()!;
    if (typeof v === "string") {
      left -= v.length;
    } else if (Array.isArray(v)) {
      left -= PER_ITEM * v.length;
      if (left <= 0) return true;
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else {
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        left -= k.length + 2 * PER_ITEM;
        stack.push(v[k]);
        if (left <= 0) return true;
      }
    }
  }
  return left <= 0;
}

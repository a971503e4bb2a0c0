/**
 * Lenient readers of decoded SAMP values: what the bench accepts from a hub.
 *
 * @module
 */

import type { SampMap, SampValue } from "../../lib/types.ts";

/**
 * The value if it is a string, else undefined.
 *
 * @example
 * ```ts
 * import { stringOf } from "./_values.ts";
 * console.log(stringOf("c1"), stringOf(["c1"])); // "c1" undefined
 * ```
 */
export function stringOf(v: SampValue | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/**
 * The value if it is a map, else an empty map.
 *
 * @example
 * ```ts
 * import { mapOf } from "./_values.ts";
 * console.log(mapOf(undefined)); // {}
 * ```
 */
export function mapOf(v: SampValue | undefined): SampMap {
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}

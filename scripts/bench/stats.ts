/**
 * Order statistics of the bench's samples (latencies, cycle times, RSS).
 *
 * @module
 */

/**
 * The index of the `q` quantile (nearest rank) in a sorted list of
 * `length` items; -1 for an empty list. `q = 0.5` is the lower median.
 *
 * @example
 * ```ts
 * import { quantileIndex } from "./stats.ts";
 * console.log(quantileIndex(4, 0.5), quantileIndex(100, 0.99)); // 1 98
 * ```
 */
export function quantileIndex(length: number, q: number): number {
  return Math.min(length - 1, Math.max(0, Math.ceil(q * length) - 1));
}

/**
 * The `q` quantile (nearest rank) of ascending `sorted`, or NaN when it is empty.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 * console.log(percentile([1, 2, 3, 4], 0.5)); // 2
 * ```
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[quantileIndex(sorted.length, q)];
}

/**
 * The largest of the known values, or null when none is known.
 *
 * @example
 * ```ts
 * import { peak } from "./stats.ts";
 * console.log(peak([null, 3, undefined, 7])); // 7
 * ```
 */
export function peak(values: Iterable<number | null | undefined>): number | null {
  let top: number | null = null;
  for (const v of values) {
    if (v != null && (top === null || v > top)) top = v;
  }
  return top;
}

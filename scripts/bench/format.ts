/**
 * Number formatting of the bench's tables (en-US grouping, "n/a" for unknown).
 *
 * @module
 */

/**
 * `n` with `digits` decimals and thousands separators, or "n/a" when it is
 * missing or not finite.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./format.ts";
 * console.log(formatNumber(12345.678, 1)); // "12,345.7"
 * console.log(formatNumber(NaN)); // "n/a"
 * ```
 */
export function formatNumber(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return "n/a";
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * KiB as MiB text with one decimal, or "n/a".
 *
 * @example
 * ```ts
 * import { mib } from "./format.ts";
 * console.log(mib(52224)); // "51.0 MiB"
 * ```
 */
export function mib(kib: number | null | undefined): string {
  const m = toMib(kib);
  return m === null ? "n/a" : `${formatNumber(m, 1)} MiB`;
}

/**
 * KiB as a number of MiB, or null when unknown.
 *
 * @example
 * ```ts
 * import { toMib } from "./format.ts";
 * console.log(toMib(2048), toMib(null)); // 2 null
 * ```
 */
export function toMib(kib: number | null | undefined): number | null {
  return kib == null ? null : kib / 1024;
}

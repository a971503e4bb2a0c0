/**
 * MType syntax and the subscription-pattern rules of SAMP 1.3.
 *
 * An MType is dot-separated atoms of letters, digits, `-` and `_`
 * (`table.load.votable`). A subscription pattern is an MType, `*`, or an
 * MType prefix followed by `.*` (`table.*`). Per the standard, `table.*`
 * matches every MType that begins with `table.`, but not `table` itself.
 *
 * @module
 */

const MTYPE_RE = /^[0-9A-Za-z_-]+(?:\.[0-9A-Za-z_-]+)*$/;
const PATTERN_RE = /^(?:\*|[0-9A-Za-z_-]+(?:\.[0-9A-Za-z_-]+)*(?:\.\*)?)$/;

/**
 * Tells whether a string is a syntactically valid MType.
 *
 * @example
 * ```ts
 * import { isMType } from "./mtype.ts";
 * isMType("table.load.votable"); // true
 * isMType("table.*"); // false
 * ```
 */
export function isMType(s: string): boolean {
  return MTYPE_RE.test(s);
}

/**
 * Tells whether a string is a valid subscription pattern: an MType, `*`, or
 * `<mtype>.*`.
 *
 * @example
 * ```ts
 * import { isMTypePattern } from "./mtype.ts";
 * isMTypePattern("samp.hub.event.*"); // true
 * isMTypePattern("samp.*.event"); // false
 * ```
 */
export function isMTypePattern(s: string): boolean {
  return PATTERN_RE.test(s);
}

/**
 * How well a pattern matches an MType: -1 for no match, otherwise a score
 * where a higher value is a more specific match (exact beats a longer prefix,
 * which beats a shorter prefix, which beats `*`).
 *
 * @example
 * ```ts
 * import { matchScore } from "./mtype.ts";
 * matchScore("table.*", "table.load.votable"); // > 0
 * matchScore("table.*", "table"); // -1
 * ```
 */
export function matchScore(pattern: string, mtype: string): number {
  if (pattern === "*") return 0;
  if (pattern.endsWith(".*")) {
    const prefixLength = pattern.length - 1; // keeps the dot: "table."
    return mtype.length > prefixLength && mtype.startsWith(pattern.slice(0, prefixLength))
      ? prefixLength
      : -1;
  }
  return pattern === mtype ? Number.MAX_SAFE_INTEGER : -1;
}

/**
 * Finds the most specific pattern in a subscriptions map that matches an
 * MType, or `undefined` if none does.
 *
 * @example
 * ```ts
 * import { bestMatch } from "./mtype.ts";
 * bestMatch(["*", "table.*", "table.load.votable"], "table.load.votable"); // "table.load.votable"
 * ```
 */
export function bestMatch(patterns: Iterable<string>, mtype: string): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const p of patterns) {
    const score = matchScore(p, mtype);
    if (score > bestScore) {
      best = p;
      bestScore = score;
    }
  }
  return best;
}

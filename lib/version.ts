/**
 * The toolkit's version, as published.
 *
 * @module
 */

/**
 * The version of this toolkit (kept equal to `version` in deno.json by a test).
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`sampkit ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";

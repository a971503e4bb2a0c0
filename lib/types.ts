/**
 * The SAMP data model: the three wire types and the maps built from them.
 *
 * SAMP has exactly three types: string, list and map. Numbers and booleans
 * travel as strings ("42", "1.5", "1"/"0").
 *
 * @module
 */

/**
 * Any SAMP value: a string, a list of values or a map of string keys to values.
 *
 * @example Building a value
 * ```ts
 * import type { SampValue } from "./types.ts";
 * const v: SampValue = { ra: "10.68", dec: "41.27", tags: ["m31", "galaxy"] };
 * ```
 */
export type SampValue = string | SampList | SampMap;

/**
 * A SAMP list: an ordered array of SAMP values.
 *
 * @example
 * ```ts
 * import type { SampList } from "./types.ts";
 * const rows: SampList = ["0", "4", "17"];
 * ```
 */
export type SampList = SampValue[];

/**
 * A SAMP map: string keys to SAMP values.
 *
 * @example
 * ```ts
 * import type { SampMap } from "./types.ts";
 * const params: SampMap = { url: "file:///tmp/t.vot", name: "my table" };
 * ```
 */
export interface SampMap {
  /** Any key maps to a SAMP value. */
  [key: string]: SampValue;
}

/**
 * A SAMP message: an MType and its parameters. Extra top-level keys are
 * allowed and are forwarded unchanged by the hub.
 *
 * @example
 * ```ts
 * import type { Message } from "./types.ts";
 * const msg: Message = {
 *   "samp.mtype": "coord.pointAt.sky",
 *   "samp.params": { ra: "83.63", dec: "22.01" },
 * };
 * ```
 */
export interface Message extends SampMap {
  /** The MType, e.g. `table.load.votable`. */
  "samp.mtype": string;
  /** The parameters the MType defines. */
  "samp.params": SampMap;
}

/**
 * The three SAMP response statuses.
 *
 * @example
 * ```ts
 * import type { ResponseStatus } from "./types.ts";
 * const s: ResponseStatus = "samp.ok";
 * ```
 */
export type ResponseStatus = "samp.ok" | "samp.warning" | "samp.error";

/**
 * A SAMP error map, the value of `samp.error` in a response.
 *
 * @example
 * ```ts
 * import type { ErrorInfo } from "./types.ts";
 * const e: ErrorInfo = { "samp.errortxt": "file not found" };
 * ```
 */
export interface ErrorInfo extends SampMap {
  /** A short description of what went wrong. */
  "samp.errortxt": string;
}

/**
 * A SAMP response to a call. The hub forwards any map a recipient sends,
 * so receivers of responses should check the shape before trusting it.
 *
 * @example
 * ```ts
 * import type { SampResponse } from "./types.ts";
 * const ok: SampResponse = { "samp.status": "samp.ok", "samp.result": {} };
 * ```
 */
export interface SampResponse extends SampMap {
  /** `samp.ok`, `samp.warning` or `samp.error`. */
  "samp.status": string;
}

/**
 * What a hub returns from `register`.
 *
 * @example
 * ```ts
 * import type { RegInfo } from "./types.ts";
 * const info: RegInfo = {
 *   "samp.hub-id": "hub",
 *   "samp.self-id": "c1",
 *   "samp.private-key": "k:1_9f0c...",
 * };
 * ```
 */
export interface RegInfo extends SampMap {
  /** The hub's own client id. */
  "samp.hub-id": string;
  /** This client's public id. */
  "samp.self-id": string;
  /** This client's private key: its credential for every later call. */
  "samp.private-key": string;
}

/**
 * Tells whether a value is a SAMP map (a plain object, not a list or string).
 *
 * @example
 * ```ts
 * import { isSampMap } from "./types.ts";
 * isSampMap({ a: "1" }); // true
 * isSampMap(["a"]); // false
 * ```
 */
export function isSampMap(value: unknown): value is SampMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Sets `map[key] = value` as an own, enumerable member, even when `key` is
 * `"__proto__"` (which a plain assignment would turn into a prototype
 * change): SAMP maps take any string as a key.
 *
 * @example
 * ```ts
 * import { setMember, type SampMap } from "./types.ts";
 * const map: SampMap = {};
 * setMember(map, "__proto__", "x");
 * Object.keys(map); // ["__proto__"]
 * ```
 */
export function setMember(map: SampMap, key: string, value: SampValue): void {
  if (key === "__proto__") {
    Object.defineProperty(map, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    map[key] = value;
  }
}

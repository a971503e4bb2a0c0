/**
 * What the hub API accepts: the checks on its arguments, each failing with
 * a {@linkcode SampFault} that names the argument and what it should be.
 * Private to the hub core.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import { isMType, isMTypePattern } from "../mtype.ts";
import type { Message, SampMap, SampValue } from "../types.ts";
import { isSampMap } from "../types.ts";

/**
 * Returns `v` if it is a string.
 *
 * @example
 * ```ts
 * import { checkString } from "./_checks.ts";
 * checkString("c1", "Client id"); // "c1"
 * ```
 *
 * @throws {SampFault} "`what` must be a string, not a map" (or "a list").
 */
export function checkString(v: SampValue, what: string): string {
  if (typeof v !== "string") throw new SampFault(`${what} must be a string, not ${describe(v)}`);
  return v;
}

/**
 * Returns `v` if it is a map.
 *
 * @example
 * ```ts
 * import { checkMap } from "./_checks.ts";
 * checkMap({ "samp.name": "topcat" }, "Metadata");
 * ```
 *
 * @throws {SampFault} "`what` must be a map, not a string" (or "a list").
 */
export function checkMap(v: SampValue, what: string): SampMap {
  if (!isSampMap(v)) throw new SampFault(`${what} must be a map, not ${describe(v)}`);
  return v;
}

/**
 * Returns `message` if it is a SAMP message: a map with a legal
 * `samp.mtype` and a map (or nothing) as `samp.params`. Missing params
 * become the empty map, since receivers such as astropy's fail without them.
 *
 * @example
 * ```ts
 * import { checkMessage } from "./_checks.ts";
 * checkMessage({ "samp.mtype": "samp.app.ping" }); // { "samp.mtype": "samp.app.ping", "samp.params": {} }
 * ```
 *
 * @throws {SampFault} naming what is wrong with the message.
 */
export function checkMessage(message: SampValue): Message {
  if (!isSampMap(message)) {
    throw new SampFault(`Message must be a map, not ${describe(message)}`);
  }
  const mtype = message["samp.mtype"];
  if (typeof mtype !== "string") {
    throw new SampFault("Message has no samp.mtype string: every message needs an MType");
  }
  if (!isMType(mtype)) {
    throw new SampFault(
      `Illegal MType "${mtype}": use dot-separated words like table.load.votable`,
    );
  }
  const params = message["samp.params"];
  if (params === undefined) {
    // Receivers such as astropy's fail without samp.params: supply the empty map.
    return { ...message, "samp.params": {} } as Message;
  }
  if (!isSampMap(params)) {
    throw new SampFault(`samp.params must be a map, not ${describe(params)}`);
  }
  return message as Message;
}

/**
 * Returns `subscriptions` if it is a subscriptions map: every key an MType
 * pattern (`a.b`, `a.*`, `*`) and every value an annotation map.
 *
 * @example
 * ```ts
 * import { checkSubscriptions } from "./_checks.ts";
 * checkSubscriptions({ "samp.app.ping": {}, "table.*": {} });
 * ```
 *
 * @throws {SampFault} naming the first bad key or annotation.
 */
export function checkSubscriptions(subscriptions: SampValue): SampMap {
  const map = checkMap(subscriptions, "Subscriptions");
  for (const [pattern, annotation] of Object.entries(map)) {
    if (!isMTypePattern(pattern)) {
      throw new SampFault(
        `Illegal subscription key "${pattern}": use an MType (a.b.c), a prefix (a.b.*) or *`,
      );
    }
    if (!isSampMap(annotation)) {
      throw new SampFault(
        `Subscription "${pattern}" must map to an annotation map ({}), not ${describe(annotation)}`,
      );
    }
  }
  return map;
}

function describe(v: SampValue): string {
  return typeof v === "string" ? "a string" : Array.isArray(v) ? "a list" : "a map";
}

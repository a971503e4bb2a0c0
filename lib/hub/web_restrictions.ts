/**
 * Which MTypes a Web Profile client may send. A web page is less trusted
 * than a desktop tool, so by default it may send only MTypes on a safe list
 * (loading data, pointing, highlighting…), never `script.*`, `ds9.*` or
 * `client.env.get`. A recipient can widen or narrow this per subscription
 * with the annotation `x-samp.mostly-harmless` (`"1"` allows, `"0"` blocks).
 *
 * This is a {@linkcode MessagePolicy}: the hub core treats a refused pair as
 * unsubscribed, and hides such subscriptions from the web client.
 *
 * @module
 */

import { bestMatch, matchScore } from "../mtype.ts";
import { type SampMap, setMember } from "../types.ts";
import type { ClientInfo, MessagePolicy } from "./core_types.ts";

/**
 * The MTypes web clients may send by default (those of JSAMP 1.3.9).
 *
 * @example
 * ```ts
 * import { DEFAULT_WEB_SAFE_MTYPES } from "./web_restrictions.ts";
 * DEFAULT_WEB_SAFE_MTYPES.includes("table.*"); // true
 * ```
 */
export const DEFAULT_WEB_SAFE_MTYPES: readonly string[] = [
  "samp.app.*",
  "samp.msg.progress",
  "table.*",
  "image.*",
  "coord.*",
  "spectrum.*",
  "bibcode.*",
  "voresource.*",
  "coverage.*",
];

/**
 * Makes the policy that restricts senders of profile `"web"` to `safe`
 * patterns (use `["*"]` to lift the restriction), honouring each
 * recipient's `samp.mostly-harmless` / `x-samp.mostly-harmless` annotation.
 *
 * @example
 * ```ts
 * import { webMTypePolicy } from "./web_restrictions.ts";
 * import { HubCore } from "./core.ts";
 * const core = new HubCore({ policy: webMTypePolicy() });
 * await core.close();
 * ```
 */
export function webMTypePolicy(safe: readonly string[] = DEFAULT_WEB_SAFE_MTYPES): MessagePolicy {
  const isSafe = (mtype: string) => bestMatch(safe, mtype) !== undefined;
  const allows = (sender: ClientInfo, _r: ClientInfo, mtype: string, annotation: SampMap) => {
    if (sender.profile !== "web") return true;
    const harmless = annotation["samp.mostly-harmless"] ?? annotation["x-samp.mostly-harmless"];
    if (harmless === "1") return true;
    if (harmless === "0") return false;
    return isSafe(mtype);
  };
  return {
    allows,
    visibleSubscriptions(viewer, owner, subscriptions) {
      if (viewer.profile !== "web") return subscriptions;
      const out: SampMap = {};
      for (const [pattern, annotation] of Object.entries(subscriptions)) {
        const ann = annotation as SampMap;
        const visible = pattern.endsWith("*")
          ? allows(viewer, owner, "", ann) || patternWithinSafe(pattern, safe)
          : allows(viewer, owner, pattern, ann);
        if (visible) setMember(out, pattern, ann);
      }
      return out;
    },
  };
}

/** Whether every MType a wildcard pattern matches is on the safe list. */
function patternWithinSafe(pattern: string, safe: readonly string[]): boolean {
  if (pattern === "*") return safe.includes("*");
  // "table.load.*" lies within "table.*": a safe pattern matches its prefix.
  const probe = pattern.slice(0, -2);
  return safe.some((s) => s === "*" || (s.endsWith(".*") && matchScore(s, `${probe}.x`) >= 0));
}

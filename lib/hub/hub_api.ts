/**
 * The hub API that every profile serves, written once: for each method its
 * parameter names, how its arguments are converted, and the core call. The
 * Standard Profile (`samp.hub.*`) and the Web Profile (`samp.webhub.*`) look
 * a method up here after they have checked the caller's private key; each
 * adds only its own methods (registration, callbacks, `ping`) and, for the
 * Web Profile, a filter on what goes in and out.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import type { SampValue } from "../types.ts";
import type { HubCore } from "./core.ts";

/**
 * One hub API method: its parameters after the private key, and what it does.
 *
 * @example
 * ```ts
 * import { HUB_API } from "./hub_api.ts";
 * console.log(HUB_API.notify.params); // ["recipient-id", "message"]
 * ```
 */
export interface HubApiMethod {
  /** Names of the parameters after `private-key`, as the standard gives them. */
  readonly params: readonly string[];
  /**
   * For a method whose result carries another client's words (its metadata,
   * its reply), the index in `args` of that client's id; profiles that care
   * who said what (the Web Profile's URL control) read it.
   */
  readonly resultFrom?: number;
  /**
   * Runs the method for the client with `key` (already checked by the
   * profile). `context.signal` aborts when the caller hangs up; it is read
   * only by a method that waits (callAndWait), since making it costs the
   * transport a watch on the connection.
   */
  run(
    core: HubCore,
    key: string,
    args: SampValue[],
    context: { readonly signal: AbortSignal },
  ): SampValue | Promise<SampValue>;
}

/**
 * The methods every profile serves, by their unprefixed names
 * (`notify` is `samp.hub.notify` and `samp.webhub.notify`).
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import { HUB_API } from "./hub_api.ts";
 * const core = new HubCore();
 * const reg = core.register("standard");
 * const ids = HUB_API.getRegisteredClients.run(core, reg["samp.private-key"], [], { signal: new AbortController().signal });
 * console.log(ids); // [the hub's own id]
 * await core.close();
 * ```
 */
export const HUB_API: Readonly<Record<string, HubApiMethod>> = Object.freeze({
  unregister: method([], (core, key) => {
    core.unregister(key);
    return "";
  }),
  declareMetadata: method(["metadata"], (core, key, [metadata]) => {
    core.declareMetadata(key, metadata);
    return "";
  }),
  getMetadata: method(["client-id"], (core, key, [id]) => core.getMetadata(key, id), 0),
  declareSubscriptions: method(["subscriptions"], (core, key, [subscriptions]) => {
    core.declareSubscriptions(key, subscriptions);
    return "";
  }),
  getSubscriptions: method(["client-id"], (core, key, [id]) => core.getSubscriptions(key, id)),
  getRegisteredClients: method([], (core, key) => core.getRegisteredClients(key)),
  getSubscribedClients: method(
    ["mtype"],
    (core, key, [mtype]) => core.getSubscribedClients(key, mtype),
  ),
  notify: method(["recipient-id", "message"], (core, key, [to, message]) => {
    core.notify(key, to, message);
    return "";
  }),
  notifyAll: method(["message"], (core, key, [message]) => core.notifyAll(key, message)),
  call: method(
    ["recipient-id", "msg-tag", "message"],
    (core, key, [to, tag, message]) => core.call(key, to, tag, message),
  ),
  callAll: method(
    ["msg-tag", "message"],
    (core, key, [tag, message]) => core.callAll(key, tag, message),
  ),
  callAndWait: method(
    ["recipient-id", "message", "timeout"],
    (core, key, [to, message, timeout], context) =>
      core.callAndWait(key, to, message, sampInt(timeout, "timeout"), context.signal),
    0,
  ),
  reply: method(["msg-id", "response"], (core, key, [msgId, response]) => {
    // When the reply ends a callAndWait, the waiting caller's answer is on
    // its latency's critical path, the replier's not: the caller's is made
    // ready by a promise the reply has just resolved, and the replier's,
    // given as a promise too, is then ready one step behind it at every
    // turn of the microtask queue, so the caller's is written first. No
    // timer: a timer per reply cost the hub 3 % of its CPU under
    // callAndWait load (measured with perf).
    return core.reply(key, msgId, response) ? Promise.resolve("") : "";
  }),
});

/**
 * Looks up a hub API method by its unprefixed name (own properties only, so
 * `constructor` or `__proto__` is no method).
 *
 * @example
 * ```ts
 * import { hubApiMethod } from "./hub_api.ts";
 * hubApiMethod("notify") !== undefined; // true
 * hubApiMethod("toString"); // undefined
 * ```
 */
export function hubApiMethod(name: string): HubApiMethod | undefined {
  return Object.hasOwn(HUB_API, name) ? HUB_API[name] : undefined;
}

/**
 * Reads a SAMP int argument (a string of digits).
 *
 * @example
 * ```ts
 * import { sampInt } from "./hub_api.ts";
 * sampInt("30", "timeout"); // 30
 * ```
 *
 * @throws {SampFault} naming the parameter when `v` is not a SAMP int.
 */
export function sampInt(v: SampValue, name: string): number {
  if (typeof v === "string" && /^\s*[+-]?\d+(\.\d*)?\s*$/.test(v)) return Number(v);
  throw new SampFault(`${name} must be a SAMP int (a string of digits), not ${JSON.stringify(v)}`);
}

/**
 * The fault for a call with the wrong number of arguments.
 *
 * @example
 * ```ts
 * import { arityFault } from "./hub_api.ts";
 * arityFault("samp.hub.notify", ["private-key", "recipient-id", "message"], 2).message;
 * // "Bad arguments: samp.hub.notify takes (private-key, recipient-id, message), got 2 arguments"
 * ```
 */
export function arityFault(method: string, names: readonly string[], got: number): SampFault {
  return new SampFault(
    `Bad arguments: ${method} takes (${names.join(", ")}), got ${got} argument${
      got === 1 ? "" : "s"
    }`,
  );
}

function method(
  params: string[],
  run: HubApiMethod["run"],
  resultFrom?: number,
): HubApiMethod {
  return { params: Object.freeze(params), run, resultFrom };
}

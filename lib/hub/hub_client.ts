/**
 * What the hub's own client answers when it is called: `samp.app.ping` and
 * `samp.query.by-meta` (also under its `x-samp.` name).
 *
 * @module
 */

import type { Message, Response, SampMap } from "../types.ts";
import type { ClientInfo } from "./core.ts";

/**
 * Computes the hub client's response to a call it received.
 *
 * @example
 * ```ts
 * import { answerHubMessage } from "./hub_client.ts";
 * const hub = { clients: () => [] };
 * answerHubMessage(hub, "c1", { "samp.mtype": "samp.app.ping", "samp.params": {} });
 * // { "samp.status": "samp.ok", "samp.result": {} }
 * ```
 */
export function answerHubMessage(
  hub: { clients(): ClientInfo[] },
  _senderId: string,
  message: Message,
): Response {
  const mtype = message["samp.mtype"];
  if (mtype === "samp.app.ping") return ok({});
  if (mtype === "samp.query.by-meta" || mtype === "x-samp.query.by-meta") {
    const { key, value } = message["samp.params"];
    if (typeof key !== "string" || typeof value !== "string") {
      return fail(`${mtype} needs string params "key" and "value"`);
    }
    const ids = hub.clients()
      .filter((c) => c.metadata[key] === value)
      .map((c) => c.id);
    return ok({ ids });
  }
  return fail(`The hub does not handle ${mtype}`);
}

function ok(result: SampMap): Response {
  return { "samp.status": "samp.ok", "samp.result": result };
}

function fail(text: string): Response {
  return { "samp.status": "samp.error", "samp.error": { "samp.errortxt": text } };
}

/**
 * The hub's own client, defined in one place: its metadata, what it
 * subscribes to (`samp.app.ping` and `samp.query.by-meta`, also under its
 * `x-samp.` name) and how it answers. The core registers it like any other
 * client and routes calls to it through the {@linkcode Delivery} made here.
 *
 * @module
 */

import type { Message, SampMap, SampResponse } from "../types.ts";
import { type ClientInfo, type Delivery, errorResponse } from "./core_types.ts";

/**
 * What the hub's own client needs from the hub it lives in.
 *
 * @example
 * ```ts
 * import type { HubClientHost } from "./hub_client.ts";
 * const host: HubClientHost = {
 *   clients: () => [],
 *   reply: (msgId, response) => console.log(msgId, response["samp.status"]),
 *   registered: () => true,
 * };
 * ```
 */
export interface HubClientHost {
  /** The registered clients (for `samp.query.by-meta`). */
  clients(): ClientInfo[];
  /** Sends the hub client's reply to a call; throws when the call is gone. */
  reply(msgId: string, response: SampResponse): void;
  /** Whether the hub's own client is still registered (false once the hub shuts down). */
  registered(): boolean;
}

/**
 * The hub's own client as the core registers it.
 *
 * @example
 * ```ts
 * import type { HubClient } from "./hub_client.ts";
 * function name(c: HubClient): string {
 *   return String(c.metadata["samp.name"]);
 * }
 * ```
 */
export interface HubClient {
  /** Its metadata. */
  readonly metadata: SampMap;
  /** Its subscriptions: the MTypes {@linkcode answerHubMessage} answers. */
  readonly subscriptions: SampMap;
  /** How calls reach it: each is answered by {@linkcode answerHubMessage}. */
  readonly delivery: Delivery;
}

/**
 * Makes the hub's own client: `metadata` (default `samp.name` "Hub"), its
 * subscriptions (`samp.app.ping` and `samp.query.by-meta`, also under its
 * `x-samp.` name), and a delivery that answers each call after the call
 * has returned its msg-id, as a real client would.
 *
 * @example
 * ```ts
 * import { createHubClient } from "./hub_client.ts";
 * const client = createHubClient({
 *   clients: () => [],
 *   reply: (msgId, response) => console.log(msgId, response["samp.status"]), // "m1" "samp.ok"
 *   registered: () => true,
 * });
 * console.log(Object.keys(client.subscriptions)); // ["samp.app.ping", "samp.query.by-meta", …]
 * await client.delivery.call("c1", "m1", { "samp.mtype": "samp.app.ping", "samp.params": {} });
 * ```
 */
export function createHubClient(
  host: HubClientHost,
  metadata: SampMap = { "samp.name": "Hub" },
): HubClient {
  const delivery: Delivery = {
    notification: () => Promise.resolve(),
    call: (senderId, msgId, message) => {
      // Answer after the call has returned its msg-id, as a real client would.
      queueMicrotask(() => {
        if (!host.registered()) return;
        const response = answerHubMessage(host, senderId, message);
        try {
          host.reply(msgId, response);
        } catch {
          // The caller left or the call expired: nothing to answer.
        }
      });
      return Promise.resolve();
    },
    response: () => Promise.resolve(),
  };
  const subscriptions: SampMap = {
    "samp.app.ping": {},
    "samp.query.by-meta": {},
    "x-samp.query.by-meta": {},
  };
  return { metadata, subscriptions, delivery };
}

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
): SampResponse {
  const mtype = message["samp.mtype"];
  if (mtype === "samp.app.ping") return ok({});
  if (mtype === "samp.query.by-meta" || mtype === "x-samp.query.by-meta") {
    const { key, value } = message["samp.params"];
    if (typeof key !== "string" || typeof value !== "string") {
      return errorResponse(`${mtype} needs string params "key" and "value"`);
    }
    const ids = hub.clients()
      .filter((c) => c.metadata[key] === value)
      .map((c) => c.id);
    return ok({ ids });
  }
  return errorResponse(`The hub does not handle ${mtype}`);
}

function ok(result: SampMap): SampResponse {
  return { "samp.status": "samp.ok", "samp.result": result };
}

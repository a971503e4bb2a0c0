/**
 * The hub core's boundary: what a profile gives the core ({@linkcode Delivery},
 * {@linkcode MessagePolicy}) and what the core shows of itself
 * ({@linkcode ClientInfo}, {@linkcode HubActivity}). Every hub module may
 * import these; this module imports none of them, so the core's parts and
 * the profiles depend on it without cycles.
 *
 * @module
 */

import type { Message, SampMap, SampResponse } from "../types.ts";

/**
 * How a profile carries callbacks to one callable client. Each method
 * resolves when the client has accepted the callback and rejects (ideally
 * with a {@linkcode DeliveryError}) when it could not be delivered.
 *
 * @example An in-memory delivery, as tests use
 * ```ts
 * import type { Delivery } from "./core_types.ts";
 * const seen: string[] = [];
 * const delivery: Delivery = {
 *   notification: async (sender, msg) => void seen.push(`${sender} ${msg["samp.mtype"]}`),
 *   call: async () => {},
 *   response: async () => {},
 * };
 * ```
 */
export interface Delivery {
  /** Delivers `receiveNotification(senderId, message)`. */
  notification(senderId: string, message: Message): Promise<void>;
  /** Delivers `receiveCall(senderId, msgId, message)`. */
  call(senderId: string, msgId: string, message: Message): Promise<void>;
  /** Delivers `receiveResponse(responderId, msgTag, response)`. */
  response(responderId: string, msgTag: string, response: SampResponse): Promise<void>;
  /** Releases whatever the delivery holds; called when the client leaves. */
  close?(): void;
}

/**
 * A callback could not be delivered. `unreachable` means the client's
 * endpoint is gone (connection refused), so the hub unregisters the client.
 * `maybeDelivered` means the client may have received it all the same (the
 * request went out whole and only its answer failed: cut, unreadable or
 * late), so the hub does not answer a call on its behalf: the call stays
 * pending until the client replies, leaves, or the call times out. Such
 * failures are reported once per client at full weight, then as `repeated`.
 *
 * @example
 * ```ts
 * import { DeliveryError } from "./core_types.ts";
 * const error = new DeliveryError("connection refused by http://127.0.0.1:1/", { unreachable: true });
 * console.log(error.unreachable); // true
 * ```
 */
export class DeliveryError extends Error {
  /** True when the endpoint refused the connection: the client has gone away. */
  readonly unreachable: boolean;
  /** True when the client may have received the callback despite the failure. */
  readonly maybeDelivered: boolean;

  /**
   * Makes a delivery error.
   *
   * @example
   * ```ts
   * import { DeliveryError } from "./core_types.ts";
   * const e = new DeliveryError("no answer within 120 s", { maybeDelivered: true });
   * ```
   */
  constructor(
    message: string,
    flags: { unreachable?: boolean; maybeDelivered?: boolean } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "DeliveryError";
    this.unreachable = flags.unreachable ?? false;
    this.maybeDelivered = flags.maybeDelivered ?? false;
  }
}

/**
 * What the core shows of a registered client to policies and observers.
 *
 * @example
 * ```ts
 * import type { ClientInfo } from "./core_types.ts";
 * function label(c: ClientInfo): string {
 *   return `${c.id} (${c.metadata["samp.name"] ?? "unnamed"})`;
 * }
 * ```
 */
export interface ClientInfo {
  /** The public id (`samp.self-id`). */
  readonly id: string;
  /** The profile that registered the client: "hub", "standard", "web", … */
  readonly profile: string;
  /** The declared metadata ({} until declared). */
  readonly metadata: SampMap;
  /** The declared subscriptions ({} until declared). */
  readonly subscriptions: SampMap;
  /** Whether the hub can deliver callbacks to the client. */
  readonly callable: boolean;
  /** When it registered (ms since the epoch). */
  readonly registeredAt: number;
}

/**
 * Profile rules that restrict who may message whom (the Web Profile's MType
 * restrictions plug in here). The core treats a refused pair exactly as an
 * unsubscribed one.
 *
 * @example Only let web clients send `table.*` messages
 * ```ts
 * import type { MessagePolicy } from "./core_types.ts";
 * const policy: MessagePolicy = {
 *   allows: (sender, _recipient, mtype) =>
 *     sender.profile !== "web" || mtype.startsWith("table."),
 * };
 * ```
 */
export interface MessagePolicy {
  /** Whether `sender` may send `mtype` to `recipient`, whose matching subscription carries `annotation`. */
  allows(sender: ClientInfo, recipient: ClientInfo, mtype: string, annotation: SampMap): boolean;
  /** The part of `owner`'s subscriptions that `viewer` may see (default: all of them). */
  visibleSubscriptions?(viewer: ClientInfo, owner: ClientInfo, subscriptions: SampMap): SampMap;
}

/**
 * Something that happened in the hub, for logs and monitors.
 *
 * @example
 * ```ts
 * import type { HubActivity } from "./core_types.ts";
 * function log(a: HubActivity): void {
 *   if (a.kind === "register") console.log(`registered ${a.client.id}`);
 * }
 * ```
 */
export type HubActivity =
  | { kind: "register"; client: ClientInfo }
  | { kind: "unregister"; client: ClientInfo; reason: string }
  | { kind: "metadata"; client: ClientInfo }
  | { kind: "subscriptions"; client: ClientInfo }
  | { kind: "callable"; client: ClientInfo }
  | {
    kind: "send";
    mode: "notify" | "call" | "callAndWait";
    sender: string;
    recipient: string;
    mtype: string;
    msgId?: string;
  }
  | { kind: "reply"; msgId: string; responder: string; sender: string; status: string }
  | {
    kind: "delivery-failed";
    recipient: string;
    callback: string;
    error: string;
    /** The callback may have arrived (see {@linkcode DeliveryError}): a call stays pending. */
    maybeDelivered?: boolean;
    /** An earlier maybe-delivered failure of this recipient was reported already. */
    repeated?: boolean;
  }
  | { kind: "sync-timeout"; msgId: string; sender: string; recipient: string; seconds: number };

/**
 * Options of a hub core.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * const core = new HubCore({ hubMetadata: { "samp.name": "Hub" } });
 * await core.close();
 * ```
 */
export interface HubCoreOptions {
  /** Public id of the hub's own client. Default `"hub"`. */
  hubId?: string;
  /** Metadata of the hub's own client. */
  hubMetadata?: SampMap;
  /** Profile restrictions on who may message whom. */
  policy?: MessagePolicy;
  /** Called for every hub activity (synchronously: keep it cheap). */
  onActivity?: (activity: HubActivity) => void;
  /** Upper bound on a callAndWait, in seconds, also applied to "no timeout". Default 12 hours. */
  maxSyncWaitSeconds?: number;
  /** How long an unanswered asynchronous call is remembered, in ms. Default 12 hours. */
  pendingCallTtlMs?: number;
  /** Hub events queued for one slow client before older ones are dropped. Default 1000. */
  eventQueueLimit?: number;
  /**
   * Callbacks (other than hub events) in flight to one client at a time;
   * more wait in that client's queue, so a busy client is not flooded with
   * connections and others are not slowed. Default 8.
   */
  maxCallbacksPerClient?: number;
  /** Callbacks that may wait for one client before further ones fail. Default 10,000. */
  maxQueuedCallbacks?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Counts of what the core holds, for monitors and for leak checks in tests.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * const core = new HubCore();
 * console.log(core.stats().clients); // 1: the hub itself
 * await core.close();
 * ```
 */
export interface HubStats {
  /** Registered clients, the hub's own included. */
  clients: number;
  /** Calls awaiting a reply (asynchronous and synchronous). */
  pendingCalls: number;
  /** callAndWait requests in progress. */
  syncWaits: number;
  /** Callbacks handed to a Delivery and not yet finished. */
  deliveriesInFlight: number;
  /** Hub events queued for delivery. */
  queuedEvents: number;
  /** Callbacks waiting for a free slot to their recipient. */
  queuedCallbacks: number;
  /** Messages accepted for delivery since start. */
  messages: number;
}

/**
 * Builds a SAMP error response.
 *
 * @example
 * ```ts
 * import { errorResponse } from "./core_types.ts";
 * errorResponse("c3 left the hub before replying");
 * // { "samp.status": "samp.error", "samp.error": { "samp.errortxt": "c3 left …" } }
 * ```
 */
export function errorResponse(text: string): SampResponse {
  return { "samp.status": "samp.error", "samp.error": { "samp.errortxt": text } };
}

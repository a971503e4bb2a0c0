/**
 * The profile-agnostic SAMP hub core: registration, metadata, subscriptions,
 * message routing, pending calls and hub events.
 *
 * Every routing rule of the hub lives in this file. The core never sees HTTP:
 * a profile (Standard, Web) authenticates callers by private key, calls the
 * methods here, and gives each callable client a {@linkcode Delivery} that
 * carries callbacks to it by whatever transport the profile uses.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import { bestMatch, isMType, isMTypePattern } from "../mtype.ts";
import type { Message, RegInfo, Response, SampMap, SampValue } from "../types.ts";
import { isSampMap } from "../types.ts";
import { answerHubMessage } from "./hub_client.ts";

/**
 * How a profile carries callbacks to one callable client. Each method
 * resolves when the client has accepted the callback and rejects (ideally
 * with a {@linkcode DeliveryError}) when it could not be delivered.
 *
 * @example An in-memory delivery, as tests use
 * ```ts
 * import type { Delivery } from "./core.ts";
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
  response(responderId: string, msgTag: string, response: Response): Promise<void>;
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
 * import { DeliveryError } from "./core.ts";
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
   * import { DeliveryError } from "./core.ts";
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
 * import type { ClientInfo } from "./core.ts";
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
 * import type { MessagePolicy } from "./core.ts";
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
 * import type { HubActivity } from "./core.ts";
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

interface ClientRecord extends ClientInfo {
  id: string;
  key: string;
  profile: string;
  metadata: SampMap;
  subscriptions: SampMap;
  callable: boolean;
  registeredAt: number;
  delivery: Delivery | null;
  lastActive: number;
  /** Hub events waiting for delivery to this client, oldest first. */
  events: Message[];
  /** Subjects (client ids; "" for the hub) of hub events in flight to this client. */
  eventsBusy: Set<string>;
  /** Callbacks in flight to this client (hub events apart). */
  active: number;
  /** Callbacks waiting for one of this client's slots. */
  backlog: (() => void)[];
  /** msg-ids of calls this client must answer. */
  callsIn: Set<string>;
  /** msg-ids of calls this client made and awaits. */
  callsOut: Set<string>;
  registered: boolean;
  /** A maybe-delivered failure of a callback to it was reported (later ones are `repeated`). */
  answerFailureReported: boolean;
}

interface PendingCall {
  msgId: string;
  sender: ClientRecord;
  recipient: ClientRecord;
  tag: string;
  mtype: string;
  startedAt: number;
  sync?: {
    resolve(response: Response): void;
    reject(error: Error): void;
  };
}

interface Subscriber {
  client: ClientRecord;
  annotation: SampMap;
}

const HUB_SUBSCRIPTIONS: SampMap = {
  "samp.app.ping": {},
  "samp.query.by-meta": {},
  "x-samp.query.by-meta": {},
};
const SUBSCRIBER_CACHE_LIMIT = 2048;

/**
 * Builds a SAMP error response.
 *
 * @example
 * ```ts
 * import { errorResponse } from "./core.ts";
 * errorResponse("c3 left the hub before replying");
 * // { "samp.status": "samp.error", "samp.error": { "samp.errortxt": "c3 left …" } }
 * ```
 */
export function errorResponse(text: string): Response {
  return { "samp.status": "samp.error", "samp.error": { "samp.errortxt": text } };
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let s = "";
  for (const b of buf) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * The hub core. One instance is one hub; profiles call it with the caller's
 * private key, exactly as the SAMP hub API is specified (abstract form).
 *
 * @example Two clients, one message
 * ```ts
 * import { HubCore } from "./core.ts";
 * const core = new HubCore();
 * const a = core.register("standard");
 * const b = core.register("standard");
 * core.setDelivery(b["samp.private-key"], {
 *   notification: async (from, msg) => console.log(from, msg["samp.mtype"]),
 *   call: async () => {},
 *   response: async () => {},
 * });
 * core.declareSubscriptions(b["samp.private-key"], { "table.*": {} });
 * core.notify(a["samp.private-key"], b["samp.self-id"], {
 *   "samp.mtype": "table.load.votable",
 *   "samp.params": { url: "file:///tmp/t.vot" },
 * });
 * await core.close();
 * ```
 */
export class HubCore {
  readonly #hubId: string;
  readonly #policy?: MessagePolicy;
  readonly #onActivity?: (activity: HubActivity) => void;
  readonly #maxSyncWaitMs: number;
  readonly #pendingTtlMs: number;
  readonly #eventQueueLimit: number;
  readonly #maxActive: number;
  readonly #maxBacklog: number;
  readonly #now: () => number;
  readonly #byKey = new Map<string, ClientRecord>();
  readonly #byId = new Map<string, ClientRecord>();
  readonly #pending = new Map<string, PendingCall>();
  readonly #syncTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #subscriberCache = new Map<string, Subscriber[]>();
  readonly #hub: ClientRecord;
  #nextClient = 1;
  #nextMsg = 1;
  #inFlight = 0;
  #messages = 0;
  #lastActivity: number;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  /**
   * Creates a hub core with its own client (id `hub` by default) registered.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore({ hubId: "hub" });
   * await core.close();
   * ```
   */
  constructor(options: HubCoreOptions = {}) {
    this.#hubId = options.hubId ?? "hub";
    this.#policy = options.policy;
    this.#onActivity = options.onActivity;
    this.#maxSyncWaitMs = (options.maxSyncWaitSeconds ?? 12 * 3600) * 1000;
    this.#pendingTtlMs = options.pendingCallTtlMs ?? 12 * 3600 * 1000;
    this.#eventQueueLimit = options.eventQueueLimit ?? 1000;
    this.#maxActive = options.maxCallbacksPerClient ?? 8;
    this.#maxBacklog = options.maxQueuedCallbacks ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#lastActivity = this.#now();
    const key = `hk:${randomHex(16)}`;
    this.#hub = this.#newRecord(this.#hubId, key, "hub");
    this.#hub.metadata = options.hubMetadata ?? { "samp.name": "Hub" };
    this.#hub.subscriptions = HUB_SUBSCRIPTIONS;
    this.#hub.callable = true;
    this.#hub.delivery = {
      notification: () => Promise.resolve(),
      call: (sender, msgId, message) => {
        // Answer after the call has returned its msg-id, as a real client would.
        queueMicrotask(() => {
          if (!this.#hub.registered) return;
          const response = answerHubMessage(this, sender, message);
          try {
            this.reply(key, msgId, response);
          } catch {
            // The caller left or the call expired: nothing to answer.
          }
        });
        return Promise.resolve();
      },
      response: () => Promise.resolve(),
    };
    this.#byKey.set(key, this.#hub);
    this.#byId.set(this.#hubId, this.#hub);
  }

  /** The public id of the hub's own client. */
  get hubId(): string {
    return this.#hubId;
  }

  /** When any client last called the hub (ms since the epoch). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /**
   * Counts of clients, pending calls and deliveries in progress.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * if (core.stats().pendingCalls > 0) console.log("calls in progress");
   * await core.close();
   * ```
   */
  stats(): HubStats {
    let queuedEvents = 0;
    let queuedCallbacks = 0;
    for (const c of this.#byId.values()) {
      queuedEvents += c.events.length;
      queuedCallbacks += c.backlog.length;
    }
    return {
      clients: this.#byId.size,
      pendingCalls: this.#pending.size,
      syncWaits: this.#syncTimers.size,
      deliveriesInFlight: this.#inFlight,
      queuedEvents,
      queuedCallbacks,
      messages: this.#messages,
    };
  }

  /**
   * The registered clients, the hub's own first, in registration order.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * for (const c of core.clients()) console.log(c.id, c.metadata["samp.name"]);
   * await core.close();
   * ```
   */
  clients(): ClientInfo[] {
    return [...this.#byId.values()];
  }

  /**
   * Looks up a client by public id (for profiles and monitors).
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * core.client("hub")?.metadata; // the hub's metadata
   * await core.close();
   * ```
   */
  client(id: string): ClientInfo | undefined {
    return this.#byId.get(id);
  }

  /**
   * The client a private key belongs to, or `undefined`.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const reg = core.register("standard");
   * core.clientByKey(reg["samp.private-key"])?.id; // same as reg["samp.self-id"]
   * await core.close();
   * ```
   */
  clientByKey(privateKey: string): ClientInfo | undefined {
    return this.#byKey.get(privateKey);
  }

  /**
   * When a client last called the hub (ms since the epoch), or `undefined`
   * for an unknown id.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * core.lastActiveOf("hub"); // a time stamp
   * await core.close();
   * ```
   */
  lastActiveOf(id: string): number | undefined {
    return this.#byId.get(id)?.lastActive;
  }

  /**
   * Registers a new client and returns its reg-info. The profile has
   * already checked the caller's credentials (secret, user consent).
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const info = core.register("standard");
   * console.log(info["samp.self-id"]); // "c1"
   * await core.close();
   * ```
   */
  register(profile: string, keyPrefix = "k"): RegInfo {
    this.#assertOpen();
    const id = `c${this.#nextClient++}`;
    const key = `${keyPrefix}:${randomHex(16)}`;
    const client = this.#newRecord(id, key, profile);
    this.#byKey.set(key, client);
    this.#byId.set(id, client);
    this.#lastActivity = client.lastActive;
    this.#onActivity?.({ kind: "register", client });
    this.#broadcastEvent("samp.hub.event.register", { id });
    return {
      "samp.hub-id": this.#hubId,
      "samp.self-id": id,
      "samp.private-key": key,
    };
  }

  /**
   * Unregisters the caller. Calls it has yet to answer get an error
   * response; calls it was waiting on are dropped.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const info = core.register("standard");
   * core.unregister(info["samp.private-key"]);
   * await core.close();
   * ```
   */
  unregister(privateKey: string): void {
    const client = this.#caller(privateKey);
    if (client === this.#hub) throw new SampFault("The hub's own client cannot unregister");
    this.#remove(client, "unregistered");
  }

  /**
   * Makes the caller callable through `delivery`, or not callable with `null`.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.setDelivery(key, {
   *   notification: async () => {},
   *   call: async () => {},
   *   response: async () => {},
   * });
   * await core.close();
   * ```
   */
  setDelivery(privateKey: string, delivery: Delivery | null): void {
    const client = this.#caller(privateKey);
    if (client === this.#hub) {
      throw new SampFault("The hub's own client cannot change its callbacks");
    }
    const old = client.delivery;
    client.delivery = delivery;
    client.callable = delivery !== null;
    if (old && old !== delivery) old.close?.();
    this.#subscriberCache.clear();
    this.#onActivity?.({ kind: "callable", client });
    if (client.callable) this.#drainEvents(client);
  }

  /**
   * Replaces the caller's metadata and tells subscribed clients.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.declareMetadata(key, { "samp.name": "topcat" });
   * await core.close();
   * ```
   */
  declareMetadata(privateKey: string, metadata: SampValue): void {
    const client = this.#caller(privateKey);
    if (!isSampMap(metadata)) {
      throw new SampFault(`Metadata must be a map, not ${describe(metadata)}`);
    }
    client.metadata = metadata;
    this.#onActivity?.({ kind: "metadata", client });
    this.#broadcastEvent("samp.hub.event.metadata", { id: client.id, metadata });
  }

  /**
   * Returns a client's metadata ({} if it never declared any).
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.getMetadata(key, "hub")["samp.name"];
   * await core.close();
   * ```
   */
  getMetadata(privateKey: string, clientId: SampValue): SampMap {
    this.#caller(privateKey);
    return this.#target(clientId).metadata;
  }

  /**
   * Replaces the caller's subscriptions and tells subscribed clients. Every
   * key must be an MType pattern (`a.b`, `a.*`, `*`) and every value a map.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.declareSubscriptions(key, { "samp.app.ping": {}, "table.*": {} });
   * await core.close();
   * ```
   */
  declareSubscriptions(privateKey: string, subscriptions: SampValue): void {
    const client = this.#caller(privateKey);
    if (!isSampMap(subscriptions)) {
      throw new SampFault(`Subscriptions must be a map, not ${describe(subscriptions)}`);
    }
    for (const [pattern, annotation] of Object.entries(subscriptions)) {
      if (!isMTypePattern(pattern)) {
        throw new SampFault(
          `Illegal subscription key "${pattern}": use an MType (a.b.c), a prefix (a.b.*) or *`,
        );
      }
      if (!isSampMap(annotation)) {
        throw new SampFault(
          `Subscription "${pattern}" must map to an annotation map ({}), not ${
            describe(annotation)
          }`,
        );
      }
    }
    client.subscriptions = subscriptions;
    this.#subscriberCache.clear();
    this.#onActivity?.({ kind: "subscriptions", client });
    this.#broadcastEvent("samp.hub.event.subscriptions", { id: client.id, subscriptions }, client);
  }

  /**
   * Returns a client's subscriptions ({} if it never declared any).
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * Object.keys(core.getSubscriptions(key, "hub")); // includes "samp.app.ping"
   * await core.close();
   * ```
   */
  getSubscriptions(privateKey: string, clientId: SampValue): SampMap {
    const viewer = this.#caller(privateKey);
    const owner = this.#target(clientId);
    return this.#visibleSubscriptions(viewer, owner);
  }

  /**
   * The public ids of all registered clients except the caller, the hub's
   * own included.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.getRegisteredClients(key); // ["hub"]
   * await core.close();
   * ```
   */
  getRegisteredClients(privateKey: string): string[] {
    const caller = this.#caller(privateKey);
    const ids: string[] = [];
    for (const c of this.#byId.values()) if (c !== caller) ids.push(c.id);
    return ids;
  }

  /**
   * The callable clients, except the caller, that would receive `mtype`,
   * each with the annotation of its most specific matching subscription.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.getSubscribedClients(key, "samp.app.ping"); // { hub: {} }
   * await core.close();
   * ```
   */
  getSubscribedClients(privateKey: string, mtype: SampValue): SampMap {
    const caller = this.#caller(privateKey);
    if (typeof mtype !== "string") {
      throw new SampFault(`MType must be a string, not ${describe(mtype)}`);
    }
    const out: SampMap = {};
    for (const s of this.#subscribers(mtype)) {
      if (s.client !== caller && this.#allows(caller, s.client, mtype, s.annotation)) {
        setOwn(out, s.client.id, s.annotation);
      }
    }
    return out;
  }

  /**
   * Sends a notification to one client. Delivery happens in the background.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.notify(key, "hub", { "samp.mtype": "samp.app.ping", "samp.params": {} });
   * await core.close();
   * ```
   */
  notify(privateKey: string, recipientId: SampValue, message: SampValue): void {
    const sender = this.#caller(privateKey);
    const msg = checkMessage(message);
    const recipient = this.#recipient(sender, recipientId, msg["samp.mtype"]);
    this.#sendNotification(sender, recipient, msg);
  }

  /**
   * Sends a notification to every subscribed, callable client except the
   * caller, and returns their ids.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.notifyAll(key, { "samp.mtype": "samp.app.ping", "samp.params": {} }); // ["hub"]
   * await core.close();
   * ```
   */
  notifyAll(privateKey: string, message: SampValue): string[] {
    const sender = this.#caller(privateKey);
    const msg = checkMessage(message);
    const ids: string[] = [];
    for (const r of this.#broadcastRecipients(sender, msg["samp.mtype"])) {
      this.#sendNotification(sender, r, msg);
      ids.push(r.id);
    }
    return ids;
  }

  /**
   * Sends a call to one client and returns its msg-id at once; the reply
   * reaches the caller through its Delivery's `response`.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.setDelivery(key, { notification: async () => {}, call: async () => {}, response: async (from, tag, r) => console.log(from, tag, r) });
   * core.call(key, "hub", "t1", { "samp.mtype": "samp.app.ping", "samp.params": {} });
   * await core.close();
   * ```
   */
  call(privateKey: string, recipientId: SampValue, msgTag: SampValue, message: SampValue): string {
    const sender = this.#caller(privateKey);
    const tag = checkTag(msgTag);
    const msg = checkMessage(message);
    const recipient = this.#recipient(sender, recipientId, msg["samp.mtype"]);
    return this.#sendCall(sender, recipient, tag, msg, "call");
  }

  /**
   * Sends a call to every subscribed, callable client except the caller;
   * returns a map from recipient id to the msg-id it was given.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * core.setDelivery(key, { notification: async () => {}, call: async () => {}, response: async () => {} });
   * core.callAll(key, "t1", { "samp.mtype": "samp.app.ping", "samp.params": {} }); // { hub: "…" }
   * await core.close();
   * ```
   */
  callAll(privateKey: string, msgTag: SampValue, message: SampValue): SampMap {
    const sender = this.#caller(privateKey);
    const tag = checkTag(msgTag);
    const msg = checkMessage(message);
    const out: SampMap = {};
    for (const r of this.#broadcastRecipients(sender, msg["samp.mtype"])) {
      setOwn(out, r.id, this.#sendCall(sender, r, tag, msg, "call"));
    }
    return out;
  }

  /**
   * Sends a call and waits for the reply. `timeoutSeconds` ≤ 0 means no
   * timeout (the hub's cap still applies). On expiry it rejects with a
   * {@linkcode SampFault}; if the recipient leaves or cannot be reached, it
   * resolves with an error response. Aborting `signal` (the caller hung up)
   * forgets the call.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * const r = await core.callAndWait(key, "hub", { "samp.mtype": "samp.app.ping", "samp.params": {} }, 5);
   * console.log(r["samp.status"]); // "samp.ok"
   * await core.close();
   * ```
   */
  callAndWait(
    privateKey: string,
    recipientId: SampValue,
    message: SampValue,
    timeoutSeconds: number,
    signal?: AbortSignal,
  ): Promise<Response> {
    const sender = this.#caller(privateKey);
    const msg = checkMessage(message);
    const recipient = this.#recipient(sender, recipientId, msg["samp.mtype"]);
    const requestedMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 : Infinity;
    const waitMs = Math.min(requestedMs, this.#maxSyncWaitMs);
    return new Promise<Response>((resolve, reject) => {
      let msgId = "";
      const finish = () => {
        const timer = this.#syncTimers.get(msgId);
        if (timer !== undefined) clearTimeout(timer);
        this.#syncTimers.delete(msgId);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        this.#forget(msgId);
        finish();
        reject(new SampFault(`callAndWait ${msgId} abandoned: the caller disconnected`));
      };
      const sync = {
        resolve: (r: Response) => {
          finish();
          resolve(r);
        },
        reject: (e: Error) => {
          finish();
          reject(e);
        },
      };
      msgId = this.#sendCall(sender, recipient, "", msg, "callAndWait", sync);
      if (!this.#pending.has(msgId)) return; // already answered synchronously
      const timer = setTimeout(() => {
        const seconds = waitMs / 1000;
        this.#forget(msgId);
        this.#onActivity?.({
          kind: "sync-timeout",
          msgId,
          sender: sender.id,
          recipient: recipient.id,
          seconds,
        });
        sync.reject(
          new SampFault(
            `Synchronous call timeout after ${seconds}/${
              requestedMs === Infinity ? "unlimited" : requestedMs / 1000
            } sec: ${recipient.id} did not reply to ${msg["samp.mtype"]} in time`,
          ),
        );
      }, waitMs);
      this.#syncTimers.set(msgId, timer);
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /**
   * Answers a call the caller received. Faults if the msg-id is unknown,
   * already answered, timed out, or was not addressed to the caller.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.private-key": key } = core.register("standard");
   * try {
   *   core.reply(key, "no-such-id", { "samp.status": "samp.ok", "samp.result": {} });
   * } catch (e) {
   *   console.log((e as Error).message); // No pending call with msg-id "no-such-id" …
   * }
   * await core.close();
   * ```
   */
  reply(privateKey: string, msgId: SampValue, response: SampValue): void {
    const responder = this.#caller(privateKey);
    if (typeof msgId !== "string") {
      throw new SampFault(`msg-id must be a string, not ${describe(msgId)}`);
    }
    if (!isSampMap(response)) {
      throw new SampFault(`Response must be a map, not ${describe(response)}`);
    }
    const call = this.#pending.get(msgId);
    if (!call || call.recipient !== responder) {
      throw new SampFault(
        `No pending call with msg-id "${msgId}" for ${responder.id}: ` +
          "it was already answered, timed out, or its sender has left",
      );
    }
    this.#forget(msgId);
    const resp = response as Response;
    this.#onActivity?.({
      kind: "reply",
      msgId,
      responder: responder.id,
      sender: call.sender.id,
      status: typeof resp["samp.status"] === "string" ? resp["samp.status"] : "?",
    });
    this.#deliverResponse(call, resp);
  }

  /**
   * Records that a client called the hub (for idle timeouts). Profiles call
   * it for methods that do not otherwise name the caller, such as `ping`.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * core.touch(); // a call without a private key still counts as hub activity
   * await core.close();
   * ```
   */
  touch(privateKey?: string): void {
    this.#lastActivity = this.#now();
    if (privateKey !== undefined) {
      const c = this.#byKey.get(privateKey);
      if (c) c.lastActive = this.#lastActivity;
    }
  }

  /**
   * Forcibly removes a client: sends it `samp.hub.disconnect` (if it
   * subscribes) with `reason`, then unregisters it.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * const { "samp.self-id": id } = core.register("standard");
   * core.disconnect(id, "Timeout expired!");
   * await core.close();
   * ```
   */
  disconnect(clientId: string, reason: string): boolean {
    const client = this.#byId.get(clientId);
    if (!client || client === this.#hub) return false;
    const message = event("samp.hub.disconnect", { reason });
    if (client.callable && client.delivery && this.#subscribes(client, message["samp.mtype"])) {
      const delivery = client.delivery;
      this.#track(delivery.notification(this.#hubId, message)).catch(() => {});
    }
    this.#remove(client, `disconnected: ${reason}`);
    return true;
  }

  /**
   * Disconnects every client that has not called the hub for `idleMs`, and
   * forgets asynchronous calls unanswered for longer than the pending-call
   * TTL. Returns the ids disconnected.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * core.sweep(600_000); // clients silent for 10 minutes are removed
   * await core.close();
   * ```
   */
  sweep(idleMs?: number): string[] {
    const now = this.#now();
    const gone: string[] = [];
    if (idleMs !== undefined && idleMs > 0) {
      for (const c of [...this.#byId.values()]) {
        if (c !== this.#hub && now - c.lastActive > idleMs) {
          this.disconnect(c.id, "Timeout expired!");
          gone.push(c.id);
        }
      }
    }
    for (const call of [...this.#pending.values()]) {
      if (!call.sync && now - call.startedAt > this.#pendingTtlMs) this.#forget(call.msgId);
    }
    return gone;
  }

  /**
   * Shuts the hub down: sends `samp.hub.event.shutdown` to subscribed
   * clients, waits up to `graceMs` for those deliveries, then fails every
   * pending call and drops every client.
   *
   * @example
   * ```ts
   * import { HubCore } from "./core.ts";
   * const core = new HubCore();
   * await core.close(1000);
   * ```
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#broadcastEvent("samp.hub.event.shutdown", {});
    this.#closed = true;
    await this.#waitIdle(graceMs);
    for (const call of [...this.#pending.values()]) {
      this.#forget(call.msgId);
      call.sync?.reject(new SampFault("The hub is shutting down"));
    }
    for (const c of [...this.#byId.values()]) {
      c.registered = false;
      c.events.length = 0;
      c.backlog.length = 0;
      c.delivery?.close?.();
    }
    this.#byId.clear();
    this.#byKey.clear();
    this.#hub.registered = false;
    this.#subscriberCache.clear();
    await this.#waitIdle(graceMs);
  }

  // ---- internals --------------------------------------------------------

  #newRecord(id: string, key: string, profile: string): ClientRecord {
    const now = this.#now();
    return {
      id,
      key,
      profile,
      metadata: {},
      subscriptions: {},
      callable: false,
      registeredAt: now,
      delivery: null,
      lastActive: now,
      events: [],
      eventsBusy: new Set(),
      active: 0,
      backlog: [],
      callsIn: new Set(),
      callsOut: new Set(),
      registered: true,
      answerFailureReported: false,
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new SampFault("The hub is shutting down");
  }

  #caller(privateKey: string): ClientRecord {
    const client = this.#byKey.get(privateKey);
    if (!client) {
      this.#assertOpen();
      throw new SampFault(
        "Unknown private key: this client is not registered with the hub " +
          "(register again; the hub may have restarted)",
      );
    }
    const now = this.#now();
    client.lastActive = now;
    this.#lastActivity = now;
    return client;
  }

  #target(clientId: SampValue): ClientRecord {
    if (typeof clientId !== "string") {
      throw new SampFault(`Client id must be a string, not ${describe(clientId)}`);
    }
    const client = this.#byId.get(clientId);
    if (!client) throw new SampFault(`No registered client with ID "${clientId}"`);
    return client;
  }

  /** The delivery rules for directed sends, in the order the standard gives them. */
  #recipient(sender: ClientRecord, recipientId: SampValue, mtype: string): ClientRecord {
    const recipient = this.#target(recipientId);
    if (!recipient.callable) {
      throw new SampFault(`Client ${recipient.id} is not callable`);
    }
    const pattern = bestMatch(Object.keys(recipient.subscriptions), mtype);
    if (pattern === undefined) {
      throw new SampFault(`Client ${recipient.id} is not subscribed to ${mtype}`);
    }
    const annotation = recipient.subscriptions[pattern] as SampMap;
    if (!this.#allows(sender, recipient, mtype, annotation)) {
      throw new SampFault(`MType ${mtype} is blocked from ${sender.profile} profile clients`);
    }
    return recipient;
  }

  #broadcastRecipients(sender: ClientRecord, mtype: string): ClientRecord[] {
    const out: ClientRecord[] = [];
    for (const s of this.#subscribers(mtype)) {
      if (s.client !== sender && this.#allows(sender, s.client, mtype, s.annotation)) {
        out.push(s.client);
      }
    }
    return out;
  }

  #allows(sender: ClientRecord, recipient: ClientRecord, mtype: string, ann: SampMap): boolean {
    return this.#policy === undefined || this.#policy.allows(sender, recipient, mtype, ann);
  }

  #visibleSubscriptions(viewer: ClientRecord, owner: ClientRecord): SampMap {
    const filter = this.#policy?.visibleSubscriptions;
    return filter
      ? filter.call(this.#policy, viewer, owner, owner.subscriptions)
      : owner.subscriptions;
  }

  #subscribes(client: ClientRecord, mtype: string): boolean {
    return bestMatch(Object.keys(client.subscriptions), mtype) !== undefined;
  }

  /** Callable clients subscribed to `mtype`, cached until any subscription or callability changes. */
  #subscribers(mtype: string): Subscriber[] {
    let list = this.#subscriberCache.get(mtype);
    if (list) return list;
    list = [];
    for (const c of this.#byId.values()) {
      if (!c.callable) continue;
      const pattern = bestMatch(Object.keys(c.subscriptions), mtype);
      if (pattern !== undefined) {
        list.push({ client: c, annotation: c.subscriptions[pattern] as SampMap });
      }
    }
    if (this.#subscriberCache.size >= SUBSCRIBER_CACHE_LIMIT) this.#subscriberCache.clear();
    this.#subscriberCache.set(mtype, list);
    return list;
  }

  #sendNotification(sender: ClientRecord, recipient: ClientRecord, msg: Message): void {
    this.#messages++;
    this.#onActivity?.({
      kind: "send",
      mode: "notify",
      sender: sender.id,
      recipient: recipient.id,
      mtype: msg["samp.mtype"],
    });
    this.#deliver(
      recipient,
      (d) => d.notification(sender.id, msg),
      (e) => this.#deliveryFailed(recipient, "receiveNotification", e),
    );
  }

  #sendCall(
    sender: ClientRecord,
    recipient: ClientRecord,
    tag: string,
    msg: Message,
    mode: "call" | "callAndWait",
    sync?: PendingCall["sync"],
  ): string {
    this.#messages++;
    const msgId = `${mode === "call" ? "a" : "s"}${this.#nextMsg++}_${sender.id}`;
    const call: PendingCall = {
      msgId,
      sender,
      recipient,
      tag,
      mtype: msg["samp.mtype"],
      startedAt: this.#now(),
      sync,
    };
    this.#pending.set(msgId, call);
    sender.callsOut.add(msgId);
    recipient.callsIn.add(msgId);
    this.#onActivity?.({
      kind: "send",
      mode,
      sender: sender.id,
      recipient: recipient.id,
      mtype: call.mtype,
      msgId,
    });
    this.#deliver(recipient, (d) => d.call(sender.id, msgId, msg), (e) => {
      this.#deliveryFailed(recipient, "receiveCall", e);
      // The recipient never got the call: answer the sender now instead of never.
      // If it may have got it, its own reply (or its leaving, or the call's
      // timeout) ends the call: an answer made up here could race its reply.
      const maybeDelivered = e instanceof DeliveryError && e.maybeDelivered;
      if (!maybeDelivered && this.#pending.get(msgId) === call) {
        this.#forget(msgId);
        this.#deliverResponse(
          call,
          errorResponse(
            `The hub could not deliver ${call.mtype} to ${recipient.id}: ${errorText(e)}`,
          ),
        );
      }
    });
    return msgId;
  }

  #deliverResponse(call: PendingCall, response: Response): void {
    if (call.sync) {
      call.sync.resolve(response);
      return;
    }
    const sender = call.sender;
    if (!sender.registered || !sender.callable || !sender.delivery) return;
    this.#deliver(
      sender,
      (d) => d.response(call.recipient.id, call.tag, response),
      (e) => this.#deliveryFailed(sender, "receiveResponse", e),
    );
  }

  /**
   * Runs a callback to `client` when one of its slots is free: at most
   * maxCallbacksPerClient at once, the rest in FIFO order behind them.
   */
  #deliver(
    client: ClientRecord,
    send: (delivery: Delivery) => Promise<void>,
    failed: (error: unknown) => void,
  ): void {
    const start = () => {
      const delivery = client.delivery;
      if (!client.registered || !delivery) return;
      client.active++;
      this.#track(send(delivery)).catch(failed).finally(() => {
        client.active--;
        const next = client.backlog.shift();
        if (next) next();
      });
    };
    if (client.active < this.#maxActive) {
      start();
    } else if (client.backlog.length < this.#maxBacklog) {
      client.backlog.push(start);
    } else {
      failed(
        new DeliveryError(
          `${client.id} has ${client.backlog.length} callbacks waiting: it is not keeping up`,
        ),
      );
    }
  }

  #forget(msgId: string): void {
    const call = this.#pending.get(msgId);
    if (!call) return;
    this.#pending.delete(msgId);
    call.sender.callsOut.delete(msgId);
    call.recipient.callsIn.delete(msgId);
  }

  #remove(client: ClientRecord, reason: string): void {
    if (!client.registered) return;
    client.registered = false;
    this.#byKey.delete(client.key);
    this.#byId.delete(client.id);
    this.#subscriberCache.clear();
    client.events.length = 0;
    client.backlog.length = 0;
    // Calls it will never answer: tell the callers now.
    for (const msgId of [...client.callsIn]) {
      const call = this.#pending.get(msgId);
      if (!call) continue;
      this.#forget(msgId);
      if (call.sender.registered) {
        this.#deliverResponse(
          call,
          errorResponse(`${client.id} left the hub (${reason}) before replying to ${call.mtype}`),
        );
      }
    }
    // Calls it was waiting for: nobody to answer any more.
    for (const msgId of [...client.callsOut]) {
      const call = this.#pending.get(msgId);
      if (!call) continue;
      this.#forget(msgId);
      call.sync?.reject(new SampFault(`${client.id} left the hub while waiting for ${msgId}`));
    }
    client.delivery?.close?.();
    client.delivery = null;
    client.callable = false;
    this.#onActivity?.({ kind: "unregister", client, reason });
    this.#broadcastEvent("samp.hub.event.unregister", { id: client.id });
  }

  /** Queues a hub event for every subscribed client, FIFO per client. */
  #broadcastEvent(mtype: string, params: SampMap, alsoFor?: ClientRecord): void {
    if (this.#closed) return;
    const message = event(mtype, params);
    for (const s of this.#subscribers(mtype)) {
      if (s.client === this.#hub) continue;
      const viewer = s.client;
      let msg = message;
      if (
        alsoFor && this.#policy?.visibleSubscriptions && mtype === "samp.hub.event.subscriptions"
      ) {
        msg = event(mtype, {
          id: alsoFor.id,
          subscriptions: this.#visibleSubscriptions(viewer, alsoFor),
        });
      }
      if (viewer.events.length >= this.#eventQueueLimit) {
        const dropped = viewer.events.shift()!;
        this.#onActivity?.({
          kind: "delivery-failed",
          recipient: viewer.id,
          callback: "receiveNotification",
          error: `${this.#eventQueueLimit} hub events are waiting: dropped the oldest ` +
            `(${dropped["samp.mtype"]})`,
        });
      }
      viewer.events.push(msg);
      this.#drainEvents(viewer);
    }
  }

  /**
   * Sends queued hub events to `client`: those about one client (`id` in
   * their params) strictly in order, one at a time, so register, metadata,
   * subscriptions and unregister of a client always arrive in that order;
   * events about different clients may be in flight together, up to
   * EVENTS_IN_FLIGHT. An event without an id (shutdown) waits for all
   * before it and holds back all after it.
   */
  #drainEvents(client: ClientRecord): void {
    const busy = client.eventsBusy;
    if (!client.callable || client.events.length === 0 || busy.has("")) return;
    const queue = client.events;
    let blocked: Set<string> | undefined;
    for (let i = 0; i < queue.length && busy.size < EVENTS_IN_FLIGHT;) {
      const id = eventSubject(queue[i]);
      if (id === "" && (busy.size > 0 || i > 0)) break;
      if (busy.has(id) || blocked?.has(id)) {
        // An earlier event about this client still waits or is in flight.
        (blocked ??= new Set()).add(id);
        i++;
        continue;
      }
      const msg = queue.splice(i, 1)[0];
      busy.add(id);
      this.#sendEvent(client, id, msg);
      if (id === "") break;
    }
  }

  #sendEvent(client: ClientRecord, subject: string, msg: Message): void {
    const delivery = client.delivery;
    if (!client.registered || !delivery) return;
    this.#track(
      delivery.notification(this.#hubId, msg).catch((e) =>
        this.#deliveryFailed(client, "receiveNotification", e)
      ),
    ).finally(() => {
      client.eventsBusy.delete(subject);
      if (client.registered && client.delivery) this.#drainEvents(client);
    });
  }

  #deliveryFailed(client: ClientRecord, callback: string, error: unknown): void {
    const maybeDelivered = error instanceof DeliveryError && error.maybeDelivered;
    // A tool that always answers in some way the hub cannot read would
    // otherwise fill the log: one full report per client, then `repeated`.
    const repeated = maybeDelivered && client.answerFailureReported;
    if (maybeDelivered) client.answerFailureReported = true;
    this.#onActivity?.({
      kind: "delivery-failed",
      recipient: client.id,
      callback,
      error: errorText(error),
      maybeDelivered,
      repeated,
    });
    if (error instanceof DeliveryError && error.unreachable && client.registered) {
      this.#remove(client, `callback endpoint unreachable: ${error.message}`);
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight++;
    return p.finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#queuedEventCount() === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  #queuedEventCount(): number {
    let n = 0;
    for (const c of this.#byId.values()) n += c.events.length + c.backlog.length;
    return n;
  }

  #waitIdle(ms: number): Promise<void> {
    if (this.#inFlight === 0 && this.#queuedEventCount() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idleWaiters.push(done);
    });
  }
}

/** Hub events to one client in flight at once (each about a different client), as many as other callbacks. */
const EVENTS_IN_FLIGHT = 8;

/** The client a hub event is about ("" for none: the shutdown event). */
function eventSubject(msg: Message): string {
  const id = (msg["samp.params"] as SampMap | undefined)?.id;
  return typeof id === "string" ? id : "";
}

function event(mtype: string, params: SampMap): Message {
  return { "samp.mtype": mtype, "samp.params": params };
}

function checkMessage(message: SampValue): Message {
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

function checkTag(tag: SampValue): string {
  if (typeof tag !== "string") {
    throw new SampFault(`msg-tag must be a string, not ${describe(tag)}`);
  }
  return tag;
}

function describe(v: SampValue): string {
  return typeof v === "string" ? "a string" : Array.isArray(v) ? "a list" : "a map";
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function setOwn(map: SampMap, key: string, value: SampValue): void {
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

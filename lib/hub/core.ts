/**
 * The profile-agnostic SAMP hub core: the routing rules and the hub API
 * (registration, metadata, subscriptions, notify, call, reply, …).
 *
 * The core never sees HTTP: a profile (Standard, Web) authenticates callers
 * by private key, calls the methods here, and gives each callable client a
 * {@linkcode Delivery} that carries callbacks to it by whatever transport the
 * profile uses. {@linkcode HubCore} holds the rules and is a facade over
 * parts that each hold one concept in their own module:
 *
 * - `_registry.ts`: the clients, by private key and by id, and who
 *   subscribes to what;
 * - `_pending.ts`: calls awaiting a reply, their msg-ids and timers;
 * - `_scheduler.ts`: when each callback leaves (per-client slots and
 *   backlog, hub events in order per subject client);
 * - `hub_client.ts`: the hub's own client, its subscriptions and answers;
 * - `_checks.ts`: what the API accepts as arguments.
 *
 * The types at its boundary are in `core_types.ts`, re-exported here.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import { bestMatch } from "../mtype.ts";
import type { Message, RegInfo, SampMap, SampResponse, SampValue } from "../types.ts";
import { setMember } from "../types.ts";
import { checkMap, checkMessage, checkString, checkSubscriptions } from "./_checks.ts";
import {
  type ClientInfo,
  type Delivery,
  DeliveryError,
  errorResponse,
  type HubActivity,
  type HubCoreOptions,
  type HubStats,
  type MessagePolicy,
} from "./core_types.ts";
import { createHubClient } from "./hub_client.ts";
import { type PendingCall, PendingCalls, type SyncWaiter } from "./_pending.ts";
import { type ClientRecord, Registry } from "./_registry.ts";
import { Scheduler } from "./_scheduler.ts";

// The boundary types live in core_types.ts; importers may take them from here.
export * from "./core_types.ts";

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
  readonly #now: () => number;
  readonly #registry = new Registry();
  readonly #pending: PendingCalls<ClientRecord>;
  readonly #scheduler: Scheduler<ClientRecord>;
  readonly #hub: ClientRecord;
  #messages = 0;
  #lastActivity: number;
  #closed = false;

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
    this.#now = options.now ?? Date.now;
    this.#lastActivity = this.#now();
    this.#pending = new PendingCalls(options.pendingCallTtlMs ?? 12 * 3600 * 1000);
    this.#scheduler = new Scheduler({
      hubId: this.#hubId,
      maxCallbacksPerClient: options.maxCallbacksPerClient ?? 8,
      maxQueuedCallbacks: options.maxQueuedCallbacks ?? 10_000,
      eventQueueLimit: options.eventQueueLimit ?? 1000,
      clients: () => this.#registry.clients(),
      eventFailed: (client, error) => this.#deliveryFailed(client, "receiveNotification", error),
      onActivity: this.#onActivity,
    });
    const hub = this.#registry.add(this.#hubId, "hk", "hub", this.#now());
    const own = createHubClient({
      clients: () => this.clients(),
      reply: (msgId, response) => this.reply(hub.key, msgId, response),
      registered: () => hub.registered,
    }, options.hubMetadata);
    hub.metadata = own.metadata;
    hub.subscriptions = own.subscriptions;
    hub.delivery = own.delivery;
    hub.callable = true;
    this.#hub = hub;
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
    const queued = this.#scheduler.queued();
    return {
      clients: this.#registry.size,
      pendingCalls: this.#pending.size,
      syncWaits: this.#pending.syncWaits,
      deliveriesInFlight: this.#scheduler.inFlight,
      queuedEvents: queued.events,
      queuedCallbacks: queued.callbacks,
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
    return [...this.#registry.clients()];
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
    return this.#registry.byId(id);
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
    return this.#registry.byKey(privateKey);
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
    return this.#registry.byId(id)?.lastActive;
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
    const client = this.#registry.register(profile, keyPrefix, this.#now());
    const { id, key } = client;
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
    this.#registry.subscriptionsChanged();
    this.#onActivity?.({ kind: "callable", client });
    if (client.callable) this.#scheduler.drainEvents(client);
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
    const map = checkMap(metadata, "Metadata");
    client.metadata = map;
    this.#onActivity?.({ kind: "metadata", client });
    this.#broadcastEvent("samp.hub.event.metadata", { id: client.id, metadata: map });
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
    const map = checkSubscriptions(subscriptions);
    client.subscriptions = map;
    this.#registry.subscriptionsChanged();
    this.#onActivity?.({ kind: "subscriptions", client });
    this.#broadcastEvent("samp.hub.event.subscriptions", {
      id: client.id,
      subscriptions: map,
    }, client);
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
    for (const c of this.#registry.clients()) if (c !== caller) ids.push(c.id);
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
    const type = checkString(mtype, "MType");
    const out: SampMap = {};
    for (const s of this.#registry.subscribers(type)) {
      if (s.client !== caller && this.#allows(caller, s.client, type, s.annotation)) {
        setMember(out, s.client.id, s.annotation);
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
    const tag = checkString(msgTag, "msg-tag");
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
    const tag = checkString(msgTag, "msg-tag");
    const msg = checkMessage(message);
    const out: SampMap = {};
    for (const r of this.#broadcastRecipients(sender, msg["samp.mtype"])) {
      setMember(out, r.id, this.#sendCall(sender, r, tag, msg, "call"));
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
  ): Promise<SampResponse> {
    const sender = this.#caller(privateKey);
    const msg = checkMessage(message);
    const recipient = this.#recipient(sender, recipientId, msg["samp.mtype"]);
    const requestedMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 : Infinity;
    const waitMs = Math.min(requestedMs, this.#maxSyncWaitMs);
    return new Promise<SampResponse>((resolve, reject) => {
      let msgId = "";
      const finish = () => {
        this.#pending.endWait(msgId);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        this.#pending.forget(msgId);
        finish();
        reject(new SampFault(`callAndWait ${msgId} abandoned: the caller disconnected`));
      };
      const sync = {
        resolve: (r: SampResponse) => {
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
      this.#pending.startWait(msgId, waitMs, () => {
        const seconds = waitMs / 1000;
        this.#pending.forget(msgId);
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
      });
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /**
   * Answers a call the caller received. Faults if the msg-id is unknown,
   * already answered, timed out, or was not addressed to the caller. Returns
   * whether the reply ended a synchronous wait (`callAndWait`).
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
  reply(privateKey: string, msgId: SampValue, response: SampValue): boolean {
    const responder = this.#caller(privateKey);
    const id = checkString(msgId, "msg-id");
    const resp = checkMap(response, "SampResponse") as SampResponse;
    const call = this.#pending.get(id);
    if (!call || call.recipient !== responder) {
      throw new SampFault(
        `No pending call with msg-id "${id}" for ${responder.id}: ` +
          "it was already answered, timed out, or its sender has left",
      );
    }
    this.#pending.forget(id);
    this.#onActivity?.({
      kind: "reply",
      msgId: id,
      responder: responder.id,
      sender: call.sender.id,
      status: typeof resp["samp.status"] === "string" ? resp["samp.status"] : "?",
    });
    this.#deliverResponse(call, resp);
    return call.sync !== undefined;
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
      const c = this.#registry.byKey(privateKey);
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
    const client = this.#registry.byId(clientId);
    if (!client || client === this.#hub) return false;
    const message = event("samp.hub.disconnect", { reason });
    if (client.callable && client.delivery && this.#subscribes(client, message["samp.mtype"])) {
      this.#scheduler.sendNow(client.delivery, message);
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
      for (const c of [...this.#registry.clients()]) {
        if (c !== this.#hub && now - c.lastActive > idleMs) {
          this.disconnect(c.id, "Timeout expired!");
          gone.push(c.id);
        }
      }
    }
    this.#pending.expire(now);
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
    await this.#scheduler.waitIdle(graceMs);
    this.#pending.close("The hub is shutting down");
    for (const c of [...this.#registry.clients()]) {
      c.registered = false;
      this.#scheduler.discard(c);
      c.delivery?.close?.();
    }
    this.#registry.clear();
    this.#hub.registered = false;
    await this.#scheduler.waitIdle(graceMs);
    this.#scheduler.close();
  }

  // ---- routing ----------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new SampFault("The hub is shutting down");
  }

  #caller(privateKey: string): ClientRecord {
    const client = this.#registry.byKey(privateKey);
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
    const id = checkString(clientId, "Client id");
    const client = this.#registry.byId(id);
    if (!client) throw new SampFault(`No registered client with ID "${id}"`);
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
    for (const s of this.#registry.subscribers(mtype)) {
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

  // ---- sending ----------------------------------------------------------

  #sendNotification(sender: ClientRecord, recipient: ClientRecord, msg: Message): void {
    this.#messages++;
    this.#onActivity?.({
      kind: "send",
      mode: "notify",
      sender: sender.id,
      recipient: recipient.id,
      mtype: msg["samp.mtype"],
    });
    this.#scheduler.deliver(
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
    sync?: SyncWaiter,
  ): string {
    this.#messages++;
    const call = this.#pending.open(
      sender,
      recipient,
      tag,
      msg["samp.mtype"],
      mode,
      this.#now(),
      sync,
    );
    const msgId = call.msgId;
    this.#onActivity?.({
      kind: "send",
      mode,
      sender: sender.id,
      recipient: recipient.id,
      mtype: call.mtype,
      msgId,
    });
    this.#scheduler.deliver(recipient, (d) => d.call(sender.id, msgId, msg), (e) => {
      this.#deliveryFailed(recipient, "receiveCall", e);
      // The recipient never got the call: answer the sender now instead of never.
      // If it may have got it, its own reply (or its leaving, or the call's
      // timeout) ends the call: an answer made up here could race its reply.
      const maybeDelivered = e instanceof DeliveryError && e.maybeDelivered;
      if (!maybeDelivered && this.#pending.get(msgId) === call) {
        this.#pending.forget(msgId);
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

  #deliverResponse(call: PendingCall<ClientRecord>, response: SampResponse): void {
    if (call.sync) {
      call.sync.resolve(response);
      return;
    }
    const sender = call.sender;
    if (!sender.registered || !sender.callable || !sender.delivery) return;
    this.#scheduler.deliver(
      sender,
      (d) => d.response(call.recipient.id, call.tag, response),
      (e) => this.#deliveryFailed(sender, "receiveResponse", e),
    );
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

  #remove(client: ClientRecord, reason: string): void {
    if (!client.registered) return;
    client.registered = false;
    this.#registry.remove(client);
    this.#scheduler.discard(client);
    // Calls it will never answer: tell the callers now.
    for (const msgId of [...client.callsIn]) {
      const call = this.#pending.get(msgId);
      if (!call) continue;
      this.#pending.forget(msgId);
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
      this.#pending.forget(msgId);
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
    for (const s of this.#registry.subscribers(mtype)) {
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
      this.#scheduler.queueEvent(viewer, msg);
    }
  }
}

function event(mtype: string, params: SampMap): Message {
  return { "samp.mtype": mtype, "samp.params": params };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

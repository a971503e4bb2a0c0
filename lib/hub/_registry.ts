/**
 * The hub core's client registry: a record per registered client, found by
 * private key or by public id, the ids and keys it hands out, and a cache of
 * who subscribes to what. Private to the hub core.
 *
 * @module
 */

import { bestMatch } from "../mtype.ts";
import { randomHex } from "../_secrets.ts";
import type { Message, SampMap } from "../types.ts";
import type { ClientInfo, Delivery } from "./core_types.ts";
import type { CallParty } from "./_pending.ts";
import type { Recipient } from "./_scheduler.ts";

/**
 * Everything the core holds about one client. The delivery scheduler's
 * queues ({@linkcode Recipient}) and the client's part in pending calls
 * ({@linkcode CallParty}) live on the record too, so that routing a message
 * looks nothing up beyond the record itself.
 *
 * @example
 * ```ts
 * import type { ClientRecord } from "./_registry.ts";
 * function isIdle(c: ClientRecord): boolean {
 *   return c.active === 0 && c.backlog.length === 0 && c.events.length === 0;
 * }
 * ```
 */
export interface ClientRecord extends ClientInfo, Recipient, CallParty {
  id: string;
  /** The private key. */
  key: string;
  profile: string;
  metadata: SampMap;
  subscriptions: SampMap;
  callable: boolean;
  registeredAt: number;
  delivery: Delivery | null;
  /** When it last called the hub (ms since the epoch). */
  lastActive: number;
  events: Message[];
  eventsBusy: Set<string>;
  active: number;
  backlog: (() => void)[];
  callsIn: Set<string>;
  callsOut: Set<string>;
  registered: boolean;
  /** A maybe-delivered failure of a callback to it was reported (later ones are `repeated`). */
  answerFailureReported: boolean;
}

/**
 * A callable client subscribed to an MType, with the annotation of its
 * most specific matching subscription.
 *
 * @example
 * ```ts
 * import type { Subscriber } from "./_registry.ts";
 * const label = (s: Subscriber): string => `${s.client.id} ${JSON.stringify(s.annotation)}`;
 * ```
 */
export interface Subscriber {
  /** The subscribed client. */
  client: ClientRecord;
  /** Its subscription's annotation. */
  annotation: SampMap;
}

/**
 * The registered clients.
 *
 * @example
 * ```ts
 * import { Registry } from "./_registry.ts";
 * const registry = new Registry();
 * const c = registry.register("standard", "k", Date.now());
 * console.log(c.id, registry.byKey(c.key) === c); // "c1" true
 * ```
 */
export class Registry {
  readonly #byKey = new Map<string, ClientRecord>();
  readonly #byId = new Map<string, ClientRecord>();
  readonly #subscriberCache = new Map<string, Subscriber[]>();
  #nextClient = 1;

  /** How many clients are registered. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Registers a client under a new public id (`c1`, `c2`, …) with a new
   * private key `<keyPrefix>:<32 hex digits>`.
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * new Registry().register("web", "wk", Date.now()).key.startsWith("wk:"); // true
   * ```
   */
  register(profile: string, keyPrefix: string, now: number): ClientRecord {
    return this.add(`c${this.#nextClient++}`, keyPrefix, profile, now);
  }

  /**
   * Registers a client under the public id `id` (the hub's own client) with
   * a new private key `<keyPrefix>:<32 hex digits>`.
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * new Registry().add("hub", "hk", "hub", Date.now()).id; // "hub"
   * ```
   */
  add(id: string, keyPrefix: string, profile: string, now: number): ClientRecord {
    const key = `${keyPrefix}:${randomHex(16)}`;
    const client: ClientRecord = {
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
    this.#byKey.set(key, client);
    this.#byId.set(id, client);
    return client;
  }

  /**
   * The client with this private key, or `undefined`.
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * new Registry().byKey("k:0"); // undefined
   * ```
   */
  byKey(privateKey: string): ClientRecord | undefined {
    return this.#byKey.get(privateKey);
  }

  /**
   * The client with this public id, or `undefined`.
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * new Registry().byId("c1"); // undefined
   * ```
   */
  byId(id: string): ClientRecord | undefined {
    return this.#byId.get(id);
  }

  /**
   * The registered clients in registration order.
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * const registry = new Registry();
   * registry.register("standard", "k", Date.now());
   * for (const c of registry.clients()) console.log(c.id); // "c1"
   * ```
   */
  clients(): MapIterator<ClientRecord> {
    return this.#byId.values();
  }

  /**
   * Removes a client (its key and id are known no more).
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * const registry = new Registry();
   * registry.remove(registry.register("standard", "k", Date.now()));
   * console.log(registry.size); // 0
   * ```
   */
  remove(client: ClientRecord): void {
    this.#byKey.delete(client.key);
    this.#byId.delete(client.id);
    this.#subscriberCache.clear();
  }

  /**
   * Removes every client.
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * new Registry().clear();
   * ```
   */
  clear(): void {
    this.#byId.clear();
    this.#byKey.clear();
    this.#subscriberCache.clear();
  }

  /**
   * Callable clients subscribed to `mtype`, each with its most specific
   * matching subscription's annotation; cached until
   * {@linkcode Registry.subscriptionsChanged} (or a removal).
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * const registry = new Registry();
   * const c = registry.register("standard", "k", Date.now());
   * c.subscriptions = { "table.*": { note: "any table" } };
   * c.callable = true;
   * registry.subscribers("table.load.votable")[0].annotation; // { note: "any table" }
   * ```
   */
  subscribers(mtype: string): Subscriber[] {
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

  /**
   * Forgets the cached subscribers: call it whenever a client's
   * subscriptions or callability change.
   *
   * @example
   * ```ts
   * import { Registry } from "./_registry.ts";
   * new Registry().subscriptionsChanged();
   * ```
   */
  subscriptionsChanged(): void {
    this.#subscriberCache.clear();
  }
}

/** MTypes whose subscribers are cached at once; the cache starts afresh beyond. */
const SUBSCRIBER_CACHE_LIMIT = 2048;

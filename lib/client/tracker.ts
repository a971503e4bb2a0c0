/**
 * A live view of the hub's other clients (ids, metadata, subscriptions),
 * kept current from `samp.hub.event.*` messages, and re-read from the hub
 * once the events about a client stop, since some hubs (astropy's) can
 * deliver them out of order.
 *
 * @module
 */

import { bestMatch } from "../mtype.ts";
import type { SampMap, SampValue } from "../types.ts";
import { isSampMap } from "../types.ts";
import type { HubConnection } from "./connection.ts";
import { findClients, resolveClients } from "./names.ts";

/**
 * What the tracker knows of one client.
 *
 * @example
 * ```ts
 * import type { TrackedClient } from "./tracker.ts";
 * const show = (c: TrackedClient) => `${c.id}: ${c.name ?? "(no name)"}`;
 * ```
 */
export interface TrackedClient {
  /** Public id. */
  readonly id: string;
  /** `samp.name`, if declared. */
  readonly name?: string;
  /** The declared metadata. */
  readonly metadata: SampMap;
  /** The declared subscriptions. */
  readonly subscriptions: SampMap;
}

/**
 * A change seen by the tracker.
 *
 * @example
 * ```ts
 * import type { TrackerChange } from "./tracker.ts";
 * const log = (c: TrackerChange) => console.log(c.kind, c.id);
 * ```
 */
export interface TrackerChange {
  /** What happened. */
  kind: "register" | "unregister" | "metadata" | "subscriptions";
  /** The client it happened to. */
  id: string;
}

/**
 * The live client list. Read it any time; subscribe to changes with
 * {@linkcode ClientTracker.onChange}.
 *
 * @example
 * ```ts
 * import { ClientTracker } from "./tracker.ts";
 * const tracker = new ClientTracker();
 * tracker.handleEvent("samp.hub.event.register", { id: "c1" });
 * tracker.handleEvent("samp.hub.event.metadata", { id: "c1", metadata: { "samp.name": "topcat" } });
 * console.log(tracker.byName("topcat")?.id); // "c1"
 * ```
 */
export class ClientTracker implements Iterable<TrackedClient> {
  readonly #clients = new Map<string, TrackedClient>();
  readonly #listeners = new Set<(change: TrackerChange) => void>();
  #removed = new Set<string>();
  // This client's own id, once loaded: names never fit it loosely.
  #selfId: string | undefined;
  // Fields set by events since the last load began: newer than what load fetches.
  #metadataSeen = new Set<string>();
  #subscriptionsSeen = new Set<string>();
  // Per client: metadata and subscriptions events applied, pending re-reads.
  readonly #events = new Map<string, number>();
  readonly #refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #refreshing = new Set<Promise<void>>();

  /** The MTypes the tracker needs to hear. */
  static readonly MTYPES: readonly string[] = [
    "samp.hub.event.register",
    "samp.hub.event.unregister",
    "samp.hub.event.metadata",
    "samp.hub.event.subscriptions",
  ];

  /**
   * Loads the current client list from the hub. Events that arrive while it
   * loads are kept: a client that leaves meanwhile is not brought back.
   *
   * @example
   * ```ts ignore
   * await tracker.load(connection);
   * ```
   */
  async load(connection: HubConnection): Promise<void> {
    this.#removed = new Set();
    this.#selfId = connection.selfId;
    this.#metadataSeen = new Set();
    this.#subscriptionsSeen = new Set();
    const ids = [...await connection.getRegisteredClients(), connection.selfId];
    const loadOne = async (id: string) => {
      try {
        const [metadata, subscriptions] = await Promise.all([
          connection.getMetadata(id),
          connection.getSubscriptions(id),
        ]);
        if (this.#removed.has(id)) return;
        const known = this.#clients.get(id);
        // An event that arrived during the load is newer than what we fetched.
        this.#set(
          id,
          known && this.#metadataSeen.has(id) ? known.metadata : metadata,
          known && this.#subscriptionsSeen.has(id) ? known.subscriptions : subscriptions,
        );
      } catch {
        // It left between the two calls.
      }
    };
    // Two clients (four requests) at a time: astropy's hub listens with a
    // backlog of 5, and connections beyond it wait for a SYN retry (1 s).
    const queue = [...ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await loadOne(id);
    };
    await Promise.all([worker(), worker()]);
    for (const id of [...this.#clients.keys()]) {
      if (!ids.includes(id) && !this.#removed.has(id)) this.#clients.delete(id);
    }
  }

  /**
   * Applies one hub event. Returns whether it was a tracker event.
   *
   * @example
   * ```ts
   * import { ClientTracker } from "./tracker.ts";
   * new ClientTracker().handleEvent("samp.hub.event.unregister", { id: "c9" }); // true
   * ```
   */
  handleEvent(mtype: string, params: SampMap): boolean {
    const id = params.id;
    if (typeof id !== "string") return false;
    const known = this.#clients.get(id);
    switch (mtype) {
      case "samp.hub.event.register":
        this.#removed.delete(id);
        if (!known) this.#set(id, {}, {});
        break;
      case "samp.hub.event.unregister":
        this.#removed.add(id);
        this.#events.delete(id);
        clearTimeout(this.#refreshTimers.get(id));
        this.#refreshTimers.delete(id);
        if (!this.#clients.delete(id)) return true;
        break;
      case "samp.hub.event.metadata":
        if (this.#removed.has(id)) return true;
        this.#metadataSeen.add(id);
        this.#events.set(id, (this.#events.get(id) ?? 0) + 1);
        this.#set(id, asMap(params.metadata), known?.subscriptions ?? {});
        break;
      case "samp.hub.event.subscriptions":
        if (this.#removed.has(id)) return true;
        this.#subscriptionsSeen.add(id);
        this.#events.set(id, (this.#events.get(id) ?? 0) + 1);
        this.#set(id, known?.metadata ?? {}, asMap(params.subscriptions));
        break;
      default:
        return false;
    }
    const change: TrackerChange = {
      kind: mtype.slice("samp.hub.event.".length) as TrackerChange["kind"],
      id,
    };
    for (const listener of this.#listeners) listener(change);
    return true;
  }

  /**
   * Re-reads one client's metadata and subscriptions from the hub once no
   * event about it has come for `quietMs`, and keeps what the hub says unless
   * a newer event arrives meanwhile. Hubs that deliver events from several
   * threads (astropy's) can deliver two subscriptions events about one
   * client in the wrong order, and then only the hub knows the last word.
   * The wait is `quietMs` plus up to twice as much again at random: every
   * client of a hub hears of a newcomer at once, and were they all to ask
   * together, astropy's hub (which listens with a backlog of 5) would make
   * most of them, and the newcomer, wait a second for a TCP retry.
   *
   * @example
   * ```ts ignore
   * if (tracker.handleEvent(mtype, params)) tracker.refreshSoon(connection, params.id);
   * ```
   */
  refreshSoon(connection: HubConnection, id: string, quietMs = 200): void {
    if (this.#removed.has(id) || !this.#clients.has(id)) return;
    clearTimeout(this.#refreshTimers.get(id));
    this.#refreshTimers.set(
      id,
      setTimeout(() => {
        this.#refreshTimers.delete(id);
        const reading = this.#refresh(connection, id).finally(() => {
          this.#refreshing.delete(reading);
        });
        this.#refreshing.add(reading);
      }, quietMs * (1 + 2 * Math.random())),
    );
  }

  async #refresh(connection: HubConnection, id: string): Promise<void> {
    const before = this.#events.get(id);
    let metadata: SampMap, subscriptions: SampMap;
    try {
      [metadata, subscriptions] = await Promise.all([
        connection.getMetadata(id),
        connection.getSubscriptions(id),
      ]);
    } catch {
      return; // it left, or the hub did: events say so
    }
    const known = this.#clients.get(id);
    if (!known || this.#removed.has(id) || this.#events.get(id) !== before) return;
    const changed: TrackerChange["kind"][] = [];
    if (JSON.stringify(metadata) !== JSON.stringify(known.metadata)) changed.push("metadata");
    if (JSON.stringify(subscriptions) !== JSON.stringify(known.subscriptions)) {
      changed.push("subscriptions");
    }
    if (changed.length === 0) return;
    this.#set(id, metadata, subscriptions);
    for (const kind of changed) for (const listener of this.#listeners) listener({ kind, id });
  }

  /**
   * Cancels pending re-reads and waits for those under way.
   *
   * @example
   * ```ts ignore
   * await tracker.settle();
   * ```
   */
  async settle(): Promise<void> {
    for (const timer of this.#refreshTimers.values()) clearTimeout(timer);
    this.#refreshTimers.clear();
    await Promise.allSettled([...this.#refreshing]);
  }

  /**
   * Calls `listener` on every change; returns a function that stops it.
   *
   * @example
   * ```ts
   * import { ClientTracker } from "./tracker.ts";
   * const stop = new ClientTracker().onChange((c) => console.log(c.kind, c.id));
   * stop();
   * ```
   */
  onChange(listener: (change: TrackerChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * One client, by public id.
   *
   * @example
   * ```ts
   * import { ClientTracker } from "./tracker.ts";
   * new ClientTracker().get("c1"); // undefined until known
   * ```
   */
  get(id: string): TrackedClient | undefined {
    return this.#clients.get(id);
  }

  /**
   * The client `name` designates: a public id, a `samp.name` (ignoring
   * case), an everyday name of a well-known tool (`ds9` finds
   * `SAOImageDS9`), or the start or a part of one client's `samp.name`
   * (see `names.ts` for the order). When several clients share that exact
   * `samp.name`, the first; {@linkcode ClientTracker.resolve} gives them all.
   *
   * @returns The client, or `undefined` when the name fits nobody.
   * @throws {AmbiguousClientError} If the name is the start or a part of
   * several different tools' names (never for an exact id or name).
   *
   * @example
   * ```ts
   * import { ClientTracker } from "./tracker.ts";
   * const tracker = new ClientTracker();
   * const metadata = { "samp.name": "SAOImageDS9" };
   * tracker.handleEvent("samp.hub.event.metadata", { id: "c2", metadata });
   * console.log(tracker.byName("ds9")?.id); // "c2"
   * ```
   */
  byName(name: string): TrackedClient | undefined {
    return findClients(this.#clients.values(), name, { selfId: this.#selfId })[0];
  }

  /**
   * Every client `name` designates, as {@linkcode ClientTracker.byName}
   * finds them (several when they share that exact `samp.name`, e.g. two
   * TOPCATs), or an error that says who is there.
   *
   * @returns One client or more.
   * @throws {UnknownClientError} If the name fits nobody; it lists the registered clients.
   * @throws {AmbiguousClientError} If it fits several different tools; it lists them.
   *
   * @example
   * ```ts
   * import { ClientTracker } from "./tracker.ts";
   * import { ClientNameError } from "./names.ts";
   * const tracker = new ClientTracker();
   * try {
   *   for (const c of tracker.resolve("topcat")) console.log(c.id);
   * } catch (e) {
   *   if (e instanceof ClientNameError) console.error(e.message); // no client "topcat" is registered; ...
   * }
   * ```
   */
  resolve(name: string): TrackedClient[] {
    return resolveClients(this.#clients.values(), name, { selfId: this.#selfId });
  }

  /**
   * The clients subscribed to `mtype`.
   *
   * @example
   * ```ts
   * import { ClientTracker } from "./tracker.ts";
   * new ClientTracker().subscribedTo("table.load.votable"); // []
   * ```
   */
  subscribedTo(mtype: string): TrackedClient[] {
    return [...this.#clients.values()].filter((c) =>
      bestMatch(Object.keys(c.subscriptions), mtype) !== undefined
    );
  }

  /** How many clients are known. */
  get size(): number {
    return this.#clients.size;
  }

  /** Iterates over the known clients. */
  [Symbol.iterator](): Iterator<TrackedClient> {
    return this.#clients.values();
  }

  /**
   * Forgets everything (on disconnection).
   *
   * @example
   * ```ts
   * import { ClientTracker } from "./tracker.ts";
   * new ClientTracker().clear();
   * ```
   */
  clear(): void {
    this.#clients.clear();
    this.#selfId = undefined;
    this.#removed.clear();
    this.#events.clear();
    for (const timer of this.#refreshTimers.values()) clearTimeout(timer);
    this.#refreshTimers.clear();
  }

  #set(id: string, metadata: SampMap, subscriptions: SampMap): void {
    const name = metadata["samp.name"];
    this.#clients.set(id, {
      id,
      name: typeof name === "string" ? name : undefined,
      metadata,
      subscriptions,
    });
  }
}

function asMap(v: SampValue | undefined): SampMap {
  return v !== undefined && isSampMap(v) ? v : {};
}

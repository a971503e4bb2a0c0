/**
 * The hub core's delivery scheduler: when each callback leaves for its
 * client. Each client has a few slots (`maxCallbacksPerClient`) with a FIFO
 * backlog behind them, and its own queue of hub events, sent in order per
 * subject client and bounded by the event queue limit. Across all clients,
 * at most a window of recently started callbacks is in flight, so that a
 * flood never buries a ping. It also counts the deliveries in flight, so
 * that shutting down can wait for them. Private to the hub core.
 *
 * @module
 */

import type { Message, SampMap } from "../types.ts";
import { type Delivery, DeliveryError, type HubActivity } from "./core_types.ts";

/**
 * One client as the scheduler sees it: how to reach it and what waits for
 * it. The state lives on the client's record, so a delivery looks nothing up.
 *
 * @example
 * ```ts
 * import type { Recipient } from "./_scheduler.ts";
 * const r: Recipient = {
 *   id: "c1", registered: true, callable: false, delivery: null,
 *   events: [], eventsBusy: new Set(), active: 0, backlog: [],
 * };
 * ```
 */
export interface Recipient {
  /** The public id. */
  readonly id: string;
  /** False once it has left: nothing more is sent to it. */
  readonly registered: boolean;
  /** Whether it can receive callbacks. */
  readonly callable: boolean;
  /** How callbacks reach it (null while not callable). */
  readonly delivery: Delivery | null;
  /** Hub events waiting for delivery to this client, oldest first. */
  readonly events: Message[];
  /** Subjects (client ids; "" for the hub) of hub events in flight to this client. */
  readonly eventsBusy: Set<string>;
  /** Callbacks in flight to this client (hub events apart). */
  active: number;
  /** Callbacks waiting for one of this client's slots. */
  readonly backlog: (() => void)[];
}

/**
 * Settings and hooks of a {@linkcode Scheduler}.
 *
 * @example
 * ```ts
 * import type { Recipient, SchedulerOptions } from "./_scheduler.ts";
 * const clients: Recipient[] = [];
 * const options: SchedulerOptions<Recipient> = {
 *   hubId: "hub",
 *   maxCallbacksPerClient: 8,
 *   maxQueuedCallbacks: 10_000,
 *   eventQueueLimit: 1000,
 *   clients: () => clients,
 *   eventFailed: (client, error) => console.log(client.id, error),
 * };
 * ```
 */
export interface SchedulerOptions<C extends Recipient> {
  /** The hub's own client id: the sender of hub events. */
  hubId: string;
  /** Callbacks (hub events apart) in flight to one client at a time. */
  maxCallbacksPerClient: number;
  /** Callbacks that may wait for one client before further ones fail. */
  maxQueuedCallbacks: number;
  /** Hub events queued for one client before the oldest is dropped. */
  eventQueueLimit: number;
  /** Every registered client (to tell when nothing is queued any more). */
  clients(): Iterable<C>;
  /** A hub event could not be delivered to `client`. */
  eventFailed(client: C, error: unknown): void;
  /** Told when a hub event is dropped from a full queue. */
  onActivity?: (activity: HubActivity) => void;
}

/**
 * Schedules the callbacks to every client.
 *
 * @example
 * ```ts
 * import { type Recipient, Scheduler } from "./_scheduler.ts";
 * const client: Recipient = {
 *   id: "c1", registered: true, callable: true, events: [], eventsBusy: new Set(), active: 0, backlog: [],
 *   delivery: { notification: async (_, m) => console.log(m["samp.mtype"]), call: async () => {}, response: async () => {} },
 * };
 * const scheduler = new Scheduler({
 *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
 *   clients: () => [client], eventFailed: () => {},
 * });
 * scheduler.queueEvent(client, { "samp.mtype": "samp.hub.event.register", "samp.params": { id: "c2" } });
 * await scheduler.waitIdle(1000);
 * ```
 */
export class Scheduler<C extends Recipient> {
  readonly #hubId: string;
  readonly #maxActive: number;
  readonly #maxBacklog: number;
  readonly #eventQueueLimit: number;
  readonly #clients: () => Iterable<C>;
  readonly #eventFailed: (client: C, error: unknown) => void;
  readonly #onActivity?: (activity: HubActivity) => void;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  /** Callbacks waiting for room in the window, oldest at #waitingHead. */
  readonly #waiting: (() => void)[] = [];
  #waitingHead = 0;
  /** Callbacks in flight that started less than AGE_MS ago (as far as known). */
  #young = 0;
  /** When each callback in flight started, oldest at #startsHead (those that may still count). */
  readonly #starts: { at: number; young: boolean }[] = [];
  #startsHead = 0;
  #ageTimer?: ReturnType<typeof setTimeout>;

  /**
   * Makes a scheduler with nothing queued.
   *
   * @example
   * ```ts
   * import { Scheduler } from "./_scheduler.ts";
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [], eventFailed: () => {},
   * });
   * ```
   */
  constructor(options: SchedulerOptions<C>) {
    this.#hubId = options.hubId;
    this.#maxActive = options.maxCallbacksPerClient;
    this.#maxBacklog = options.maxQueuedCallbacks;
    this.#eventQueueLimit = options.eventQueueLimit;
    this.#clients = options.clients;
    this.#eventFailed = options.eventFailed;
    this.#onActivity = options.onActivity;
  }

  /** Callbacks handed to a Delivery and not yet finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Runs a callback to `client` when one of its slots is free: at most
   * maxCallbacksPerClient at once, the rest in FIFO order behind them. When
   * the backlog is full, `failed` gets a {@linkcode DeliveryError} at once.
   *
   * @example
   * ```ts
   * import { type Recipient, Scheduler } from "./_scheduler.ts";
   * const client: Recipient = {
   *   id: "c1", registered: true, callable: true, events: [], eventsBusy: new Set(), active: 0, backlog: [],
   *   delivery: { notification: async () => {}, call: async () => {}, response: async () => {} },
   * };
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 1, maxQueuedCallbacks: 1, eventQueueLimit: 100,
   *   clients: () => [client], eventFailed: () => {},
   * });
   * const message = { "samp.mtype": "x.y", "samp.params": {} };
   * for (let i = 0; i < 3; i++) {
   *   scheduler.deliver(client, (d) => d.notification("c2", message), (e) => console.log(String(e)));
   * } // the third fails: one in flight, one waiting
   * await scheduler.waitIdle(1000);
   * ```
   */
  deliver(
    client: C,
    send: (delivery: Delivery) => Promise<void>,
    failed: (error: unknown) => void,
  ): void {
    const start = () => {
      const delivery = client.delivery;
      if (!client.registered || !delivery) {
        client.active--;
        return;
      }
      this.#track(send(delivery), failed, () => {
        client.active--;
        const next = client.backlog.shift();
        if (next) {
          client.active++;
          this.#start(next);
        }
      });
    };
    if (client.active < this.#maxActive) {
      client.active++;
      this.#start(start);
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

  /**
   * Queues a hub event for `client` (dropping its oldest queued event when
   * the queue is full) and sends what may go now.
   *
   * @example
   * ```ts
   * import { type Recipient, Scheduler } from "./_scheduler.ts";
   * const client: Recipient = {
   *   id: "c1", registered: true, callable: false, delivery: null,
   *   events: [], eventsBusy: new Set(), active: 0, backlog: [],
   * };
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [client], eventFailed: () => {},
   * });
   * scheduler.queueEvent(client, { "samp.mtype": "samp.hub.event.register", "samp.params": { id: "c2" } });
   * console.log(client.events.length); // 1: it waits until the client is callable
   * ```
   */
  queueEvent(client: C, message: Message): void {
    if (client.events.length >= this.#eventQueueLimit) {
      const dropped = client.events.shift()!;
      this.#onActivity?.({
        kind: "delivery-failed",
        recipient: client.id,
        callback: "receiveNotification",
        error: `${this.#eventQueueLimit} hub events are waiting: dropped the oldest ` +
          `(${dropped["samp.mtype"]})`,
      });
    }
    client.events.push(message);
    this.drainEvents(client);
  }

  /**
   * Sends queued hub events to `client`: those about one client (`id` in
   * their params) strictly in order, one at a time, so register, metadata,
   * subscriptions and unregister of a client always arrive in that order;
   * events about different clients may be in flight together, up to
   * EVENTS_IN_FLIGHT. An event without an id (shutdown) waits for all
   * before it and holds back all after it.
   *
   * @example
   * ```ts
   * import { type Recipient, Scheduler } from "./_scheduler.ts";
   * const client: Recipient = {
   *   id: "c1", registered: true, callable: false, delivery: null,
   *   events: [], eventsBusy: new Set(), active: 0, backlog: [],
   * };
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [client], eventFailed: () => {},
   * });
   * scheduler.drainEvents(client); // not callable: nothing to send
   * ```
   */
  drainEvents(client: C): void {
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

  /**
   * Sends a notification from the hub through `delivery` at once, outside
   * every queue, ignoring failure (the hub's parting word to a client it
   * drops). Shutting down still waits for it.
   *
   * @example
   * ```ts
   * import { Scheduler } from "./_scheduler.ts";
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [], eventFailed: () => {},
   * });
   * const delivery = { notification: async () => {}, call: async () => {}, response: async () => {} };
   * scheduler.sendNow(delivery, { "samp.mtype": "samp.hub.disconnect", "samp.params": { reason: "bye" } });
   * await scheduler.waitIdle(1000);
   * ```
   */
  sendNow(delivery: Delivery, message: Message): void {
    this.#track(delivery.notification(this.#hubId, message), NOOP);
  }

  /**
   * Drops everything queued for `client` (it is leaving).
   *
   * @example
   * ```ts
   * import { type Recipient, Scheduler } from "./_scheduler.ts";
   * const client: Recipient = {
   *   id: "c1", registered: true, callable: false, delivery: null,
   *   events: [], eventsBusy: new Set(), active: 0, backlog: [],
   * };
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [client], eventFailed: () => {},
   * });
   * scheduler.discard(client);
   * ```
   */
  discard(client: C): void {
    client.events.length = 0;
    client.backlog.length = 0;
  }

  /**
   * Counts the hub events and the callbacks waiting, over all clients.
   *
   * @example
   * ```ts
   * import { Scheduler } from "./_scheduler.ts";
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [], eventFailed: () => {},
   * });
   * scheduler.queued(); // { events: 0, callbacks: 0 }
   * ```
   */
  queued(): { events: number; callbacks: number } {
    let events = 0;
    let callbacks = 0;
    for (const c of this.#clients()) {
      events += c.events.length;
      callbacks += c.backlog.length;
    }
    return { events, callbacks };
  }

  /**
   * Resolves when no delivery is in flight and nothing is queued, or after
   * `ms` at the latest.
   *
   * @example
   * ```ts
   * import { Scheduler } from "./_scheduler.ts";
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [], eventFailed: () => {},
   * });
   * await scheduler.waitIdle(1000); // at once: nothing to wait for
   * ```
   */
  waitIdle(ms: number): Promise<void> {
    if (this.#inFlight === 0 && this.#queuedCount() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idleWaiters.push(done);
    });
  }

  /**
   * Stops the turn timer; callbacks still waiting for a turn are dropped
   * (the core closes it after every client is gone).
   *
   * @example
   * ```ts
   * import { Scheduler } from "./_scheduler.ts";
   * const scheduler = new Scheduler({
   *   hubId: "hub", maxCallbacksPerClient: 8, maxQueuedCallbacks: 100, eventQueueLimit: 100,
   *   clients: () => [], eventFailed: () => {},
   * });
   * scheduler.close();
   * ```
   */
  close(): void {
    clearTimeout(this.#ageTimer);
    this.#ageTimer = undefined;
    this.#waiting.length = 0;
    this.#waitingHead = 0;
  }

  #sendEvent(client: C, subject: string, msg: Message): void {
    this.#start(() => {
      const delivery = client.delivery;
      if (!client.registered || !delivery) {
        client.eventsBusy.delete(subject);
        return;
      }
      this.#track(
        delivery.notification(this.#hubId, msg),
        (e) => this.#eventFailed(client, e),
        () => {
          client.eventsBusy.delete(subject);
          if (client.registered && client.delivery) this.drainEvents(client);
        },
      );
    });
  }

  /**
   * Starts a callback now, unless WINDOW callbacks started in the last
   * AGE_MS are still in flight: then it waits, in order, and starts when one
   * of them finishes or grows old. Under a flood (a broadcast to hundreds of
   * clients, a registration storm among them) the hub so keeps a bounded
   * number of answers coming back, and what arrives meanwhile (a ping, a
   * click) is read between a few of them instead of after thousands. A
   * callback that takes longer than AGE_MS (a client that hangs, or answers
   * only after a call of its own) stops counting, so slow clients never hold
   * up the others.
   */
  #start(start: () => void): void {
    if (this.#waitingHead === this.#waiting.length && this.#hasRoom()) return start();
    this.#waiting.push(start);
    this.#armAgeTimer();
  }

  /** Whether fewer than WINDOW young callbacks are in flight. */
  #hasRoom(): boolean {
    if (this.#young < WINDOW) return true;
    // Those started AGE_MS ago or more no longer count.
    this.#dropStarts(performance.now());
    return this.#young < WINDOW;
  }

  /**
   * Forgets the start records at the head of the list that no longer count:
   * finished ones, and (given `now`) those started AGE_MS ago or more.
   */
  #dropStarts(now?: number): void {
    const starts = this.#starts;
    let head = this.#startsHead;
    while (head < starts.length) {
      const s = starts[head];
      if (s.young) {
        if (now === undefined || now - s.at < AGE_MS) break;
        s.young = false;
        this.#young--;
      }
      head++;
    }
    if (head === starts.length) {
      starts.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > starts.length) {
      starts.splice(0, head);
      head = 0;
    }
    this.#startsHead = head;
  }

  /** Starts what waits, oldest first, while the window has room. */
  #startWaiting(): void {
    const waiting = this.#waiting;
    while (this.#waitingHead < waiting.length && this.#hasRoom()) {
      const start = waiting[this.#waitingHead];
      waiting[this.#waitingHead++] = NOOP;
      start();
    }
    if (this.#waitingHead === waiting.length) {
      waiting.length = 0;
      this.#waitingHead = 0;
      clearTimeout(this.#ageTimer);
      this.#ageTimer = undefined;
    } else if (this.#waitingHead > 1024 && this.#waitingHead * 2 > waiting.length) {
      waiting.splice(0, this.#waitingHead);
      this.#waitingHead = 0;
    }
  }

  /** While callbacks wait, looks again every AGE_MS even if nothing finishes. */
  #armAgeTimer(): void {
    if (this.#ageTimer !== undefined) return;
    this.#ageTimer = setTimeout(() => {
      this.#ageTimer = undefined;
      this.#startWaiting();
      if (this.#waitingHead < this.#waiting.length) this.#armAgeTimer();
    }, AGE_MS);
  }

  /**
   * Counts `p` in flight until it settles; then `failed` hears of its
   * failure, the window and the idle waiters are told, and `after` runs.
   * One reaction for all of it: a callback's bookkeeping is two small
   * functions, not a chain of promises, while it waits for its answer.
   */
  #track(p: Promise<unknown>, failed: (error: unknown) => void, after?: () => void): void {
    this.#inFlight++;
    this.#young++;
    const started = { at: performance.now(), young: true };
    this.#starts.push(started);
    const settled = () => {
      this.#settled(started);
      after?.();
    };
    p.then(settled, (e) => {
      try {
        failed(e);
      } finally {
        settled();
      }
    });
  }

  /** Takes a finished callback out of the counts and starts what may go now. */
  #settled(started: { at: number; young: boolean }): void {
    this.#inFlight--;
    if (started.young) {
      started.young = false;
      this.#young--;
      if (this.#starts[this.#startsHead] === started) this.#dropStarts();
    }
    // Behind a callback that hangs, finished records would pile up: past
    // a few windows' worth, the old ones are let go too.
    if (this.#starts.length - this.#startsHead > 4 * WINDOW) {
      this.#dropStarts(performance.now());
    }
    if (this.#waitingHead < this.#waiting.length) this.#startWaiting();
    if (this.#inFlight === 0 && this.#queuedCount() === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #queuedCount(): number {
    let n = 0;
    for (const c of this.#clients()) n += c.events.length + c.backlog.length;
    return n + this.#waiting.length - this.#waitingHead;
  }
}

/** Young callbacks in flight at most, beyond which further ones wait for one to finish. */
const WINDOW = 64;
/** How long a callback in flight counts against the window (ms). */
const AGE_MS = 100;

const NOOP = () => {};
/** Hub events to one client in flight at once (each about a different client), as many as other callbacks. */
const EVENTS_IN_FLIGHT = 8;

/** The client a hub event is about ("" for none: the shutdown event). */
function eventSubject(msg: Message): string {
  const id = (msg["samp.params"] as SampMap | undefined)?.id;
  return typeof id === "string" ? id : "";
}

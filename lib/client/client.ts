/**
 * The high-level SAMP client: connect, declare who you are, send typed
 * messages, handle incoming ones per MType, and let the library take care of
 * pings, hub events, replies and reconnection.
 *
 * @module
 */

import { SampErrorResponse, SampFault, SampTimeoutError, TransportError } from "../errors.ts";
import { bestMatch, isMTypePattern } from "../mtype.ts";
import type {
  ErrorInfo,
  Message,
  ResponseStatus,
  SampMap,
  SampResponse,
  SampValue,
} from "../types.ts";
import { isSampMap } from "../types.ts";
import type { CallbackHandler, HubConnection } from "./connection.ts";
import type { ExtraParams, ParamsOf, ReceivedParams, ResultOf } from "./mtypes.ts";
import { type ConnectOptions, connectStandard } from "./standard_transport.ts";
import { connectWeb, translateUrl } from "./web_transport.ts";
import { ClientTracker } from "./tracker.ts";
import {
  isLoopbackHost,
  NoResourceServerError,
  type OfferedResource,
  type OfferOptions,
  ResourceStore,
} from "./resources.ts";
import { toVOTable, type VOTableOptions, type VOTableRecord } from "./votable.ts";

/**
 * Options of {@linkcode SampClient.connect}.
 *
 * @example
 * ```ts
 * import type { SampClientOptions } from "./client.ts";
 * const options: SampClientOptions = {
 *   name: "my-pipeline",
 *   description: "Sends reduced tables to TOPCAT",
 *   reconnect: true,
 * };
 * ```
 */
export interface SampClientOptions extends ConnectOptions {
  /** `samp.name`: a short application name. */
  name?: string;
  /** `samp.description.text`. */
  description?: string;
  /** Further metadata (`samp.icon.url`, `author.name`, …). */
  metadata?: SampMap;
  /** Whether the client receives messages (needs a callback endpoint). Default true. */
  callable?: boolean;
  /**
   * Rejoin the hub after it goes away and comes back, re-declaring metadata
   * and subscriptions. `intervalMs` is how often to look (default 2000).
   */
  reconnect?: boolean | { intervalMs?: number };
  /**
   * Register through the Web Profile, as a web page does (the hub asks the
   * user's consent): `true`, or where the hub's Web Profile is and how long
   * each poll for callbacks waits. Default: the Standard Profile, found by
   * SAMP_HUB or ~/.samp.
   */
  web?: boolean | WebConnectOptions;
}

/**
 * Where and how a {@linkcode SampClient} reaches a hub's Web Profile.
 *
 * @example
 * ```ts
 * import type { WebConnectOptions } from "./client.ts";
 * const web: WebConnectOptions = { url: "http://localhost:21012/", pullSeconds: 60 };
 * ```
 */
export interface WebConnectOptions {
  /** The hub's Web Profile URL. Default `http://localhost:21012/`. */
  url?: string;
  /** Seconds each poll for callbacks may wait. Default 600. */
  pullSeconds?: number;
}

/**
 * A message this client received.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from "./client.ts";
 * function describe(m: IncomingMessage<"coord.pointAt.sky">): string {
 *   return `${m.senderId} points at ${m.params.ra}, ${m.params.dec}`;
 * }
 * ```
 */
export interface IncomingMessage<M extends string = string> {
  /** The MType. */
  readonly mtype: M;
  /** `samp.params`: typed for a known MType, extra keys included. */
  readonly params: ReceivedParams<M>;
  /** The whole message map (extra keys included). */
  readonly message: Message;
  /** Public id of the sender. */
  readonly senderId: string;
  /** `samp.name` of the sender, if the tracker knows it. */
  readonly senderName?: string;
  /** The msg-id, for calls; `undefined` for notifications. */
  readonly msgId?: string;
}

/**
 * Handles one MType. For a call, the returned map becomes `samp.result` of
 * an ok response (or return a whole {@linkcode SampResponse}); a thrown error
 * becomes a `samp.error` response. A handler that answers by hand with
 * {@linkcode SampClient.reply} is not answered again.
 *
 * @example
 * ```ts
 * import type { MessageHandler } from "./client.ts";
 * const onPoint: MessageHandler<"coord.pointAt.sky"> = (m) => {
 *   console.log(`pointing at ${m.params.ra} ${m.params.dec}`);
 * };
 * ```
 */
export type MessageHandler<M extends string = string> = (
  message: IncomingMessage<M>,
) => HandlerResult<M> | Promise<HandlerResult<M>>;

/**
 * What a handler may return: the MType's result map (extra keys are
 * allowed, as tools often add some), a whole response, or nothing.
 *
 * @example
 * ```ts
 * import type { HandlerResult } from "./client.ts";
 * const r: HandlerResult<"samp.app.ping"> = {};
 * ```
 */
export type HandlerResult<M extends string = string> = ResultOf<M> | SampMap | SampResponse | void;

/**
 * Per-request options: how long to wait, and a signal to give up.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "./client.ts";
 * const options: RequestOptions = { timeout: 10, signal: AbortSignal.timeout(20_000) };
 * ```
 */
export interface RequestOptions {
  /** Seconds to wait for the reply (default: no limit). */
  timeout?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
}

/**
 * The replies to a `callAll`.
 *
 * @example
 * ```ts
 * import type { CallAllResult } from "./client.ts";
 * const show = (r: CallAllResult) => console.log([...r.replies.keys()], r.missing);
 * ```
 */
export interface CallAllResult {
  /** Each recipient's response, by public id. */
  replies: Map<string, SampResponse>;
  /** Recipients that did not reply in time. */
  missing: string[];
}

/**
 * The connection state, as told to {@linkcode SampClient.onConnectionChange}.
 *
 * @example
 * ```ts
 * import type { ConnectionChange } from "./client.ts";
 * const log = (c: ConnectionChange) => console.log(c.connected ? "joined" : `lost: ${c.reason}`);
 * ```
 */
export interface ConnectionChange {
  /** Whether the client is now registered with a hub. */
  connected: boolean;
  /** Why it changed. */
  reason: string;
}

/**
 * The MType a handler for `P` sees: `P` itself for an exact MType, any
 * string for a wildcard pattern (`a.*`, `*`).
 *
 * @example
 * ```ts
 * import type { Matched } from "./client.ts";
 * const a: Matched<"table.load.votable"> = "table.load.votable";
 * const b: Matched<"table.*"> = "table.load.fits";
 * ```
 */
export type Matched<P extends string> = P extends "*" | `${string}.*` ? string : P;

/**
 * Options of {@linkcode SampClient.sendTable} and
 * {@linkcode SampClient.sendImage}: who gets the data, and how long it stays
 * served.
 *
 * @example
 * ```ts
 * import type { SendDataOptions } from "./client.ts";
 * const options: SendDataOptions = { to: "topcat", name: "candidates", timeout: 60 };
 * ```
 */
export interface SendDataOptions extends RequestOptions {
  /**
   * The recipient: a public id, or a name as {@linkcode ClientTracker.byName}
   * finds it (`"topcat"`). Default: every client subscribed to the MType.
   */
  to?: string;
  /** The label the recipient shows (the `name` param), also the file name in the URL. */
  name?: string;
  /** Sender-chosen id for later messages (`table-id` or `image-id`). */
  id?: string;
  /**
   * Send a notification: no reply is awaited. Default: a call, whose reply
   * says whether the recipient loaded the data.
   */
  notify?: boolean;
  /**
   * Seconds the data stays served once the recipients have replied (or the
   * timeout passed): default 60, for tools that fetch again. For a
   * notification, seconds after sending: default until the client closes
   * (or the resource is revoked).
   */
  keep?: number;
}

/**
 * Options of {@linkcode SampClient.sendTable}: the delivery, plus the
 * VOTable's columns and description (its `name` is the table's name too).
 *
 * @example
 * ```ts
 * import type { SendTableOptions } from "./client.ts";
 * const options: SendTableOptions = {
 *   to: "topcat",
 *   name: "targets",
 *   columns: [{ name: "ra", unit: "deg", ucd: "pos.eq.ra;meta.main" }],
 * };
 * ```
 */
export interface SendTableOptions extends SendDataOptions, VOTableOptions {}

/**
 * Options of {@linkcode SampClient.sendImage}.
 *
 * @example
 * ```ts
 * import type { SendImageOptions } from "./client.ts";
 * const options: SendImageOptions = { to: "ds9", name: "m31.fits" };
 * ```
 */
export interface SendImageOptions extends SendDataOptions {
  /** The Content-Type served. Default `image/fits`. */
  contentType?: string;
}

/**
 * What {@linkcode SampClient.sendTable} and {@linkcode SampClient.sendImage}
 * did.
 *
 * @example
 * ```ts
 * import type { SentData } from "./client.ts";
 * const show = (s: SentData) => console.log(s.resource.url, s.recipients, s.missing);
 * ```
 */
export interface SentData {
  /** The served data: its URL, how often it was fetched, `revoke()`. */
  resource: OfferedResource;
  /** Who was sent the message (public ids). */
  recipients: string[];
  /** Each recipient's response, by public id (empty for a notification). */
  replies: Map<string, SampResponse>;
  /** Recipients that did not reply within the timeout. */
  missing: string[];
}

type Entry = { handler: MessageHandler; annotation: SampMap };
type Waiter = {
  expect: Set<string> | undefined;
  replies: Map<string, SampResponse>;
  check: () => void;
};

const SYSTEM = new Set([
  "samp.app.ping",
  "samp.hub.disconnect",
  "samp.hub.event.shutdown",
  ...ClientTracker.MTYPES,
]);

/**
 * A SAMP client, as capable as astropy's SAMPIntegratedClient, typed and
 * async. Pings, `samp.hub.disconnect` and `samp.hub.event.shutdown` are
 * handled for you; the live client list is {@linkcode SampClient.clients}.
 *
 * @example Send a table to every table viewer
 * ```ts ignore
 * import { SampClient } from "./client.ts";
 * await using client = await SampClient.connect({ name: "my-script" });
 * await client.notifyAll("table.load.votable", { url: "file:///data/m31.vot", name: "M31" });
 * ```
 *
 * @example React when the user highlights a row
 * ```ts ignore
 * import { SampClient } from "./client.ts";
 * const client = await SampClient.connect({ name: "row-watcher" });
 * await client.on("table.highlight.row", (m) => console.log(`row ${m.params.row} of ${m.params.url}`));
 * ```
 */
export class SampClient implements AsyncDisposable {
  readonly #options: SampClientOptions;
  readonly #handlers = new Map<string, Entry>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #statusListeners = new Set<(change: ConnectionChange) => void>();
  readonly #clients = new ClientTracker();
  /** Data offered at URLs of the callback server. */
  readonly #resources: ResourceStore;
  /** Callbacks being handled, so close() can let their replies go out first. */
  readonly #inFlight = new Set<Promise<void>>();
  /** msg-ids of calls being handled; true once answered by hand with reply(). */
  readonly #handling = new Map<string, boolean>();
  #connection?: HubConnection;
  #metadata: SampMap;
  #nextTag = 1;
  #closed = false;
  /** Settles `closed`: the client is done (closed, or its hub left for good). */
  readonly #done = Promise.withResolvers<string>();
  #retryTimer?: ReturnType<typeof setTimeout>;
  #watchTimer?: ReturnType<typeof setInterval>;
  #syncing?: Promise<void>;
  #dirty = false;

  private constructor(options: SampClientOptions) {
    this.#options = options;
    this.#resources = options.resources ?? new ResourceStore();
    this.#metadata = {
      ...(options.name !== undefined ? { "samp.name": options.name } : {}),
      ...(options.description !== undefined
        ? { "samp.description.text": options.description }
        : {}),
      ...options.metadata,
    };
  }

  /**
   * Finds the hub, registers, declares metadata and (when callable) starts
   * receiving messages.
   *
   * @example
   * ```ts ignore
   * import { SampClient } from "./client.ts";
   * const client = await SampClient.connect({ name: "demo", lockfile: "/tmp/test.samp" });
   * await client.close();
   * ```
   */
  static async connect(options: SampClientOptions = {}): Promise<SampClient> {
    const client = new SampClient(options);
    await client.#join();
    return client;
  }

  /**
   * The other clients (and this one): kept live from hub events when the
   * client is callable, a snapshot taken at connection otherwise.
   */
  get clients(): ClientTracker {
    return this.#clients;
  }

  /** Whether the client is registered with a hub right now. */
  get connected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
  }

  /** This client's public id (changes after a reconnection). */
  get id(): string {
    return this.#hub().selfId;
  }

  /** The hub's own client id. */
  get hubId(): string {
    return this.#hub().hubId;
  }

  /** The underlying hub connection, for the raw hub API. */
  get connection(): HubConnection {
    return this.#hub();
  }

  /**
   * The URL to fetch `url` through the hub's URL translator. A client on the
   * Web Profile (a web page) uses it to read `file:` URLs and other origins
   * that tools send it; the hub serves only URLs a tool sent this client.
   * On the Standard Profile, which has no translator, `url` is returned as
   * it is.
   *
   * @example
   * ```ts ignore
   * import { SampClient } from "./client.ts";
   * await using page = await SampClient.connect({ name: "my-page", web: true });
   * page.on("table.load.votable", async (m) => {
   *   const votable = await (await fetch(page.translateUrl(m.params.url))).text();
   * });
   * ```
   */
  translateUrl(url: string): string {
    return translateUrl(this.#hub().regInfo, url);
  }

  /**
   * Settles when this client is done, with the reason: {@linkcode close}
   * was called, or the hub shut down or disconnected it and `reconnect` is
   * off (with `reconnect` on it waits for the hub to come back instead).
   * A script that only listens awaits it to stay alive. Once asked for, the
   * hub is pinged every 2 s, so a hub killed without a word is noticed too.
   *
   * @example Listen until the hub shuts down or Ctrl-C
   * ```ts ignore
   * import { SampClient } from "./client.ts";
   * await using client = await SampClient.connect({ name: "listener" });
   * await client.on("coord.pointAt.sky", (m) => console.log(m.params.ra, m.params.dec));
   * Deno.addSignalListener("SIGINT", () => client.close());
   * console.log(`stopped: ${await client.closed}`);
   * ```
   */
  get closed(): Promise<string> {
    if (this.#watchTimer === undefined && this.#connection && !this.#closed) this.#watch();
    return this.#done.promise;
  }

  /**
   * Calls `listener` when the client loses or regains its hub.
   *
   * @example
   * ```ts ignore
   * client.onConnectionChange((c) => console.log(c.connected, c.reason));
   * ```
   */
  onConnectionChange(listener: (change: ConnectionChange) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /**
   * Replaces this client's metadata (what other tools show about it).
   *
   * @example
   * ```ts ignore
   * await client.declareMetadata({ "samp.name": "pipeline", "samp.description.text": "step 2" });
   * ```
   */
  async declareMetadata(metadata: SampMap): Promise<void> {
    this.#metadata = metadata;
    await this.#hub().declareMetadata(metadata);
  }

  /**
   * Handles messages whose MType matches `pattern` (`a.b.c`, `a.b.*` or
   * `*`); declares the subscription to the hub before resolving. Resolves to
   * a function that removes the handler again.
   *
   * @example
   * ```ts ignore
   * const off = await client.on("coord.pointAt.sky", (m) => {
   *   console.log(m.params.ra, m.params.dec);
   * });
   * await off();
   * ```
   */
  async on<P extends string>(
    pattern: P,
    handler: MessageHandler<Matched<P>>,
    options: { annotation?: SampMap } = {},
  ): Promise<() => Promise<void>> {
    if (!isMTypePattern(pattern)) {
      throw new TypeError(`"${pattern}" is not an MType pattern: use a.b.c, a.b.* or *`);
    }
    if (this.#options.callable === false) {
      throw new Error("this client was connected with callable: false and cannot receive messages");
    }
    const entry: Entry = {
      handler: handler as MessageHandler,
      annotation: options.annotation ?? {},
    };
    this.#handlers.set(pattern, entry);
    await this.#syncSubscriptions();
    return async () => {
      if (this.#handlers.get(pattern) !== entry) return;
      this.#handlers.delete(pattern);
      if (this.connected) await this.#syncSubscriptions();
    };
  }

  /**
   * Incoming messages matching `pattern`, for `for await`. A call is
   * answered with the `reply` the item carries; if the loop moves on without
   * replying, the call is answered ok with an empty result. The loop ends
   * when `options.signal` aborts or the client is done (see
   * {@linkcode SampClient.closed}): closed, or its hub gone for good.
   *
   * @example
   * ```ts ignore
   * for await (const m of client.messages("table.highlight.row")) {
   *   console.log(m.params.row);
   * }
   * ```
   */
  async *messages<P extends string>(
    pattern: P,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<
    IncomingMessage<Matched<P>> & { reply(result?: ResultOf<Matched<P>> | SampResponse): void }
  > {
    type M = Matched<P>;
    type Item = IncomingMessage<M> & { reply(result?: ResultOf<M> | SampResponse): void };
    const queue: Item[] = [];
    let wake: (() => void) | undefined;
    const onAbort = () => wake?.();
    options.signal?.addEventListener("abort", onAbort);
    const off = await this.on(
      pattern,
      (m) =>
        new Promise<ResultOf<M> | SampResponse | void>((resolve) => {
          queue.push({ ...m, reply: (r) => resolve(r) });
          if (m.msgId === undefined) resolve(undefined);
          wake?.();
        }),
    );
    // The loop ends when the client is done (closed, or its hub gone for good).
    let done = false;
    this.#done.promise.then(() => {
      done = true;
      wake?.();
    });
    let current: Item | undefined;
    try {
      while (!options.signal?.aborted && !this.#closed && !done) {
        current?.reply();
        current = queue.shift();
        if (current) {
          yield current;
          continue;
        }
        await new Promise<void>((r) => wake = r);
        wake = undefined;
      }
    } finally {
      current?.reply();
      for (const m of queue) m.reply();
      options.signal?.removeEventListener("abort", onAbort);
      await off();
    }
  }

  /**
   * Sends a notification to one client.
   *
   * @example
   * ```ts ignore
   * await client.notify("c2", "coord.pointAt.sky", { ra: "10.68", dec: "41.27" });
   * ```
   */
  notify<M extends string>(recipientId: string, mtype: M, params: ParamsOf<M>): Promise<void>;
  /** Sends a message map to one client. */
  notify(recipientId: string, message: Message): Promise<void>;
  async notify(recipientId: string, a: string | Message, params?: ExtraParams): Promise<void> {
    return await this.#hub().notify(recipientId, toMessage(a, params));
  }

  /**
   * Sends a notification to every subscribed client; returns who got it.
   *
   * @example
   * ```ts ignore
   * const ids = await client.notifyAll("table.load.votable", { url: "file:///tmp/t.vot" });
   * ```
   */
  notifyAll<M extends string>(mtype: M, params: ParamsOf<M>): Promise<string[]>;
  /** Sends a message map to every subscribed client. */
  notifyAll(message: Message): Promise<string[]>;
  async notifyAll(a: string | Message, params?: ExtraParams): Promise<string[]> {
    return await this.#hub().notifyAll(toMessage(a, params));
  }

  /**
   * Calls one client and waits for its response (as an asynchronous SAMP
   * call; for a client that is not callable, through the hub's callAndWait).
   *
   * @example
   * ```ts ignore
   * const r = await client.call("c2", "samp.app.ping", {}, { timeout: 5 });
   * console.log(r["samp.status"]);
   * ```
   */
  call<M extends string>(
    recipientId: string,
    mtype: M,
    params: ParamsOf<M>,
    options?: RequestOptions,
  ): Promise<SampResponse>;
  /** Calls one client with a message map. */
  call(recipientId: string, message: Message, options?: RequestOptions): Promise<SampResponse>;
  async call(
    recipientId: string,
    a: string | Message,
    b?: SampMap | RequestOptions,
    c?: RequestOptions,
  ): Promise<SampResponse> {
    const [message, options] = messageArgs(a, b, c);
    const hub = this.#hub();
    if (this.#options.callable === false) {
      return await hub.callAndWait(recipientId, message, options?.timeout ?? 0, {
        signal: options?.signal,
      });
    }
    const tag = `sampkit-${this.#nextTag++}`;
    const replies = this.#await(tag, new Set([recipientId]), options);
    replies.catch(() => {}); // an abort may reject it before it is awaited below
    try {
      await hub.call(recipientId, tag, message, { signal: options?.signal });
    } catch (e) {
      this.#waiters.delete(tag);
      throw e;
    }
    const response = (await replies).get(recipientId);
    if (!response) {
      throw new SampTimeoutError(
        `${recipientId} did not reply to ${message["samp.mtype"]} within ${options?.timeout} s`,
      );
    }
    return response;
  }

  /**
   * Calls every subscribed client and collects their responses; those that
   * do not answer within `timeout` seconds are listed in `missing`.
   *
   * @example
   * ```ts ignore
   * const { replies, missing } = await client.callAll("samp.app.ping", {}, { timeout: 5 });
   * ```
   */
  callAll<M extends string>(
    mtype: M,
    params: ParamsOf<M>,
    options?: RequestOptions,
  ): Promise<CallAllResult>;
  /** Calls every subscribed client with a message map. */
  callAll(message: Message, options?: RequestOptions): Promise<CallAllResult>;
  async callAll(
    a: string | Message,
    b?: SampMap | RequestOptions,
    c?: RequestOptions,
  ): Promise<CallAllResult> {
    const [message, options] = messageArgs(a, b, c);
    if (this.#options.callable === false) {
      throw new Error("callAll needs a callable client: connect with callable: true");
    }
    const tag = `sampkit-${this.#nextTag++}`;
    const waiter = this.#await(tag, undefined, options);
    waiter.catch(() => {}); // an abort may reject it before it is awaited below
    let ids: Record<string, string>;
    try {
      ids = await this.#hub().callAll(tag, message, { signal: options?.signal });
    } catch (e) {
      this.#waiters.delete(tag);
      throw e;
    }
    const w = this.#waiters.get(tag);
    if (w) {
      w.expect = new Set(Object.keys(ids));
      w.check();
    }
    const replies = await waiter;
    return { replies, missing: Object.keys(ids).filter((id) => !replies.has(id)) };
  }

  /**
   * Calls one client through the hub's `callAndWait` (timeout in seconds; 0
   * means none).
   *
   * @example
   * ```ts ignore
   * const r = await client.callAndWait("c2", "samp.app.ping", {}, { timeout: 5 });
   * ```
   */
  callAndWait<M extends string>(
    recipientId: string,
    mtype: M,
    params: ParamsOf<M>,
    options?: RequestOptions,
  ): Promise<SampResponse>;
  /** callAndWait with a message map. */
  callAndWait(
    recipientId: string,
    message: Message,
    options?: RequestOptions,
  ): Promise<SampResponse>;
  async callAndWait(
    recipientId: string,
    a: string | Message,
    b?: SampMap | RequestOptions,
    c?: RequestOptions,
  ): Promise<SampResponse> {
    const [message, options] = messageArgs(a, b, c);
    return await this.#hub().callAndWait(recipientId, message, options?.timeout ?? 0, {
      signal: options?.signal,
    });
  }

  /**
   * Calls one client and returns its typed `samp.result`; an error response
   * throws {@linkcode SampErrorResponse}.
   *
   * @example
   * ```ts ignore
   * const { ids } = await client.request("hub", "samp.query.by-meta", { key: "samp.name", value: "topcat" });
   * ```
   */
  async request<M extends string>(
    recipientId: string,
    mtype: M,
    params: ParamsOf<M>,
    options?: RequestOptions,
  ): Promise<ResultOf<M>> {
    const response = await this.call(recipientId, mtype, params, options);
    if (response["samp.status"] === "samp.error") {
      throw new SampErrorResponse(recipientId, mtype, response);
    }
    const result = response["samp.result"];
    return (isSampMap(result) ? result : {}) as ResultOf<M>;
  }

  /**
   * Answers a call by hand (handlers answer for you): with a whole response
   * map, or with a status and its result or error (astropy's `ereply`).
   *
   * @example
   * ```ts ignore
   * await client.reply(msgId, { "samp.status": "samp.ok", "samp.result": {} });
   * await client.reply(otherId, "samp.error", undefined, { "samp.errortxt": "file not found" });
   * ```
   */
  reply(msgId: string, response: SampResponse): Promise<void>;
  /** Answers a call with a status plus result and/or error map. */
  reply(msgId: string, status: ResponseStatus, result?: SampMap, error?: ErrorInfo): Promise<void>;
  async reply(
    msgId: string,
    a: SampResponse | ResponseStatus,
    result?: SampMap,
    error?: ErrorInfo,
  ): Promise<void> {
    let response: SampResponse;
    if (typeof a === "string") {
      response = { "samp.status": a };
      if (a !== "samp.error" || result) response["samp.result"] = result ?? {};
      if (error) response["samp.error"] = error;
      else if (a === "samp.error") {
        throw new TypeError("a samp.error reply needs an error map with samp.errortxt");
      }
    } else {
      response = a;
    }
    if (this.#handling.has(msgId)) this.#handling.set(msgId, true);
    return await this.#hub().reply(msgId, response);
  }

  /**
   * Serves `data` at an unguessable http URL on this client's callback
   * server (loopback only), for sending in a message: recipients such as
   * TOPCAT and DS9 fetch the URL when they handle it. It stays served until
   * revoked (`revoke()`, `using`, `lifetime`) or the client closes; then
   * the URL answers 404.
   *
   * @param data Bytes (not copied: leave them unchanged while offered) or a
   * string (served as UTF-8).
   * @throws {NoResourceServerError} For a Web Profile client (no server of
   * its own), one connected with `callable: false`, or one whose callback
   * server is not on the loopback interface: the message says which.
   *
   * @example
   * ```ts ignore
   * using res = client.offer(fitsBytes, { name: "m31.fits" });
   * await client.call(ds9Id, "image.load.fits", { url: res.url, name: "M31" }, { timeout: 60 });
   * ```
   */
  offer(data: Uint8Array | string, options: OfferOptions = {}): OfferedResource {
    const hub = this.#hub();
    if (hub.profile === "web") {
      throw new NoResourceServerError(
        "a Web Profile client has no HTTP server of its own to serve data from: connect " +
          "through the Standard Profile (SampClient.connect's default), or put the data at a " +
          "URL yourself and send that URL",
      );
    }
    if (this.#options.callable === false) {
      throw new NoResourceServerError(
        "offer() serves data from the client's callback server, and this client was connected " +
          "with callable: false (no server): connect with callable: true (the default)",
      );
    }
    const host = this.#options.callbackHost ?? "127.0.0.1";
    if (!isLoopbackHost(host)) {
      throw new NoResourceServerError(
        `this client's callback server listens on ${host}, and data is served only on the ` +
          'loopback interface: connect with callbackHost "127.0.0.1" (the default)',
      );
    }
    return this.#resources.offer(data, options);
  }

  /**
   * Sends a table to TOPCAT (or any `table.load.votable` subscriber)
   * straight from memory: writes the records as a VOTable (see
   * `toVOTable`; a ready VOTable document, as text or bytes, is sent as
   * it is), offers it at a URL of this client's callback server, and sends
   * `table.load.votable` with that URL.
   *
   * By default it calls and waits for the replies: to `to` (an error reply
   * throws {@linkcode SampErrorResponse}, no reply within `timeout` throws
   * {@linkcode SampTimeoutError}), or to every subscriber (see
   * `replies` and `missing`). The data stays served for `keep` seconds more
   * (default 60). With `notify: true` nothing is awaited and the data stays
   * served until `keep` seconds pass, it is revoked, or the client closes.
   *
   * @example
   * ```ts ignore
   * const rows = [{ ra: 10.6847, dec: 41.269, name: "M31" }, { ra: 83.822, dec: -5.391, name: "M42" }];
   * await client.sendTable(rows, {
   *   to: "topcat",
   *   name: "targets",
   *   columns: [
   *     { name: "ra", unit: "deg", ucd: "pos.eq.ra;meta.main" },
   *     { name: "dec", unit: "deg", ucd: "pos.eq.dec;meta.main" },
   *   ],
   *   timeout: 60,
   * });
   * ```
   */
  async sendTable(
    table: Iterable<VOTableRecord> | string | Uint8Array,
    options: SendTableOptions = {},
  ): Promise<SentData> {
    const body = typeof table === "string" || table instanceof Uint8Array
      ? table
      : toVOTable(table, options);
    const resource = this.offer(body, {
      name: withExtension(options.name ?? "table", /\.(vot|votable|xml)$/i, ".vot"),
      contentType: "application/x-votable+xml",
    });
    const params: SampMap = { url: resource.url };
    if (options.name !== undefined) params.name = options.name;
    if (options.id !== undefined) params["table-id"] = options.id;
    return await this.#deliver("table.load.votable", resource, params, options);
  }

  /**
   * Sends a FITS image held in memory to DS9 or Aladin (or any
   * `image.load.fits` subscriber): offers the bytes at a URL of this
   * client's callback server and sends `image.load.fits`. Replies, timeouts
   * and how long the data stays served are as for
   * {@linkcode SampClient.sendTable}.
   *
   * @example
   * ```ts ignore
   * const fits = await Deno.readFile("m31.fits"); // or bytes made in memory
   * await client.sendImage(fits, { to: "ds9", name: "M31", timeout: 60 });
   * ```
   */
  async sendImage(image: Uint8Array, options: SendImageOptions = {}): Promise<SentData> {
    const resource = this.offer(image, {
      name: withExtension(options.name ?? "image", /\.(fits?|fts)(\.gz)?$/i, ".fits"),
      contentType: options.contentType ?? "image/fits",
    });
    const params: SampMap = { url: resource.url };
    if (options.name !== undefined) params.name = options.name;
    if (options.id !== undefined) params["image-id"] = options.id;
    return await this.#deliver("image.load.fits", resource, params, options);
  }

  /**
   * Unregisters and stops everything this client started. Safe to call twice.
   *
   * @example
   * ```ts ignore
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#resources.clear();
    this.#done.resolve("the client was closed");
    clearTimeout(this.#retryTimer);
    clearInterval(this.#watchTimer);
    for (const w of [...this.#waiters.values()]) w.check();
    // Let replies to calls already being handled go out (for at most 2 s).
    if (this.#inFlight.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        new Promise((r) => timer = setTimeout(r, 2000)),
      ]);
      clearTimeout(timer);
    }
    await this.#clients.settle();
    const connection = this.#connection;
    this.#connection = undefined;
    try {
      await connection?.unregister({ timeoutMs: 5000 });
    } catch (e) {
      if (!(e instanceof TransportError) && !(e instanceof SampFault)) throw e;
      await connection?.abandon();
    }
    this.#clients.clear();
  }

  /** Same as {@linkcode SampClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals --------------------------------------------------------

  #hub(): HubConnection {
    if (this.#connection && !this.#connection.closed) return this.#connection;
    throw new Error(
      this.#closed
        ? "this SAMP client has been closed"
        : "not connected to a SAMP hub (it went away): " +
          (this.#options.reconnect ? "waiting for it to come back" : "start a hub and reconnect"),
    );
  }

  async #join(): Promise<void> {
    const { web } = this.#options;
    const connect = web
      ? (o: SampClientOptions) =>
        connectWeb({ ...(web === true ? {} : web), name: o.name ?? "web client" })
      : connectStandard;
    // The Standard Profile transport serves the offered data.
    const connection = await connect({ ...this.#options, resources: this.#resources });
    try {
      if (this.#options.callable !== false) await connection.setCallable(this.#callbacks());
      if (Object.keys(this.#metadata).length > 0) await connection.declareMetadata(this.#metadata);
      this.#connection = connection;
      if (this.#options.callable !== false) await this.#syncSubscriptions();
      // A client that is not callable gets a snapshot; a callable one keeps
      // it current from hub events.
      await this.#clients.load(connection);
    } catch (e) {
      this.#connection = undefined;
      await connection.unregister({ timeoutMs: 2000 }).catch(() => connection.abandon());
      throw e;
    }
    if (this.#options.reconnect) this.#watch();
  }

  /** Declares the union of system and user subscriptions; concurrent calls coalesce. */
  #syncSubscriptions(): Promise<void> {
    if (this.#syncing) {
      this.#dirty = true;
      return this.#syncing;
    }
    const run = async (): Promise<void> => {
      do {
        this.#dirty = false;
        const subs: SampMap = {};
        for (const m of SYSTEM) subs[m] = {};
        for (const [pattern, entry] of this.#handlers) subs[pattern] = entry.annotation;
        await this.#hub().declareSubscriptions(subs);
      } while (this.#dirty);
    };
    this.#syncing = run().finally(() => this.#syncing = undefined);
    return this.#syncing;
  }

  #callbacks(): CallbackHandler {
    return {
      receiveNotification: (sender, message) =>
        this.#track(this.#dispatch(sender, undefined, message)),
      receiveCall: (sender, msgId, message) => this.#track(this.#dispatch(sender, msgId, message)),
      receiveResponse: (responder, tag, response) => {
        const w = this.#waiters.get(tag);
        if (!w) return;
        w.replies.set(responder, response);
        w.check();
      },
    };
  }

  #track(work: Promise<void>): Promise<void> {
    this.#inFlight.add(work);
    return work.finally(() => this.#inFlight.delete(work));
  }

  async #dispatch(senderId: string, msgId: string | undefined, message: Message): Promise<void> {
    const mtype = message["samp.mtype"];
    const params = isSampMap(message["samp.params"]) ? message["samp.params"] : {};
    if (senderId === this.#connection?.hubId) this.#system(mtype, params);
    const pattern = bestMatch(this.#handlers.keys(), mtype);
    const userExact = pattern === mtype;
    const incoming: IncomingMessage = {
      mtype,
      params,
      message,
      senderId,
      senderName: this.#clients.get(senderId)?.name,
      msgId,
    };
    if (msgId === undefined) {
      if (pattern !== undefined && (userExact || !SYSTEM.has(mtype))) {
        await this.#handlers.get(pattern)!.handler(incoming);
      }
      return;
    }
    // A call gets exactly one answer: an exact user handler, else the
    // library's own (ping), else a wildcard user handler.
    let response: SampResponse;
    if (pattern !== undefined && (userExact || !SYSTEM.has(mtype))) {
      this.#handling.set(msgId, false);
      // answer() never throws: it turns a handler's error into a response.
      response = await answer(() => this.#handlers.get(pattern)!.handler(incoming));
      const repliedByHand = this.#handling.get(msgId);
      this.#handling.delete(msgId);
      // The handler answered with reply() itself: do not answer twice.
      if (repliedByHand) return;
    } else if (mtype === "samp.app.ping") {
      response = { "samp.status": "samp.ok", "samp.result": {} };
    } else {
      response = {
        "samp.status": "samp.error",
        "samp.error": { "samp.errortxt": `${mtype} is not handled by this client` },
      };
    }
    await this.#connection?.reply(msgId, response).catch(() => {});
  }

  /** What the library does itself with hub messages. */
  #system(mtype: string, params: SampMap): void {
    if (this.#clients.handleEvent(mtype, params)) {
      // Some hubs reorder events: the hub's own answer settles it.
      if (
        this.#connection && typeof params.id === "string" &&
        (mtype === "samp.hub.event.metadata" || mtype === "samp.hub.event.subscriptions")
      ) {
        this.#clients.refreshSoon(this.#connection, params.id);
      }
      return;
    }
    if (mtype === "samp.hub.event.shutdown") this.#lost("the hub shut down");
    if (mtype === "samp.hub.disconnect") {
      this.#lost(
        `the hub disconnected this client${
          typeof params.reason === "string" ? `: ${params.reason}` : ""
        }`,
      );
    }
  }

  /**
   * Waits for the responses carrying `tag`. `expect` is who must answer;
   * `undefined` until callAll has said (responses may arrive before that).
   */
  #await(
    tag: string,
    expect: Set<string> | undefined,
    options?: RequestOptions,
  ): Promise<Map<string, SampResponse>> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(tag);
        options?.signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        finish();
        reject(options!.signal!.reason ?? new DOMException("aborted", "AbortError"));
      };
      const waiter: Waiter = {
        expect,
        replies: new Map(),
        check: () => {
          const all = waiter.expect && [...waiter.expect].every((id) => waiter.replies.has(id));
          if (this.#closed || all) {
            finish();
            resolve(waiter.replies);
          }
        },
      };
      this.#waiters.set(tag, waiter);
      if (options?.timeout !== undefined && options.timeout > 0) {
        timer = setTimeout(() => {
          finish();
          resolve(waiter.replies);
        }, options.timeout * 1000);
      }
      if (options?.signal) {
        if (options.signal.aborted) onAbort();
        else options.signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /** A public id, or the id of the client `to` names. */
  #recipientId(to: string): string {
    if (this.#clients.get(to)) return to;
    // A name that fits nobody goes to the hub as an id, which says it is not registered.
    return this.#clients.byName(to)?.id ?? to;
  }

  /** Sends the message that carries `resource`, and decides how long it stays served. */
  async #deliver(
    mtype: string,
    resource: OfferedResource,
    params: SampMap,
    options: SendDataOptions,
  ): Promise<SentData> {
    const grace = options.keep ?? 60;
    const message: Message = { "samp.mtype": mtype, "samp.params": params };
    const request = { timeout: options.timeout, signal: options.signal };
    try {
      if (options.notify) {
        let recipients: string[];
        if (options.to === undefined) recipients = await this.notifyAll(message);
        else {
          recipients = [this.#recipientId(options.to)];
          await this.notify(recipients[0], message);
        }
        if (recipients.length === 0) resource.revoke(); // nobody will fetch it
        else if (options.keep !== undefined) resource.expireIn(options.keep);
        return { resource, recipients, replies: new Map(), missing: [] };
      }
      if (options.to !== undefined) {
        const id = this.#recipientId(options.to);
        let response: SampResponse;
        try {
          response = await this.call(id, message, request);
        } catch (e) {
          // It may still fetch the data after its reply is overdue.
          if (e instanceof SampTimeoutError) resource.expireIn(grace);
          throw e;
        }
        resource.expireIn(grace);
        if (response["samp.status"] === "samp.error") {
          throw new SampErrorResponse(id, mtype, response);
        }
        return { resource, recipients: [id], replies: new Map([[id, response]]), missing: [] };
      }
      const { replies, missing } = await this.callAll(message, request);
      if (replies.size + missing.length === 0) resource.revoke(); // nobody will fetch it
      else resource.expireIn(grace);
      return { resource, recipients: [...replies.keys(), ...missing], replies, missing };
    } catch (e) {
      if (!(e instanceof SampTimeoutError) && !(e instanceof SampErrorResponse)) resource.revoke();
      throw e;
    }
  }

  #emit(change: ConnectionChange): void {
    for (const l of this.#statusListeners) l(change);
  }

  #lost(reason: string): void {
    const connection = this.#connection;
    if (!connection || this.#closed) return;
    this.#connection = undefined;
    this.#clients.clear();
    // Stop the callback server after this callback has been answered.
    setTimeout(() => connection.abandon(), 0);
    this.#emit({ connected: false, reason });
    if (this.#options.reconnect) {
      this.#retry();
    } else {
      clearInterval(this.#watchTimer);
      this.#done.resolve(reason);
    }
  }

  #interval(): number {
    const r = this.#options.reconnect;
    return typeof r === "object" && r.intervalMs ? r.intervalMs : 2000;
  }

  /** While reconnection is on: ping the hub now and then, to notice a hub killed without a word. */
  #watch(): void {
    clearInterval(this.#watchTimer);
    this.#watchTimer = setInterval(async () => {
      const connection = this.#connection;
      if (!connection) return;
      try {
        await connection.ping({ timeoutMs: this.#interval() });
      } catch (e) {
        if (e instanceof TransportError && this.#connection === connection) {
          this.#lost(`the hub stopped answering (${e.message})`);
        }
      }
    }, this.#interval());
  }

  #retry(): void {
    clearTimeout(this.#retryTimer);
    if (this.#closed) return;
    this.#retryTimer = setTimeout(async () => {
      if (this.#closed || this.#connection) return;
      try {
        await this.#join();
        this.#emit({ connected: true, reason: "rejoined the hub" });
      } catch {
        this.#retry();
      }
    }, this.#interval());
  }
}

/** The (mtype, params, options) or (message, options) forms of the send methods. */
function messageArgs(
  a: string | Message,
  b?: SampMap | RequestOptions,
  c?: RequestOptions,
): [Message, RequestOptions | undefined] {
  return typeof a === "string" ? [toMessage(a, b as SampMap), c] : [a, b as RequestOptions];
}

/** A file name for a URL: `name`, with `extension` added unless it matches `known`. */
function withExtension(name: string, known: RegExp, extension: string): string {
  return known.test(name) ? name : name + extension;
}

function toMessage(a: string | Message, params?: SampValue | ExtraParams): Message {
  if (typeof a !== "string") return a;
  if (!isSampMap((params ?? {}) as SampValue) && params !== undefined) {
    return { "samp.mtype": a, "samp.params": params as SampMap };
  }
  // Optional params left undefined are dropped, as message() drops them.
  const defined: SampMap = {};
  for (const [k, v] of Object.entries((params ?? {}) as Record<string, SampValue | undefined>)) {
    if (v !== undefined) defined[k] = v;
  }
  return { "samp.mtype": a, "samp.params": defined };
}

async function answer(run: () => unknown): Promise<SampResponse> {
  try {
    const result = await run();
    if (isSampMap(result as SampValue) && typeof (result as SampMap)["samp.status"] === "string") {
      return result as SampResponse;
    }
    return {
      "samp.status": "samp.ok",
      "samp.result": isSampMap(result as SampValue) ? result as SampMap : {},
    };
  } catch (e) {
    const error: SampMap = { "samp.errortxt": e instanceof Error ? e.message : String(e) };
    if (e instanceof Error && e.stack) error["samp.debugtxt"] = e.stack;
    return { "samp.status": "samp.error", "samp.error": error };
  }
}

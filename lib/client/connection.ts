/**
 * A registered connection to a SAMP hub: every hub API method, typed, with
 * the private key filled in. The profile (Standard or Web) is a
 * {@linkcode HubTransport} underneath, so the same connection serves both.
 *
 * @module
 */

import { SampFault, TransportError } from "../errors.ts";
import type { Message, RegInfo, SampMap, SampResponse, SampValue } from "../types.ts";
import { isSampMap } from "../types.ts";

/**
 * Options for one call to the hub.
 *
 * @example
 * ```ts
 * import type { CallOptions } from "./connection.ts";
 * const options: CallOptions = { signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds. */
  timeoutMs?: number;
}

/**
 * The callbacks a callable client receives.
 *
 * @example
 * ```ts
 * import type { CallbackHandler } from "./connection.ts";
 * const handler: CallbackHandler = {
 *   receiveNotification: (sender, msg) => console.log(sender, msg["samp.mtype"]),
 *   receiveCall: (sender, msgId, msg) => console.log(sender, msgId, msg["samp.mtype"]),
 *   receiveResponse: (responder, tag, response) => console.log(responder, tag, response),
 * };
 * ```
 */
export interface CallbackHandler {
  /** A notification from `senderId`. */
  receiveNotification(senderId: string, message: Message): void | Promise<void>;
  /** A call from `senderId` to be answered with `reply(msgId, …)`. */
  receiveCall(senderId: string, msgId: string, message: Message): void | Promise<void>;
  /** The response to a call this client made with tag `msgTag`. */
  receiveResponse(
    responderId: string,
    msgTag: string,
    response: SampResponse,
  ): void | Promise<void>;
}

/**
 * How a connection reaches the hub: one profile's transport.
 *
 * @example
 * ```ts ignore
 * import { standardTransport } from "./standard_transport.ts";
 * const transport = standardTransport("http://127.0.0.1:4000/xmlrpc", "secret");
 * ```
 */
export interface HubTransport {
  /** `"standard"` or `"web"`. */
  readonly profile: string;
  /** Registers and returns the reg-info. */
  register(options?: CallOptions): Promise<RegInfo>;
  /** Calls the abstract hub method `name` (e.g. `"notify"`) with `args` (private key first). */
  invoke(name: string, args: SampValue[], options?: CallOptions): Promise<SampValue>;
  /**
   * Starts delivering callbacks for `privateKey` to `handler` (making the
   * client callable); resolves to a function that stops it.
   */
  listen(privateKey: string, handler: CallbackHandler): Promise<() => Promise<void>>;
}

/**
 * A registered connection to a hub. Each method is the SAMP hub API method
 * of the same name, with the private key supplied.
 *
 * @example
 * ```ts ignore
 * import { connectStandard } from "./standard_transport.ts";
 * await using hub = await connectStandard();
 * console.log(await hub.getRegisteredClients());
 * ```
 */
export class HubConnection implements AsyncDisposable {
  readonly #transport: HubTransport;
  readonly #reg: RegInfo;
  #stopListening?: () => Promise<void>;
  #closed = false;

  /**
   * Wraps a registration made through `transport`.
   *
   * @example
   * ```ts ignore
   * import { HubConnection } from "./connection.ts";
   * import { standardTransport } from "./standard_transport.ts";
   * const t = standardTransport(url, secret);
   * const hub = new HubConnection(t, await t.register());
   * ```
   */
  constructor(transport: HubTransport, regInfo: RegInfo) {
    this.#transport = transport;
    this.#reg = regInfo;
  }

  /** The profile in use: `"standard"` or `"web"`. */
  get profile(): string {
    return this.#transport.profile;
  }

  /** The reg-info the hub gave at registration. */
  get regInfo(): RegInfo {
    return this.#reg;
  }

  /** This client's public id. */
  get selfId(): string {
    return this.#reg["samp.self-id"];
  }

  /** The hub's own client id. */
  get hubId(): string {
    return this.#reg["samp.hub-id"];
  }

  /** Whether `unregister`/`close` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Checks the hub is alive.
   *
   * @example
   * ```ts ignore
   * await hub.ping();
   * ```
   */
  async ping(options?: CallOptions): Promise<void> {
    await this.#call("ping", [], options);
  }

  /**
   * Makes this client callable: callbacks go to `handler`.
   *
   * @example
   * ```ts ignore
   * await hub.setCallable({
   *   receiveNotification: (from, msg) => console.log(from, msg),
   *   receiveCall: () => {},
   *   receiveResponse: () => {},
   * });
   * ```
   */
  async setCallable(handler: CallbackHandler): Promise<void> {
    if (this.#stopListening) throw new Error("this connection is already callable");
    this.#stopListening = await this.#transport.listen(this.#key, handler);
  }

  /**
   * Replaces this client's metadata (`samp.name`, `samp.description.text`, …).
   *
   * @example
   * ```ts ignore
   * await hub.declareMetadata({ "samp.name": "my-script" });
   * ```
   */
  async declareMetadata(metadata: SampMap, options?: CallOptions): Promise<void> {
    await this.#call("declareMetadata", [metadata], options);
  }

  /**
   * Returns a client's metadata.
   *
   * @example
   * ```ts ignore
   * const meta = await hub.getMetadata("c1");
   * ```
   */
  async getMetadata(clientId: string, options?: CallOptions): Promise<SampMap> {
    return map(await this.#call("getMetadata", [clientId], options), "getMetadata");
  }

  /**
   * Replaces this client's subscriptions: MType patterns to annotation maps.
   *
   * @example
   * ```ts ignore
   * await hub.declareSubscriptions({ "table.load.votable": {}, "samp.hub.event.*": {} });
   * ```
   */
  async declareSubscriptions(subscriptions: SampMap, options?: CallOptions): Promise<void> {
    await this.#call("declareSubscriptions", [subscriptions], options);
  }

  /**
   * Returns a client's subscriptions.
   *
   * @example
   * ```ts ignore
   * const subs = await hub.getSubscriptions("c1");
   * ```
   */
  async getSubscriptions(clientId: string, options?: CallOptions): Promise<SampMap> {
    return map(await this.#call("getSubscriptions", [clientId], options), "getSubscriptions");
  }

  /**
   * The ids of the other registered clients (the hub's own included).
   *
   * @example
   * ```ts ignore
   * const ids = await hub.getRegisteredClients();
   * ```
   */
  async getRegisteredClients(options?: CallOptions): Promise<string[]> {
    return strings(await this.#call("getRegisteredClients", [], options), "getRegisteredClients");
  }

  /**
   * The other clients subscribed to `mtype`, each with its annotation.
   *
   * @example
   * ```ts ignore
   * const viewers = Object.keys(await hub.getSubscribedClients("image.load.fits"));
   * ```
   */
  async getSubscribedClients(mtype: string, options?: CallOptions): Promise<SampMap> {
    return map(await this.#call("getSubscribedClients", [mtype], options), "getSubscribedClients");
  }

  /**
   * Sends a notification to one client.
   *
   * @example
   * ```ts ignore
   * await hub.notify("c2", { "samp.mtype": "samp.app.ping", "samp.params": {} });
   * ```
   */
  async notify(recipientId: string, message: Message, options?: CallOptions): Promise<void> {
    await this.#call("notify", [recipientId, message], options);
  }

  /**
   * Sends a notification to every subscribed client; returns their ids.
   *
   * @example
   * ```ts ignore
   * const ids = await hub.notifyAll({ "samp.mtype": "samp.app.ping", "samp.params": {} });
   * ```
   */
  async notifyAll(message: Message, options?: CallOptions): Promise<string[]> {
    return strings(await this.#call("notifyAll", [message], options), "notifyAll");
  }

  /**
   * Sends a call; returns its msg-id. The response arrives through the
   * callback handler's `receiveResponse` with `msgTag`.
   *
   * @example
   * ```ts ignore
   * const msgId = await hub.call("c2", "tag-1", { "samp.mtype": "samp.app.ping", "samp.params": {} });
   * ```
   */
  async call(
    recipientId: string,
    msgTag: string,
    message: Message,
    options?: CallOptions,
  ): Promise<string> {
    const id = await this.#call("call", [recipientId, msgTag, message], options);
    if (typeof id !== "string") throw protocol("call", "a msg-id string", id);
    return id;
  }

  /**
   * Sends a call to every subscribed client; returns recipient id → msg-id.
   *
   * @example
   * ```ts ignore
   * const ids = await hub.callAll("tag-2", { "samp.mtype": "samp.app.ping", "samp.params": {} });
   * ```
   */
  async callAll(
    msgTag: string,
    message: Message,
    options?: CallOptions,
  ): Promise<Record<string, string>> {
    const m = map(await this.#call("callAll", [msgTag, message], options), "callAll");
    for (const v of Object.values(m)) {
      if (typeof v !== "string") throw protocol("callAll", "msg-ids", m);
    }
    return m as Record<string, string>;
  }

  /**
   * Sends a call and waits (in the hub) for the response. `timeoutSeconds`
   * ≤ 0 means no timeout.
   *
   * @example
   * ```ts ignore
   * const r = await hub.callAndWait("c2", { "samp.mtype": "samp.app.ping", "samp.params": {} }, 10);
   * ```
   */
  async callAndWait(
    recipientId: string,
    message: Message,
    timeoutSeconds: number,
    options?: CallOptions,
  ): Promise<SampResponse> {
    const r = await this.#call(
      "callAndWait",
      [recipientId, message, String(Math.trunc(timeoutSeconds))],
      options,
    );
    if (!isSampMap(r) || typeof r["samp.status"] !== "string") {
      throw protocol("callAndWait", "a response map with samp.status", r);
    }
    return r as SampResponse;
  }

  /**
   * Answers a call this client received.
   *
   * @example
   * ```ts ignore
   * await hub.reply(msgId, { "samp.status": "samp.ok", "samp.result": {} });
   * ```
   */
  async reply(msgId: string, response: SampResponse, options?: CallOptions): Promise<void> {
    await this.#call("reply", [msgId, response], options);
  }

  /**
   * Calls any hub method by its abstract name, for extensions the typed
   * methods do not cover.
   *
   * @example
   * ```ts ignore
   * await hub.invoke("getRegisteredClients", []);
   * ```
   */
  invoke(name: string, args: SampValue[], options?: CallOptions): Promise<SampValue> {
    return this.#call(name, args, options);
  }

  /**
   * Unregisters and stops receiving callbacks. Safe to call twice.
   *
   * @example
   * ```ts ignore
   * await hub.unregister();
   * ```
   */
  async unregister(options?: CallOptions): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#transport.invoke("unregister", [this.#key], options);
    } finally {
      await this.#stop();
    }
  }

  /**
   * Stops receiving callbacks without telling the hub (for a hub that has
   * gone away). Safe to call twice.
   *
   * @example
   * ```ts ignore
   * await hub.abandon();
   * ```
   */
  async abandon(): Promise<void> {
    this.#closed = true;
    await this.#stop();
  }

  /** Unregisters, ignoring a hub that has already gone. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.unregister({ timeoutMs: 5000 });
    } catch (e) {
      if (!(e instanceof TransportError) && !(e instanceof SampFault)) throw e;
    }
  }

  get #key(): string {
    return this.#reg["samp.private-key"];
  }

  async #stop(): Promise<void> {
    const stop = this.#stopListening;
    this.#stopListening = undefined;
    await stop?.();
  }

  #call(name: string, args: SampValue[], options?: CallOptions): Promise<SampValue> {
    if (this.#closed) {
      return Promise.reject(
        new Error(`cannot call ${name}: this client has disconnected from the hub`),
      );
    }
    return this.#transport.invoke(name, name === "ping" ? args : [this.#key, ...args], options);
  }
}

function map(v: SampValue, method: string): SampMap {
  if (!isSampMap(v)) throw protocol(method, "a map", v);
  return v;
}

function strings(v: SampValue, method: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    throw protocol(method, "a list of ids", v);
  }
  return v as string[];
}

function protocol(method: string, expected: string, got: SampValue): Error {
  return new Error(
    `the hub answered ${method} with ${JSON.stringify(got).slice(0, 80)} instead of ${expected}`,
  );
}

/**
 * The SAMP Web Profile: `samp.webhub.*` XML-RPC methods for web pages,
 * mapped onto the hub core. Registration needs the user's consent; callbacks
 * are queued per client and collected with `pullCallbacks`, a long poll that
 * honours its timeout; URLs that reach a web client are noted for the URL
 * translator; web clients that stop polling are disconnected.
 *
 * A thin front end like the Standard Profile: routing rules stay in the core
 * (the MType restrictions for web senders are a core {@linkcode MessagePolicy}).
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import type { RegInfo, SampMap, SampValue } from "../types.ts";
import { isSampMap } from "../types.ts";
import type { XmlRpcContext, XmlRpcDispatch } from "../transport/xmlrpc_server.ts";
import type { Authorizer } from "./consent.ts";
import { type Delivery, DeliveryError, type HubCore } from "./core.ts";
import { arityFault, hubApiMethod, sampInt } from "./hub_api.ts";
import { UrlControl } from "./url_control.ts";

/**
 * Options of the Web Profile.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import { acceptAll } from "./consent.ts";
 * import type { WebProfileOptions } from "./web_profile.ts";
 * const options: WebProfileOptions = {
 *   core: new HubCore(),
 *   authorizer: acceptAll(),
 *   translatorBase: "http://127.0.0.1:21012/proxied/",
 * };
 * await options.core.close();
 * ```
 */
export interface WebProfileOptions {
  /** The hub core. */
  core: HubCore;
  /** Decides whether a page may register (the user's consent). */
  authorizer: Authorizer;
  /** URL prefix of the translator; the private key and `?` are appended. */
  translatorBase: string;
  /** Restrict the translator to URLs that tools sent the client (see url_control.ts). Default true. */
  urlControl?: boolean;
  /** Callbacks queued for one client before delivery to it fails. Default 4096. */
  maxQueue?: number;
  /** Disconnect a callable web client that has not polled for this long, in ms. Default 15 min. */
  pollTimeoutMs?: number;
  /** Disconnect a non-callable web client silent for this long, in ms. Default 30 min. */
  idleTimeoutMs?: number;
  /** Longest `pullCallbacks` wait honoured, in seconds. Default 3600. */
  maxPullSeconds?: number;
  /** Reports registrations decided, for the log. */
  onConsent?: (name: string, origin: string | undefined, accepted: boolean, reason: string) => void;
}

/**
 * A running Web Profile.
 *
 * @example
 * ```ts ignore
 * const profile = createWebProfile({ core, authorizer, translatorBase });
 * const target = profile.translatable(key, "file:///data/m31.fits");
 * ```
 */
export interface WebProfile {
  /** Answers one `samp.webhub.*` call. */
  dispatch: XmlRpcDispatch;
  /**
   * Checks a translator request: the web client with `privateKey` asks for
   * `url`. Returns `null` when allowed, else why not (with an HTTP status).
   */
  checkTranslation(privateKey: string, url: string): { status: number; reason: string } | null;
  /** Disconnects web clients that stopped polling or went silent. */
  sweep(now?: number): string[];
  /** Ends every pending long poll (at hub shutdown). */
  close(): void;
}

interface Queue {
  id: string;
  items: SampMap[];
  waiter?: (items: SampMap[]) => void;
  polling: number;
  lastPoll: number;
  closed: boolean;
}

/** The Web Profile's own methods and their parameters after the private key; the rest is HUB_API. */
const OWN_METHODS: Record<string, string[]> = {
  allowReverseCallbacks: ["allow"],
  pullCallbacks: ["timeout"],
};

/**
 * Creates the Web Profile front end over a hub core.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import { acceptAll } from "./consent.ts";
 * import { createWebProfile } from "./web_profile.ts";
 * const core = new HubCore();
 * const web = createWebProfile({ core, authorizer: acceptAll(), translatorBase: "http://127.0.0.1:21012/proxied/" });
 * web.close();
 * await core.close();
 * ```
 */
export function createWebProfile(options: WebProfileOptions): WebProfile {
  const { core, authorizer } = options;
  const urls = options.urlControl === false ? undefined : new UrlControl();
  const maxQueue = options.maxQueue ?? 4096;
  const pollTimeoutMs = options.pollTimeoutMs ?? 15 * 60_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30 * 60_000;
  const maxPullMs = (options.maxPullSeconds ?? 3600) * 1000;
  const queues = new Map<string, Queue>(); // by private key
  let closed = false;

  /** The web client calling, by private key; other profiles' keys are not valid here. */
  function webKey(k: SampValue): string {
    if (typeof k !== "string" || core.clientByKey(k)?.profile !== "web") {
      throw new SampFault(
        "Unknown private key: this web client is not registered (register again; the hub may have restarted)",
      );
    }
    return k;
  }

  function idOf(key: string): string {
    return core.clientByKey(key)!.id;
  }

  /**
   * Whether what `source` sent can make URLs fetchable: it must be the hub or
   * a non-web client. A hub event about a client (`samp.hub.event.*` with an
   * `id`) carries that client's own words (its metadata, its subscriptions),
   * so it counts as from that client. A client that has left counts as
   * untrusted.
   */
  function trusted(source: SampValue, message?: SampValue): boolean {
    if (typeof source !== "string") return false;
    let id = source;
    if (id === core.hubId && isSampMap(message)) {
      const params = message["samp.params"];
      if (isSampMap(params) && typeof params.id === "string") id = params.id;
    }
    const client = core.client(id);
    return client !== undefined && client.profile !== "web";
  }

  /** What reaches web client `id` from `source`: its URLs become fetchable if the source is trusted. */
  function delivered<T extends SampValue>(id: string, source: SampValue, value: T): T {
    if (urls && trusted(source, value)) urls.noteDelivered(id, value);
    return value;
  }

  function queueDelivery(key: string, queue: Queue): Delivery {
    const push = (method: string, params: SampValue[]): Promise<void> => {
      if (queue.closed) {
        return Promise.reject(new DeliveryError("the web client has stopped callbacks"));
      }
      if (queue.items.length >= maxQueue) {
        return Promise.reject(
          new DeliveryError(
            `the web client's callback queue is full (${maxQueue}): it is not polling`,
          ),
        );
      }
      // params: [sender, message], [sender, msg-id, message] or [responder, tag, response].
      delivered(queue.id, params[0], params[params.length - 1]);
      queue.items.push({ "samp.methodName": method, "samp.params": params });
      wake(queue);
      return Promise.resolve();
    };
    return {
      notification: (sender, message) => push("receiveNotification", [sender, message]),
      call: (sender, msgId, message) => push("receiveCall", [sender, msgId, message]),
      response: (responder, tag, response) => push("receiveResponse", [responder, tag, response]),
      close: () => {
        // A poll in progress still collects what was queued (e.g. samp.hub.disconnect).
        queue.closed = true;
        wake(queue, true);
        queues.delete(key);
        urls?.forget(queue.id);
      },
    };
  }

  function wake(queue: Queue, force = false): void {
    if (!queue.waiter || (queue.items.length === 0 && !force)) return;
    const resolve = queue.waiter;
    queue.waiter = undefined;
    resolve(queue.items.splice(0));
  }

  async function register(params: SampValue[], ctx: XmlRpcContext): Promise<RegInfo> {
    if (closed) throw new SampFault("The hub is shutting down");
    if (params.length !== 1) {
      throw arityFault("samp.webhub.register", ["identity-info"], params.length);
    }
    const [identity] = params;
    // The SAMP 1.3 form is a map with samp.name; drafts sent the name alone.
    const name = typeof identity === "string"
      ? identity
      : isSampMap(identity) && typeof identity["samp.name"] === "string"
      ? identity["samp.name"] as string
      : undefined;
    if (!name) {
      throw new SampFault(
        "Web registration needs identity-info with a samp.name string naming the application",
      );
    }
    const origin = ctx.request.headers.get("origin") ?? undefined;
    const referer = ctx.request.headers.get("referer") ?? undefined;
    core.touch();
    const decision = await authorizer.authorize({ name, origin, referer }, ctx.signal);
    options.onConsent?.(name, origin, decision.accepted, decision.reason);
    if (!decision.accepted) {
      throw new SampFault(`Registration refused: ${decision.reason}`);
    }
    if (closed) throw new SampFault("The hub is shutting down");
    const reg = core.register("web", "wk");
    const key = reg["samp.private-key"];
    try {
      urls?.noteSupplied(reg["samp.self-id"], identity);
    } catch (e) {
      core.unregister(key);
      throw e;
    }
    return { ...reg, "samp.url-translator": `${options.translatorBase}${key}?` };
  }

  async function pullCallbacks(
    key: string,
    timeout: SampValue,
    ctx: XmlRpcContext,
  ): Promise<SampMap[]> {
    const queue = queues.get(key);
    if (!queue) {
      throw new SampFault('Client is not callable: call allowReverseCallbacks("1") first');
    }
    queue.lastPoll = Date.now();
    if (queue.items.length > 0) return queue.items.splice(0);
    const seconds = sampInt(timeout, "timeout");
    if (seconds === 0 || queue.closed || closed) return [];
    const waitMs = seconds < 0 ? maxPullMs : Math.min(seconds * 1000, maxPullMs);
    if (queue.waiter) queue.waiter([]); // an older poll of the same client gives way
    queue.polling++;
    try {
      return await new Promise<SampMap[]>((resolve) => {
        const finish = (items: SampMap[]) => {
          clearTimeout(timer);
          ctx.signal.removeEventListener("abort", onAbort);
          if (queue.waiter === finish) queue.waiter = undefined;
          resolve(items);
        };
        const onAbort = () => finish([]);
        const timer = setTimeout(() => finish([]), waitMs);
        queue.waiter = finish;
        ctx.signal.addEventListener("abort", onAbort, { once: true });
      });
    } finally {
      queue.polling--;
      queue.lastPoll = Date.now();
    }
  }

  const dispatch: XmlRpcDispatch = (method, params, ctx) => {
    if (!method.startsWith("samp.webhub.")) {
      throw new SampFault(
        `Unknown XML-RPC method ${method}: this is the SAMP Web Profile endpoint (samp.webhub.*)`,
      );
    }
    const name = method.slice("samp.webhub.".length);
    if (name === "register") return register(params, ctx);
    if (name === "ping") {
      if (params.length > 1) throw arityFault(method, ["[private-key]"], params.length);
      core.touch(typeof params[0] === "string" ? params[0] : undefined);
      return "";
    }
    const ownParams = Object.hasOwn(OWN_METHODS, name) ? OWN_METHODS[name] : undefined;
    const api = ownParams ? undefined : hubApiMethod(name);
    const names = ownParams ?? api?.params;
    if (!names) throw new SampFault(`Unknown XML-RPC method ${method}`);
    if (params.length !== names.length + 1) {
      throw arityFault(method, ["private-key", ...names], params.length);
    }
    const key = webKey(params[0]);
    const self = idOf(key);
    const args = params.slice(1);
    if (name === "allowReverseCallbacks") {
      const allow = sampInt(args[0], "allow") !== 0;
      core.touch(key);
      if (allow && !queues.has(key)) {
        const queue: Queue = {
          id: self,
          items: [],
          polling: 0,
          lastPoll: Date.now(),
          closed: false,
        };
        queues.set(key, queue);
        core.setDelivery(key, queueDelivery(key, queue));
      } else if (!allow && queues.has(key)) {
        core.setDelivery(key, null);
      }
      return "";
    }
    if (name === "pullCallbacks") {
      core.touch(key);
      return pullCallbacks(key, args[0], ctx);
    }
    // What a web client sends can never become fetchable through the translator.
    urls?.noteSupplied(self, args);
    const result = api!.run(core, key, args, ctx);
    // What comes back from another client is delivered from it (URL control).
    const from = api!.resultFrom;
    if (from === undefined) return result;
    return result instanceof Promise
      ? result.then((r) => delivered(self, args[from], r))
      : delivered(self, args[from], result);
  };

  return {
    dispatch,
    checkTranslation(privateKey, url) {
      const client = core.clientByKey(privateKey);
      if (!client || client.profile !== "web") {
        return { status: 403, reason: "unknown private key in the translator URL" };
      }
      if (urls && !urls.isPermitted(client.id, url)) {
        return {
          status: 403,
          reason: `${url} was not sent to this web client by a desktop tool or the hub: ` +
            "the translator serves a page only URLs that tools sent it, never URLs a page supplied",
        };
      }
      return null;
    },
    sweep(now = Date.now()) {
      const gone: string[] = [];
      for (const c of core.clients()) {
        if (c.profile !== "web") continue;
        const key = keyOf(c.id);
        const queue = key ? queues.get(key) : undefined;
        if (queue) {
          if (queue.polling === 0 && now - queue.lastPoll > pollTimeoutMs) {
            core.disconnect(c.id, `stopped polling for callbacks for ${pollTimeoutMs / 1000} s`);
            gone.push(c.id);
          }
        } else if (now - lastActive(c.id) > idleTimeoutMs) {
          core.disconnect(c.id, `silent for ${idleTimeoutMs / 1000} s`);
          gone.push(c.id);
        }
      }
      return gone;
    },
    close() {
      closed = true;
      for (const q of queues.values()) wake(q, true);
    },
  };

  function keyOf(id: string): string | undefined {
    for (const [key, q] of queues) if (q.id === id) return key;
    return undefined;
  }

  function lastActive(id: string): number {
    return core.lastActiveOf(id) ?? Date.now();
  }
}

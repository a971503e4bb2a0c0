/**
 * The SAMP Standard Profile: `samp.hub.*` XML-RPC methods mapped onto the hub
 * core, and `samp.client.*` callbacks carried to each client's XML-RPC URL.
 *
 * A thin front end: it checks argument counts and the registration secret,
 * and leaves every routing rule to {@linkcode HubCore}.
 *
 * @module
 */

import { SampFault, TransportError } from "../errors.ts";
import type { SampValue } from "../types.ts";
import { createHttpPool, HttpClosedError } from "../transport/http_pool.ts";
import { xmlrpcRequest } from "../transport/xmlrpc_client.ts";
import type { Offload } from "../transport/_offload.ts";
import { encodeCallBytes } from "../xmlrpc.ts";
import { refusesConnections } from "../transport/_probe.ts";
import { timingSafeEqual } from "../_secrets.ts";
import type { XmlRpcContext, XmlRpcDispatch } from "../transport/xmlrpc_server.ts";
import { type Delivery, DeliveryError, type HubCore } from "./core.ts";
import { arityFault, hubApiMethod } from "./hub_api.ts";

const PREFIX = "samp.hub.";

/**
 * Options of the Standard Profile.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import type { StandardProfileOptions } from "./standard_profile.ts";
 * const options: StandardProfileOptions = { core: new HubCore(), secret: "0123456789abcdef" };
 * await options.core.close();
 * ```
 */
export interface StandardProfileOptions {
  /** The hub core the profile fronts. */
  core: HubCore;
  /** The registration secret written to the lockfile. */
  secret: string;
  /** Longest wait for a client to accept one callback, in ms. Default 120 s. */
  callbackTimeoutMs?: number;
  /**
   * Where big values were encoded once (by the worker that decoded them): a
   * callback carrying one splices those bytes in instead of encoding again.
   */
  offload?: Offload;
}

/**
 * A running Standard Profile: its XML-RPC dispatcher and a way to abort
 * callbacks still in flight.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import { createStandardProfile } from "./standard_profile.ts";
 * const core = new HubCore();
 * const profile = createStandardProfile({ core, secret: "s3cret" });
 * await profile.dispatch("samp.hub.ping", [], { request: new Request("http://x/"), signal: new AbortController().signal });
 * profile.close();
 * await core.close();
 * ```
 */
export interface StandardProfile {
  /** Answers one `samp.hub.*` call. */
  dispatch: XmlRpcDispatch;
  /** Aborts every callback in flight (at hub shutdown). */
  close(): void;
}

type Method = (args: SampValue[], ctx: XmlRpcContext) => SampValue | Promise<SampValue>;

/**
 * Creates the Standard Profile front end over a hub core.
 *
 * @example
 * ```ts
 * import { HubCore } from "./core.ts";
 * import { createStandardProfile } from "./standard_profile.ts";
 * const core = new HubCore();
 * const profile = createStandardProfile({ core, secret: "s3cret" });
 * const ctx = { request: new Request("http://x/"), signal: new AbortController().signal };
 * const reg = await profile.dispatch("samp.hub.register", ["s3cret"], ctx);
 * profile.close();
 * await core.close();
 * ```
 */
export function createStandardProfile(options: StandardProfileOptions): StandardProfile {
  const { core, secret, offload } = options;
  const callbackTimeoutMs = options.callbackTimeoutMs ?? 120_000;
  // Callbacks go through keep-alive connections of our own: the hub's
  // main cost is one POST per delivered message (see http_pool.ts).
  const pool = createHttpPool();

  /** The caller's private key; Web Profile clients' keys are not valid on this endpoint. */
  function key(k: SampValue): string {
    if (typeof k !== "string") throw new SampFault("The private key must be a string");
    const profile = core.clientByKey(k)?.profile;
    if (profile !== undefined && profile !== "standard") {
      throw new SampFault(
        "Unknown private key: this client registered through another SAMP profile; use that one",
      );
    }
    return k;
  }

  /** The Standard Profile's own methods; the rest of the hub API is HUB_API's. */
  const own: Record<string, [params: string[], Method]> = {
    "samp.hub.register": [["samp-secret"], ([given]) => {
      core.touch();
      if (typeof given !== "string" || !timingSafeEqual(given, secret)) {
        throw new SampFault(
          "Bad secret: it does not match this hub's samp.secret (read it again from the lockfile)",
        );
      }
      return core.register("standard");
    }],
    "samp.hub.setXmlrpcCallback": [["private-key", "url"], ([k, url]) => {
      const privateKey = key(k);
      core.setDelivery(privateKey, xmlrpcDelivery(callbackUrl(url), privateKey));
      return "";
    }],
  };

  function xmlrpcDelivery(url: string, privateKey: string): Delivery {
    // No signal: closing the profile closes the pool, which ends these.
    const options = { timeoutMs: callbackTimeoutMs, ignoreResult: true, pool };
    /** Sends a callback: `params` are the private key's followers, the message (or response) last. */
    const send = async (method: string, params: SampValue[]): Promise<void> => {
      try {
        // A big message is encoded once for all its recipients (by the
        // worker that decoded it); here its bytes are only copied in.
        const last = params[params.length - 1];
        await xmlrpcRequest(
          url,
          method,
          params,
          offload?.holdsEncoded(last)
            ? { ...options, encoded: encodeCallBytes(method, params, offload.encodedOf) }
            : options,
        );
      } catch (e) {
        throw await toDeliveryError(e, url);
      }
    };
    return {
      notification: (sender, message) =>
        send("samp.client.receiveNotification", [privateKey, sender, message]),
      call: (sender, msgId, message) =>
        send("samp.client.receiveCall", [privateKey, sender, msgId, message]),
      response: (responder, tag, response) =>
        send("samp.client.receiveResponse", [privateKey, responder, tag, response]),
      // The client left or changed its URL: the pool need not remember this one.
      close: () => pool.forget(url),
    };
  }

  const dispatch: XmlRpcDispatch = (method, params, ctx) => {
    if (method === "samp.hub.ping") {
      // JSAMP and astropy send no argument, sampjs the private key: accept both.
      if (params.length > 1) throw arityFault(method, ["[private-key]"], params.length);
      core.touch(typeof params[0] === "string" ? params[0] : undefined);
      return "";
    }
    const entry = Object.hasOwn(own, method) ? own[method] : undefined;
    if (entry) {
      const [names, run] = entry;
      if (params.length !== names.length) throw arityFault(method, names, params.length);
      return run(params, ctx);
    }
    const api = method.startsWith(PREFIX) ? hubApiMethod(method.slice(PREFIX.length)) : undefined;
    if (!api) {
      throw new SampFault(
        method.startsWith("samp.webhub.")
          ? `Unknown XML-RPC method ${method}: Web Profile methods are served on the Web Profile port`
          : `Unknown XML-RPC method ${method}: this is a SAMP Standard Profile hub (samp.hub.*)`,
      );
    }
    if (params.length !== api.params.length + 1) {
      throw arityFault(method, ["private-key", ...api.params], params.length);
    }
    return api.run(core, key(params[0]), params.slice(1), ctx);
  };

  return {
    dispatch,
    close: () => {
      pool.close();
    },
  };
}

function callbackUrl(url: SampValue): string {
  if (typeof url === "string") {
    try {
      const u = new URL(url);
      if (u.protocol === "http:" || u.protocol === "https:") return url;
    } catch {
      // fall through to the fault
    }
  }
  throw new SampFault(
    `Callback URL must be an http:// URL of the client's XML-RPC server, not ${
      typeof url === "string" ? JSON.stringify(url) : "a " + (Array.isArray(url) ? "list" : "map")
    }`,
  );
}

/**
 * What a failed callback means for the hub. Refused: the client is gone.
 * Sent whole, then the answer failed (cut, unreadable, too long, late): it
 * may have arrived, so nobody answers for the client; but when the
 * connection was closed without a complete answer and the endpoint now
 * refuses connections, the client died with it (a killed process) and is
 * gone. Anything else (an HTTP error status, a fault, a failure before the
 * request was written) means the client did not take it.
 */
async function toDeliveryError(e: unknown, url: string): Promise<DeliveryError> {
  if (e instanceof TransportError) {
    if (e.maybeReceived && e.cause instanceof HttpClosedError && await refusesConnections(url)) {
      return new DeliveryError(
        `${e.message}; and ${url} now refuses connections (nothing listens there any more)`,
        { unreachable: true },
        { cause: e },
      );
    }
    return new DeliveryError(e.message, {
      unreachable: e.refused,
      maybeDelivered: e.maybeReceived,
    }, { cause: e });
  }
  if (e instanceof SampFault) {
    return new DeliveryError(`client at ${url} answered with a fault: ${e.message}`, {}, {
      cause: e,
    });
  }
  // Aborted at hub shutdown, or something unexpected: it may have arrived.
  return new DeliveryError(`callback to ${url} failed: ${String(e)}`, { maybeDelivered: true }, {
    cause: e,
  });
}

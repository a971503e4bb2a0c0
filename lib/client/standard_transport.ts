/**
 * The Standard Profile for clients: hub calls are XML-RPC `samp.hub.*`
 * requests; callbacks arrive at a small XML-RPC server (`Deno.serve` on
 * 127.0.0.1, an ephemeral port) that answers at once and handles each
 * callback afterwards, as the standard advises. The same server serves the
 * client's offered in-memory data (see `resources.ts`) under `/sampkit/data/`.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import { xmlrpcRequest } from "../transport/xmlrpc_client.ts";
import { createXmlRpcHandler } from "../transport/xmlrpc_server.ts";
import type { Message, RegInfo, SampResponse, SampValue } from "../types.ts";
import { isSampMap } from "../types.ts";
import { type CallbackHandler, HubConnection, type HubTransport } from "./connection.ts";
import { type DiscoveryOptions, findHub } from "./discovery.ts";
import { isLoopbackHost, type ResourceStore } from "./resources.ts";

/**
 * Options for {@linkcode standardTransport}.
 *
 * @example
 * ```ts
 * import type { StandardTransportOptions } from "./standard_transport.ts";
 * const options: StandardTransportOptions = { callbackHost: "127.0.0.1" };
 * ```
 */
export interface StandardTransportOptions {
  /** Host the callback server binds to and advertises. Default `127.0.0.1`. */
  callbackHost?: string;
  /** Reports errors thrown by callback handlers (default: `console.error`). */
  onError?: (error: unknown, callback: string) => void;
  /**
   * In-memory data to serve from the callback server (GET and HEAD under
   * `/sampkit/data/`), when it listens on the loopback interface.
   * {@linkcode SampClient} passes its own store.
   */
  resources?: ResourceStore;
}

/**
 * A Standard Profile transport for the hub at `url` with registration `secret`.
 *
 * @example
 * ```ts ignore
 * import { HubConnection } from "./connection.ts";
 * import { standardTransport } from "./standard_transport.ts";
 * const t = standardTransport("http://127.0.0.1:4000/xmlrpc", "secret");
 * const hub = new HubConnection(t, await t.register());
 * ```
 */
export function standardTransport(
  url: string,
  secret: string,
  options: StandardTransportOptions = {},
): HubTransport {
  const host = options.callbackHost ?? "127.0.0.1";
  const onError = options.onError ??
    ((e, cb) => console.error(`SAMP ${cb} handler failed: ${(e as Error)?.stack ?? e}`));
  return {
    profile: "standard",
    async register(callOptions) {
      const info = await xmlrpcRequest(url, "samp.hub.register", [secret], callOptions);
      if (
        !isSampMap(info) || typeof info["samp.self-id"] !== "string" ||
        typeof info["samp.private-key"] !== "string" || typeof info["samp.hub-id"] !== "string"
      ) {
        throw new Error(`the hub at ${url} answered register with an incomplete reg-info map`);
      }
      return info as RegInfo;
    },
    invoke: (name, args, callOptions) => xmlrpcRequest(url, `samp.hub.${name}`, args, callOptions),
    async listen(privateKey, handler) {
      // Resources are served only on loopback.
      const resources = options.resources && isLoopbackHost(host) ? options.resources : undefined;
      const server = serveCallbacks(host, privateKey, handler, onError, resources);
      const origin = `http://${host.includes(":") ? `[${host}]` : host}:${server.addr.port}`;
      try {
        await xmlrpcRequest(url, "samp.hub.setXmlrpcCallback", [privateKey, `${origin}/xmlrpc`]);
      } catch (e) {
        await server.shutdown();
        throw e;
      }
      resources?.attach(origin);
      return async () => {
        resources?.detach(origin);
        await server.shutdown();
      };
    },
  };
}

/**
 * Options for {@linkcode connectStandard}: where to find the hub, plus the
 * transport's options.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "./standard_transport.ts";
 * const options: ConnectOptions = { lockfile: "/tmp/test.samp" };
 * ```
 */
export interface ConnectOptions extends DiscoveryOptions, StandardTransportOptions {}

/**
 * Finds the hub (SAMP_HUB, else ~/.samp) and registers with it through the
 * Standard Profile.
 *
 * @example
 * ```ts ignore
 * import { connectStandard } from "./standard_transport.ts";
 * await using hub = await connectStandard();
 * await hub.declareMetadata({ "samp.name": "my-script" });
 * ```
 */
export async function connectStandard(options: ConnectOptions = {}): Promise<HubConnection> {
  const { lock } = await findHub(options);
  const transport = standardTransport(lock.xmlrpcUrl, lock.secret, options);
  const reg = await transport.register({ signal: options.signal });
  return new HubConnection(transport, reg);
}

function serveCallbacks(
  host: string,
  privateKey: string,
  handler: CallbackHandler,
  onError: (error: unknown, callback: string) => void,
  resources: ResourceStore | undefined,
): Deno.HttpServer<Deno.NetAddr> {
  const run = (name: string, f: () => void | Promise<void>) => {
    // Answer the hub at once; handle the callback afterwards.
    queueMicrotask(async () => {
      try {
        await f();
      } catch (e) {
        onError(e, name);
      }
    });
    return "";
  };
  const dispatch = (method: string, params: SampValue[]): SampValue => {
    const [key, a, b, c] = params;
    if (key !== privateKey) {
      throw new SampFault("Wrong private key: this callback is not for this client");
    }
    switch (method) {
      case "samp.client.receiveNotification":
        check(params, 3, method, [a, "string"], [b, "map"]);
        return run(method, () => handler.receiveNotification(a as string, b as Message));
      case "samp.client.receiveCall":
        check(params, 4, method, [a, "string"], [b, "string"], [c, "map"]);
        return run(method, () => handler.receiveCall(a as string, b as string, c as Message));
      case "samp.client.receiveResponse":
        check(params, 4, method, [a, "string"], [b, "string"], [c, "map"]);
        return run(
          method,
          () => handler.receiveResponse(a as string, b as string, c as SampResponse),
        );
      default:
        throw new SampFault(`Unknown callback ${method}: a SAMP client serves samp.client.*`);
    }
  };
  const xmlrpc = createXmlRpcHandler(dispatch);
  if (!resources) {
    return Deno.serve({ hostname: host, port: 0, onListen: () => {} }, xmlrpc);
  }
  const serve = (request: Request) => resources.handle(request) ?? xmlrpc(request);
  // Bind the port of the server this one replaces (after a reconnection)
  // when it is free, so URLs of resources already handed out keep working.
  const port = resources.lastPort;
  if (port !== undefined) {
    try {
      return Deno.serve({ hostname: host, port, onListen: () => {} }, serve);
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    }
  }
  return Deno.serve({ hostname: host, port: 0, onListen: () => {} }, serve);
}

function check(
  params: SampValue[],
  n: number,
  method: string,
  ...expect: [SampValue, "string" | "map"][]
): void {
  const ok = params.length === n &&
    expect.every(([v, t]) => t === "string" ? typeof v === "string" : isSampMap(v));
  if (!ok) throw new SampFault(`Bad arguments to ${method}`);
}

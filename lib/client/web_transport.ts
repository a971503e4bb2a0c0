/**
 * The Web Profile for clients: what a web page (or a Deno script acting as
 * one) uses to reach the hub at `http://localhost:21012/`. Hub calls are
 * `samp.webhub.*` XML-RPC POSTs; callbacks are collected by a long poll
 * (`pullCallbacks`). Only web-standard APIs are used, so this module runs
 * in browsers as well as in Deno.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import { xmlrpcRequest } from "../transport/xmlrpc_client.ts";
import type { Message, RegInfo, SampMap, SampResponse, SampValue } from "../types.ts";
import { isSampMap } from "../types.ts";
import { type CallbackHandler, HubConnection, type HubTransport } from "./connection.ts";

/**
 * The Web Profile hub URL of the standard (port 21012, path `/`).
 *
 * @example
 * ```ts
 * import { WEB_HUB_URL } from "./web_transport.ts";
 * console.log(WEB_HUB_URL); // "http://localhost:21012/"
 * ```
 */
export const WEB_HUB_URL = "http://localhost:21012/";

/**
 * Options of {@linkcode webTransport} and {@linkcode connectWeb}.
 *
 * @example
 * ```ts
 * import type { WebTransportOptions } from "./web_transport.ts";
 * const options: WebTransportOptions = { name: "my-page", pullSeconds: 60 };
 * ```
 */
export interface WebTransportOptions {
  /** The application name shown to the user when asking consent (`samp.name`). */
  name: string;
  /** Further identity information sent with `register`. */
  identity?: SampMap;
  /** The hub's Web Profile URL. Default {@linkcode WEB_HUB_URL}. */
  url?: string;
  /** Seconds each `pullCallbacks` long poll may wait. Default 600. */
  pullSeconds?: number;
  /** Reports errors thrown by callback handlers (default: `console.error`). */
  onError?: (error: unknown, callback: string) => void;
}

/**
 * A Web Profile transport.
 *
 * @example
 * ```ts ignore
 * import { HubConnection } from "./connection.ts";
 * import { webTransport } from "./web_transport.ts";
 * const t = webTransport({ name: "my-page" });
 * const hub = new HubConnection(t, await t.register());
 * ```
 */
export function webTransport(options: WebTransportOptions): HubTransport {
  const url = options.url ?? WEB_HUB_URL;
  const pullSeconds = String(Math.max(1, Math.trunc(options.pullSeconds ?? 600)));
  const onError = options.onError ??
    ((e, cb) => console.error(`SAMP ${cb} handler failed: ${(e as Error)?.stack ?? e}`));
  const call = (name: string, args: SampValue[], signal?: AbortSignal, timeoutMs?: number) =>
    xmlrpcRequest(url, `samp.webhub.${name}`, args, {
      signal,
      timeoutMs,
      // pullCallbacks wraps each message three levels deeper (list, callback, params)
      // than the hub accepts it (64).
      maxDepth: name === "pullCallbacks" ? 64 + 3 : undefined,
    });
  return {
    profile: "web",
    async register(callOptions) {
      const identity = { ...options.identity, "samp.name": options.name };
      const info = await call("register", [identity], callOptions?.signal, callOptions?.timeoutMs);
      if (
        !isSampMap(info) || typeof info["samp.self-id"] !== "string" ||
        typeof info["samp.private-key"] !== "string"
      ) {
        throw new Error(`the hub at ${url} answered register with an incomplete reg-info map`);
      }
      return info as RegInfo;
    },
    invoke: (name, args, callOptions) =>
      call(name, args, callOptions?.signal, callOptions?.timeoutMs),
    async listen(privateKey: string, handler: CallbackHandler) {
      await call("allowReverseCallbacks", [privateKey, "1"]);
      const stop = new AbortController();
      const loop = pullLoop(privateKey, handler, stop.signal);
      return async () => {
        stop.abort();
        await loop;
      };
    },
  };

  async function pullLoop(key: string, handler: CallbackHandler, signal: AbortSignal) {
    let failures = 0;
    while (!signal.aborted) {
      let batch: SampValue;
      try {
        batch = await call("pullCallbacks", [key, pullSeconds], signal);
        failures = 0;
      } catch (e) {
        if (signal.aborted) return;
        // The hub forgot us (it restarted or disconnected us): polling is over.
        if (e instanceof SampFault) return;
        // The hub is unreachable for now: wait a little, then poll again.
        failures++;
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), signal);
        continue;
      }
      if (!Array.isArray(batch)) continue;
      for (const item of batch) {
        if (!isSampMap(item)) continue;
        const method = item["samp.methodName"];
        const p = item["samp.params"];
        if (typeof method !== "string" || !Array.isArray(p)) continue;
        deliver(handler, method, p).catch((e) => onError(e, method));
      }
    }
  }
}

async function deliver(handler: CallbackHandler, method: string, p: SampValue[]): Promise<void> {
  switch (method) {
    case "receiveNotification":
      return await handler.receiveNotification(p[0] as string, p[1] as Message);
    case "receiveCall":
      return await handler.receiveCall(p[0] as string, p[1] as string, p[2] as Message);
    case "receiveResponse":
      return await handler.receiveResponse(p[0] as string, p[1] as string, p[2] as SampResponse);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Registers with the hub through the Web Profile (the hub asks the user
 * first) and returns the connection.
 *
 * @example
 * ```ts ignore
 * import { connectWeb } from "./web_transport.ts";
 * const hub = await connectWeb({ name: "my-page" });
 * await hub.notifyAll({ "samp.mtype": "samp.app.ping", "samp.params": {} });
 * ```
 */
export async function connectWeb(options: WebTransportOptions): Promise<HubConnection> {
  const transport = webTransport(options);
  return new HubConnection(transport, await transport.register());
}

/**
 * A `connector` for `SampClient.connect`: the same high-level client,
 * through the Web Profile.
 *
 * @example
 * ```ts ignore
 * import { SampClient } from "./client.ts";
 * import { webConnector } from "./web_transport.ts";
 * const client = await SampClient.connect({ name: "my-page", connector: webConnector() });
 * ```
 */
export function webConnector(
  options: Partial<WebTransportOptions> = {},
): (client: { name?: string }) => Promise<HubConnection> {
  return (client) => connectWeb({ ...options, name: options.name ?? client.name ?? "web client" });
}

/**
 * The URL to fetch `url` through the hub's URL translator (for a page that
 * cannot read `file:` URLs or other origins itself).
 *
 * @example
 * ```ts ignore
 * import { translateUrl } from "./web_transport.ts";
 * const res = await fetch(translateUrl(hub.regInfo, "file:///data/m31.vot"));
 * ```
 */
export function translateUrl(regInfo: SampMap, url: string): string {
  const base = regInfo["samp.url-translator"];
  if (typeof base !== "string") return url;
  return base + encodeURIComponent(url);
}

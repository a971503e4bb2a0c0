/**
 * A SAMP hub as the bench's target: every step is a Standard Profile
 * XML-RPC call over keep-alive connections of the bench's own.
 *
 * @module
 */

import type { SampMap, SampValue } from "../../lib/types.ts";
import { createHttpPool, type HttpPool } from "../../lib/transport/http_pool.ts";
import { xmlrpcRequest } from "../../lib/transport/xmlrpc_client.ts";
import { SampFault } from "../../lib/errors.ts";
import { decodeResponse, encodeCall } from "../../lib/xmlrpc.ts";
import { BenchClient } from "./client.ts";
import type { CallbackCounts } from "./callback.ts";
import {
  type PreparedRequest,
  type RawRegistration,
  type RegisterOptions,
  RPC_TIMEOUT_MS,
  type Target,
} from "./target.ts";
import { mapOf, stringOf } from "./_values.ts";

/** The timeout a callAndWait asks the hub for. */
const SYNC_TIMEOUT_MS = 20000;

/** A SAMP hub reached at its Standard Profile XML-RPC URL with its secret. */
export class HubTarget implements Target {
  /** Always "hub". */
  readonly kind = "hub";
  /** The hub's name and URL, for logs. */
  description: string;
  /** Counts kept by every client's callback server. */
  readonly callbacks: CallbackCounts = { slowParses: 0 };
  #n = 0;

  /** The bench's clients call the hub through keep-alive connections of their own. */
  readonly #pool: HttpPool = createHttpPool({ maxIdlePerOrigin: 256 });

  /** A hub at `url` (its XML-RPC URL) registering with `secret`. */
  constructor(readonly url: string, readonly secret: string, description: string) {
    this.description = description;
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.#pool.close();
  }

  /** One XML-RPC call to the hub. */
  rawCall(method: string, params: SampValue[]): Promise<SampValue> {
    return xmlrpcRequest(this.url, method, params, {
      timeoutMs: RPC_TIMEOUT_MS,
      pool: this.#pool,
    });
  }

  /** One XML-RPC call to the hub; its response as text (a fault rejects). */
  async callText(method: string, params: SampValue[]): Promise<string> {
    return await this.#post(encodeCall(method, params));
  }

  async #post(body: string): Promise<string> {
    const res = await this.#pool.post(this.url, body, { timeoutMs: RPC_TIMEOUT_MS });
    if (res.status !== 200) {
      throw new Error(`hub: HTTP ${res.status} ${res.statusText} ${res.body.slice(0, 200)}`);
    }
    // A fault is short: only a short answer with <fault in it is decoded.
    if (res.body.length < 65536 && res.body.includes("<fault")) {
      const r = decodeResponse(res.body);
      if (!r.ok) throw new SampFault(r.message, r.code);
    }
    return res.body;
  }

  /** `samp.hub.notify`, encoded now. */
  prepareNotify(from: BenchClient, to: BenchClient, msg: SampMap): PreparedRequest {
    return { to: this.url, body: encodeCall("samp.hub.notify", [from.key, to.id, msg]) };
  }

  /** `samp.hub.call`, encoded now. */
  prepareCall(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): PreparedRequest {
    return { to: this.url, body: encodeCall("samp.hub.call", [from.key, to.id, tag, msg]) };
  }

  /** Sends a prepared request. */
  async send(req: PreparedRequest): Promise<void> {
    await this.#post(req.body);
  }

  /** `samp.hub.register`: the new client's ids and the hub's. */
  async rawRegister(): Promise<RawRegistration> {
    const info = mapOf(await this.rawCall("samp.hub.register", [this.secret]));
    const id = stringOf(info["samp.self-id"]);
    const key = stringOf(info["samp.private-key"]);
    if (!id || !key) throw new Error(`samp.hub.register answered ${JSON.stringify(info)}`);
    return { id, key, hubId: stringOf(info["samp.hub-id"]) ?? "hub" };
  }

  /** Registers a client, names it, and sets its callback and subscriptions. */
  async register(opts: RegisterOptions = {}): Promise<BenchClient> {
    const c = new BenchClient(this.#n++, this.callbacks);
    const { id, key } = await this.rawRegister();
    c.id = id;
    c.key = key;
    try {
      await this.rawCall("samp.hub.declareMetadata", [key, {
        "samp.name": opts.name ?? `bench-${c.index}`,
      }]);
      if (opts.callable ?? true) {
        await this.rawCall("samp.hub.setXmlrpcCallback", [key, c.listen()]);
      }
      if (opts.subscriptions) {
        await this.rawCall("samp.hub.declareSubscriptions", [key, opts.subscriptions]);
      }
    } catch (e) {
      await this.unregister(c).catch(() => {});
      throw e;
    }
    return c;
  }

  /** Unregisters a client and stops its callback server. */
  async unregister(c: BenchClient): Promise<void> {
    try {
      await this.rawCall("samp.hub.unregister", [c.key]);
    } finally {
      await c.shutdown();
    }
  }

  /** `samp.hub.notify`. */
  async notify(from: BenchClient, to: BenchClient, msg: SampMap): Promise<void> {
    await this.rawCall("samp.hub.notify", [from.key, to.id, msg]);
  }

  /** `samp.hub.notifyAll`; returns how many recipients the hub named (-1: not a list). */
  async notifyAll(from: BenchClient, msg: SampMap): Promise<number> {
    const ids = await this.rawCall("samp.hub.notifyAll", [from.key, msg]);
    return Array.isArray(ids) ? ids.length : -1;
  }

  /** `samp.hub.call`. */
  async call(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): Promise<void> {
    await this.rawCall("samp.hub.call", [from.key, to.id, tag, msg]);
  }

  /** `samp.hub.callAndWait`, with a timeout of 20 s. */
  async callAndWait(from: BenchClient, to: BenchClient, msg: SampMap): Promise<SampMap> {
    const timeout = String(Math.ceil(SYNC_TIMEOUT_MS / 1000));
    return mapOf(await this.rawCall("samp.hub.callAndWait", [from.key, to.id, msg, timeout]));
  }

  /** `samp.hub.reply`. */
  async reply(by: BenchClient, _sender: string, msgId: string, response: SampMap): Promise<void> {
    await this.rawCall("samp.hub.reply", [by.key, msgId, response]);
  }
}

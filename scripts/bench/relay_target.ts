/**
 * The bare relay as the bench's target (`--relay URL`): the ceiling, one
 * POST in and one POST out with no XML parsed. The same clients get the same
 * messages, pre-encoded here as a hub would deliver them; routing travels
 * in the query string (relay_server.ts serves it):
 *
 * - `POST /fwd?to=URL`: answered at once, the body forwarded to URL;
 * - `POST /group?id=G` (body: URLs, one per line), then `POST /fan?group=G`:
 *   answered at once, the body forwarded to every URL of the group;
 * - `POST /wait?to=URL&id=N`: the body forwarded to URL, the answer held
 *   until `POST /done?id=N`, whose body becomes the answer.
 *
 * @module
 */

import { SampFault } from "../../lib/errors.ts";
import type { SampMap } from "../../lib/types.ts";
import { createHttpPool, type HttpPool } from "../../lib/transport/http_pool.ts";
import { decodeResponse, encodeCall, encodeResponse } from "../../lib/xmlrpc.ts";
import { BenchClient } from "./client.ts";
import type { CallbackCounts } from "./callback.ts";
import {
  type PreparedRequest,
  type RegisterOptions,
  RPC_TIMEOUT_MS,
  type Target,
} from "./target.ts";
import { mapOf } from "./_values.ts";

/** The bare relay: same clients, messages pre-encoded as a hub would deliver them. */
export class RelayTarget implements Target {
  /** Always "relay". */
  readonly kind = "relay";
  /** The relay's URL without trailing slashes. */
  readonly url: string;
  /** "bare relay at URL", for logs. */
  readonly description: string;
  /** Counts kept by every client's callback server. */
  readonly callbacks: CallbackCounts = { slowParses: 0 };
  #n = 0;
  #clients = new Map<string, BenchClient>();
  #groups = new Map<BenchClient[], string>();
  #wait = 0;
  readonly #pool: HttpPool = createHttpPool({ maxIdlePerOrigin: 256 });

  /** The relay at `url`. */
  constructor(url: string) {
    this.url = url.replace(/\/+$/, "");
    this.description = `bare relay at ${this.url}`;
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.#pool.close();
  }

  async #post(path: string, body: string): Promise<string> {
    const res = await this.#pool.post(this.url + path, body, {
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    if (res.status !== 200) throw new Error(`relay ${path}: HTTP ${res.status} ${res.body.trim()}`);
    return res.body;
  }

  /** A client with made-up ids (the relay has no registry). */
  register(opts: RegisterOptions = {}): Promise<BenchClient> {
    const c = new BenchClient(this.#n++, this.callbacks);
    c.id = `r${c.index}`;
    c.key = `rk${c.index}`;
    if (opts.callable ?? true) c.listen();
    this.#clients.set(c.id, c);
    return Promise.resolve(c);
  }

  /** Forgets a client and stops its callback server. */
  async unregister(c: BenchClient): Promise<void> {
    this.#clients.delete(c.id);
    await c.shutdown();
  }

  /** A receiveNotification forwarded to `to`. */
  async notify(from: BenchClient, to: BenchClient, msg: SampMap): Promise<void> {
    await this.send(this.prepareNotify(from, to, msg));
  }

  /** A receiveNotification for `to`, encoded now. */
  prepareNotify(from: BenchClient, to: BenchClient, msg: SampMap): PreparedRequest {
    return {
      to: `/fwd?to=${encodeURIComponent(to.url)}`,
      body: encodeCall("samp.client.receiveNotification", [to.key, from.id, msg]),
    };
  }

  /** A receiveCall for `to`, encoded now, its msg-id the tag prefixed with "a". */
  prepareCall(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): PreparedRequest {
    return {
      to: `/fwd?to=${encodeURIComponent(to.url)}`,
      body: encodeCall("samp.client.receiveCall", [to.key, from.id, `a${tag}`, msg]),
    };
  }

  /** Sends a prepared request to its route on the relay. */
  async send(req: PreparedRequest): Promise<void> {
    await this.#post(req.to, req.body);
  }

  /** A receiveNotification fanned out to `recipients` (a relay group per list). */
  async notifyAll(from: BenchClient, msg: SampMap, recipients: BenchClient[]): Promise<number> {
    let group = this.#groups.get(recipients);
    if (!group) {
      group = `g${this.#groups.size}`;
      await this.#post(`/group?id=${group}`, recipients.map((r) => r.url).join("\n"));
      this.#groups.set(recipients, group);
    }
    const body = encodeCall("samp.client.receiveNotification", ["rk", from.id, msg]);
    await this.#post(`/fan?group=${group}`, body);
    return recipients.length;
  }

  /** A receiveCall forwarded to `to`, its msg-id the tag prefixed with "a". */
  async call(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): Promise<void> {
    await this.send(this.prepareCall(from, to, tag, msg));
  }

  /** A receiveCall held open by the relay until the reply comes back. */
  async callAndWait(from: BenchClient, to: BenchClient, msg: SampMap): Promise<SampMap> {
    const n = this.#wait++;
    const body = encodeCall("samp.client.receiveCall", [to.key, from.id, `w${n}`, msg]);
    const text = await this.#post(`/wait?to=${encodeURIComponent(to.url)}&id=${n}`, body);
    const r = decodeResponse(text);
    if (!r.ok) throw new SampFault(r.message, r.code);
    return mapOf(r.value);
  }

  /** Answers a held callAndWait, or forwards a receiveResponse to the caller. */
  async reply(by: BenchClient, sender: string, msgId: string, response: SampMap): Promise<void> {
    if (msgId.startsWith("w")) {
      await this.#post(`/done?id=${msgId.slice(1)}`, encodeResponse(response));
      return;
    }
    const to = this.#clients.get(sender);
    if (!to) throw new Error(`relay reply: unknown sender ${sender}`);
    const body = encodeCall("samp.client.receiveResponse", [to.key, by.id, msgId.slice(1), {
      ...response,
    }]);
    await this.#post(`/fwd?to=${encodeURIComponent(to.url)}`, body);
  }
}

/**
 * A bench client: its SAMP ids and, when callable, a `Deno.serve` callback
 * server on 127.0.0.1 that answers at once and hands what it got to the
 * scenario's handlers.
 *
 * @module
 */

import { type Callback, type CallbackCounts, parseCallback } from "./callback.ts";
import { xmlResponse } from "./_xml_response.ts";

/** A bench client: its ids, and (when callable) a callback server with handlers. */
export class BenchClient {
  /** The client's public id (`samp.self-id`). */
  id = "";
  /** The client's private key. */
  key = "";
  /** The callback URL, once listening. */
  url = "";
  /** The client's number within its target (for default names). */
  readonly index: number;
  /** The callback server, while listening. */
  server?: Deno.HttpServer<Deno.NetAddr>;
  /** Called for `samp.client.receiveNotification`. */
  onNotification?: (sender: string, cb: Callback) => void;
  /** Called for `samp.client.receiveCall`. */
  onCall?: (sender: string, msgId: string, cb: Callback) => void;
  /** Called for `samp.client.receiveResponse`. */
  onResponse?: (responder: string, tag: string, cb: Callback) => void;
  /**
   * Sees every callback body first, as it arrives; when it returns true the
   * body is handled (the big-message scenarios read big bodies their own
   * way, and time their arrival before any parsing).
   */
  onBody?: (body: string) => boolean;
  /** Callbacks that could not be handled (parse failures, unknown methods). */
  bad = 0;
  readonly #counts: CallbackCounts;

  /** A client numbered `index`; its callbacks count slow parses in `counts`. */
  constructor(index: number, counts: CallbackCounts) {
    this.index = index;
    this.#counts = counts;
  }

  /**
   * Starts the callback server on a free loopback port and returns its URL.
   *
   * @example
   * ```ts
   * import { BenchClient } from "./client.ts";
   * const c = new BenchClient(0, { slowParses: 0 });
   * console.log(c.listen()); // http://127.0.0.1:PORT/xmlrpc
   * await c.shutdown();
   * ```
   */
  listen(): string {
    this.server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        const body = await req.text();
        try {
          if (this.onBody?.(body)) return xmlResponse();
          const cb = parseCallback(body, this.#counts);
          switch (cb.method) {
            case "samp.client.receiveNotification":
              this.onNotification?.(cb.args[1], cb);
              break;
            case "samp.client.receiveCall":
              this.onCall?.(cb.args[1], cb.args[2], cb);
              break;
            case "samp.client.receiveResponse":
              this.onResponse?.(cb.args[1], cb.args[2], cb);
              break;
            default:
              this.bad++;
          }
        } catch {
          this.bad++;
        }
        return xmlResponse();
      },
    );
    this.url = `http://127.0.0.1:${this.server.addr.port}/xmlrpc`;
    return this.url;
  }

  /** Stops the callback server, if any. */
  async shutdown(): Promise<void> {
    await this.server?.shutdown();
    this.server = undefined;
  }
}

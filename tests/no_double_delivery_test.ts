// Nothing is delivered twice (issue 13, point 5), end to end: an in-process
// hub over HTTP, a sender, and a recipient whose callback endpoint is a raw
// socket that keeps its connections alive, answers the first callback on
// each, and on the second one reads the request whole, acts on it, and hangs
// up without answering. The hub's keep-alive pool used to send such a
// callback again on a new connection ("the server dropped the reused
// connection"), so the recipient acted on it twice. Now the callback fails as
// "may have arrived": a notification is not repeated, and a call waits for
// the recipient's own reply, with no error made up by the hub.

import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import type { Hub } from "../lib/hub/server.ts";
import { createLogger } from "../lib/log.ts";
import { decodeCall, encodeResponse } from "../lib/xmlrpc.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { TestClient, waitFor } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One callback as the raw endpoint read it, and the connection it came on. */
interface Seen {
  method: string;
  params: SampValue[];
  /** Index of the TCP connection, from 0. */
  conn: number;
}

/**
 * The recipient's callback endpoint on a raw socket: HTTP/1.1 keep-alive,
 * answering the first request on each connection, then reading the second
 * one whole, acting on it (recording it, replying to a call) and closing
 * the connection without answering.
 */
class HangUpSecondEndpoint {
  readonly seen: Seen[] = [];
  readonly replyErrors: unknown[] = [];
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  readonly url = `http://127.0.0.1:${this.#listener.addr.port}/xmlrpc`;
  #accepted = 0;

  constructor(readonly reply: (msgId: string, message: SampMap) => Promise<unknown>) {
    this.#accepting = (async () => {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#tasks.push(this.#serve(conn, this.#accepted++));
      }
    })().catch(() => {});
  }

  async #serve(conn: Deno.Conn, index: number): Promise<void> {
    const reader = requestReader(conn);
    try {
      for (let nth = 0;; nth++) {
        const xml = await reader();
        if (xml === undefined) return; // the hub closed it, or only checked we still listen
        const call = decodeCall(xml);
        this.seen.push({ ...call, conn: index });
        if (nth === 0) {
          await writeAll(conn, ok(encodeResponse("")));
        } else {
          // Acted on, never answered: the connection closes under the hub.
          conn.close();
          this.#conns.delete(conn);
        }
        if (call.method === "samp.client.receiveCall") {
          const [, , msgId, message] = call.params as [string, string, string, SampMap];
          await this.reply(msgId, message).catch((e) => this.replyErrors.push(e));
        }
        if (nth > 0) return;
      }
    } catch {
      // closed under us at the end of the test
    } finally {
      if (this.#conns.delete(conn)) conn.close();
    }
  }

  /** The callbacks of `method` whose message has `n` as its `samp.params.n`. */
  count(method: string, n: string): number {
    return this.seen.filter((s) => {
      if (s.method !== method) return false;
      const message = s.params[method === "samp.client.receiveCall" ? 3 : 2] as SampMap;
      return (message["samp.params"] as SampMap).n === n;
    }).length;
  }

  async close(): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) c.close();
    this.#conns.clear();
    await this.#accepting;
    await Promise.all(this.#tasks);
  }
}

function ok(body: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${
    enc.encode(body).length
  }\r\n\r\n${body}`;
}

/** Reads requests one after another from `conn` (head, then Content-Length bytes); undefined at EOF. */
function requestReader(conn: Deno.Conn): () => Promise<string | undefined> {
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(16384);
  return async () => {
    for (;;) {
      const text = dec.decode(bytes);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        const head = enc.encode(text.slice(0, end + 4)).length;
        if (bytes.length >= head + length) {
          const body = dec.decode(bytes.subarray(head, head + length));
          bytes = bytes.slice(head + length);
          return body;
        }
      }
      const n = await conn.read(buf);
      if (n === null) return undefined;
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(buf.subarray(0, n), bytes.length);
      bytes = next;
    }
  };
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = enc.encode(text);
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

const msg = (n: string): SampMap => ({ "samp.mtype": "test.once", "samp.params": { n } });

/** The secret as the lockfile states it (`samp.secret=...`). */
async function lockfileSecret(path: string): Promise<string> {
  const line = (await Deno.readTextFile(path)).split("\n").find((l) =>
    l.startsWith("samp.secret=")
  );
  assert.ok(line, "the lockfile states samp.secret");
  return line.slice("samp.secret=".length).trim();
}

/** Runs `fn` with a hub, a callable sender, and the raw recipient registered with the lockfile's secret. */
async function withRecipient(
  fn: (
    hub: Hub,
    sender: TestClient,
    recipient: TestClient,
    endpoint: HangUpSecondEndpoint,
    lines: string[],
  ) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "samp-no-double-" });
  const lockfile = `${dir}/hub.samp`;
  const hub = await startHub({ lockfile, logger: createLogger("DEBUG", (l) => lines.push(l)) });
  let endpoint: HangUpSecondEndpoint | undefined;
  try {
    const secret = await lockfileSecret(lockfile);
    const sender = await TestClient.register(hub.url, secret);
    const recipient = await TestClient.register(hub.url, secret, false);
    endpoint = new HangUpSecondEndpoint((msgId, message) =>
      recipient.hub("reply", msgId, {
        "samp.status": "samp.ok",
        "samp.result": { echo: (message["samp.params"] as SampMap).n },
      })
    );
    await recipient.hub("setXmlrpcCallback", endpoint.url);
    await recipient.hub("declareSubscriptions", { "test.*": {} });
    await fn(hub, sender, recipient, endpoint, lines);
    assert.deepEqual(endpoint.replyErrors, [], "every reply of the recipient was taken");
    await sender.close();
    await recipient.close();
  } finally {
    await hub.close();
    await endpoint?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Waits until the hub has no callback in flight (so its connection is back in the pool). */
function settled(hub: Hub, what: string): Promise<unknown> {
  return waitFor(() => hub.stats().deliveriesInFlight === 0, 10_000, what);
}

Deno.test("a notification whose reused connection closes after the recipient read it arrives once", () =>
  withRecipient(async (hub, sender, recipient, endpoint, lines) => {
    await sender.hub("notify", recipient.id, msg("1"));
    await waitFor(() => endpoint.count("samp.client.receiveNotification", "1"), 10_000, "n=1");
    await settled(hub, "the first notification to be answered");
    await sender.hub("notify", recipient.id, msg("2"));
    await waitFor(() => endpoint.count("samp.client.receiveNotification", "2"), 10_000, "n=2");
    await settled(hub, "the second notification's callback to end");
    // The second went on the connection the first had left alive.
    assert.deepEqual(endpoint.seen.slice(0, 2).map((s) => s.conn), [0, 0], "one connection");
    // Long enough for a second copy, had the hub sent one.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(endpoint.count("samp.client.receiveNotification", "1"), 1);
    assert.equal(endpoint.count("samp.client.receiveNotification", "2"), 1, lines.join("\n"));
    assert.equal(endpoint.seen.length, 2);
    // The hub says it may have arrived, and keeps the recipient.
    assert.ok(hub.client(recipient.id), "the recipient is still registered");
    assert.ok(
      lines.some((l) => l.includes(recipient.id) && /may have arrived/.test(l)),
      `the hub logs that it may have arrived:\n${lines.join("\n")}`,
    );
  }));

Deno.test("a call whose reused connection closes after the recipient read it arrives once, and the caller gets the one real reply", () =>
  withRecipient(async (hub, sender, recipient, endpoint) => {
    await sender.hub("call", recipient.id, "tag-1", msg("1"));
    await waitFor(() => sender.got("receiveResponse").length === 1, 10_000, "the reply to n=1");
    await settled(hub, "the first call and its reply to be answered");
    await sender.hub("call", recipient.id, "tag-2", msg("2"));
    await waitFor(() => sender.got("receiveResponse").length >= 2, 10_000, "the reply to n=2");
    await settled(hub, "the second call's callbacks to end");
    assert.deepEqual(endpoint.seen.slice(0, 2).map((s) => s.conn), [0, 0], "one connection");
    // Long enough for a second copy, or a made-up error, had the hub sent one.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(endpoint.count("samp.client.receiveCall", "1"), 1);
    assert.equal(endpoint.count("samp.client.receiveCall", "2"), 1);
    assert.equal(endpoint.seen.length, 2);
    assert.deepEqual(sender.got("receiveResponse").map((r) => r.args), [
      [recipient.id, "tag-1", { "samp.status": "samp.ok", "samp.result": { echo: "1" } }],
      [recipient.id, "tag-2", { "samp.status": "samp.ok", "samp.result": { echo: "2" } }],
    ]);
    await waitFor(() => hub.stats().pendingCalls === 0, 5000, "no call left pending");
  }));

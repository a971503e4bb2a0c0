// The hub's callbacks to recipients whose XML-RPC servers answer the way real
// tools do, end to end: an in-process hub, a caller, and a recipient whose
// callback endpoint is a raw socket. SAOImage DS9 8.4 answers with bare LF
// line endings and closes the connection; a broken tool may answer garbage,
// or hang up without answering, after reading the whole request. Either way
// the recipient got the message, and its own `samp.hub.reply` must reach
// the caller, exactly once, with no error made up by the hub racing it.

import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import type { Hub } from "../lib/hub/server.ts";
import { createLogger } from "../lib/log.ts";
import { decodeCall, encodeResponse } from "../lib/xmlrpc.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { TestClient, waitFor } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How a raw endpoint answers one callback it has read whole. */
type Answer = "ds9" | "garbage" | "hang-up";

/** The answer DS9 8.4 writes: lines end with LF only, no Connection header, then it closes. */
function ds9Answer(): string {
  const body = encodeResponse("");
  return `HTTP/1.1 200 OK\nContent-Type: text/xml\nContent-length: ${body.length}\n` +
    `Access-Control-Allow-Origin: *\n\n${body}`;
}

/**
 * A recipient's callback endpoint on a raw socket: it reads each request
 * whole, answers it as `answer` says, closes the connection, and then (as a
 * tool does once it has handled a call) sends its reply to the hub.
 */
class RawEndpoint {
  readonly calls: { method: string; params: SampValue[] }[] = [];
  readonly replyErrors: unknown[] = [];
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  readonly url = `http://127.0.0.1:${this.#listener.addr.port}/xmlrpc`;

  constructor(
    readonly answer: Answer,
    readonly reply: (msgId: string, message: SampMap) => Promise<unknown>,
  ) {
    this.#accepting = (async () => {
      for await (const conn of this.#listener) this.#tasks.push(this.#serve(conn));
    })().catch(() => {});
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    let call;
    try {
      const xml = await readRequestBody(conn);
      if (xml === undefined) return; // a connection that only checked we still listen
      call = decodeCall(xml);
      this.calls.push(call);
      if (this.answer === "ds9") await writeAll(conn, ds9Answer());
      else if (this.answer === "garbage") await writeAll(conn, "SAMP says yes\n\nthanks\n");
    } finally {
      conn.close();
    }
    if (call.method === "samp.client.receiveCall") {
      const [, , msgId, message] = call.params as [string, string, string, SampMap];
      // The reply comes after the hub has read (or failed to read) the answer.
      await sleep(50);
      await this.reply(msgId, message).catch((e) => this.replyErrors.push(e));
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    await Promise.all(this.#tasks);
  }
}

/** Reads one request (head, then Content-Length bytes of body); undefined at an early EOF. */
async function readRequestBody(conn: Deno.Conn): Promise<string | undefined> {
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(16384);
  for (;;) {
    const text = dec.decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      const head = enc.encode(text.slice(0, end + 4)).length;
      if (bytes.length >= head + length) return dec.decode(bytes.subarray(head, head + length));
    }
    const n = await conn.read(buf);
    if (n === null) return undefined;
    const next = new Uint8Array(bytes.length + n);
    next.set(bytes);
    next.set(buf.subarray(0, n), bytes.length);
    bytes = next;
  }
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = enc.encode(text);
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

const msg = (mtype: string, params: SampMap = {}) => ({
  "samp.mtype": mtype,
  "samp.params": params,
});

/**
 * Runs `fn` with an in-process hub logging at DEBUG into `lines`, a callable
 * caller, and a recipient whose callbacks go to a raw endpoint answering as
 * `answer` says and replying to each call with `{ echo: <the call's n> }`.
 */
async function withRecipient(
  answer: Answer,
  fn: (
    hub: Hub,
    caller: TestClient,
    recipient: TestClient,
    endpoint: RawEndpoint,
    lines: string[],
  ) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "samp-answers-" });
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    logger: createLogger("DEBUG", (l) => lines.push(l)),
  });
  let endpoint: RawEndpoint | undefined;
  try {
    const caller = await TestClient.register(hub.url, hub.secret);
    const recipient = await TestClient.register(hub.url, hub.secret, false);
    endpoint = new RawEndpoint(answer, (msgId, message) =>
      recipient.hub("reply", msgId, {
        "samp.status": "samp.ok",
        "samp.result": { echo: (message["samp.params"] as SampMap).n },
      }));
    await recipient.hub("setXmlrpcCallback", endpoint.url);
    await recipient.hub("declareSubscriptions", { "test.*": {} });
    await fn(hub, caller, recipient, endpoint, lines);
    assert.deepEqual(endpoint.replyErrors, [], "every reply of the recipient was taken");
    await caller.close();
    await recipient.close();
  } finally {
    await hub.close();
    await endpoint?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sends a callAndWait, an async call and three notifications; checks the caller got each real reply once. */
async function exchange(
  hub: Hub,
  caller: TestClient,
  recipient: TestClient,
  endpoint: RawEndpoint,
): Promise<void> {
  const sync = await caller.hub("callAndWait", recipient.id, msg("test.ask", { n: "1" }), "20");
  assert.deepEqual(sync, { "samp.status": "samp.ok", "samp.result": { echo: "1" } });

  await caller.hub("call", recipient.id, "tag-2", msg("test.ask", { n: "2" }));
  await waitFor(() => caller.got("receiveResponse").length > 0, 10_000, "the async reply");
  for (let i = 0; i < 3; i++) await caller.hub("notify", recipient.id, msg("test.note"));
  await waitFor(
    () => endpoint.calls.filter((c) => c.method === "samp.client.receiveNotification").length === 3,
    10_000,
    "the three notifications",
  );
  // Long enough for a made-up error response, had there been one, to follow.
  await sleep(300);
  const responses = caller.got("receiveResponse").map((r) => r.args);
  assert.deepEqual(responses, [[recipient.id, "tag-2", {
    "samp.status": "samp.ok",
    "samp.result": { echo: "2" },
  }]]);
  await waitFor(() => hub.stats().pendingCalls === 0, 5000, "no call left pending");
}

Deno.test("a recipient answering with LF-only lines as DS9 does: the caller gets its real reply once, and the hub logs no failed delivery", () =>
  withRecipient("ds9", async (hub, caller, recipient, endpoint, lines) => {
    await exchange(hub, caller, recipient, endpoint);
    assert.equal(endpoint.calls.length, 5);
    const bad = lines.filter((l) => / (WARNING|ERROR) |could not deliver|answer failed/.test(l));
    assert.deepEqual(bad, [], "the hub's log shows no failed delivery");
  }));

for (const answer of ["garbage", "hang-up"] as const) {
  const what = answer === "garbage"
    ? "answering garbage after reading the whole request"
    : "hanging up without an answer after reading the whole request, still listening";
  Deno.test(`a recipient ${what}: its own reply reaches the caller once, and the hub warns once`, () =>
    withRecipient(answer, async (hub, caller, recipient, endpoint, lines) => {
      await exchange(hub, caller, recipient, endpoint);
      // The recipient stays: it may well have every message.
      assert.ok(hub.client(recipient.id), "the recipient is still registered");
      const about = lines.filter((l) => new RegExp(` to ${recipient.id}[: ]`).test(l));
      const warnings = about.filter((l) => / WARNING /.test(l));
      assert.equal(warnings.length, 1, `one warning:\n${about.join("\n")}`);
      assert.match(warnings[0], /went out, but its answer failed/);
      assert.match(warnings[0], /may have arrived/);
      // Five callbacks failed that way: the other four are at debug level.
      assert.equal(
        about.filter((l) => / DEBUG .*receive(Call|Notification) to /.test(l)).length,
        4,
      );
    }));
}

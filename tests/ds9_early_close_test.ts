// SAOImage DS9's `samp.hub.reply` closes its connection before the hub has
// answered whenever DS9 sends it from inside another hub call's wait, and
// the hub must still act on it. End to end: an in-process hub, a caller
// (callAndWait), and a stand-in for DS9 that does on the wire what DS9 8.4's
// Tcl XML-RPC code (/usr/share/saods9/library/xmlrpc.tcl and samp.tcl)
// does:
//
// - DS9 is single-threaded. `xmlrpc::call` sends a request on a new
//   connection (HTTP/1.0, LF line ends) and waits in `vwait readdone` on one
//   global variable, handling other events meanwhile.
// - Its timers call the hub too: one second after each register or
//   unregister event it runs SAMPUpdate (getSubscribedClients, three times).
//   A receiveCall that arrives during such a call is handled inside that
//   wait: DS9 sends its `samp.hub.reply` on another new connection and waits
//   again on the same variable.
// - The outer call's answer, already there, sets the variable: the inner
//   wait returns with it as the reply's result, and DS9 closes the reply's
//   connection at once (0.6 ms after writing it, in an strace of the real
//   DS9), before the hub's answer comes, answers the receiveCall, and goes
//   on as if the reply had gone through.
//
// `Deno.serve` dropped such a request (its body became unreadable once the
// client closed: denoland/deno#27132), so the caller never got its reply
// and `samp send ... --to ds9` timed out; JSAMP's hub served it. The hub
// now reads each request from the socket whatever the client does next.

import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import { createLogger } from "../lib/log.ts";
import { decodeCall, encodeResponse } from "../lib/xmlrpc.ts";
import { TestClient } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A request as DS9's `xmlrpc::buildRequest` writes it: HTTP/1.0, LF only, tabs. */
function ds9Request(method: string, params: string[]): string {
  const body = `<?xml version="1.0"?>\n<methodCall>\n\t<methodName>${method}</methodName>\n` +
    `\t\t<params>\n${
      params.map((p) => `\t\t\t<param>\n\t\t\t\t${p}\n\t\t\t</param>\n`).join("")
    }\t\t</params>\n</methodCall>\n`;
  return `POST /xmlrpc HTTP/1.0\nContent-Type: text/xml\nContent-length: ${body.length}\n\n${body}`;
}

const str = (s: string) => `<value><string>${s}</string></value>`;

/** DS9's answer to a callback: LF only, then it closes. */
function ds9Answer(): string {
  const body = encodeResponse("OK");
  return `HTTP/1.1 200 OK\nContent-Type: text/xml\nContent-length: ${body.length}\n\n${body}`;
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = enc.encode(text);
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Reads one whole HTTP message (head, then Content-Length bytes); its body. */
async function readMessage(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buf = new Uint8Array(16384);
  for (;;) {
    const m = /\r?\n\r?\n/.exec(text);
    if (m) {
      const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, m.index))?.[1] ?? 0);
      const body = text.slice(m.index + m[0].length);
      if (enc.encode(body).length >= length) return body;
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error(`connection closed after ${JSON.stringify(text)}`);
    text += dec.decode(buf.subarray(0, n));
  }
}

Deno.test("a reply sent the way DS9 sends it from inside another hub call's wait (its connection closed before the hub answers) reaches the caller every time", async () => {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "samp-ds9-early-close-" });
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    logger: createLogger("DEBUG", (l) => lines.push(l)),
  });
  const callbacks = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = Number(new URL(hub.url).port);
  const toHub = () => Deno.connect({ hostname: "127.0.0.1", port });
  let caller: TestClient | undefined;
  try {
    // The stand-in's set-up (registration and subscriptions) goes the usual way.
    const ds9 = await TestClient.register(hub.url, hub.secret, false);
    const key = ds9.key;
    await ds9.hub("declareMetadata", { "samp.name": "SAOImageDS9" });
    await ds9.hub("setXmlrpcCallback", `http://127.0.0.1:${callbacks.addr.port}`);
    await ds9.hub("declareSubscriptions", { "coord.pointAt.sky": {} });

    caller = await TestClient.register(hub.url, hub.secret, false);
    const rounds = 8;
    for (let i = 0; i < rounds; i++) {
      // The caller's callAndWait, like `samp send coord.pointAt.sky --to ds9`.
      const answered: Promise<unknown> = caller.hub("callAndWait", ds9.id, {
        "samp.mtype": "coord.pointAt.sky",
        "samp.params": { ra: String(83.6 + i / 1000), dec: "22.0" },
      }, "10").catch((e: Error) => e);

      // SAMPUpdate's getSubscribedClients: sent; DS9 waits for its answer.
      const outer = await toHub();
      await writeAll(outer, ds9Request("samp.hub.getSubscribedClients", [str(key), str("x.y")]));
      // Meanwhile the hub's receiveCall comes, handled inside that wait.
      const callback = await callbacks.accept();
      const call = decodeCall(await readMessage(callback));
      assert.equal(call.method, "samp.client.receiveCall");
      const msgId = call.params[2] as string;
      // The outer answer is there by now (DS9's wait will be woken by it).
      await readMessage(outer);
      // SAMPReply: the reply goes out on a new connection, and the wait it
      // starts returns at once with the outer call's answer: DS9 closes the
      // reply's connection without reading the hub's answer to it.
      const inner = await toHub();
      await writeAll(
        inner,
        ds9Request("samp.hub.reply", [
          str(key),
          str(msgId),
          `<value>\n\t\t\t\t\t<struct>\n\t\t\t\t\t\t<member>\n\t\t\t\t\t\t\t<name>samp.status</name>\n` +
          `\t\t\t\t\t\t\t<value><string>samp.ok</string></value>\n\t\t\t\t\t\t</member>\n` +
          `\t\t\t\t\t</struct>\n\t\t\t\t</value>`,
        ]),
      );
      inner.close();
      // Then DS9 answers the receiveCall and closes, and the outer call returns.
      await writeAll(callback, ds9Answer());
      callback.close();
      outer.close();

      const response = await answered;
      assert.deepEqual(
        response,
        { "samp.status": "samp.ok" },
        `round ${i + 1} of ${rounds}: the caller did not get DS9's reply\n${lines.join("\n")}`,
      );
    }
    assert.equal(hub.stats().pendingCalls, 0);
    await ds9.close();
  } finally {
    await caller?.close();
    callbacks.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

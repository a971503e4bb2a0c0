// Big messages take the offloaded path (decoded in a worker, encoded once,
// spliced into every callback and answer): every item must arrive, in order,
// exactly once, to every kind of recipient, and a stand-in never leaks out.

import assert from "node:assert/strict";
import { launchHub } from "../lib/hub/server.ts";
import { acceptAll } from "../lib/hub/consent.ts";
import { createOffload, OffloadDecodeError } from "../lib/transport/_offload.ts";
import {
  decodeCall,
  encodeCall,
  encodeCallBytes,
  encodeResponse,
  encodeResponseBytes,
} from "../lib/xmlrpc.ts";
import { encodeValueXml } from "../lib/xmlrpc.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { TestClient, waitFor } from "./_helpers.ts";

const utf8 = new TextEncoder();
const join = (pieces: Uint8Array[]) => pieces.map((p) => new TextDecoder().decode(p)).join("");

/** 40,000 row indices: over the 1 MiB at which calls go to the worker. */
const ROWS = Array.from({ length: 40_000 }, (_, i) => String(i));

function rowList(tag: string): SampMap {
  return {
    "samp.mtype": "table.select.rowList",
    "samp.params": { "table-id": tag, "row-list": ROWS },
  };
}

/** Checks a received rowList: every row, in order, once. */
function assertRows(message: SampValue, tag: string): void {
  const params = (message as SampMap)["samp.params"] as SampMap;
  assert.equal(params["table-id"], tag);
  const rows = params["row-list"] as string[];
  assert.equal(rows.length, ROWS.length, `${tag}: ${rows.length} rows`);
  for (let i = 0; i < ROWS.length; i++) {
    if (rows[i] !== ROWS[i]) assert.fail(`${tag}: row ${i} is ${JSON.stringify(rows[i])}`);
  }
}

Deno.test("spliced encodings equal plain ones, at any depth, and __proto__ keys survive", () => {
  const inner: SampMap = { rows: ["1", "<2>", "&3"] };
  Object.defineProperty(inner, "__proto__", { value: "x", enumerable: true, writable: true });
  const message = { "samp.mtype": "a.b", "samp.params": inner };
  const ready = utf8.encode(encodeValueXml(inner));
  const lookup = (v: object) => (v === inner ? ready : undefined);
  assert.equal(
    join(encodeCallBytes("m", ["k", "c1", message], lookup)),
    encodeCall("m", ["k", "c1", message]),
  );
  const batch = [{ "samp.methodName": "receiveNotification", "samp.params": ["c1", message] }];
  assert.equal(join(encodeResponseBytes(batch, lookup)), encodeResponse(batch));
  // The spliced piece is the encoding itself, shared, not a copy.
  assert.ok(encodeCallBytes("m", [message], lookup).includes(ready));
});

Deno.test("the worker decodes a big call into a stand-in and its encoding; a stand-in never encodes without it", async () => {
  const offload = createOffload({ minBytes: 0 });
  try {
    const message = rowList("t1");
    const body = utf8.encode(encodeCall("samp.hub.notifyAll", ["k:1", message]));
    const call = await offload.decodeCall(body, 64);
    assert.equal(call.method, "samp.hub.notifyAll");
    assert.equal(call.params[0], "k:1");
    const stub = call.params[1] as SampMap;
    assert.equal(stub["samp.mtype"], "table.select.rowList");
    assert.deepEqual((stub["samp.params"] as SampMap)["row-list"], ["\u0000"]);
    assert.equal(
      new TextDecoder().decode(offload.encodedOf(stub)),
      encodeValueXml(message),
      "the encoding is the whole message",
    );
    assert.ok(offload.holdsEncoded({ "samp.params": { wrapped: stub } }));
    // Encoded without its splice, the stand-in fails instead of sending less.
    assert.throws(() => encodeCall("samp.client.receiveNotification", ["k", "c1", stub]));
    // A huge string as a whole parameter never comes back to the main thread.
    const huge = await offload.decodeCall(
      utf8.encode(encodeCall("samp.hub.ping", ["x".repeat(300_000), "k:2"])),
      64,
    );
    assert.deepEqual(huge.params, ["(a string of 300000 characters)", "k:2"]);
    // Small parameters are left whole, with no encoding.
    assert.equal(offload.encodedOf(call.params as never), undefined);
    // Refusals come back typed, as the main thread's decoder would give them.
    for (
      const [bytes, kind] of [
        [new Uint8Array([0x3c, 0xff, 0xfe]), "utf8"],
        [
          utf8.encode(
            "<methodCall><methodName>x</methodName><params><param><value><struct>" +
              "<member><value>1</value></member></struct></value></param></params></methodCall>",
          ),
          "xmlrpc",
        ],
        [utf8.encode("<html>no</html>"), "xml"],
      ] as const
    ) {
      await assert.rejects(
        offload.decodeCall(bytes, 64),
        (e) => e instanceof OffloadDecodeError && e.kind === kind,
        kind,
      );
    }
  } finally {
    offload.close();
  }
});

/**
 * A call laid out the way JSAMP and sampjs write one: indented, strings as
 * bare `<value>` text, `<` and `&` as character references.
 */
function indentedCall(method: string, params: SampValue[]): string {
  const text = (s: string) => s.replaceAll("&", "&#38;").replaceAll("<", "&#60;");
  const value = (v: SampValue, pad: string): string => {
    if (typeof v === "string") return `${pad}<value>${text(v)}</value>`;
    if (Array.isArray(v)) {
      return `${pad}<value>\n${pad}  <array>\n${pad}    <data>\n` +
        v.map((x) => value(x, pad + "      ") + "\n").join("") +
        `${pad}    </data>\n${pad}  </array>\n${pad}</value>`;
    }
    return `${pad}<value>\n${pad}  <struct>\n` +
      Object.entries(v).map(([k, x]) =>
        `${pad}    <member>\n${pad}      <name>${text(k)}</name>\n${value(x, pad + "      ")}\n` +
        `${pad}    </member>\n`
      ).join("") + `${pad}  </struct>\n${pad}</value>`;
  };
  return `<?xml version='1.0' encoding='UTF-8'?>\n<methodCall>\n  <methodName>${method}</methodName>\n` +
    `  <params>\n` +
    params.map((p) => `    <param>\n${value(p, "      ")}\n    </param>\n`).join("") +
    `  </params>\n</methodCall>\n`;
}

Deno.test("a big call as a peer lays it out is passed on as written when it is plain ASCII, re-encoded otherwise, the same message either way", async () => {
  const offload = createOffload({ minBytes: 0 });
  const decode = (xml: string) => offload.decodeCall(utf8.encode(xml), 64);
  try {
    const message = rowList("a <b> & c");
    // Plain ASCII: the encoding is the sender's own <value> element.
    const xml = indentedCall("samp.hub.notifyAll", ["k:1", message]);
    const asWritten = (await decode(xml)).params[1] as SampMap;
    const kept = new TextDecoder().decode(offload.encodedOf(asWritten));
    assert.ok(kept.startsWith("<value>\n") && xml.includes(kept), "not the sender's bytes");
    assert.ok(kept.includes("<name>table-id</name>") && kept.includes("a &#60;b> &#38; c"));
    // Non-ASCII, or outside the plain subset: our own encoding.
    const accented = rowList("é");
    const nonAscii = (await decode(indentedCall("samp.hub.notifyAll", ["k:1", accented])))
      .params[1] as SampMap;
    assert.equal(new TextDecoder().decode(offload.encodedOf(nonAscii)), encodeValueXml(accented));
    const withInt = xml.replace("<value>12345</value>", "<value><int>12345</int></value>");
    const general = (await decode(withInt)).params[1] as SampMap;
    assert.equal(new TextDecoder().decode(offload.encodedOf(general)), encodeValueXml(message));
    // Delivered, each decodes to the message the sender meant.
    for (const [stub, sent] of [[asWritten, message], [nonAscii, accented], [general, message]]) {
      const delivered = join(
        encodeCallBytes(
          "samp.client.receiveNotification",
          ["k", "c1", stub],
          (v) => offload.encodedOf(v),
        ),
      );
      assert.deepEqual(decodeCall(delivered).params[2], sent);
    }
  } finally {
    offload.close();
  }
});

Deno.test("a big message reaches desktop and web recipients whole, once, in order; big metadata and replies too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-big-" });
  const { hub } = await launchHub({
    lockfile: `${dir}/hub.samp`,
    page: false,
    web: { port: 0, authorizer: acceptAll() },
  });
  const clients: TestClient[] = [];
  try {
    const sender = await TestClient.register(hub.url, hub.secret);
    const a = await TestClient.register(hub.url, hub.secret);
    const b = await TestClient.register(hub.url, hub.secret);
    clients.push(sender, a, b);
    for (const c of [a, b]) {
      await c.hub("declareSubscriptions", {
        "table.select.rowList": {},
        "samp.hub.event.metadata": {},
      });
    }
    // A web page, subscribed too.
    const web = (method: string, ...params: SampValue[]) =>
      xmlrpcRequest(hub.webUrl!, `samp.webhub.${method}`, params, { timeoutMs: 30_000 });
    const reg = await web("register", { "samp.name": "page" }) as SampMap;
    const key = reg["samp.private-key"] as string;
    await web("allowReverseCallbacks", key, "1");
    await web("declareSubscriptions", key, { "table.select.rowList": {} });

    // Two broadcasts, one after the other: each recipient gets both, whole.
    for (const tag of ["first", "second"]) {
      await sender.hub("notifyAll", rowList(tag));
    }
    await waitFor(() => a.got("receiveNotification", "table.select.rowList").length === 2, 20_000);
    await waitFor(() => b.got("receiveNotification", "table.select.rowList").length === 2, 20_000);
    for (const c of [a, b]) {
      const got = c.got("receiveNotification", "table.select.rowList");
      assert.deepEqual(
        got.map((r) => ((r.args[1] as SampMap)["samp.params"] as SampMap)["table-id"]).sort(),
        [
          "first",
          "second",
        ],
      );
      for (const r of got) {
        assertRows(
          r.args[1],
          ((r.args[1] as SampMap)["samp.params"] as SampMap)["table-id"] as string,
        );
      }
    }
    const pulled: SampMap[] = [];
    for (let i = 0; i < 20 && pulled.length < 2; i++) {
      pulled.push(...await web("pullCallbacks", key, "5") as SampMap[]);
    }
    assert.equal(pulled.length, 2);
    for (const item of pulled) {
      const message = (item["samp.params"] as SampValue[])[1];
      assertRows(message, ((message as SampMap)["samp.params"] as SampMap)["table-id"] as string);
    }

    // A big reply, through callAndWait.
    a.onCall = (_s, _m, message) => ({
      "samp.status": "samp.ok",
      "samp.result": message["samp.params"] as SampMap,
    });
    const reply = await sender.hub("callAndWait", a.id, rowList("echo"), "30") as SampMap;
    assertRows({ "samp.params": reply["samp.result"] }, "echo");

    // Big metadata: read back by a desktop tool and a page, and sent as an event.
    const lines = ROWS.map((r) => `line ${r} <&>`);
    await sender.hub("declareMetadata", { "samp.name": "big", "x.lines": lines });
    assert.equal(hub.client(sender.id)?.metadata["samp.name"], "big", "small members stay whole");
    const viaStd = await a.hub("getMetadata", sender.id) as SampMap;
    const viaWeb = await web("getMetadata", key, sender.id) as SampMap;
    for (const m of [viaStd, viaWeb]) assert.deepEqual(m["x.lines"], lines);
    await waitFor(() => b.got("receiveNotification", "samp.hub.event.metadata").length > 0, 20_000);
    const event = b.got("receiveNotification", "samp.hub.event.metadata").at(-1)!
      .args[1] as SampMap;
    assert.deepEqual(((event["samp.params"] as SampMap).metadata as SampMap)["x.lines"], lines);
    await web("unregister", key);
  } finally {
    for (const c of clients) await c.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

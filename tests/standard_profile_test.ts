import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import type { Hub, HubOptions } from "../lib/hub/server.ts";
import { SampFault } from "../lib/errors.ts";
import type { SampMap } from "../lib/types.ts";
import { TestClient, waitFor } from "./_helpers.ts";
import { createXmlRpcHandler } from "../lib/transport/xmlrpc_server.ts";
import { HubCore } from "../lib/hub/core.ts";
import { createStandardProfile } from "../lib/hub/standard_profile.ts";

async function withHub(
  fn: (hub: Hub, dir: string) => Promise<void>,
  options: HubOptions = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-sp-" });
  const hub = await startHub({ lockfile: `${dir}/hub.samp`, ...options });
  try {
    await fn(hub, dir);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function post(
  url: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: HeadersInit = {},
) {
  const r = await fetch(url, { method: "POST", body, headers });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
}

const call = (method: string, ...params: string[]) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${
    params.map((p) => `<param><value>${p}</value></param>`).join("")
  }</params></methodCall>`;

Deno.test("ping answers with zero or one argument, with an empty string", () =>
  withHub(async (hub) => {
    const c = new TestClient(hub.url);
    assert.equal(await c.raw("samp.hub.ping", []), "");
    assert.equal(await c.raw("samp.hub.ping", ["k:whatever"]), "");
    await assert.rejects(c.raw("samp.hub.ping", ["a", "b"]), /Bad arguments/);
  }));

Deno.test("a fault on the wire has exactly faultCode (int) and faultString", () =>
  withHub(async (hub) => {
    const r = await post(hub.url, call("samp.hub.register", "wrong-secret"));
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/xml/);
    const members = [...r.text.matchAll(/<name>([^<]*)<\/name>/g)].map((m) => m[1]);
    assert.deepEqual(members, ["faultCode", "faultString"]);
    assert.match(r.text, /<name>faultCode<\/name><value><int>1<\/int><\/value>/);
    assert.match(r.text, /Bad secret/);
  }));

Deno.test("unknown methods and wrong argument counts are faults naming the method", () =>
  withHub(async (hub) => {
    const c = await TestClient.register(hub.url, hub.secret, false);
    await assert.rejects(c.raw("samp.hub.not-a-method", []), /Unknown XML-RPC method/);
    await assert.rejects(c.raw("samp.webhub.register", [{}]), /Web Profile port/);
    await assert.rejects(
      c.hub("notify", "c1"),
      /samp.hub.notify takes \(private-key, recipient-id, message\), got 2/,
    );
    await assert.rejects(c.hub("getMetadata", ["x"]), /Client id must be a string/);
    await c.close();
  }));

Deno.test("malformed XML-RPC gets a fault and non-XML-RPC input gets HTTP 400", () =>
  withHub(async (hub) => {
    const truncated = call("samp.hub.ping").slice(0, 40);
    const r1 = await post(hub.url, `<methodCall><methodName>x</methodName><params><param>`);
    assert.equal(r1.status, 200);
    assert.match(r1.text, /<fault>.*Malformed XML-RPC request/s);
    const r2 = await post(hub.url, "hello, hub");
    assert.equal(r2.status, 400);
    const r3 = await post(hub.url, `{"jsonrpc": "2.0"}`);
    assert.equal(r3.status, 400);
    const r4 = await post(hub.url, truncated);
    assert.ok(r4.status === 400 || /<fault>/.test(r4.text));
    const r5 = await post(hub.url, new Uint8Array([0x3c, 0x61, 0xff, 0xfe, 0x3e]));
    assert.equal(r5.status, 400);
    assert.match(r5.text, /UTF-8/);
    // …and the hub is still fine.
    assert.equal(await new TestClient(hub.url).raw("samp.hub.ping", []), "");
  }));

Deno.test("DOCTYPEs, entity bombs and external entities are refused", () =>
  withHub(async (hub) => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
      `<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
      `<methodCall><methodName>&lol2;</methodName></methodCall>`;
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` +
      `<methodCall><methodName>&e;</methodName></methodCall>`;
    for (const body of [laughs, xxe]) {
      const r = await post(hub.url, body);
      assert.ok(r.status === 400 || /<fault>/.test(r.text), r.text);
      assert.doesNotMatch(r.text, /root:/);
    }
  }));

Deno.test("bodies over the size limit get 413 and deep nesting a fault", () =>
  withHub(async (hub) => {
    const big = call("samp.hub.ping", "x".repeat(2048));
    const r = await post(hub.url, big);
    assert.equal(r.status, 413);
    const deep = `<methodCall><methodName>samp.hub.ping</methodName><params><param>` +
      "<value><array><data>".repeat(20) + "<value>x</value>" +
      "</data></array></value>".repeat(20) +
      `</param></params></methodCall>`;
    const r2 = await post(hub.url, deep);
    assert.match(r2.text, /<fault>/);
  }, { limits: { maxBodyBytes: 1024, maxDepth: 8 } }));

Deno.test("a body that never finishes arriving is cut off after the body timeout", () =>
  withHub(async (hub) => {
    const url = new URL(hub.url);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    const head = `POST /xmlrpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n` +
      `Content-Length: 1000\r\n\r\n<methodCall>`;
    await conn.write(new TextEncoder().encode(head));
    const started = Date.now();
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    conn.close();
    const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    assert.match(text, /^HTTP\/1.1 408/);
    assert.ok(Date.now() - started < 3000);
  }, { limits: { bodyTimeoutMs: 300 } }));

Deno.test("typed XML-RPC scalars from other implementations are taken as SAMP strings", () =>
  withHub(async (hub) => {
    const a = await TestClient.register(hub.url, hub.secret);
    // callAndWait with an <int> timeout, as Python clients send it
    const body = `<?xml version="1.0"?><methodCall><methodName>samp.hub.callAndWait</methodName>` +
      `<params><param><value><string>${a.key}</string></value></param>` +
      `<param><value><string>hub</string></value></param>` +
      `<param><value><struct><member><name>samp.mtype</name><value>samp.app.ping</value></member>` +
      `<member><name>samp.params</name><value><struct><member><name>n</name><value><int>7</int>` +
      `</value></member><member><name>b</name><value><boolean>1</boolean></value></member>` +
      `</struct></value></member></struct></value></param>` +
      `<param><value><int>5</int></value></param></params></methodCall>`;
    const r = await post(hub.url, body);
    assert.match(r.text, /samp\.ok/);
    await a.close();
  }));

Deno.test("non-ASCII text travels through the hub unchanged (UTF-8)", () =>
  withHub(async (hub) => {
    const a = await TestClient.register(hub.url, hub.secret);
    const b = await TestClient.register(hub.url, hub.secret);
    const meta = { "samp.name": "Ångström ✓ 🌌", "samp.description.text": "tab\there\nline" };
    await a.hub("declareMetadata", meta);
    assert.deepEqual(await b.hub("getMetadata", a.id), meta);
    await b.hub("declareSubscriptions", { "test.echo": {} });
    await a.hub("notify", b.id, { "samp.mtype": "test.echo", "samp.params": { s: "Ωμέγα\r\n" } });
    await waitFor(() => b.got("receiveNotification", "test.echo").length === 1);
    const [got] = b.got("receiveNotification", "test.echo");
    assert.deepEqual((got.args[1] as SampMap)["samp.params"], { s: "Ωμέγα\r\n" });
    await a.close();
    await b.close();
  }));

Deno.test("setXmlrpcCallback refuses anything but an http URL", () =>
  withHub(async (hub) => {
    const a = await TestClient.register(hub.url, hub.secret, false);
    await assert.rejects(a.hub("setXmlrpcCallback", "file:///etc/passwd"), /http:\/\/ URL/);
    await assert.rejects(a.hub("setXmlrpcCallback", "not a url"), /http:\/\/ URL/);
    await a.close();
  }));

Deno.test("a call to a client whose callback port is closed gets an error response and the client is dropped", () =>
  withHub(async (hub) => {
    const s = await TestClient.register(hub.url, hub.secret);
    await s.hub("declareSubscriptions", { "samp.hub.event.unregister": {} });
    const dead = await TestClient.register(hub.url, hub.secret, false);
    // Find a port nobody listens on.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    await dead.hub("setXmlrpcCallback", `http://127.0.0.1:${port}/xmlrpc`);
    await dead.hub("declareSubscriptions", { "test.x": {} });
    const response = await s.hub("callAndWait", dead.id, {
      "samp.mtype": "test.x",
      "samp.params": {},
    }, "10") as SampMap;
    assert.equal(response["samp.status"], "samp.error");
    assert.match(String((response["samp.error"] as SampMap)["samp.errortxt"]), /refused/);
    await waitFor(() => s.got("receiveNotification", "samp.hub.event.unregister").length === 1);
    assert.deepEqual(await s.hub("getRegisteredClients"), ["hub"]);
    await s.close();
  }));

Deno.test("a recipient that accepts and never answers delays no one and leaks nothing", () =>
  withHub(async (hub) => {
    // A callback endpoint that accepts connections and never answers.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })();
    const s = await TestClient.register(hub.url, hub.secret);
    const fine = await TestClient.register(hub.url, hub.secret);
    await fine.hub("declareSubscriptions", { "test.*": {} });
    const hung = await TestClient.register(hub.url, hub.secret, false);
    await hung.hub(
      "setXmlrpcCallback",
      `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`,
    );
    await hung.hub("declareSubscriptions", { "test.*": {} });
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      await s.hub("notifyAll", { "samp.mtype": "test.n", "samp.params": {} });
    }
    const msgIds = await s.hub("callAll", "t", { "samp.mtype": "test.c", "samp.params": {} });
    await waitFor(() => fine.got("receiveNotification", "test.n").length === 20, 3000);
    await waitFor(() => s.got("receiveResponse").length === 1, 3000);
    assert.ok(performance.now() - started < 2000, "others were not delayed");
    assert.equal(Object.keys(msgIds as SampMap).length, 2);
    // After the callback timeout the hub gives up on the hung client: nothing in flight.
    await waitFor(() => hub.stats().deliveriesInFlight === 0, 5000, "deliveries to finish");
    for (const c of held) c.close();
    listener.close();
    await accepting.catch(() => {});
    await s.close();
    await fine.close();
    await hung.close();
  }, { callbackTimeoutMs: 500 }));

Deno.test("a caller that hangs up during callAndWait leaves nothing pending", () =>
  withHub(async (hub) => {
    const s = await TestClient.register(hub.url, hub.secret, false);
    const r = await TestClient.register(hub.url, hub.secret);
    r.onCall = () => null; // never replies
    await r.hub("declareSubscriptions", { "test.slow": {} });
    const controller = new AbortController();
    const body = `<?xml version="1.0"?><methodCall><methodName>samp.hub.callAndWait</methodName>` +
      `<params><param><value>${s.key}</value></param><param><value>${r.id}</value></param>` +
      `<param><value><struct><member><name>samp.mtype</name><value>test.slow</value></member>` +
      `</struct></value></param><param><value>0</value></param></params></methodCall>`;
    const pending = fetch(hub.url, { method: "POST", body, signal: controller.signal });
    await waitFor(() => hub.stats().syncWaits === 1);
    controller.abort();
    await assert.rejects(pending);
    await waitFor(() => hub.stats().pendingCalls === 0, 3000, "the call to be forgotten");
    await s.close();
    await r.close();
  }));

Deno.test("a reply that completes a callAndWait is answered after the caller, with no timer", async () => {
  const core = new HubCore();
  const profile = createStandardProfile({ core, secret: "s" });
  const context = {
    request: new Request("http://127.0.0.1/"),
    signal: new AbortController().signal,
  };
  const caller = core.register("standard")["samp.private-key"];
  const replier = core.register("standard");
  const calls: string[] = [];
  core.setDelivery(replier["samp.private-key"], {
    notification: () => Promise.resolve(),
    call: (_from, msgId) => (calls.push(msgId), Promise.resolve()),
    response: () => Promise.resolve(),
  });
  core.declareSubscriptions(replier["samp.private-key"], { "test.echo": {} });
  // As the hub's server writes answers: one given at once is written at
  // once, one given as a promise when it settles.
  const order: string[] = [];
  const answer = (result: unknown, who: string): Promise<unknown> =>
    result instanceof Promise
      ? result.then(() => order.push(who))
      : Promise.resolve(order.push(who));
  const waiting = answer(
    profile.dispatch(
      "samp.hub.callAndWait",
      [caller, replier["samp.self-id"], { "samp.mtype": "test.echo", "samp.params": {} }, "5"],
      context,
    ),
    "callAndWait answered",
  );
  await waitFor(() => calls.length === 1);
  const replied = answer(
    profile.dispatch(
      "samp.hub.reply",
      [replier["samp.private-key"], calls[0], { "samp.status": "samp.ok", "samp.result": {} }],
      context,
    ),
    "reply answered",
  );
  // Both within this event-loop turn (no timer), the caller first: its
  // answer is on its latency's critical path, the replier's not.
  for (let i = 0; i < 100 && order.length < 2; i++) await Promise.resolve();
  assert.deepEqual(order, ["callAndWait answered", "reply answered"]);
  await Promise.all([waiting, replied]);
  profile.close();
  await core.close();
});

Deno.test("a reply to an asynchronous call is answered at once, with no timer", async () => {
  const core = new HubCore();
  const profile = createStandardProfile({ core, secret: "s" });
  const context = {
    request: new Request("http://127.0.0.1/"),
    signal: new AbortController().signal,
  };
  const caller = core.register("standard")["samp.private-key"];
  core.setDelivery(caller, {
    notification: () => Promise.resolve(),
    call: () => Promise.resolve(),
    response: () => Promise.resolve(),
  });
  const replier = core.register("standard");
  const calls: string[] = [];
  core.setDelivery(replier["samp.private-key"], {
    notification: () => Promise.resolve(),
    call: (_from, msgId) => (calls.push(msgId), Promise.resolve()),
    response: () => Promise.resolve(),
  });
  core.declareSubscriptions(replier["samp.private-key"], { "test.echo": {} });
  await profile.dispatch(
    "samp.hub.call",
    [caller, replier["samp.self-id"], "t1", { "samp.mtype": "test.echo", "samp.params": {} }],
    context,
  );
  await waitFor(() => calls.length === 1);
  let answered = false;
  const replied = Promise.resolve(profile.dispatch(
    "samp.hub.reply",
    [replier["samp.private-key"], calls[0], { "samp.status": "samp.ok", "samp.result": {} }],
    context,
  )).then(() => answered = true);
  // Nobody waits on this reply's turn: it is answered within this one.
  for (let i = 0; i < 100 && !answered; i++) await Promise.resolve();
  assert.ok(answered, "the replier's answer waited for a timer");
  await replied;
  profile.close();
  await core.close();
});

Deno.test("only a method that waits asks for the request's abort signal", async () => {
  // Making the signal costs the transport an AbortController and a watch on
  // the connection: most calls (notify, reply, ping…) must not ask for it.
  const core = new HubCore();
  const profile = createStandardProfile({ core, secret: "s" });
  let asked = 0;
  const controller = new AbortController();
  const context = {
    request: new Request("http://127.0.0.1/"),
    get signal() {
      asked++;
      return controller.signal;
    },
  };
  const a = core.register("standard");
  const b = core.register("standard");
  const calls: string[] = [];
  core.setDelivery(b["samp.private-key"], {
    notification: () => Promise.resolve(),
    call: (_from, msgId) => (calls.push(msgId), Promise.resolve()),
    response: () => Promise.resolve(),
  });
  core.declareSubscriptions(b["samp.private-key"], { "test.echo": {} });
  const message = { "samp.mtype": "test.echo", "samp.params": {} };
  await profile.dispatch("samp.hub.ping", [a["samp.private-key"]], context);
  await profile.dispatch(
    "samp.hub.notify",
    [a["samp.private-key"], b["samp.self-id"], message],
    context,
  );
  await profile.dispatch("samp.hub.getRegisteredClients", [a["samp.private-key"]], context);
  assert.equal(asked, 0, "a method that does not wait asked for the signal");
  const waiting = profile.dispatch(
    "samp.hub.callAndWait",
    [a["samp.private-key"], b["samp.self-id"], message, "5"],
    context,
  );
  assert.equal(asked, 1, "callAndWait must watch for its caller hanging up");
  await waitFor(() => calls.length === 1);
  await profile.dispatch(
    "samp.hub.reply",
    [b["samp.private-key"], calls[0], { "samp.status": "samp.ok", "samp.result": {} }],
    context,
  );
  await waiting;
  assert.equal(asked, 1, "the reply asked for the signal");
  profile.close();
  await core.close();
});

Deno.test("reply to an unknown msg-id is a fault, not silence", () =>
  withHub(async (hub) => {
    const a = await TestClient.register(hub.url, hub.secret, false);
    await assert.rejects(
      a.hub("reply", "no-such", { "samp.status": "samp.ok" }),
      (e) => e instanceof SampFault && /No pending call with msg-id "no-such"/.test(e.message),
    );
    await a.close();
  }));

Deno.test("GET on the endpoint explains itself and the icon is served from memory", () =>
  withHub(async (hub) => {
    const page = await fetch(hub.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /SAMP Standard Profile XML-RPC endpoint/);
    const c = await TestClient.register(hub.url, hub.secret, false);
    const meta = await c.hub("getMetadata", "hub") as SampMap;
    const icon = await fetch(meta["samp.icon.url"] as string);
    assert.equal(icon.headers.get("content-type"), "image/svg+xml");
    assert.match(await icon.text(), /<svg/);
    const other = await fetch(new URL("/nothing", hub.url));
    assert.equal(other.status, 404);
    await other.body?.cancel();
    await c.close();
  }));

Deno.test("a callback answered with a fault gives the caller an error response naming it", () =>
  withHub(async (hub) => {
    const s = await TestClient.register(hub.url, hub.secret);
    const grumpy = await TestClient.register(hub.url, hub.secret, false);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      createXmlRpcHandler(() => {
        throw new SampFault("I refuse all callbacks", 42);
      }),
    );
    try {
      await grumpy.hub("setXmlrpcCallback", `http://127.0.0.1:${server.addr.port}/`);
      await grumpy.hub("declareSubscriptions", { "test.x": {} });
      const r = await s.hub("callAndWait", grumpy.id, {
        "samp.mtype": "test.x",
        "samp.params": {},
      }, "10") as SampMap;
      assert.equal(r["samp.status"], "samp.error");
      assert.match(
        String((r["samp.error"] as SampMap)["samp.errortxt"]),
        /answered with a fault: I refuse all callbacks/,
      );
    } finally {
      await server.shutdown();
      await grumpy.close();
      await s.close();
    }
  }));

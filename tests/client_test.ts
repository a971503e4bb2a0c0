import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import type { Hub } from "../lib/hub/server.ts";
import {
  AmbiguousClientError,
  findHub,
  HubNotFoundError,
  SampClient,
  type SampClientOptions,
  SampErrorResponse,
  SampFault,
  SampTimeoutError,
  UnknownClientError,
} from "../client.ts";
import { spawnHub, waitFor } from "./_helpers.ts";
import { connectStandard, standardTransport } from "../lib/client/standard_transport.ts";
import { createXmlRpcHandler } from "../lib/transport/xmlrpc_server.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import { ClientTracker } from "../lib/client/tracker.ts";
import type { HubConnection } from "../lib/client/connection.ts";
import type { SampMap } from "../lib/types.ts";

async function withHub(fn: (hub: Hub, lockfile: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-client-" });
  const lockfile = `${dir}/hub.samp`;
  const hub = await startHub({ lockfile });
  try {
    await fn(hub, lockfile);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const connect = (lockfile: string, options: SampClientOptions = {}) =>
  SampClient.connect({ lockfile, ...options });

Deno.test("with no lockfile, discovery says no hub is running and how to start one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      findHub({ lockfile: `${dir}/none.samp` }),
      (e) =>
        e instanceof HubNotFoundError && !e.stale &&
        /no SAMP hub is running \(no lockfile at .*none.samp\): start one with `samp_hub`/.test(
          e.message,
        ),
    );
    // Also for people who did not install the commands: Deno runs the hub from JSR.
    await assert.rejects(
      findHub({ lockfile: `${dir}/none.samp` }),
      (e) =>
        e instanceof HubNotFoundError && e.message.includes("`deno run -A jsr:@sampkit/samp/hub`"),
    );
    const env = { get: (n: string) => (n === "HOME" ? dir : undefined) };
    await assert.rejects(findHub({ env }), /no lockfile at .*\.samp.*SAMP_HUB=std-lockurl/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stale lockfile is reported as a hub that stopped, not as a connection error", async () => {
  const dir = await Deno.makeTempDir();
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await Deno.writeTextFile(
    `${dir}/x.samp`,
    `samp.secret=abc\nsamp.hub.xmlrpc.url=http://127.0.0.1:${port}/xmlrpc\n`,
  );
  try {
    await assert.rejects(
      findHub({ lockfile: `${dir}/x.samp` }),
      (e) =>
        e instanceof HubNotFoundError && e.stale && /is not answering.*samp_hub/.test(e.message) &&
        e.message.includes("jsr:@sampkit/samp/hub"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SAMP_HUB with a file: URL or an http: URL finds the hub", () =>
  withHub(async (hub, lockfile) => {
    const viaFile = await findHub({
      env: { get: (n) => n === "SAMP_HUB" ? `std-lockurl:file://${lockfile}` : undefined },
    });
    assert.equal(viaFile.lock.xmlrpcUrl, hub.url);
    const text = await Deno.readTextFile(lockfile);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(text),
    );
    try {
      const viaHttp = await findHub({
        env: {
          get: (n) =>
            n === "SAMP_HUB" ? `std-lockurl:http://127.0.0.1:${server.addr.port}/lock` : undefined,
        },
      });
      assert.equal(viaHttp.lock.secret, hub.secret);
    } finally {
      await server.shutdown();
    }
  }));

Deno.test("the hub connection exposes the hub API with typed results", () =>
  withHub(async (hub, lockfile) => {
    await using a = await connectStandard({ lockfile });
    await using b = await connectStandard({ lockfile });
    await a.declareMetadata({ "samp.name": "alpha" });
    assert.deepEqual(await b.getMetadata(a.selfId), { "samp.name": "alpha" });
    assert.deepEqual((await a.getRegisteredClients()).sort(), [b.selfId, "hub"].sort());
    assert.equal(a.hubId, "hub");
    await a.ping();
    await assert.rejects(a.getMetadata("nobody"), SampFault);
    assert.equal(hub.stats().clients, 3);
  }));

Deno.test("a handler receives typed params, and its return value becomes the reply", () =>
  withHub(async (_hub, lockfile) => {
    await using viewer = await connect(lockfile, { name: "viewer" });
    await using script = await connect(lockfile, { name: "script" });
    const seen: string[] = [];
    await viewer.on("coord.pointAt.sky", (m) => {
      seen.push(`${m.senderName}: ${m.params.ra},${m.params.dec}`);
    });
    await viewer.on("test.add", (m) => ({ sum: String(Number(m.params.a) + Number(m.params.b)) }));
    await script.notify(viewer.id, "coord.pointAt.sky", { ra: "83.63", dec: "22.01" });
    await waitFor(() => seen.length === 1);
    assert.deepEqual(seen, ["script: 83.63,22.01"]);
    const result = await script.request(viewer.id, "test.add", { a: "2", b: "40" });
    assert.deepEqual(result, { sum: "42" });
    const r = await script.call(viewer.id, "test.add", { a: "1", b: "1" }, { timeout: 5 });
    assert.deepEqual(r, { "samp.status": "samp.ok", "samp.result": { sum: "2" } });
  }));

Deno.test("a thrown error becomes a samp.error response, raised as SampErrorResponse", () =>
  withHub(async (_hub, lockfile) => {
    await using viewer = await connect(lockfile);
    await using script = await connect(lockfile);
    await viewer.on("image.load.fits", () => {
      throw new Error("cannot read /no/such.fits");
    });
    await assert.rejects(
      script.request(viewer.id, "image.load.fits", { url: "file:///no/such.fits" }),
      (e) =>
        e instanceof SampErrorResponse && e.responder === viewer.id &&
        e.errortxt === "cannot read /no/such.fits" &&
        e.message === `${viewer.id} could not handle image.load.fits: cannot read /no/such.fits`,
    );
    const r = await script.callAndWait(viewer.id, "image.load.fits", { url: "x" }, { timeout: 5 });
    assert.equal(r["samp.status"], "samp.error");
  }));

Deno.test("hub faults, transport failures and error responses are told apart", () =>
  withHub(async (_hub, lockfile) => {
    await using script = await connect(lockfile);
    await assert.rejects(script.notify("c999", "a.b", {}), SampFault);
    await assert.rejects(script.request("c999", "a.b", {}), SampFault);
  }));

Deno.test("a call with a timeout rejects with SampTimeoutError, and an abort stops the wait", () =>
  withHub(async (_hub, lockfile) => {
    await using slow = await connect(lockfile);
    await using script = await connect(lockfile);
    let release!: () => void;
    const released = new Promise<void>((r) => release = r);
    await slow.on("test.slow", () => released.then(() => ({})));
    await assert.rejects(
      script.call(slow.id, "test.slow", {}, { timeout: 0.2 }),
      (e) =>
        e instanceof SampTimeoutError && /did not reply to test.slow within 0.2 s/.test(e.message),
    );
    const controller = new AbortController();
    const p = script.call(slow.id, "test.slow", {}, { signal: controller.signal });
    controller.abort(new Error("user gave up"));
    await assert.rejects(p, /user gave up/);
    release();
  }));

Deno.test("callAll collects every reply and lists who stayed silent", () =>
  withHub(async (_hub, lockfile) => {
    await using a = await connect(lockfile);
    await using b = await connect(lockfile);
    await using silent = await connect(lockfile);
    await using script = await connect(lockfile);
    await a.on("test.who", () => ({ me: "a" }));
    await b.on("test.who", () => ({ me: "b" }));
    let release!: () => void;
    const never = new Promise<void>((r) => release = r);
    await silent.on("test.who", () => never.then(() => ({})));
    const { replies, missing } = await script.callAll("test.who", {}, { timeout: 0.5 });
    assert.deepEqual(replies.get(a.id)?.["samp.result"], { me: "a" });
    assert.deepEqual(replies.get(b.id)?.["samp.result"], { me: "b" });
    assert.deepEqual(missing, [silent.id]);
    release();
  }));

Deno.test("pings are answered without user code, even beside a * handler", () =>
  withHub(async (_hub, lockfile) => {
    await using target = await connect(lockfile);
    await using script = await connect(lockfile);
    const everything: string[] = [];
    await target.on("*", (m) => void everything.push(m.mtype));
    const r = await script.callAndWait(target.id, "samp.app.ping", {}, { timeout: 5 });
    assert.deepEqual(r, { "samp.status": "samp.ok", "samp.result": {} });
    assert.deepEqual(everything, []);
    await script.notify(target.id, "any.thing", {});
    await waitFor(() => everything.length === 1);
  }));

Deno.test("for await delivers messages, and calls are answered by reply()", () =>
  withHub(async (_hub, lockfile) => {
    await using listener = await connect(lockfile);
    await using script = await connect(lockfile);
    const controller = new AbortController();
    const rows: string[] = [];
    const loop = (async () => {
      for await (const m of listener.messages("table.*", { signal: controller.signal })) {
        if (m.mtype === "table.highlight.row") rows.push(String(m.params.row));
        if (m.msgId) m.reply({ seen: "yes" });
        if (rows.length === 2) controller.abort();
      }
    })();
    await waitFor(async () =>
      Object.keys(await script.connection.getSubscribedClients("table.highlight.row")).length === 1
    );
    await script.notify(listener.id, "table.highlight.row", { url: "u", row: "3" });
    const r = await script.request(listener.id, "table.highlight.row", { url: "u", row: "7" });
    assert.deepEqual(r, { seen: "yes" });
    await loop;
    assert.deepEqual(rows, ["3", "7"]);
    // The loop's subscription is gone again.
    assert.deepEqual(await script.connection.getSubscribedClients("table.highlight.row"), {});
  }));

Deno.test("the client tracker follows registrations, metadata and departures", () =>
  withHub(async (_hub, lockfile) => {
    await using watcher = await connect(lockfile, { name: "watcher" });
    const changes: string[] = [];
    watcher.clients.onChange((c) => changes.push(c.kind));
    assert.equal(watcher.clients.get("hub")?.name, "Hub");
    assert.equal(watcher.clients.get(watcher.id)?.name, "watcher");
    const topcat = await connect(lockfile, { name: "TOPCAT" });
    await topcat.on("table.load.votable", () => {});
    await waitFor(() => watcher.clients.byName("topcat")?.subscriptions["table.load.votable"]);
    assert.deepEqual(watcher.clients.subscribedTo("table.load.votable").map((c) => c.id), [
      topcat.id,
    ]);
    const id = topcat.id;
    await topcat.close();
    await waitFor(() => !watcher.clients.get(id));
    assert.ok(changes.includes("register") && changes.includes("unregister"));
  }));

Deno.test("a script finds SAOImageDS9, Aladin and topcat by the names people use", () =>
  withHub(async (_hub, lockfile) => {
    await using script = await connect(lockfile, { name: "ds9-image" });
    assert.equal(script.clients.byName("ds9"), undefined, "no DS9 yet: not the script itself");
    await using ds9 = await connect(lockfile, { name: "SAOImageDS9" });
    await using aladin = await connect(lockfile, { name: "Aladin" });
    await using topcat = await connect(lockfile, { name: "topcat" });
    await waitFor(() => script.clients.byName("topcat"));
    await waitFor(() => script.clients.get(ds9.id)?.name && script.clients.get(aladin.id)?.name);
    assert.equal(script.clients.byName("ds9")?.id, ds9.id);
    assert.equal(script.clients.byName("DS9")?.id, ds9.id);
    assert.equal(script.clients.byName("aladin")?.id, aladin.id);
    assert.equal(script.clients.byName("TOPCAT")?.id, topcat.id);
    assert.deepEqual(script.clients.resolve("ds9").map((c) => c.id), [ds9.id]);
    // "i" is a part of SAOImageDS9 and Aladin: ambiguous, and the error names both.
    assert.throws(
      () => script.clients.resolve("i"),
      (e) =>
        e instanceof AmbiguousClientError &&
        e.candidates.map((c) => c.id).sort().join() === [ds9.id, aladin.id].sort().join(),
    );
    assert.throws(
      () => script.clients.resolve("xephem"),
      (e) =>
        e instanceof UnknownClientError && /there are: .*SAOImageDS9.*/.test(e.message) &&
        !e.message.includes("ds9-image"),
    );
  }));

Deno.test("extension params of a typed MType travel to the recipient untouched", () =>
  withHub(async (_hub, lockfile) => {
    await using viewer = await connect(lockfile, { name: "SAOImageDS9" });
    const got: SampMap[] = [];
    await viewer.on("coord.pointAt.sky", (m) => {
      got.push({ ...m.params });
      // Defined keys are typed; extra ones are SAMP values (or absent).
      const radius: SampMap[string] = m.params.radius;
      return { radius };
    });
    await using script = await connect(lockfile);
    const sent = await script.notifyAll("coord.pointAt.sky", {
      ra: "83.63",
      dec: "22.01",
      radius: "0.5",
      "x-samp.frame": ["icrs"],
    });
    assert.deepEqual(sent, [viewer.id]);
    await waitFor(() => got.length === 1);
    assert.deepEqual(got[0], {
      ra: "83.63",
      dec: "22.01",
      radius: "0.5",
      "x-samp.frame": ["icrs"],
    });
    const r = await script.request(viewer.id, "coord.pointAt.sky", {
      ra: "1",
      dec: "2",
      radius: "3",
    });
    assert.deepEqual(r, { radius: "3" });
  }));

Deno.test("params left undefined (optional or extra) are dropped, not refused, by every send method", () =>
  withHub(async (_hub, lockfile) => {
    await using viewer = await connect(lockfile, { name: "topcat" });
    const got: SampMap[] = [];
    await viewer.on("table.load.votable", (m) => {
      got.push({ ...m.params });
      return {};
    });
    await using script = await connect(lockfile);
    const name: string | undefined = undefined;
    const extra: string | undefined = undefined;
    const params = { url: "file://localhost/t.vot", name, "x-note": extra };
    await script.notify(viewer.id, "table.load.votable", params);
    await script.notifyAll("table.load.votable", params);
    await script.request(viewer.id, "table.load.votable", params, { timeout: 10 });
    await waitFor(() => got.length === 3);
    for (const p of got) assert.deepEqual(p, { url: "file://localhost/t.vot" });
  }));

Deno.test("a client that is not callable can still call, through callAndWait", () =>
  withHub(async (_hub, lockfile) => {
    await using target = await connect(lockfile);
    await using script = await connect(lockfile, { callable: false });
    await target.on("test.echo", (m) => m.params);
    const r = await script.request(target.id, "test.echo", { x: "1" }, { timeout: 5 });
    assert.deepEqual(r, { x: "1" });
    await assert.rejects(script.on("a.b", () => {}), /callable: false/);
  }));

Deno.test("closing a client unregisters it and stops its callback server", () =>
  withHub(async (hub, lockfile) => {
    const c = await connect(lockfile);
    assert.equal(hub.stats().clients, 2);
    await c.close();
    await c.close();
    assert.equal(hub.stats().clients, 1);
    assert.equal(c.connected, false);
    await assert.rejects(c.notifyAll("a.b", {}), /has been closed/);
  }));

Deno.test("the callback server refuses callbacks carrying another private key", async () => {
  // A stand-in hub that records the callback URL it is given.
  let callbackUrl = "";
  const fakeHub = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createXmlRpcHandler((method, params) => {
      if (method === "samp.hub.setXmlrpcCallback") callbackUrl = params[1] as string;
      return "";
    }),
  );
  const got: string[] = [];
  const transport = standardTransport(`http://127.0.0.1:${fakeHub.addr.port}/`, "s");
  const stop = await transport.listen("k:mine", {
    receiveNotification: (from, m) => void got.push(`${from} ${m["samp.mtype"]}`),
    receiveCall: () => {},
    receiveResponse: () => {},
  });
  try {
    const msg = { "samp.mtype": "a.b", "samp.params": {} };
    await assert.rejects(
      xmlrpcRequest(callbackUrl, "samp.client.receiveNotification", ["k:other", "c1", msg]),
      (e) => e instanceof SampFault && /Wrong private key/.test(e.message),
    );
    await xmlrpcRequest(callbackUrl, "samp.client.receiveNotification", ["k:mine", "c1", msg]);
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, ["c1 a.b"]);
  } finally {
    await stop();
    await fakeHub.shutdown();
  }
});

Deno.test("after the hub shuts down and a new one starts, a reconnecting client rejoins", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-reconnect-" });
  const lockfile = `${dir}/hub.samp`;
  let hub = await startHub({ lockfile });
  const client = await connect(lockfile, { name: "faithful", reconnect: { intervalMs: 100 } });
  const states: boolean[] = [];
  client.onConnectionChange((c) => states.push(c.connected));
  const got: string[] = [];
  await client.on("test.again", (m) => void got.push(m.mtype));
  try {
    await hub.close();
    await waitFor(() => states.length === 1, 5000, "the client to notice");
    assert.equal(client.connected, false);
    await assert.rejects(client.notifyAll("a.b", {}), /waiting for it to come back/);
    hub = await startHub({ lockfile });
    await waitFor(() => states.length === 2, 5000, "the client to rejoin");
    assert.deepEqual(states, [false, true]);
    await using other = await connect(lockfile);
    assert.equal(other.clients.get(client.id)?.name, "faithful");
    await other.notify(client.id, "test.again", {});
    await waitFor(() => got.length === 1);
  } finally {
    await client.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a reconnecting client notices a hub killed without a word, and rejoins its successor", async () => {
  const first = await spawnHub();
  const client = await connect(first.lockfile, {
    name: "faithful",
    reconnect: { intervalMs: 100 },
  });
  const states: string[] = [];
  client.onConnectionChange((c) => states.push(`${c.connected} ${c.reason}`));
  let second: Awaited<ReturnType<typeof spawnHub>> | undefined;
  try {
    assert.notEqual(await first.stop("SIGKILL"), 0);
    await waitFor(() => states.length >= 1, 5000, "the client to notice the silent hub");
    assert.match(states[0], /^false the hub stopped answering/);
    second = await spawnHub([], { dir: first.dir, lockfile: first.lockfile });
    await waitFor(() => client.connected, 10000, "the client to rejoin");
    await using other = await connect(first.lockfile);
    assert.equal(other.clients.get(client.id)?.name, "faithful");
  } finally {
    await client.close();
    await second?.stop();
    await Deno.remove(first.dir, { recursive: true });
  }
});

Deno.test("reply by hand with a status and result or error, like astropy's ereply", () =>
  withHub(async (_hub, lockfile) => {
    await using target = await connect(lockfile);
    await using script = await connect(lockfile);
    let repliesSent = 0;
    const original = target.connection.reply.bind(target.connection);
    target.connection.reply = (...args) => {
      repliesSent++;
      return original(...args);
    };
    await target.on("test.manual", (m) => {
      const ok = m.params.fail !== "1";
      // Answered by hand: what the handler returns afterwards is not sent.
      const done = ok
        ? target.reply(m.msgId!, "samp.ok", { answer: "42" })
        : target.reply(m.msgId!, "samp.error", undefined, { "samp.errortxt": "asked to fail" });
      return done.then(() => ({ "samp.status": "samp.ok", "x-handled": "twice" }));
    });
    const ok = await script.call(target.id, "test.manual", {}, { timeout: 5 });
    assert.deepEqual(ok, { "samp.status": "samp.ok", "samp.result": { answer: "42" } });
    await assert.rejects(
      script.request(target.id, "test.manual", { fail: "1" }, { timeout: 5 }),
      (e) => e instanceof SampErrorResponse && e.errortxt === "asked to fail",
    );
    await assert.rejects(target.reply("x", "samp.error"), /needs an error map/);
    assert.equal(repliesSent, 2, "one reply per call, none twice");
  }));

// ---------------------------------------------------------------------------
// The tracker against hubs that reorder events

function fakeHub(state: { subscriptions: SampMap; delayMs?: number; reads?: number }) {
  return {
    getMetadata: () => Promise.resolve({ "samp.name": "bob" }),
    getSubscriptions: async () => {
      state.reads = (state.reads ?? 0) + 1;
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      return state.subscriptions;
    },
  } as unknown as HubConnection;
}

Deno.test("the tracker takes the hub's word when two subscriptions events arrive in the wrong order", async () => {
  const tracker = new ClientTracker();
  const hub = { subscriptions: { "a": {}, "b": {} } };
  const changes: string[] = [];
  tracker.onChange((c) => changes.push(`${c.kind} ${c.id}`));
  tracker.handleEvent("samp.hub.event.register", { id: "c1" });
  tracker.handleEvent("samp.hub.event.metadata", { id: "c1", metadata: { "samp.name": "bob" } });
  // The newer event first, then the older one (astropy's hub sends each from its own thread).
  tracker.handleEvent("samp.hub.event.subscriptions", {
    id: "c1",
    subscriptions: { "a": {}, "b": {} },
  });
  tracker.handleEvent("samp.hub.event.subscriptions", { id: "c1", subscriptions: { "a": {} } });
  assert.deepEqual(Object.keys(tracker.get("c1")!.subscriptions), ["a"]);
  changes.length = 0;
  tracker.refreshSoon(fakeHub(hub), "c1", 10);
  await waitFor(() => "b" in tracker.get("c1")!.subscriptions, 2000, "the re-read");
  assert.deepEqual(changes, ["subscriptions c1"]); // metadata unchanged: not reported
  await tracker.settle();
});

Deno.test("an event that arrives during the tracker's re-read wins over what the re-read fetched", async () => {
  const tracker = new ClientTracker();
  const hub = { subscriptions: { "old": {} }, delayMs: 50, reads: 0 };
  tracker.handleEvent("samp.hub.event.register", { id: "c1" });
  tracker.refreshSoon(fakeHub(hub), "c1", 1);
  await waitFor(() => hub.reads === 1, 2000, "the re-read to start");
  tracker.handleEvent("samp.hub.event.subscriptions", { id: "c1", subscriptions: { "new": {} } });
  await tracker.settle();
  assert.deepEqual(Object.keys(tracker.get("c1")!.subscriptions), ["new"]);
});

Deno.test("re-reads wait for quiet, one per burst, and settle() cancels those not started", async () => {
  const tracker = new ClientTracker();
  const hub = { subscriptions: {}, reads: 0 };
  tracker.handleEvent("samp.hub.event.register", { id: "c1" });
  for (let i = 0; i < 5; i++) tracker.refreshSoon(fakeHub(hub), "c1", 30);
  await waitFor(() => hub.reads === 1, 2000, "one re-read");
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(hub.reads, 1);
  tracker.refreshSoon(fakeHub(hub), "c1", 30);
  await tracker.settle();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(hub.reads, 1);
  // A client that left is not re-read.
  tracker.handleEvent("samp.hub.event.unregister", { id: "c1" });
  tracker.refreshSoon(fakeHub(hub), "c1", 1);
  await tracker.settle();
  assert.equal(hub.reads, 1);
});

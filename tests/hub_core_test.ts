import assert from "node:assert/strict";
import { type Delivery, DeliveryError, HubCore, type HubCoreOptions } from "../lib/hub/core.ts";
import { SampFault } from "../lib/errors.ts";
import type { Message, SampMap, SampResponse } from "../lib/types.ts";

type Callback =
  | { kind: "notification"; from: string; msg: Message }
  | { kind: "call"; from: string; msgId: string; msg: Message }
  | { kind: "response"; from: string; tag: string; response: SampResponse };

/** A registered client with an in-memory delivery that records callbacks. */
interface Peer {
  id: string;
  key: string;
  got: Callback[];
  mtypes(kind?: Callback["kind"]): string[];
}

function peer(
  core: HubCore,
  opts: { callable?: boolean; subs?: SampMap; delivery?: Delivery } = {},
): Peer {
  const reg = core.register("standard");
  const got: Callback[] = [];
  const p: Peer = {
    id: reg["samp.self-id"],
    key: reg["samp.private-key"],
    got,
    mtypes: (kind) =>
      got.filter((c) => !kind || c.kind === kind).map((c) =>
        c.kind === "response" ? "response" : c.msg["samp.mtype"]
      ),
  };
  if (opts.callable ?? true) {
    core.setDelivery(
      p.key,
      opts.delivery ?? {
        notification: (from, msg) => {
          got.push({ kind: "notification", from, msg });
          return Promise.resolve();
        },
        call: (from, msgId, msg) => {
          got.push({ kind: "call", from, msgId, msg });
          return Promise.resolve();
        },
        response: (from, tag, response) => {
          got.push({ kind: "response", from, tag, response });
          return Promise.resolve();
        },
      },
    );
  }
  if (opts.subs) core.declareSubscriptions(p.key, opts.subs);
  return p;
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const msg = (mtype: string, params: SampMap = {}): Message => ({
  "samp.mtype": mtype,
  "samp.params": params,
});

async function withCore(fn: (core: HubCore) => Promise<void> | void, options?: HubCoreOptions) {
  const core = new HubCore(options);
  try {
    await fn(core);
  } finally {
    await core.close(100);
  }
}

function faults(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => e instanceof SampFault && pattern.test(e.message));
}

Deno.test("register gives sequential public ids and unguessable 128-bit private keys", () =>
  withCore((core) => {
    const a = core.register("standard");
    const b = core.register("standard");
    assert.equal(a["samp.self-id"], "c1");
    assert.equal(b["samp.self-id"], "c2");
    assert.equal(a["samp.hub-id"], "hub");
    assert.match(a["samp.private-key"], /^k:[0-9a-f]{32}$/);
    assert.notEqual(a["samp.private-key"], b["samp.private-key"]);
  }));

Deno.test("public ids are never reused after a client leaves", () =>
  withCore((core) => {
    const a = core.register("standard");
    core.unregister(a["samp.private-key"]);
    assert.equal(core.register("standard")["samp.self-id"], "c2");
  }));

Deno.test("getRegisteredClients lists the hub and others but never the caller", () =>
  withCore((core) => {
    const a = peer(core);
    const b = peer(core);
    assert.deepEqual(core.getRegisteredClients(a.key), ["hub", b.id]);
  }));

Deno.test("metadata and subscriptions are {} before declaration and exact after", () =>
  withCore((core) => {
    const a = peer(core, { callable: false });
    assert.deepEqual(core.getMetadata(a.key, a.id), {});
    assert.deepEqual(core.getSubscriptions(a.key, a.id), {});
    const meta = { "samp.name": "x", "": "empty key", "__proto__": "own" } as SampMap;
    Object.defineProperty(meta, "__proto__", { value: "own", enumerable: true });
    core.declareMetadata(a.key, meta);
    assert.equal(core.getMetadata(a.key, a.id), meta);
    assert.equal(Object.getPrototypeOf(core.getMetadata(a.key, a.id)), Object.prototype);
  }));

Deno.test("an unknown client id or private key is a fault that says what to do", () =>
  withCore((core) => {
    const a = peer(core);
    faults(() => core.getMetadata(a.key, "Sir Not-Appearing"), /No registered client with ID/);
    faults(() => core.getSubscriptions(a.key, "nobody"), /No registered client/);
    faults(() => core.notifyAll("k:bogus", msg("a.b")), /Unknown private key.*register again/);
  }));

Deno.test("declareSubscriptions refuses illegal patterns and non-map annotations", () =>
  withCore((core) => {
    const a = peer(core);
    faults(() => core.declareSubscriptions(a.key, { "a.*.b": {} }), /Illegal subscription key/);
    faults(() => core.declareSubscriptions(a.key, { "a b": {} }), /Illegal subscription key/);
    faults(() => core.declareSubscriptions(a.key, { "a.b": "x" }), /annotation map/);
    faults(() => core.declareSubscriptions(a.key, ["a.b"]), /must be a map/);
  }));

Deno.test("a.* matches MTypes below a but not a itself, as the standard says", () =>
  withCore((core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "file.event.*": {} } });
    assert.deepEqual(Object.keys(core.getSubscribedClients(s.key, "file.event.new")), [r.id]);
    assert.deepEqual(core.getSubscribedClients(s.key, "file.event"), {});
    assert.deepEqual(core.getSubscribedClients(s.key, "file.eventX.y"), {});
    faults(() => core.notify(s.key, r.id, msg("file.event")), /not subscribed to file.event/);
  }));

Deno.test("getSubscribedClients gives the annotation of the most specific matching pattern", () =>
  withCore((core) => {
    const s = peer(core);
    const r = peer(core, {
      subs: {
        "*": { w: "star" },
        "table.*": { w: "prefix" },
        "table.load.votable": { w: "exact" },
      },
    });
    assert.deepEqual(core.getSubscribedClients(s.key, "table.load.votable")[r.id], { w: "exact" });
    assert.deepEqual(core.getSubscribedClients(s.key, "table.load.fits")[r.id], { w: "prefix" });
    assert.deepEqual(core.getSubscribedClients(s.key, "image.load.fits")[r.id], { w: "star" });
  }));

Deno.test("getSubscribedClients excludes the caller and clients that are not callable", () =>
  withCore((core) => {
    const a = peer(core, { subs: { "samp.app.ping": {} } });
    const b = peer(core, { callable: false });
    core.declareSubscriptions(b.key, { "samp.app.ping": {} });
    assert.deepEqual(Object.keys(core.getSubscribedClients(a.key, "samp.app.ping")), ["hub"]);
  }));

Deno.test("directed sends fault for unknown, non-callable and unsubscribed recipients", () =>
  withCore(async (core) => {
    const s = peer(core);
    const nc = peer(core, { callable: false });
    const r = peer(core, { subs: { "x.y": {} } });
    for (
      const send of [
        (to: string, m: Message) => core.notify(s.key, to, m),
        (to: string, m: Message) => core.call(s.key, to, "t", m),
        (to: string, m: Message) => core.callAndWait(s.key, to, m, 1),
      ]
    ) {
      faults(() => send("c99", msg("x.y")), /No registered client with ID "c99"/);
      faults(() => send(nc.id, msg("x.y")), new RegExp(`Client ${nc.id} is not callable`));
      faults(() => send(r.id, msg("not.an.mtype")), /not subscribed to not.an.mtype/);
    }
    await tick();
    assert.equal(r.got.length, 0);
  }));

Deno.test("a message needs a valid samp.mtype; a missing samp.params becomes {}", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "*": {} } });
    faults(() => core.notify(s.key, r.id, { "samp.params": {} }), /no samp.mtype/);
    faults(() => core.notify(s.key, r.id, msg("bad mtype!")), /Illegal MType/);
    faults(
      () => core.notify(s.key, r.id, { "samp.mtype": "a.b", "samp.params": "x" }),
      /samp.params must be a map/,
    );
    core.notify(s.key, r.id, { "samp.mtype": "a.b", "extra": "kept" });
    await tick();
    const got = r.got.find((c) => c.kind === "notification" && c.from === s.id) as { msg: Message };
    assert.deepEqual(got.msg, { "samp.mtype": "a.b", "extra": "kept", "samp.params": {} });
  }));

Deno.test("a client may send directed messages to itself", () =>
  withCore(async (core) => {
    const a = peer(core, { subs: { "a.b": {} } });
    core.notify(a.key, a.id, msg("a.b"));
    await tick();
    assert.deepEqual(a.mtypes(), ["a.b"]);
  }));

Deno.test("notifyAll and callAll reach every subscriber except the sender", () =>
  withCore(async (core) => {
    const s = peer(core, { subs: { "a.*": {} } });
    const r1 = peer(core, { subs: { "a.*": {} } });
    const r2 = peer(core, { subs: { "*": {} } });
    peer(core, { subs: { "b.*": {} } });
    assert.deepEqual(core.notifyAll(s.key, msg("a.b")).sort(), [r1.id, r2.id].sort());
    const ids = core.callAll(s.key, "tag", msg("a.b"));
    assert.deepEqual(Object.keys(ids).sort(), [r1.id, r2.id].sort());
    assert.notEqual(ids[r1.id], ids[r2.id]);
    await tick();
    assert.equal(s.got.filter((c) => c.kind !== "notification" || c.from !== "hub").length, 0);
    const call1 = r1.got.find((c) => c.kind === "call") as { msgId: string };
    assert.equal(call1.msgId, ids[r1.id]);
    // r2 subscribes to "*": only the others can find an MType nobody wants.
    assert.deepEqual(core.notifyAll(r2.key, msg("nobody.listens")), []);
    assert.deepEqual(core.callAll(r2.key, "t", msg("nobody.listens")), {});
  }));

Deno.test("reply reaches the caller's receiveResponse with its msg-tag, exactly once", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "a.b": {} } });
    const msgId = core.call(s.key, r.id, "my-tag", msg("a.b"));
    await tick();
    const response = { "samp.status": "samp.ok", "samp.result": { x: "1" }, "test.extra": "kept" };
    core.reply(r.key, msgId, response);
    await tick();
    const got = s.got.filter((c) => c.kind === "response");
    assert.deepEqual(got, [{ kind: "response", from: r.id, tag: "my-tag", response }]);
    faults(() => core.reply(r.key, msgId, response), /No pending call with msg-id/);
  }));

Deno.test("only the recipient of a call can reply to it", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "a.b": {} } });
    const other = peer(core);
    const msgId = core.call(s.key, r.id, "t", msg("a.b"));
    faults(() => core.reply(other.key, msgId, { "samp.status": "samp.ok" }), /No pending call/);
    faults(() => core.reply(r.key, msgId, "not a map"), /SampResponse must be a map/);
    core.reply(r.key, msgId, { "samp.status": "samp.ok", "samp.result": {} });
    await tick();
    assert.equal(s.got.filter((c) => c.kind === "response").length, 1);
  }));

Deno.test("callAndWait resolves with the reply", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, {
      subs: { "a.b": {} },
      delivery: {
        notification: () => Promise.resolve(),
        call: (_f, msgId, m) => {
          setTimeout(
            () =>
              core.reply(r.key, msgId, {
                "samp.status": "samp.ok",
                "samp.result": m["samp.params"],
              }),
            5,
          );
          return Promise.resolve();
        },
        response: () => Promise.resolve(),
      },
    });
    const response = await core.callAndWait(s.key, r.id, msg("a.b", { v: "42" }), 0);
    assert.deepEqual(response, { "samp.status": "samp.ok", "samp.result": { v: "42" } });
    assert.equal(core.stats().pendingCalls, 0);
    assert.equal(core.stats().syncWaits, 0);
  }));

Deno.test("callAndWait to the hub's own client answers samp.app.ping", () =>
  withCore(async (core) => {
    const s = peer(core);
    const response = await core.callAndWait(s.key, "hub", msg("samp.app.ping"), 5);
    assert.deepEqual(response, { "samp.status": "samp.ok", "samp.result": {} });
  }));

Deno.test("the hub answers samp.query.by-meta with the ids whose metadata matches", () =>
  withCore(async (core) => {
    const s = peer(core);
    const t = peer(core);
    core.declareMetadata(t.key, { "samp.name": "topcat" });
    const r = await core.callAndWait(
      s.key,
      "hub",
      msg("x-samp.query.by-meta", { key: "samp.name", value: "topcat" }),
      5,
    );
    assert.deepEqual(r, { "samp.status": "samp.ok", "samp.result": { ids: [t.id] } });
  }));

Deno.test("callAndWait faults after its timeout and a late reply then faults", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "a.b": {} } });
    const started = Date.now();
    await assert.rejects(
      core.callAndWait(s.key, r.id, msg("a.b"), 0.05),
      (e) => e instanceof SampFault && /timeout after 0.05/.test(e.message),
    );
    assert.ok(Date.now() - started < 1000);
    const call = r.got.find((c) => c.kind === "call") as { msgId: string };
    faults(() => core.reply(r.key, call.msgId, { "samp.status": "samp.ok" }), /No pending call/);
    assert.equal(core.stats().pendingCalls, 0);
  }));

Deno.test("callAndWait with timeout 0 still ends at the hub's cap", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "a.b": {} } });
    await assert.rejects(
      core.callAndWait(s.key, r.id, msg("a.b"), 0),
      /timeout after 0.05\/unlimited/,
    );
  }, { maxSyncWaitSeconds: 0.05 }));

Deno.test("an aborted callAndWait (caller hung up) leaves nothing pending", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "a.b": {} } });
    const controller = new AbortController();
    const p = core.callAndWait(s.key, r.id, msg("a.b"), 0, controller.signal);
    controller.abort();
    await assert.rejects(p, /abandoned/);
    assert.deepEqual([core.stats().pendingCalls, core.stats().syncWaits], [0, 0]);
  }));

Deno.test("calls pending on a client that leaves are answered with an error response", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "a.b": {} } });
    core.call(s.key, r.id, "async-tag", msg("a.b"));
    const sync = core.callAndWait(s.key, r.id, msg("a.b"), 0);
    await tick();
    core.unregister(r.key);
    const response = await sync;
    assert.equal(response["samp.status"], "samp.error");
    assert.match((response["samp.error"] as SampMap)["samp.errortxt"] as string, /left the hub/);
    await tick();
    const async = s.got.find((c) => c.kind === "response") as {
      tag: string;
      response: SampResponse;
    };
    assert.equal(async.tag, "async-tag");
    assert.equal(async.response["samp.status"], "samp.error");
    assert.equal(core.stats().pendingCalls, 0);
  }));

Deno.test("a sender that leaves drops its calls; later replies fault", () =>
  withCore((core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "a.b": {} } });
    const msgId = core.call(s.key, r.id, "t", msg("a.b"));
    core.unregister(s.key);
    faults(() => core.reply(r.key, msgId, { "samp.status": "samp.ok" }), /No pending call/);
    assert.equal(core.stats().pendingCalls, 0);
  }));

Deno.test("a call that cannot be delivered is answered with an error response", () =>
  withCore(async (core) => {
    const s = peer(core);
    const failing: Delivery = {
      notification: () => Promise.reject(new DeliveryError("HTTP 500")),
      call: () => Promise.reject(new DeliveryError("HTTP 500")),
      response: () => Promise.reject(new DeliveryError("HTTP 500")),
    };
    const r = peer(core, { subs: { "a.b": {} }, delivery: failing });
    const response = await core.callAndWait(s.key, r.id, msg("a.b"), 5);
    assert.equal(response["samp.status"], "samp.error");
    assert.match(
      (response["samp.error"] as SampMap)["samp.errortxt"] as string,
      new RegExp(`could not deliver a.b to ${r.id}: HTTP 500`),
    );
    assert.ok(core.client(r.id), "an HTTP error does not unregister the client");
  }));

Deno.test("a call that timed out in delivery is not answered for the recipient", () =>
  withCore(async (core) => {
    const s = peer(core);
    const r = peer(core, {
      subs: { "a.b": {} },
      delivery: {
        notification: () => Promise.resolve(),
        call: () => Promise.reject(new DeliveryError("slow", { maybeDelivered: true })),
        response: () => Promise.resolve(),
      },
    });
    const msgId = core.call(s.key, r.id, "t", msg("a.b"));
    await tick();
    assert.equal(s.got.filter((c) => c.kind === "response").length, 0);
    core.reply(r.key, msgId, { "samp.status": "samp.ok", "samp.result": {} });
    await tick();
    assert.equal(s.got.filter((c) => c.kind === "response").length, 1);
  }));

Deno.test("a client whose endpoint refuses connections is unregistered and others are told", () =>
  withCore(async (core) => {
    const watcher = peer(core, { subs: { "samp.hub.event.unregister": {} } });
    const s = peer(core);
    const gone = peer(core, {
      subs: { "a.b": {} },
      delivery: {
        notification: () => Promise.reject(new DeliveryError("refused", { unreachable: true })),
        call: () => Promise.reject(new DeliveryError("refused", { unreachable: true })),
        response: () => Promise.resolve(),
      },
    });
    core.notify(s.key, gone.id, msg("a.b"));
    await tick();
    await tick();
    assert.equal(core.client(gone.id), undefined);
    const ev = watcher.got.find((c) =>
      c.kind === "notification" && c.msg["samp.mtype"] === "samp.hub.event.unregister"
    ) as { msg: Message };
    assert.deepEqual(ev.msg["samp.params"], { id: gone.id });
  }));

Deno.test("a hung recipient stalls neither the sender nor other recipients", () =>
  withCore(async (core) => {
    const s = peer(core);
    let release!: () => void;
    const hung = new Promise<void>((r) => release = r);
    peer(core, {
      subs: { "a.b": {} },
      delivery: { notification: () => hung, call: () => hung, response: () => hung },
    });
    const fine = peer(core, { subs: { "a.b": {} } });
    const started = performance.now();
    for (let i = 0; i < 10; i++) core.notifyAll(s.key, msg("a.b"));
    core.callAll(s.key, "t", msg("a.b"));
    assert.ok(performance.now() - started < 50);
    await tick();
    assert.equal(fine.got.length, 11);
    release();
  }));

Deno.test("hub events about each client reach a watcher in order, from the hub", () =>
  withCore(async (core) => {
    const events: string[] = [];
    let slow = Promise.resolve();
    const w = peer(core, {
      delivery: {
        // Each delivery resolves later than the previous: order must still hold.
        notification: (from, m) => {
          assert.equal(from, "hub");
          events.push(`${m["samp.mtype"].replace("samp.hub.event.", "")} ${m["samp.params"].id}`);
          slow = slow.then(() => new Promise((r) => setTimeout(r, 2)));
          return slow;
        },
        call: () => Promise.resolve(),
        response: () => Promise.resolve(),
      },
    });
    core.declareSubscriptions(w.key, { "samp.hub.event.*": {} });
    core.declareMetadata(w.key, { "samp.name": "watcher" });
    const c = core.register("standard");
    core.declareMetadata(c["samp.private-key"], { "samp.name": "x" });
    core.unregister(c["samp.private-key"]);
    await new Promise((r) => setTimeout(r, 100));
    const about = (id: string) => events.filter((e) => e.endsWith(` ${id}`));
    assert.deepEqual(about(w.id), [`subscriptions ${w.id}`, `metadata ${w.id}`]);
    assert.deepEqual(about(c["samp.self-id"]), [
      `register ${c["samp.self-id"]}`,
      `metadata ${c["samp.self-id"]}`,
      `unregister ${c["samp.self-id"]}`,
    ]);
    assert.equal(events.length, 5);
  }));

Deno.test("hub events about different clients travel together, each client's strictly in order", () =>
  withCore(async (core) => {
    // The watcher answers every event only when the test says so.
    const open: { what: string; done: () => void }[] = [];
    const w = peer(core, {
      delivery: {
        notification: (_from, m) =>
          new Promise<void>((done) =>
            open.push({
              what: `${m["samp.mtype"].replace("samp.hub.event.", "")} ${
                m["samp.params"].id ?? ""
              }`,
              done,
            })
          ),
        call: () => Promise.resolve(),
        response: () => Promise.resolve(),
      },
    });
    core.declareSubscriptions(w.key, { "samp.hub.event.*": {} });
    await tick();
    open.splice(0).forEach((o) => o.done()); // its own subscriptions event
    await tick();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const c = core.register("standard");
      ids.push(c["samp.self-id"]);
      core.unregister(c["samp.private-key"]);
    }
    await tick();
    // Eight register events in flight at once (eight different clients), no unregister yet.
    assert.deepEqual(open.map((o) => o.what), ids.slice(0, 8).map((id) => `register ${id}`));
    // The third client's register is answered first: its unregister may go, nobody else's.
    open.splice(2, 1)[0].done();
    await tick();
    assert.deepEqual(
      open.map((o) => o.what).sort(),
      [
        ...ids.slice(0, 8).filter((_, i) => i !== 2).map((id) => `register ${id}`),
        `unregister ${ids[2]}`,
      ]
        .sort(),
    );
    // Answer everything as it comes: every client's two events, register first.
    const seen: string[] = [];
    for (let n = 0; n < 50 && seen.length < 19; n++) {
      for (const o of open.splice(0)) {
        seen.push(o.what);
        o.done();
      }
      await tick();
    }
    for (const id of ids) {
      const mine = [`register ${ids[2]}`, ...seen].filter((e) => e.endsWith(` ${id}`));
      assert.deepEqual(mine, [`register ${id}`, `unregister ${id}`], id);
    }
    // Shutdown goes alone, after everything queued before it.
    const late = core.register("standard")["samp.self-id"];
    await tick();
    assert.deepEqual(open.map((o) => o.what), [`register ${late}`]);
    const closed = core.close(2000);
    await tick();
    assert.deepEqual(open.map((o) => o.what), [`register ${late}`]);
    open.splice(0)[0].done();
    await tick();
    assert.deepEqual(open.map((o) => o.what), ["shutdown "]);
    open.splice(0)[0].done();
    await closed;
  }));

Deno.test("hub events queued before a client becomes callable are delivered when it does", () =>
  withCore(async (core) => {
    const w = peer(core, { callable: false });
    core.declareSubscriptions(w.key, { "samp.hub.event.register": {} });
    core.register("standard");
    await tick();
    const got: string[] = [];
    core.setDelivery(w.key, {
      notification: (_f, m) => {
        got.push(m["samp.mtype"]);
        return Promise.resolve();
      },
      call: () => Promise.resolve(),
      response: () => Promise.resolve(),
    });
    await tick();
    assert.deepEqual(got, []); // not subscribed at register time: the hub had no callable target
  }));

Deno.test("disconnect sends samp.hub.disconnect to the client, then tells the others", () =>
  withCore(async (core) => {
    const w = peer(core, { subs: { "samp.hub.event.unregister": {} } });
    const c = peer(core, { subs: { "samp.hub.disconnect": {} } });
    assert.equal(core.disconnect(c.id, "Timeout expired!"), true);
    await tick();
    assert.deepEqual(c.got.map((g) => g.kind === "notification" && g.msg), [
      { "samp.mtype": "samp.hub.disconnect", "samp.params": { reason: "Timeout expired!" } },
    ]);
    assert.ok(w.mtypes().includes("samp.hub.event.unregister"));
    faults(() => core.getMetadata(w.key, c.id), /No registered client/);
  }));

Deno.test("sweep disconnects idle clients and forgets stale asynchronous calls", () => {
  let now = 1_000_000;
  return withCore((core) => {
    const idle = peer(core, { subs: { "a.b": {} } });
    const busy = peer(core);
    core.call(busy.key, idle.id, "t", msg("a.b"));
    now += 5000;
    core.touch(busy.key);
    assert.deepEqual(core.sweep(3000), [idle.id]);
    assert.ok(core.client(busy.id));
    const other = peer(core, { subs: { "a.b": {} } });
    core.call(busy.key, other.id, "t", msg("a.b"));
    now += 20_000;
    core.touch(busy.key);
    core.touch(other.key);
    core.sweep();
    assert.equal(core.stats().pendingCalls, 0);
  }, { now: () => now, pendingCallTtlMs: 10_000 });
});

Deno.test("a message policy makes a refused pair look unsubscribed", () =>
  withCore((core) => {
    const s = peer(core);
    const r = peer(core, { subs: { "script.run": {}, "table.load": {} } });
    assert.deepEqual(Object.keys(core.getSubscribedClients(s.key, "script.run")), []);
    faults(() => core.notify(s.key, r.id, msg("script.run")), /blocked/);
    assert.deepEqual(core.notifyAll(s.key, msg("script.run")), []);
    assert.deepEqual(core.notifyAll(s.key, msg("table.load")), [r.id]);
  }, { policy: { allows: (_s, _r, mtype) => !mtype.startsWith("script.") } }));

Deno.test("close sends samp.hub.event.shutdown and fails calls still waiting", async () => {
  const core = new HubCore();
  const w = peer(core, { subs: { "samp.hub.event.shutdown": {} } });
  const r = peer(core, { subs: { "a.b": {} } });
  const waiting = core.callAndWait(w.key, r.id, msg("a.b"), 0);
  await core.close(500);
  await assert.rejects(waiting, /shutting down/);
  assert.ok(w.mtypes().includes("samp.hub.event.shutdown"));
  assert.deepEqual(core.stats(), {
    clients: 0,
    pendingCalls: 0,
    syncWaits: 0,
    deliveriesInFlight: 0,
    queuedEvents: 0,
    queuedCallbacks: 0,
    messages: 1,
  });
  faults(() => core.register("standard"), /shutting down/);
});

Deno.test("a busy client gets at most maxCallbacksPerClient callbacks at once, the rest in order", () =>
  withCore(async (core) => {
    const s = peer(core);
    let active = 0;
    let peak = 0;
    const order: string[] = [];
    const releases: (() => void)[] = [];
    const slow = peer(core, {
      subs: { "a.b": {} },
      delivery: {
        notification: (_f, m) => {
          active++;
          peak = Math.max(peak, active);
          order.push(m["samp.params"].n as string);
          return new Promise<void>((r) => releases.push(() => (active--, r())));
        },
        call: () => Promise.resolve(),
        response: () => Promise.resolve(),
      },
    });
    const fast = peer(core, { subs: { "a.b": {} } });
    for (let i = 0; i < 20; i++) core.notify(s.key, slow.id, msg("a.b", { n: String(i) }));
    core.notify(s.key, fast.id, msg("a.b"));
    await tick();
    assert.equal(peak, 3);
    assert.equal(core.stats().queuedCallbacks, 17);
    assert.equal(fast.got.length, 1, "another client is not held up");
    while (releases.length > 0) {
      releases.shift()!();
      await tick();
    }
    assert.equal(peak, 3);
    assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => String(i)));
    assert.equal(core.stats().queuedCallbacks, 0);
  }, { maxCallbacksPerClient: 3 }));

Deno.test("callbacks beyond a client's queue limit fail, and a call among them is answered with an error", () =>
  withCore(async (core) => {
    const s = peer(core);
    const hung = new Promise<void>(() => {});
    const stuck = peer(core, {
      subs: { "a.b": {} },
      delivery: { notification: () => hung, call: () => hung, response: () => hung },
    });
    core.notify(s.key, stuck.id, msg("a.b"));
    core.notify(s.key, stuck.id, msg("a.b"));
    const r = await core.callAndWait(s.key, stuck.id, msg("a.b"), 5);
    assert.equal(r["samp.status"], "samp.error");
    assert.match(String((r["samp.error"] as SampMap)["samp.errortxt"]), /not keeping up/);
    core.unregister(stuck.key);
    assert.equal(core.stats().queuedCallbacks, 0);
  }, { maxCallbacksPerClient: 1, maxQueuedCallbacks: 1 }));

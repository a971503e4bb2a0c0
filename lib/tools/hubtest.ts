// `samp hubtest`: a conformance run of the SAMP 1.3 Standard Profile hub API
// against whatever hub SAMP_HUB / --lockfile names, check by check, with its
// own clients (HubConnection over the Standard Profile, each callable with a
// recording handler).

import { parseArgs } from "node:util";
import { findHub } from "../client/discovery.ts";
import { HubConnection, type HubTransport } from "../client/connection.ts";
import { standardTransport } from "../client/standard_transport.ts";
import { SampFault } from "../errors.ts";
import { xmlrpcRequest } from "../transport/xmlrpc_client.ts";
import type { Message, SampMap, SampResponse, SampValue } from "../types.ts";
import { COMMON_FLAGS, COMMON_HELP, EXIT, safeLine } from "./_common.ts";

export const HUBTEST_HELP = `samp hubtest: check a hub against the SAMP 1.3 hub API, check by check

Usage: samp hubtest [options]

Registers its own test clients with the hub (found through $SAMP_HUB, ~/.samp
or --lockfile), exercises every Standard Profile hub method and the hub
events, and prints one line per check: "ok   NAME", "FAIL NAME: WHY", or
"warn NAME: WHY" for a deviation from the standard that real hubs are known
to have and clients live with (as JSAMP's HubTester warns on SHOULD items),
then a summary. Every client it registers is unregistered at the end.

  --json                one JSON object per check {name, ok, warning, detail} on
                        stdout (the summary goes to stderr)
${COMMON_HELP.replace(/\nExit status:[\s\S]*$/, "")}
Exit status: 0 no check failed (warnings allowed), 1 some check failed, 2 bad
command line, 3 no hub running.`;

/** Every legal SAMP string char: TAB, LF and 0x20–0x7e. */
const ALL_CHARS = "\t\n" +
  Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("");

const CHECK_MS = 15000;

interface Peer {
  conn: HubConnection;
  id: string;
  notes: { sender: string; message: Message }[];
  calls: { sender: string; msgId: string; message: Message }[];
  responses: { responder: string; tag: string; response: SampResponse }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms for up to `ms`; returns whether it came true. */
async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

class CheckFailed extends Error {}

function assert(cond: unknown, why: string): asserts cond {
  if (!cond) throw new CheckFailed(why);
}

function same(a: SampValue, b: SampValue): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((v, i) => same(v, b[i]));
  }
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return same(ka, kb) && ka.every((k) => same(a[k], b[k]));
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s.length > 160 ? s.slice(0, 157) + "..." : s;
};

function sameSet(got: string[], want: string[]): boolean {
  return got.length === want.length && new Set(got).size === got.length &&
    want.every((w) => got.includes(w));
}

/** Expects `f` to give a SAMP fault. */
async function faults(what: string, f: () => Promise<unknown>): Promise<void> {
  let result: unknown;
  try {
    result = await f();
  } catch (e) {
    if (e instanceof SampFault) return;
    throw new CheckFailed(`${what} failed, but not with a fault: ${(e as Error).message}`);
  }
  throw new CheckFailed(`${what} did not fault (it returned ${show(result)})`);
}

/** Runs `samp hubtest`; returns the exit code. */
export async function hubtest(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...COMMON_FLAGS, json: { type: "boolean" } },
  });
  if (values.help) {
    console.log(HUBTEST_HELP);
    return EXIT.ok;
  }
  const { lock } = await findHub({ lockfile: values.lockfile });
  const url = lock.xmlrpcUrl;
  const handlerErrors: string[] = [];
  const transport: HubTransport = standardTransport(url, lock.secret, {
    onError: (e, cb) => void handlerErrors.push(`${cb}: ${(e as Error)?.message ?? e}`),
  });
  const baseName = values.name ?? "samp-hubtest";
  // A fresh MType namespace, so other clients on a live hub do not interfere.
  const ns = `hubtest${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const mt = (s: string) => `${ns}.${s}`;
  const live = new Set<Peer>();
  let count = 0;

  const register = async (): Promise<HubConnection> => {
    const conn = new HubConnection(transport, await transport.register({ timeoutMs: 5000 }));
    return conn;
  };

  /** A registered, callable client with a recording handler. */
  const peer = async (subs: SampMap = {}, meta?: SampMap): Promise<Peer> => {
    const conn = await register();
    const p: Peer = { conn, id: conn.selfId, notes: [], calls: [], responses: [] };
    live.add(p);
    await conn.setCallable({
      receiveNotification: (sender, message) => void p.notes.push({ sender, message }),
      receiveCall: async (sender, msgId, message) => {
        p.calls.push({ sender, msgId, message });
        const mtype = message["samp.mtype"];
        if (mtype.endsWith(".silent")) return;
        const response: SampResponse = mtype.endsWith(".fail")
          ? {
            "samp.status": "samp.error",
            "samp.error": { "samp.errortxt": "failure", "samp.code": "999", "do.what": "do.that" },
          }
          : {
            "samp.status": "samp.ok",
            "samp.result": message["samp.params"] ?? {},
            "test.msgid": msgId,
          };
        await conn.reply(msgId, response, { timeoutMs: 5000 });
      },
      receiveResponse: (responder, tag, response) =>
        void p.responses.push({ responder, tag, response }),
    });
    await conn.declareMetadata(meta ?? { "samp.name": `${baseName}-${++count}` });
    if (Object.keys(subs).length) await conn.declareSubscriptions(subs);
    return p;
  };

  const drop = async (...peers: Peer[]) => {
    await Promise.all(peers.map(async (p) => {
      live.delete(p);
      try {
        await p.conn.unregister({ timeoutMs: 5000 });
      } catch { /* best effort: the hub may refuse or be gone */ }
    }));
  };

  const results: { name: string; ok: boolean; warning: boolean; detail: string }[] = [];
  const report = (name: string, ok: boolean, detail: string, warning = false) => {
    results.push({ name, ok, warning, detail });
    if (values.json) console.log(JSON.stringify({ name, ok, warning, detail }));
    else {
      // The detail may quote the hub under test.
      console.log(
        ok ? `ok   ${name}` : `${warning ? "warn" : "FAIL"} ${name}: ${safeLine(detail)}`,
      );
    }
  };

  /**
   * Runs one check: `body` returns a detail string on success or throws.
   * A "should" check that fails is reported as a warning, not a failure.
   */
  const check = async (
    name: string,
    body: () => Promise<string | void>,
    level: "must" | "should" = "must",
  ) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const detail = await Promise.race([
        body(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new CheckFailed(`no result within ${CHECK_MS / 1000} s`)),
            CHECK_MS,
          );
        }),
      ]);
      report(name, true, detail || "");
    } catch (e) {
      const why = e instanceof CheckFailed
        ? e.message
        : `${(e as Error)?.name}: ${(e as Error)?.message ?? e}`;
      report(name, false, why.replaceAll("\n", " "), level === "should");
    } finally {
      clearTimeout(timer);
    }
  };

  /** A check with its own peers, unregistered afterwards. */
  const withPeers = (
    name: string,
    body: (make: (subs?: SampMap, meta?: SampMap) => Promise<Peer>) => Promise<string | void>,
    level: "must" | "should" = "must",
  ) =>
    check(name, async () => {
      const mine: Peer[] = [];
      try {
        return await body(async (subs, meta) => {
          const p = await peer(subs, meta);
          mine.push(p);
          return p;
        });
      } finally {
        await drop(...mine);
      }
    }, level);

  const echo = (extra: SampMap = {}): Message => ({
    "samp.mtype": mt("echo"),
    "samp.params": { text: ALL_CHARS, list: ["a", [], {}], nested: { "": "empty key" }, ...extra },
  });

  try {
    await check("ping without arguments", async () => {
      const r = await xmlrpcRequest(url, "samp.hub.ping", [], { timeoutMs: 5000 });
      return `answered ${show(r)}`;
    });

    await check("register gives hub-id, self-id and private-key", async () => {
      const conn = await register();
      try {
        const info = conn.regInfo;
        for (const k of ["samp.hub-id", "samp.self-id", "samp.private-key"]) {
          assert(typeof info[k] === "string" && info[k] !== "", `reg-info lacks ${k}`);
        }
        assert(conn.hubId !== conn.selfId, "self-id equals hub-id");
        return `hub ${conn.hubId}, self ${conn.selfId}`;
      } finally {
        await conn.unregister({ timeoutMs: 5000 }).catch(() => {});
      }
    });

    await check("self-ids and private keys never repeat; hub-id is stable", async () => {
      const ids: string[] = [];
      const keys: string[] = [];
      const hubIds = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const conn = await register();
        ids.push(conn.selfId);
        keys.push(conn.regInfo["samp.private-key"]);
        hubIds.add(conn.hubId);
        await conn.unregister({ timeoutMs: 5000 });
      }
      assert(new Set(ids).size === ids.length, `self-ids repeat: ${ids.join(", ")}`);
      assert(new Set(keys).size === keys.length, "private keys repeat");
      assert(hubIds.size === 1, `hub-id changed: ${[...hubIds].join(", ")}`);
      return ids.join(", ");
    });

    await check("register with a wrong secret faults", () =>
      faults(
        "register with a wrong secret",
        () => xmlrpcRequest(url, "samp.hub.register", [lock.secret + "x"], { timeoutMs: 5000 }),
      ));

    await check("unknown hub method faults", () =>
      faults(
        "samp.hub.not-a-method",
        () => xmlrpcRequest(url, "samp.hub.not-a-method", [], { timeoutMs: 5000 }),
      ));

    await check("unknown private key faults", () =>
      faults(
        "getRegisteredClients with an unknown private key",
        () =>
          xmlrpcRequest(url, "samp.hub.getRegisteredClients", ["no-such-private-key"], {
            timeoutMs: 5000,
          }),
      ));

    await check("getRegisteredClients has the hub and excludes self", async () => {
      const conn = await register();
      try {
        const ids = await conn.getRegisteredClients();
        assert(ids.includes(conn.hubId), `hub id ${conn.hubId} missing from ${show(ids)}`);
        assert(!ids.includes(conn.selfId), `own id ${conn.selfId} included`);
      } finally {
        await conn.unregister({ timeoutMs: 5000 }).catch(() => {});
      }
    });

    await check("getMetadata and getSubscriptions of self are {} before declaring", async () => {
      const conn = await register();
      try {
        const meta = await conn.getMetadata(conn.selfId);
        const subs = await conn.getSubscriptions(conn.selfId);
        assert(Object.keys(meta).length === 0, `getMetadata gave ${show(meta)}`);
        assert(Object.keys(subs).length === 0, `getSubscriptions gave ${show(subs)}`);
      } finally {
        await conn.unregister({ timeoutMs: 5000 }).catch(() => {});
      }
    });

    await withPeers("metadata round-trips exactly (every legal char)", async (make) => {
      const meta: SampMap = {
        "samp.name": `${baseName}-meta`,
        "samp.description.text": ALL_CHARS,
        "test.drink": "cider",
        "test.list": ["1", ["2"], { "3": "4" }],
      };
      const a = await make({}, meta);
      const b = await make();
      assert(same(await b.conn.getMetadata(a.id), meta), "another client sees a different map");
      assert(same(await a.conn.getMetadata(a.id), meta), "the client sees a different map");
      const next = { ...meta, "test.drink": "scrumpy" };
      await a.conn.declareMetadata(next);
      const got = await b.conn.getMetadata(a.id);
      assert(same(got, next), `re-declared metadata not seen at once: ${show(got)}`);
    });

    await withPeers(
      "unknown client id faults in getMetadata and getSubscriptions",
      async (make) => {
        const a = await make();
        const nobody = "Sir Not-Appearing-in-this-Hub";
        await faults("getMetadata of an unknown id", () => a.conn.getMetadata(nobody));
        await faults("getSubscriptions of an unknown id", () => a.conn.getSubscriptions(nobody));
      },
    );

    await withPeers("subscriptions round-trip with annotations", async (make) => {
      const subs: SampMap = {
        [mt("dummy.1")]: {},
        [mt("dummy.2")]: {},
        [mt("annotated")]: { size: "big", colour: "blue" },
        [`${ns}.wild.*`]: { "x-note": ALL_CHARS },
      };
      const a = await make(subs);
      const b = await make();
      const seen = await b.conn.getSubscriptions(a.id);
      assert(same(seen, subs), `another client sees ${show(seen)}`);
      assert(same(await a.conn.getSubscriptions(a.id), subs), "the client sees a different map");
    });

    await withPeers(
      "getSubscribedClients excludes the caller and matches wildcards",
      async (make) => {
        const exact = await make({ [mt("w.x")]: {} });
        const wild = await make({ [`${ns}.w.*`]: { tag: "wild" } });
        const caller = await make({ [`${ns}.*`]: {} });
        const got = Object.keys(await caller.conn.getSubscribedClients(mt("w.x")));
        assert(
          sameSet(got.filter((id) => id !== caller.conn.hubId), [exact.id, wild.id]),
          `expected ${exact.id} and ${wild.id} (not the caller ${caller.id}), got ${show(got)}`,
        );
        const deep = Object.keys(await caller.conn.getSubscribedClients(mt("w.x.y")));
        assert(deep.includes(wild.id), `"${ns}.w.*" does not match "${mt("w.x.y")}"`);
        assert(!deep.includes(exact.id), `"${mt("w.x")}" matches "${mt("w.x.y")}"`);
      },
    );

    await withPeers('wildcard "x.*" does not match "x" itself', async (make) => {
      const wild = await make({ [`${ns}.bare.*`]: {} });
      const caller = await make();
      const got = Object.keys(await caller.conn.getSubscribedClients(mt("bare")));
      assert(
        !got.includes(wild.id),
        `"${ns}.bare.*" matched "${mt("bare")}": the standard says a.* matches only MTypes ` +
          "below a. (JSAMP's hub is known to differ; clients cope)",
      );
    }, "should");

    await withPeers("notify reaches a subscriber and not an unsubscribed client", async (make) => {
      const rx = await make({ [mt("echo")]: {} });
      const other = await make({ [mt("other")]: {} });
      const tx = await make();
      const message = echo();
      await tx.conn.notify(rx.id, message);
      assert(await until(() => rx.notes.length > 0), "the subscriber got nothing in 3 s");
      const n = rx.notes[0];
      assert(n.sender === tx.id, `sender id is ${n.sender}, not ${tx.id}`);
      assert(same(n.message["samp.params"], message["samp.params"]), "params changed on the way");
      await sleep(200);
      assert(rx.notes.length === 1, `the subscriber got ${rx.notes.length} copies`);
      assert(other.notes.length === 0, "the unsubscribed client got it too");
    });

    await withPeers(
      "notify, call and callAndWait to an unsubscribed client fault",
      async (make) => {
        const rx = await make({ [mt("echo")]: {} });
        const tx = await make();
        const msg: Message = { "samp.mtype": mt("not.subscribed"), "samp.params": {} };
        await faults("notify", () => tx.conn.notify(rx.id, msg));
        await faults("call", () => tx.conn.call(rx.id, "t", msg));
        await faults("callAndWait", () => tx.conn.callAndWait(rx.id, msg, 5, { timeoutMs: 8000 }));
        await sleep(200);
        assert(rx.notes.length + rx.calls.length === 0, "the message was delivered anyway");
      },
    );

    await withPeers("notifyAll returns exactly the subscribers, not the sender", async (make) => {
      const a = await make({ [mt("echo")]: {} });
      const b = await make({ [`${ns}.*`]: {} });
      const c = await make({ [mt("other")]: {} });
      const tx = await make({ [mt("echo")]: {} });
      const ids = await tx.conn.notifyAll(echo());
      assert(sameSet(ids, [a.id, b.id]), `expected ${a.id}, ${b.id}; got ${show(ids)}`);
      assert(
        await until(() => a.notes.length === 1 && b.notes.length === 1),
        "not every subscriber got it in 3 s",
      );
      await sleep(200);
      assert(tx.notes.length === 0, "the sender got its own broadcast");
      assert(c.notes.length === 0, "an unsubscribed client got it");
      assert(a.notes.length === 1 && b.notes.length === 1, "duplicate deliveries");
      const none = await tx.conn.notifyAll({
        "samp.mtype": `zz${ns}.nobody`,
        "samp.params": {},
      });
      assert(none.length === 0, `notifyAll to nobody returned ${show(none)}`);
    });

    await withPeers("call/reply: the response keeps its msg-tag and extra keys", async (make) => {
      const rx = await make({ [mt("echo")]: {} });
      const tx = await make();
      const message = echo();
      const msgId = await tx.conn.call(rx.id, "tag-1", message);
      assert(await until(() => tx.responses.length > 0), "no response in 3 s");
      const r = tx.responses[0];
      assert(r.tag === "tag-1", `msg-tag ${show(r.tag)}, not "tag-1"`);
      assert(r.responder === rx.id, `responder ${r.responder}, not ${rx.id}`);
      assert(rx.calls[0]?.msgId === msgId, "the recipient's msg-id differs from call()'s");
      assert(r.response["samp.status"] === "samp.ok", `status ${r.response["samp.status"]}`);
      assert(same(r.response["samp.result"], message["samp.params"]), "samp.result changed");
      assert(r.response["test.msgid"] === msgId, "the extra top-level key test.msgid was lost");
    });

    await withPeers("callAll gives the msg-ids each recipient received", async (make) => {
      const a = await make({ [mt("echo")]: {} });
      const b = await make({ [mt("echo")]: {} });
      await make();
      const tx = await make({ [mt("echo")]: {} });
      const map = await tx.conn.callAll("tag-all", echo());
      assert(sameSet(Object.keys(map), [a.id, b.id]), `recipients ${show(Object.keys(map))}`);
      assert(await until(() => tx.responses.length >= 2), "not every response came in 3 s");
      for (const p of [a, b]) {
        assert(p.calls.length === 1, `${p.id} received ${p.calls.length} calls`);
        assert(p.calls[0].msgId === map[p.id], `${p.id} got msg-id ${p.calls[0].msgId}`);
      }
      for (const r of tx.responses) {
        assert(r.tag === "tag-all", `msg-tag ${r.tag}`);
        assert(r.response["test.msgid"] === map[r.responder], `wrong msg-id from ${r.responder}`);
      }
      await sleep(200);
      assert(tx.responses.length === 2, `${tx.responses.length} responses, not 2`);
      assert(tx.calls.length === 0, "the sender got its own call");
    });

    await withPeers("callAndWait returns the reply", async (make) => {
      const rx = await make({ [mt("echo")]: {} });
      const tx = await make();
      const message = echo();
      const r = await tx.conn.callAndWait(rx.id, message, 10, { timeoutMs: 12000 });
      assert(r["samp.status"] === "samp.ok", `status ${r["samp.status"]}`);
      assert(same(r["samp.result"], message["samp.params"]), "samp.result changed");
      assert(r["test.msgid"] === rx.calls[0]?.msgId, "the extra key test.msgid was lost");
    });

    await withPeers(
      "callAndWait with timeout 1 to a silent client faults in time",
      async (make) => {
        const rx = await make({ [mt("silent")]: {} });
        const tx = await make();
        const t0 = Date.now();
        await faults(
          "callAndWait to a client that never replies",
          () =>
            tx.conn.callAndWait(rx.id, { "samp.mtype": mt("silent"), "samp.params": {} }, 1, {
              timeoutMs: 5000,
            }),
        );
        const s = (Date.now() - t0) / 1000;
        assert(s < 3, `faulted only after ${s.toFixed(1)} s`);
        return `faulted after ${s.toFixed(1)} s`;
      },
    );

    await withPeers("error responses keep every samp.error key", async (make) => {
      const rx = await make({ [mt("fail")]: {} });
      const tx = await make();
      const msg: Message = { "samp.mtype": mt("fail"), "samp.params": {} };
      const r = await tx.conn.callAndWait(rx.id, msg, 10, { timeoutMs: 12000 });
      assert(r["samp.status"] === "samp.error", `status ${r["samp.status"]}`);
      const want = { "samp.errortxt": "failure", "samp.code": "999", "do.what": "do.that" };
      assert(same(r["samp.error"] ?? {}, want), `samp.error is ${show(r["samp.error"])}`);
      await tx.conn.call(rx.id, "tag-err", msg);
      assert(await until(() => tx.responses.length > 0), "no async error response in 3 s");
      const e = tx.responses[0].response;
      assert(same(e["samp.error"] ?? {}, want), `async samp.error is ${show(e["samp.error"])}`);
    });

    // Hub events: a watcher subscribed to samp.hub.event.* sees a subject
    // register, declare metadata and subscriptions, and unregister.
    {
      let watcher: Peer | undefined;
      let subjectId = "";
      const meta: SampMap = { "samp.name": "Shorty", "samp.description.text": ALL_CHARS };
      const subs: SampMap = { [mt("echo")]: {} };
      const events = (kind: string) =>
        (watcher?.notes ?? []).filter((n) =>
          n.message["samp.mtype"] === `samp.hub.event.${kind}` &&
          (n.message["samp.params"] ?? {}).id === subjectId
        );
      const expectEvent = async (kind: string, extra?: [string, SampValue]) => {
        assert(watcher, "the watcher could not register");
        assert(subjectId, "the subject could not register");
        assert(await until(() => events(kind).length > 0), `no ${kind} event within 3 s`);
        const got = events(kind);
        assert(got.length === 1, `${got.length} ${kind} events`);
        assert(got[0].sender === watcher.conn.hubId, `sent by ${got[0].sender}, not the hub`);
        if (extra) {
          const v = got[0].message["samp.params"][extra[0]];
          assert(v !== undefined && same(v, extra[1]), `${extra[0]} is ${show(v)}`);
        }
      };
      try {
        await check("hub events: setup (watcher and subject)", async () => {
          watcher = await peer({ "samp.hub.event.*": {} });
          const subject = await peer(subs, meta);
          subjectId = subject.id;
          await drop(subject);
        });
        await check("hub event: register", () => expectEvent("register"));
        await check("hub event: metadata", () => expectEvent("metadata", ["metadata", meta]));
        await check(
          "hub event: subscriptions",
          () => expectEvent("subscriptions", ["subscriptions", subs]),
        );
        await check("hub event: unregister", () => expectEvent("unregister"));
      } finally {
        if (watcher) await drop(watcher);
      }
    }

    await withPeers("unregistered clients are gone", async (make) => {
      const a = await make({ [mt("echo")]: {} });
      const gone = await peer({ [mt("echo")]: {} });
      await drop(gone);
      const ids = await a.conn.getRegisteredClients();
      assert(!ids.includes(gone.id), `${gone.id} is still listed`);
      await faults("notify to an unregistered client", () => a.conn.notify(gone.id, echo()));
    });

    await withPeers("the hub's own client answers samp.app.ping", async (make) => {
      const a = await make();
      const meta = await a.conn.getMetadata(a.conn.hubId);
      const ping: Message = { "samp.mtype": "samp.app.ping", "samp.params": {} };
      const msgId = await a.conn.call(a.conn.hubId, "tag-ping", ping);
      assert(await until(() => a.responses.length > 0, 5000), `no reply to ${msgId} in 5 s`);
      const r = a.responses[0];
      assert(r.responder === a.conn.hubId, `the reply came from ${r.responder}`);
      assert(r.tag === "tag-ping", `msg-tag ${show(r.tag)}`);
      assert(
        r.response["samp.status"] === "samp.ok",
        `status ${show(r.response["samp.status"])}`,
      );
      return `hub ${a.conn.hubId} (${meta["samp.name"] ?? "no samp.name"})`;
    });
  } finally {
    await drop(...live);
  }

  const failed = results.filter((r) => !r.ok && !r.warning).length;
  const warned = results.filter((r) => r.warning).length;
  const summary = `${results.length} checks, ${results.length - failed - warned} passed, ` +
    `${warned} warning${warned === 1 ? "" : "s"}, ${failed} failed`;
  if (values.json) console.error(summary);
  else console.log(summary);
  return failed ? EXIT.failed : EXIT.ok;
}

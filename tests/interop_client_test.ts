// Our client library (SampClient) against three hubs: ours (samp_hub),
// JSAMP's (`jsamp hub`) and astropy's (SAMPHubServer). For each hub, two
// SampClients exchange every kind of message, and JSAMP's own clients
// (`jsamp messagesender`, `jsamp snooper`) talk to them.
//
// The hubs differ, and the tests say how (see HUB_TRAITS):
// - public ids: ours and JSAMP give "c1", "c2", … and "hub" for the hub's own
//   client; astropy gives "cli#1", … and "cli#hub";
// - astropy's hub adds "host" and "user" keys to every message it routes (its
//   Standard Profile server writes them into notify/call/… arguments);
// - the hub's own client: every hub subscribes it to samp.app.ping and it
//   answers; its samp.name is "Hub", except astropy's "Astropy SAMP Hub";
// - JSAMP's hub faults declareSubscriptions from a client that has not set a
//   callback yet ("Client is not callable"); the others accept it. SampClient
//   sets its callback first, so it works with all three.
// - astropy's hub loses a callAndWait reply that comes back too fast: it
//   starts delivering the call (in a new thread) before it records the call
//   as synchronous (hub.py, _call_and_wait), and a reply arriving in between
//   is taken for an asynchronous one. Against it bob waits a little before
//   replying, as a human-driven tool would.
//
// Every peer process gets HOME=<private dir> and SAMP_HUB at the private
// lockfile (see tests/_hubs.ts); everything listens on and talks to 127.0.0.1.

import assert from "node:assert/strict";
import { SampClient, SampErrorResponse, SampFault } from "../client.ts";
import { connectStandard } from "../lib/client/standard_transport.ts";
import type { IncomingMessage } from "../client.ts";
import type { SampMap } from "../lib/types.ts";
import { collect, waitFor } from "./_helpers.ts";
import { type AnyHub, HUB_PEER, type HubKind, startAnyHub } from "./_hubs.ts";
import { PEER_INSTALL_HINT, peersRequired, peerStatus, peerTest, runBounded } from "./_peers.ts";

interface HubTraits {
  label: string;
  hubId: string;
  clientId: RegExp;
  hubName: string;
  /** Keys the hub adds to each message it routes. */
  addedMessageKeys: SampMap;
  /** Whether declareSubscriptions faults before setXmlrpcCallback. */
  subscribeNeedsCallback: boolean;
  /** How long bob waits before replying (astropy's callAndWait race, above). */
  replyDelayMs: number;
}

const HUB_TRAITS: Record<HubKind, HubTraits> = {
  ours: {
    label: "our samp_hub",
    hubId: "hub",
    clientId: /^c\d+$/,
    hubName: "Hub",
    addedMessageKeys: {},
    subscribeNeedsCallback: false,
    replyDelayMs: 0,
  },
  jsamp: {
    label: "JSAMP's hub",
    hubId: "hub",
    clientId: /^c\d+$/,
    hubName: "Hub",
    addedMessageKeys: {},
    subscribeNeedsCallback: true,
    replyDelayMs: 0,
  },
  astropy: {
    label: "astropy's hub",
    hubId: "cli#hub",
    clientId: /^cli#\d+$/,
    hubName: "Astropy SAMP Hub",
    addedMessageKeys: { host: "127.0.0.1", user: "unknown" },
    subscribeNeedsCallback: false,
    replyDelayMs: 50,
  },
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Resolves `p`, or fails after `ms` saying what did not happen. */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a `jsamp` command against `hub`, bounded in time. */
async function jsamp(hub: AnyHub, args: string[], timeoutMs = 60000) {
  const r = await runBounded("jsamp", args, { env: hub.env(), cwd: hub.dir, timeoutMs });
  const output = `jsamp ${args.join(" ")} (exit ${r.code})\n--- stdout\n${r.stdout}\n` +
    `--- stderr\n${r.stderr}`;
  assert.ok(!r.timedOut, `did not finish within ${timeoutMs} ms: ${output}`);
  return { ...r, output };
}

/**
 * A step that needs JSAMP's clients: ignored when jsamp is missing, failing
 * instead with SAMP_REQUIRE_PEERS=1.
 */
async function jsampStep(
  t: Deno.TestContext,
  name: string,
  fn: () => Promise<void>,
): Promise<boolean> {
  const status = await peerStatus("jsamp");
  if (status.available) return await t.step(name, fn);
  return await t.step({
    name,
    ignore: !peersRequired(),
    fn() {
      throw new Error(`interop peer "jsamp" is missing: ${status.detail}. ${PEER_INSTALL_HINT}`);
    },
  });
}

async function scenarios(t: Deno.TestContext, kind: HubKind): Promise<void> {
  const traits = HUB_TRAITS[kind];
  const hub = await startAnyHub(kind);
  const open: SampClient[] = [];
  let ok = false;
  try {
    const connect = async (name: string, metadata: SampMap = {}) => {
      const c = await SampClient.connect({ lockfile: hub.lockfile, name, metadata });
      open.push(c);
      return c;
    };
    const alice = await connect("alice", { "alice.role": "sender" });
    const bob = await connect("bob", { "bob.role": "receiver" });
    const got: IncomingMessage[] = [];
    await bob.on("test.echo", async (m) => {
      got.push(m);
      if (traits.replyDelayMs > 0) await new Promise((r) => setTimeout(r, traits.replyDelayMs));
      return { echo: `${m.params.word}:from-bob` };
    });
    await bob.on("test.fail", () => {
      throw new Error("bob cannot do test.fail");
    });
    const results: boolean[] = [];
    const step = async (name: string, fn: () => Promise<void>) => {
      results.push(await t.step(name, fn));
    };

    await step("public ids and the hub's id have the hub's own form", async () => {
      assert.match(alice.id, traits.clientId);
      assert.match(bob.id, traits.clientId);
      assert.notEqual(alice.id, bob.id);
      assert.equal(alice.hubId, traits.hubId);
      assert.equal(bob.hubId, traits.hubId);
      const registered = await alice.connection.getRegisteredClients();
      assert.deepEqual([...registered].sort(), [traits.hubId, bob.id].sort());
    });

    await step(
      "the tracker knows the hub's client and the other client's metadata and subscriptions",
      async () => {
        const seen = await waitFor(
          () => {
            const b = alice.clients.byName("BOB"); // byName ignores case
            return b && "test.fail" in b.subscriptions ? b : undefined;
          },
          10000,
          "alice's tracker to see bob's subscriptions",
        );
        assert.equal(seen.id, bob.id);
        assert.equal(seen.name, "bob");
        assert.equal(seen.metadata["bob.role"], "receiver");
        for (const m of ["test.echo", "test.fail", "samp.app.ping", "samp.hub.event.register"]) {
          assert.ok(m in seen.subscriptions, `${m} not in ${JSON.stringify(seen.subscriptions)}`);
        }
        assert.deepEqual(alice.clients.subscribedTo("test.echo").map((c) => c.id), [bob.id]);
        const hubClient = alice.clients.get(alice.hubId);
        assert.ok(hubClient, `the hub's client ${alice.hubId} is not tracked`);
        assert.equal(hubClient.name, traits.hubName);
        assert.ok("samp.app.ping" in hubClient.subscriptions, JSON.stringify(hubClient));
        // A client tracks itself too.
        assert.equal(alice.clients.get(alice.id)?.metadata["alice.role"], "sender");
      },
    );

    await step(
      traits.subscribeNeedsCallback
        ? "declareSubscriptions before setXmlrpcCallback faults (SampClient sets the callback first)"
        : "declareSubscriptions before setXmlrpcCallback is accepted",
      async () => {
        await using raw = await connectStandard({ lockfile: hub.lockfile });
        const declare = raw.declareSubscriptions({ "test.early": {} });
        if (traits.subscribeNeedsCallback) {
          await assert.rejects(
            declare,
            (e) => e instanceof SampFault && /callable/i.test(e.message),
          );
        } else {
          await declare;
          assert.deepEqual(await raw.getSubscriptions(raw.selfId), { "test.early": {} });
        }
      },
    );

    await step("notify reaches the other client's handler, with sender and params", async () => {
      const before = got.length;
      await alice.notify(bob.id, "test.echo", {
        word: "notified",
        list: ["a", "b"],
        map: { k: "v" },
      });
      const m = await waitFor(() => got[before], 10000, "bob to receive the notification");
      assert.equal(m.mtype, "test.echo");
      assert.equal(m.senderId, alice.id);
      assert.equal(m.senderName, "alice");
      assert.equal(m.msgId, undefined);
      assert.deepEqual(m.params, { word: "notified", list: ["a", "b"], map: { k: "v" } });
      assert.deepEqual(m.message, {
        "samp.mtype": "test.echo",
        "samp.params": m.params,
        ...traits.addedMessageKeys,
      });
    });

    await step("call gets the handler's return value back as an ok response", async () => {
      const before = got.length;
      const r = await alice.call(bob.id, "test.echo", { word: "called" }, { timeout: 10 });
      assert.deepEqual(r, { "samp.status": "samp.ok", "samp.result": { echo: "called:from-bob" } });
      assert.equal(got.length, before + 1);
      assert.equal(typeof got[before].msgId, "string");
      assert.equal(got[before].senderId, alice.id);
    });

    await step("callAll collects the reply of every subscribed client", async () => {
      const { replies, missing } = await alice.callAll("test.echo", { word: "all" }, {
        timeout: 10,
      });
      assert.deepEqual([...replies.keys()], [bob.id]);
      assert.deepEqual(missing, []);
      assert.deepEqual(replies.get(bob.id), {
        "samp.status": "samp.ok",
        "samp.result": { echo: "all:from-bob" },
      });
    });

    await step("callAndWait returns the reply through the hub", async () => {
      const r = await alice.callAndWait(bob.id, "test.echo", { word: "waited" }, { timeout: 10 });
      assert.deepEqual(r, { "samp.status": "samp.ok", "samp.result": { echo: "waited:from-bob" } });
    });

    await step("a handler's thrown error reaches request() as SampErrorResponse", async () => {
      await assert.rejects(
        alice.request(bob.id, "test.fail", {}, { timeout: 10 }),
        (e) => {
          assert.ok(e instanceof SampErrorResponse, String(e));
          assert.equal(e.responder, bob.id);
          assert.equal(e.mtype, "test.fail");
          assert.equal(e.errortxt, "bob cannot do test.fail");
          assert.equal(e.response["samp.status"], "samp.error");
          return true;
        },
      );
    });

    await step("the hub's own client is subscribed to samp.app.ping and answers it", async () => {
      const subscribed = await alice.connection.getSubscribedClients("samp.app.ping");
      assert.ok(alice.hubId in subscribed, JSON.stringify(subscribed));
      assert.deepEqual(await alice.request(alice.hubId, "samp.app.ping", {}, { timeout: 10 }), {});
      // callAll reaches the hub and bob; the library answers bob's ping itself.
      const { replies, missing } = await alice.callAll("samp.app.ping", {}, { timeout: 10 });
      assert.deepEqual(missing, []);
      assert.deepEqual([...replies.keys()].sort(), Object.keys(subscribed).sort());
      assert.deepEqual([...replies.keys()].sort(), [alice.hubId, bob.id].sort());
      for (const r of replies.values()) assert.equal(r["samp.status"], "samp.ok");
    });

    await step(
      "for await delivers notifications and calls, and reply() answers the call",
      async () => {
        const stop = new AbortController();
        const seen: string[] = [];
        const loop = (async () => {
          for await (const m of bob.messages("test.stream.*", { signal: stop.signal })) {
            seen.push(`${m.mtype} ${m.params.n} ${m.msgId === undefined ? "notify" : "call"}`);
            if (m.msgId !== undefined) m.reply({ got: `${m.params.n}` });
            if (seen.length === 3) break;
          }
        })();
        try {
          await waitFor(
            () => "test.stream.*" in (alice.clients.get(bob.id)?.subscriptions ?? {}),
            10000,
            "bob's test.stream.* subscription",
          );
          await alice.notify(bob.id, "test.stream.note", { n: "1" });
          const r = await alice.call(bob.id, "test.stream.ask", { n: "2" }, { timeout: 10 });
          assert.deepEqual(r, { "samp.status": "samp.ok", "samp.result": { got: "2" } });
          await alice.notify(bob.id, "test.stream.note", { n: "3" });
          await bounded(loop, 10000, "the for await loop to see three messages");
        } finally {
          stop.abort();
          await bounded(loop, 10000, "the for await loop to end").catch(() => {});
        }
        // The hub may deliver the first notification after the call.
        assert.deepEqual(seen.sort(), [
          "test.stream.ask 2 call",
          "test.stream.note 1 notify",
          "test.stream.note 3 notify",
        ]);
        // Leaving the loop unsubscribes.
        await waitFor(
          () => !("test.stream.*" in (alice.clients.get(bob.id)?.subscriptions ?? {})),
          10000,
          "bob's test.stream.* subscription to go",
        );
      },
    );

    await step(
      "the tracker sees a client arrive with metadata and subscriptions, and leave",
      async () => {
        const changes: string[] = [];
        const off = alice.clients.onChange((c) => changes.push(`${c.kind} ${c.id}`));
        try {
          const carol = await connect("carol", { "carol.k": "v" });
          const carolId = carol.id;
          await carol.on("test.carol", () => {});
          const seen = await waitFor(
            () => {
              const c = alice.clients.byName("carol");
              return c && "test.carol" in c.subscriptions ? c : undefined;
            },
            10000,
            "alice's tracker to see carol's subscriptions",
          );
          assert.equal(seen.id, carolId);
          assert.equal(seen.metadata["carol.k"], "v");
          await carol.close();
          await waitFor(() => !alice.clients.get(carolId), 10000, "alice's tracker to drop carol");
          assert.equal(alice.clients.byName("carol"), undefined);
          assert.ok(changes.includes(`register ${carolId}`), changes.join(", "));
          assert.equal(changes.at(-1), `unregister ${carolId}`, changes.join(", "));
          assert.ok(alice.clients.get(bob.id), "bob is still tracked");
        } finally {
          off();
        }
      },
    );

    await step(
      "a client joins in well under a second with ten other clients registered",
      async () => {
        // SampClient.connect loads the tracker: getMetadata and getSubscriptions
        // for every client. Fired all at once that is 2N+1 connections, and
        // astropy's hub listens with Python's default backlog of 5: connections
        // beyond it are dropped and retried by TCP a second later.
        const crowd: SampClient[] = [];
        try {
          for (let i = 0; i < 8; i++) {
            crowd.push(
              await SampClient.connect({
                lockfile: hub.lockfile,
                name: `crowd-${i}`,
                callable: false,
              }),
            );
          }
          const t0 = performance.now();
          const late = await connect("latecomer");
          const ms = performance.now() - t0;
          // The hub, alice, bob, eight in the crowd, and itself.
          assert.equal(late.clients.size, 12, [...late.clients].map((c) => c.id).join(", "));
          assert.equal(late.clients.byName("crowd-7")?.id, crowd[7].id);
          await late.close();
          assert.ok(
            ms < 750,
            `SampClient.connect took ${ms.toFixed(0)} ms with 11 clients registered at ` +
              `${traits.label} (the tracker's parallel load; see the comment above)`,
          );
        } finally {
          for (const c of crowd) await c.close().catch(() => {});
        }
      },
    );

    await jsampStep(
      t,
      "jsamp messagesender calls (sync, async) and notifies our client, and gets its replies",
      async () => {
        const received: { mode: string; sender: string; name?: string; msgId?: string }[] = [];
        const off = await bob.on("test.jsamp.echo", async (m) => {
          const meta = await bob.connection.getMetadata(m.senderId).catch(() => ({} as SampMap));
          received.push({
            mode: `${m.params.word}`,
            sender: m.senderId,
            name: meta["samp.name"] as string | undefined,
            msgId: m.msgId,
          });
          return { echo: `${m.params.word}:from-deno` };
        });
        try {
          const modes = ["sync", "async", "notify"];
          const runs = await Promise.all(modes.map((mode) =>
            jsamp(hub, [
              "messagesender",
              "-mtype",
              "test.jsamp.echo",
              "-param",
              "word",
              mode,
              "-targetname",
              "bob",
              "-mode",
              mode,
              "-sendername",
              `jsamp-${mode}`,
            ])
          ));
          for (const [i, r] of runs.entries()) {
            assert.equal(r.code, 0, r.output);
            // MessageSender prints the recipient and the response it got.
            assert.match(r.stdout, new RegExp(`${escape(bob.id)} \\(bob\\)`), r.output);
            if (modes[i] === "notify") {
              assert.match(r.stdout, /no response from notify/, r.output);
            } else {
              assert.match(r.stdout, /"samp\.status": "samp\.ok"/, r.output);
              assert.match(r.stdout, new RegExp(`"echo": "${modes[i]}:from-deno"`), r.output);
            }
          }
          await waitFor(() => received.length === 3, 10000, "bob to handle all three messages");
          for (const mode of modes) {
            const r = received.find((r) => r.mode === mode);
            assert.ok(r, `bob did not get the ${mode} message`);
            assert.match(r.sender, traits.clientId);
            assert.equal(r.msgId === undefined, mode === "notify", JSON.stringify(r));
            // A notifying sender may be gone before bob looks it up.
            if (mode !== "notify") assert.equal(r.name, `jsamp-${mode}`);
          }
        } finally {
          await off();
        }
      },
    );

    await jsampStep(
      t,
      "jsamp snooper receives our notifyAll, and the tracker sees it come and go",
      async () => {
        const child = new Deno.Command("jsamp", {
          args: ["snooper", "-clientname", "jsamp-snooper", "-mtype", "test.*"],
          env: hub.env(),
          cwd: hub.dir,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const snoop = collect(child);
        let snooperId = "";
        try {
          const entry = await waitFor(
            () => {
              if (snoop.code !== undefined) {
                throw new Error(`jsamp snooper exited with ${snoop.code}:\n${snoop.text()}`);
              }
              const c = alice.clients.byName("jsamp-snooper");
              return c && "test.*" in c.subscriptions ? c : undefined;
            },
            30000,
            "alice's tracker to see the snooper subscribe to test.*",
          );
          snooperId = entry.id;
          const recipients = await alice.notifyAll("test.snoop", { word: "hello-snooper" });
          assert.deepEqual(recipients, [snooperId]);
          await waitFor(
            () => /test\.snoop/.test(snoop.text()) && /hello-snooper/.test(snoop.text()),
            15000,
            "the snooper to print the notification",
          ).catch((e) => {
            throw new Error(`${e.message}; snooper output:\n${snoop.text()}`);
          });
          // "c1 --- notify", or "c1 (alice) --- notify" once the snooper knows alice's name.
          assert.match(
            snoop.text(),
            new RegExp(`${escape(alice.id)}( \\(alice\\))? --- notify`),
            snoop.text(),
          );
        } finally {
          // JSAMP unregisters from a shutdown hook on SIGTERM.
          try {
            child.kill("SIGTERM");
          } catch { /* already gone */ }
          await snoop.wait(15000);
        }
        await waitFor(
          () => !alice.clients.get(snooperId),
          10000,
          "alice's tracker to see the snooper leave",
        );
      },
    );

    ok = results.every(Boolean);
  } finally {
    for (const c of open) await c.close().catch(() => {});
    await hub.stop();
  }
  if (ok && kind === "ours") assert.equal(hub.exitCode, 0, hub.output());
}

for (const kind of ["ours", "jsamp", "astropy"] as const) {
  const name =
    `SampClient exchanges notify, call, callAll, callAndWait, errors, pings and tracker events ` +
    `through ${HUB_TRAITS[kind].label}, and JSAMP clients reach it there`;
  const peer = HUB_PEER[kind];
  if (peer === undefined) Deno.test(name, (t) => scenarios(t, kind));
  else await peerTest(peer, name, (t) => scenarios(t, kind));
}

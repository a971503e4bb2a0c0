// Interop with astropy.samp (Debian's python3-astropy, run with
// /usr/bin/python3): an astropy SAMPIntegratedClient and one of our
// TestClients exchange notifications, calls and hub events through samp_hub.
//
// The Python side is tests/peers/astropy_client.py: it prints one JSON event
// per line on stdout and takes one JSON command per line on stdin.

import assert from "node:assert/strict";
import { childEnv, type HubProcess, spawnHub, TestClient, waitFor } from "./_helpers.ts";
import { peerTest, PYTHON, runBounded } from "./_peers.ts";
import type { SampMap, SampValue } from "../lib/types.ts";

const SCRIPT = new URL("./peers/astropy_client.py", import.meta.url).pathname;

function astropyEnv(hub: HubProcess, extra: Record<string, string> = {}): Record<string, string> {
  assert.ok(hub.lockfile.startsWith("/"), `lockfile path is not absolute: ${hub.lockfile}`);
  return childEnv(hub.dir, {
    SAMP_HUB: `std-lockurl:file://${encodeURI(hub.lockfile)}`,
    XDG_CONFIG_HOME: hub.dir,
    XDG_CACHE_HOME: hub.dir,
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
    ...extra,
  });
}

// deno-lint-ignore no-explicit-any
type PeerEvent = { event: string; [key: string]: any };

/** tests/peers/astropy_client.py as a subprocess: JSON events out, JSON commands in. */
class AstropyPeer {
  events: PeerEvent[] = [];
  stderr = "";
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #done: Promise<[void, void, Deno.CommandStatus]>;
  #status?: Deno.CommandStatus;

  constructor(hub: HubProcess) {
    this.#child = new Deno.Command(PYTHON, {
      args: [SCRIPT],
      env: astropyEnv(hub, { ASTROPY_PEER_WATCHDOG: "90" }),
      cwd: hub.dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#done = Promise.all([
      this.#readLines(this.#child.stdout),
      this.#readStderr(this.#child.stderr),
      this.#child.status.then((s) => this.#status = s),
    ]);
  }

  async #readLines(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buf = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buf += text;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          this.events.push(JSON.parse(line));
        } catch {
          this.events.push({ event: "non-json", line });
        }
      }
    }
  }

  async #readStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) this.stderr += text;
  }

  describe(): string {
    return `events:\n${this.events.map((e) => JSON.stringify(e)).join("\n")}\nstderr:\n${
      this.stderr.split("\n").slice(-30).join("\n")
    }`;
  }

  /** Waits (bounded) for the first event after `from` matching `pred`. */
  async next(
    pred: (e: PeerEvent) => boolean,
    what: string,
    from = 0,
    ms = 15000,
  ): Promise<PeerEvent> {
    try {
      return await waitFor(
        () => {
          const hit = this.events.slice(from).find(pred);
          if (hit) return hit;
          if (this.#status) throw new Error(`astropy peer exited with ${this.#status.code}`);
          return undefined;
        },
        ms,
        what,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message} (astropy peer)\n${this.describe()}`);
    }
  }

  /** Sends a command and waits for its answer event (or an "error" event). */
  async command(cmd: Record<string, SampValue | number>, answer: string): Promise<PeerEvent> {
    const from = this.events.length;
    await this.#stdin.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
    const e = await this.next(
      (e) => e.event === answer || e.event === "error",
      `astropy's answer to ${cmd.cmd}`,
      from,
    );
    assert.equal(e.event, answer, `astropy failed ${cmd.cmd}:\n${this.describe()}`);
    return e;
  }

  /** Closes stdin and waits (bounded) for exit, killing on timeout; returns the exit code. */
  async close(ms = 15000): Promise<number> {
    await this.#stdin.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
    }, ms);
    try {
      const [, , status] = await this.#done;
      return status.code;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Checks the hub is healthy with only itself registered, then stops it (exit 0). */
async function checkAndStopHub(hub: HubProcess): Promise<void> {
  const probe = await TestClient.register(hub.url, hub.secret, false);
  try {
    assert.equal(await probe.hub("ping"), "");
    let ids: string[] = [];
    await waitFor(async () => {
      ids = await probe.hub("getRegisteredClients") as string[];
      return ids.length === 1;
    }, 5000).catch(() => {});
    assert.deepEqual(ids, [probe.hubId], "clients left registered after the astropy run");
  } finally {
    await probe.close();
  }
  assert.equal(await hub.stop(), 0, `samp_hub did not exit 0:\n${hub.output()}`);
}

function eventParams(r: { args: SampValue[] }): SampMap {
  return (r.args[1] as SampMap)["samp.params"] as SampMap;
}

await peerTest(
  "astropy",
  "astropy SAMPIntegratedClient exchanges messages and hub events with a Deno client through samp_hub",
  async (t) => {
    const hub = await spawnHub(["--no-web-profile"]);
    let deno: TestClient | undefined;
    let peer: AstropyPeer | undefined;
    let ok = false;
    // Steps share state: stop at the first failure.
    const step = async (name: string, fn: () => Promise<void>) => {
      if (!await t.step(name, fn)) throw new Error(`step failed: ${name}`);
    };
    try {
      deno = await TestClient.register(hub.url, hub.secret);
      const d = deno;
      await d.hub("declareMetadata", { "samp.name": "deno-peer" });
      await d.hub("declareSubscriptions", { "test.echo": {}, "samp.hub.event.*": {} });
      d.onCall = (_sender, _msgId, message) => ({
        "samp.status": "samp.ok",
        "samp.result": message["samp.params"],
        "deno.extra": "kept",
      });

      peer = new AstropyPeer(hub);
      const p = peer;
      let astropyId = "";

      await step("astropy connects through SAMP_HUB and declares itself", async () => {
        const ready = await p.next((e) => e.event === "ready", "astropy to connect", 0, 30000);
        astropyId = ready.id;
        assert.equal(ready.hub_id, d.hubId);
        // The Deno side saw it arrive, with its metadata and subscriptions.
        await waitFor(
          () =>
            d.got("receiveNotification", "samp.hub.event.register").some((r) =>
              eventParams(r).id === astropyId
            ) &&
            d.got("receiveNotification", "samp.hub.event.metadata").some((r) =>
              eventParams(r).id === astropyId &&
              (eventParams(r).metadata as SampMap)["samp.name"] === "astropy-peer"
            ),
          5000,
          "register and metadata events for the astropy client",
        );
        const meta = await d.hub("getMetadata", astropyId) as SampMap;
        assert.equal(meta["samp.name"], "astropy-peer");
        assert.equal(meta["peer.lang"], "python");
        const subs = await d.hub("getSubscriptions", astropyId) as SampMap;
        for (const mtype of ["test.echo", "samp.hub.event.*", "samp.app.ping"]) {
          assert.ok(mtype in subs, `astropy not subscribed to ${mtype}: ${JSON.stringify(subs)}`);
        }
      });

      await step("astropy sees the hub (SAMPHubProxy and SAMPIntegratedClient)", async () => {
        const info = await p.command({ cmd: "info" }, "info");
        assert.equal(info.lockfile_url, hub.url);
        assert.deepEqual([...info.registered].sort(), [d.hubId, d.id].sort());
        assert.equal(info.hub_metadata["samp.name"], "Hub");
        assert.ok("samp.app.ping" in info.hub_subscriptions, JSON.stringify(info));
        assert.equal(info.own_metadata["samp.name"], "astropy-peer");
        assert.ok("test.echo" in info.own_subscriptions, JSON.stringify(info));
        // get_subscribed_clients excludes the caller.
        assert.deepEqual(Object.keys(info.subscribed_echo), [d.id]);
      });

      await step("Deno -> astropy: notify", async () => {
        const from = p.events.length;
        await d.hub("notify", astropyId, {
          "samp.mtype": "test.echo",
          "samp.params": { word: "notify-from-deno", list: ["a", "b"], nested: { k: "v" } },
          "extra.key": "extra-value",
        });
        const e = await p.next((e) => e.event === "notification", "the notification", from);
        assert.equal(e.sender, d.id);
        assert.equal(e.mtype, "test.echo");
        assert.deepEqual(e.params, {
          word: "notify-from-deno",
          list: ["a", "b"],
          nested: { k: "v" },
        });
        assert.deepEqual(e.extra, { "extra.key": "extra-value" });
      });

      await step("Deno -> astropy: call, astropy replies", async () => {
        const from = p.events.length;
        const params = { word: "call-from-deno", "": "empty key", text: "<&>\"' \t\n" };
        const msgId = await d.hub("call", astropyId, "deno-tag-1", {
          "samp.mtype": "test.echo",
          "samp.params": params,
        });
        const e = await p.next((e) => e.event === "call", "the call", from);
        assert.equal(e.sender, d.id);
        assert.equal(e.msg_id, msgId);
        assert.deepEqual(e.params, params);
        const resp = await waitFor(
          () =>
            d.received.find((r) => r.method === "receiveResponse" && r.args[1] === "deno-tag-1"),
          15000,
          "astropy's response",
        );
        assert.equal(resp.args[0], astropyId);
        assert.deepEqual(resp.args[2], {
          "samp.status": "samp.ok",
          "samp.result": { echo: params, by: "astropy" },
        });
        // And astropy's built-in samp.app.ping handler answers callAndWait.
        const ping = await d.hub("callAndWait", astropyId, {
          "samp.mtype": "samp.app.ping",
          "samp.params": {},
        }, "10") as SampMap;
        assert.equal(ping["samp.status"], "samp.ok");
      });

      await step("astropy -> Deno: ecall_and_wait with typed XML-RPC values", async () => {
        const before = d.got("receiveCall", "test.echo").length;
        // Python sends these as <int>, <double>, <boolean>; SAMP sees strings.
        // The timeout also travels as an <int>.
        const r = await p.command({
          cmd: "ecall",
          target: d.id,
          mtype: "test.echo",
          timeout: 10,
          params: { word: "ecall-from-astropy", n: 7, x: 2.5, flag: true } as unknown as SampMap,
        }, "ecall-result");
        assert.deepEqual(r.response, {
          "samp.status": "samp.ok",
          "samp.result": { word: "ecall-from-astropy", n: "7", x: "2.5", flag: "1" },
          "deno.extra": "kept",
        });
        const calls = d.got("receiveCall", "test.echo");
        assert.equal(calls.length, before + 1);
        assert.equal(calls[calls.length - 1].args[0], astropyId);
      });

      await step("astropy -> all: notify_all", async () => {
        const before = d.got("receiveNotification", "test.echo").length;
        const r = await p.command({
          cmd: "notify_all",
          mtype: "test.echo",
          params: { word: "broadcast-from-astropy" },
        }, "notify_all-result");
        assert.deepEqual(r.ids, [d.id]);
        await waitFor(
          () => d.got("receiveNotification", "test.echo").length === before + 1,
          5000,
          "the broadcast at the Deno client",
        );
        const got = d.got("receiveNotification", "test.echo")[before];
        assert.equal(got.args[0], astropyId);
        assert.deepEqual(eventParams(got), { word: "broadcast-from-astropy" });
        // A sender never receives its own broadcast.
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(
          !p.events.some((e) =>
            e.event === "notification" && e.params?.word === "broadcast-from-astropy"
          ),
          p.describe(),
        );
      });

      await step("astropy receives hub events for another client", async () => {
        const from = p.events.length;
        const other = await TestClient.register(hub.url, hub.secret);
        const otherId = other.id;
        try {
          await other.hub("declareMetadata", { "samp.name": "other", "other.k": "v" });
          await other.hub("declareSubscriptions", { "test.other": {} });
        } finally {
          await other.close();
        }
        const isFor = (mtype: string) => (e: PeerEvent) =>
          e.event === "hub-event" && e.mtype === mtype && e.params?.id === otherId;
        await p.next(isFor("samp.hub.event.unregister"), "the unregister event", from);
        const events = p.events.slice(from).filter((e) =>
          e.event === "hub-event" && e.params?.id === otherId
        );
        for (const e of events) assert.equal(e.sender, d.hubId, JSON.stringify(e));
        // Hub events reach each client in order.
        assert.deepEqual(events.map((e) => e.mtype), [
          "samp.hub.event.register",
          "samp.hub.event.metadata",
          "samp.hub.event.subscriptions",
          "samp.hub.event.unregister",
        ]);
        assert.deepEqual(events[1].params.metadata, { "samp.name": "other", "other.k": "v" });
        assert.deepEqual(events[2].params.subscriptions, { "test.other": {} });
      });

      await step("astropy disconnects cleanly; the Deno client sees it leave", async () => {
        const e = await p.command({ cmd: "disconnect" }, "disconnected");
        assert.equal(e.connected, false);
        assert.equal(await p.close(), 0, p.describe());
        await waitFor(
          () =>
            d.got("receiveNotification", "samp.hub.event.unregister").some((r) =>
              eventParams(r).id === astropyId
            ),
          5000,
          "samp.hub.event.unregister for the astropy client",
        );
        assert.deepEqual(await d.hub("getRegisteredClients"), [d.hubId]);
        assert.doesNotMatch(p.stderr, /Traceback|Error/, p.stderr);
      });
      ok = true;
    } finally {
      try {
        if (peer) await peer.close();
        if (deno) await deno.close();
        if (ok) await checkAndStopHub(hub);
      } finally {
        await hub.stop().catch(() => {});
        await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
      }
    }
  },
);

await peerTest(
  "astropy",
  "a non-callable astropy client registers, queries and notifies through samp_hub",
  async () => {
    const hub = await spawnHub(["--no-web-profile"]);
    let ok = false;
    try {
      const deno = await TestClient.register(hub.url, hub.secret);
      try {
        await deno.hub("declareSubscriptions", { "test.echo": {} });
        const code = `
import json
from astropy.samp import SAMPIntegratedClient, conf
conf.use_internet = False
c = SAMPIntegratedClient(name="astropy-nc", callable=False, addr="127.0.0.1")
c.connect()
ids = c.get_registered_clients()
hub_id = [i for i in ids if c.get_metadata(i).get("samp.name") == "Hub"]
out = {"id": c.get_public_id(), "registered": ids, "hub": hub_id, "ping": c.ping(),
       "sent": c.notify_all({"samp.mtype": "test.echo", "samp.params": {"n": 1}})}
# astropy 5.2: is_connected needs a running callback server, so disconnect()
# is a no-op for a non-callable client and it would stay registered.
# Unregister by hand when that happens.
out["is_connected"] = c.is_connected
c.disconnect()
if c.client.is_registered:
    c.client.unregister()
    c.hub.disconnect()
print(json.dumps(out))
`;
        const r = await runBounded(PYTHON, ["-c", code], {
          env: astropyEnv(hub),
          cwd: hub.dir,
          timeoutMs: 60000,
        });
        const output = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
        assert.ok(!r.timedOut, `the astropy script timed out\n${output}`);
        assert.equal(r.code, 0, output);
        const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
        assert.deepEqual([...out.registered].sort(), [deno.hubId, deno.id].sort());
        assert.deepEqual(out.hub, [deno.hubId]);
        assert.equal(out.ping, "");
        assert.deepEqual(out.sent, [deno.id]);
        await waitFor(
          () => deno.got("receiveNotification", "test.echo").length > 0,
          5000,
          "the notification from astropy",
        );
        const got = deno.got("receiveNotification", "test.echo");
        assert.equal(got.length, 1);
        assert.equal(got[0].args[0], out.id);
        assert.deepEqual(eventParams(got[0]), { n: "1" });
      } finally {
        await deno.close();
      }
      ok = true;
    } finally {
      try {
        if (ok) await checkAndStopHub(hub);
      } finally {
        await hub.stop().catch(() => {});
        await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
      }
    }
  },
);

await peerTest(
  "astropy",
  "a 200,000-row selection between two astropy clients through samp_hub: passed on as Python wrote it, every row in order, once, both ways",
  async () => {
    // Over 1 MiB, so the hub decodes it in its worker and, the call being
    // plain ASCII, passes the message on as Python's xmlrpc.client wrote it:
    // the recipient's own parser must read those bytes.
    const rows = Array.from({ length: 200_000 }, (_, i) => String(i * 7));
    const params = { "table-id": "big <&> table", "row-list": rows };
    const hub = await spawnHub(["--no-web-profile"]);
    const sender = new AstropyPeer(hub);
    const recipient = new AstropyPeer(hub);
    let ok = false;
    try {
      await sender.next((e) => e.event === "ready", "the sender to connect", 0, 30000);
      const ready = await recipient.next((e) => e.event === "ready", "the recipient", 0, 30000);
      // A notification.
      const from = recipient.events.length;
      await sender.command({ cmd: "notify_all", mtype: "test.echo", params }, "notify_all-result");
      const note = await recipient.next((e) => e.event === "notification", "the rows", from, 60000);
      assert.deepEqual(note.params, params);
      assert.equal(recipient.events.filter((e) => e.event === "notification").length, 1);
      // A call whose reply carries the rows back: a big samp.hub.reply, and
      // a big answer to callAndWait.
      const answer = await sender.command(
        { cmd: "ecall", target: ready.id, mtype: "test.echo", params, timeout: 60 },
        "ecall-result",
      );
      assert.equal(answer.response["samp.status"], "samp.ok");
      assert.deepEqual(answer.response["samp.result"], { echo: params, by: "astropy" });
      ok = true;
    } finally {
      const codes = [await sender.close(), await recipient.close()];
      try {
        if (ok) {
          assert.deepEqual(codes, [0, 0], `${sender.describe()}\n${recipient.describe()}`);
          await checkAndStopHub(hub);
        }
      } finally {
        await hub.stop().catch(() => {});
        await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
      }
    }
  },
);

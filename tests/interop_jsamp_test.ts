// Interop with JSAMP (Debian's `jsamp`): its hub conformance suite, its
// CalcStorm load test, and its MessageSender and Snooper clients, all through
// our samp_hub with a private lockfile.
//
// JSAMP finds the hub through SAMP_HUB only: Java takes the home directory
// from /etc/passwd, not $HOME, so without it JSAMP would use the real ~/.samp.

import assert from "node:assert/strict";
import { childEnv, collect, type HubProcess, spawnHub, TestClient, waitFor } from "./_helpers.ts";
import { peerTest, runBounded } from "./_peers.ts";
import type { SampMap } from "../lib/types.ts";

function lockUrl(hub: HubProcess): string {
  assert.ok(hub.lockfile.startsWith("/"), `lockfile path is not absolute: ${hub.lockfile}`);
  return `std-lockurl:file://${encodeURI(hub.lockfile)}`;
}

/** The environment of a JSAMP process: HOME moved, SAMP_HUB at the private lockfile. */
function jsampEnv(hub: HubProcess): Record<string, string> {
  return childEnv(hub.dir, { SAMP_HUB: lockUrl(hub) });
}

/** Runs a `jsamp` command to completion, bounded in time. */
async function jsamp(hub: HubProcess, args: string[], timeoutMs: number) {
  const r = await runBounded("jsamp", args, { env: jsampEnv(hub), cwd: hub.dir, timeoutMs });
  const output = `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  assert.ok(
    !r.timedOut,
    `jsamp ${args.join(" ")} did not finish within ${timeoutMs} ms\n${output}`,
  );
  return { ...r, output };
}

/**
 * Checks the hub is healthy and has no client left but itself, then stops it
 * (exit 0) and removes its directory.
 */
async function checkAndStopHub(hub: HubProcess): Promise<void> {
  const probe = await TestClient.register(hub.url, hub.secret, false);
  try {
    assert.equal(await probe.raw("samp.hub.ping", []), "");
    assert.equal(await probe.hub("ping"), "");
    let ids: string[] = [];
    await waitFor(
      async () => {
        ids = await probe.hub("getRegisteredClients") as string[];
        return ids.length === 1 && ids[0] === probe.hubId;
      },
      5000,
      "only the hub to be registered",
    ).catch(() => {});
    assert.deepEqual(ids, [probe.hubId], "clients left registered after the JSAMP run");
  } finally {
    await probe.close();
  }
  assert.equal(await hub.stop(), 0, `samp_hub did not exit 0:\n${hub.output()}`);
}

/** Runs `fn` against a fresh hub; the hub is always stopped and its directory removed. */
async function withHub(fn: (hub: HubProcess) => Promise<void>): Promise<void> {
  const hub = await spawnHub(["--no-web-profile"]);
  let ok = false;
  try {
    await fn(hub);
    ok = true;
  } finally {
    try {
      if (ok) await checkAndStopHub(hub);
    } finally {
      await hub.stop().catch(() => {});
      await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
    }
  }
}

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}

await peerTest("jsamp", "jsamp hubtester passes against samp_hub", async () => {
  await withHub(async (hub) => {
    const t0 = performance.now();
    const r = await jsamp(hub, ["hubtester"], 120000);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    assert.equal(
      r.code,
      0,
      `jsamp hubtester failed (exit ${r.code}):\n${r.output}\n--- hub log (tail)\n${
        tail(hub.output())
      }`,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /Exception|FAILED|\bat org\.astrogrid\./, r.output);
    // "SHOULD" items are only logged as warnings: show them.
    const warnings = (r.stdout + r.stderr).split("\n").filter((l) => /WARNING/.test(l));
    console.log(`jsamp hubtester: passed in ${secs} s, ${warnings.length} warning(s)`);
    if (warnings.length) console.log(r.output);
  });
});

await peerTest("jsamp", "jsamp calcstorm runs in every mode against samp_hub", async (t) => {
  await withHub(async (hub) => {
    const results: string[] = [];
    for (const mode of ["sync", "async", "notify", "random"]) {
      await t.step(mode, async () => {
        const args = ["calcstorm", "-nclient", "10", "-nquery", "100", "-mode", mode];
        const r = await jsamp(hub, args, 120000);
        assert.equal(r.code, 0, `jsamp ${args.join(" ")} failed (exit ${r.code}):\n${r.output}`);
        const m = /Elapsed time: (\d+) ms \((\d+) us per message\)/.exec(r.stdout + r.stderr);
        assert.ok(m, `no "Elapsed time" line from calcstorm -mode ${mode}:\n${r.output}`);
        results.push(`${mode}: ${m[2]} us/message (${m[1]} ms for 10 clients x 100 queries)`);
      });
    }
    console.log(`jsamp calcstorm against samp_hub:\n  ${results.join("\n  ")}`);
  });
});

await peerTest(
  "jsamp",
  "jsamp messagesender and snooper exchange messages with a Deno client through samp_hub",
  async () => {
    await withHub(async (hub) => {
      const deno = await TestClient.register(hub.url, hub.secret);
      try {
        await deno.hub("declareMetadata", { "samp.name": "deno-receiver" });
        await deno.hub("declareSubscriptions", {
          "test.ping.x": {},
          "samp.hub.event.*": {},
        });
        const senderNames: string[] = [];
        deno.onCall = async (sender, _msgId, message) => {
          const meta = await deno.hub("getMetadata", sender) as SampMap;
          senderNames.push(meta["samp.name"] as string);
          const params = message["samp.params"] as SampMap;
          return {
            "samp.status": "samp.ok",
            "samp.result": { "echo": `${params.word}:from-deno` },
          };
        };

        // JSAMP -> Deno: a synchronous call, by client id.
        const sync = await jsamp(hub, [
          "messagesender",
          "-mtype",
          "test.ping.x",
          "-param",
          "word",
          "hello-jsamp",
          "-targetid",
          deno.id,
          "-mode",
          "sync",
          "-sendername",
          "jsamp-sender",
        ], 60000);
        assert.equal(sync.code, 0, sync.output);
        const calls = deno.got("receiveCall", "test.ping.x");
        assert.equal(calls.length, 1, sync.output);
        const callMsg = calls[0].args[2] as SampMap;
        assert.deepEqual(callMsg["samp.params"], { word: "hello-jsamp" });
        assert.deepEqual(senderNames, ["jsamp-sender"]);
        // MessageSender prints the response it got back through the hub.
        assert.match(sync.stdout, /samp\.ok/, sync.output);
        assert.match(sync.stdout, /hello-jsamp:from-deno/, sync.output);

        // JSAMP -> Deno: a notification, by client name.
        const notify = await jsamp(hub, [
          "messagesender",
          "-mtype",
          "test.ping.x",
          "-param",
          "word",
          "hello-again",
          "-targetname",
          "deno-receiver",
          "-mode",
          "notify",
        ], 60000);
        assert.equal(notify.code, 0, notify.output);
        await waitFor(
          () => deno.got("receiveNotification", "test.ping.x").length === 1,
          5000,
          "the notification from jsamp messagesender",
        );
        const note = deno.got("receiveNotification", "test.ping.x")[0].args[1] as SampMap;
        assert.deepEqual(note["samp.params"], { word: "hello-again" });

        // Deno -> JSAMP: the snooper logs what it receives on stdout.
        const snooper = new Deno.Command("jsamp", {
          args: ["snooper", "-clientname", "jsamp-snooper", "-mtype", "test.*"],
          env: jsampEnv(hub),
          cwd: hub.dir,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const snoop = collect(snooper);
        let snooperId = "";
        try {
          snooperId = await waitFor(
            async () => {
              if (snoop.code !== undefined) {
                throw new Error(`jsamp snooper exited with ${snoop.code}:\n${snoop.text()}`);
              }
              for (const id of await deno.hub("getRegisteredClients") as string[]) {
                const meta = await deno.hub("getMetadata", id) as SampMap;
                if (meta["samp.name"] !== "jsamp-snooper") continue;
                const subs = await deno.hub("getSubscriptions", id) as SampMap;
                if ("test.*" in subs) return id;
              }
              return "";
            },
            30000,
            "jsamp snooper to register and subscribe",
          );

          const recipients = await deno.hub("notifyAll", {
            "samp.mtype": "test.snoop",
            "samp.params": { word: "hello-snooper" },
          });
          assert.deepEqual(recipients, [snooperId]);
          await waitFor(
            () => /test\.snoop/.test(snoop.text()) && /hello-snooper/.test(snoop.text()),
            15000,
            "jsamp snooper to print the notification",
          ).catch((e) => {
            throw new Error(`${e.message}; snooper output:\n${snoop.text()}`);
          });
          assert.match(snoop.text(), new RegExp(`${deno.id}( \\([^)]*\\))? --- notify`));

          // A call to the snooper: it answers with a warning ("logged, not acted on").
          await deno.hub("call", snooperId, "tag-snoop", {
            "samp.mtype": "test.snoop.call",
            "samp.params": {},
          });
          const resp = await waitFor(
            () => deno.received.find((r) => r.method === "receiveResponse"),
            15000,
            "the snooper's response",
          );
          assert.equal(resp.args[0], snooperId);
          assert.equal(resp.args[1], "tag-snoop");
          assert.equal((resp.args[2] as SampMap)["samp.status"], "samp.warning");
        } finally {
          // JSAMP unregisters from a shutdown hook on SIGTERM.
          try {
            snooper.kill("SIGTERM");
          } catch { /* already gone */ }
          await snoop.wait(15000);
        }
        await waitFor(
          () =>
            deno.got("receiveNotification", "samp.hub.event.unregister").some((r) =>
              ((r.args[1] as SampMap)["samp.params"] as SampMap).id === snooperId
            ),
          5000,
          "samp.hub.event.unregister for the snooper",
        );
      } finally {
        await deno.close();
      }
    });
  },
);

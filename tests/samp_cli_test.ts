// The `samp` command's subcommands, run as a person would: subprocesses
// against a real samp_hub, with stand-in receivers.

import assert from "node:assert/strict";
import { SampClient } from "../client.ts";
import { childEnv, collect, ROOT, sampRunArgs, spawnHub, waitFor } from "./_helpers.ts";
import type { HubProcess } from "./_helpers.ts";
import { SAMP_PERMISSIONS } from "../scripts/permissions.ts";
import { startAnyHub } from "./_hubs.ts";
import { peerTest } from "./_peers.ts";

function samp(hub: HubProcess | undefined, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: sampRunArgs(args),
    env: childEnv(
      hub?.dir ?? "/nonexistent",
      hub ? { SAMP_HUB: `std-lockurl:file://${hub.lockfile}` } : {},
    ),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, out: collect(child) };
}

async function run(
  hub: HubProcess | undefined,
  args: string[],
): Promise<{ code: number; text: string }> {
  const { out } = samp(hub, args);
  const code = await out.wait(30000);
  return { code, text: out.text() };
}

async function withHub(fn: (hub: HubProcess) => Promise<void>): Promise<void> {
  const hub = await spawnHub();
  try {
    await fn(hub);
  } finally {
    assert.equal(await hub.stop(), 0);
    await Deno.remove(hub.dir, { recursive: true });
  }
}

Deno.test("samp send calls a client by name and prints its reply; --json prints one object per recipient", () =>
  withHub(async (hub) => {
    await using topcat = await SampClient.connect({ lockfile: hub.lockfile, name: "topcat" });
    await topcat.on("test.echo", (m) => ({ echoed: m.params.word }));
    const text = await run(hub, ["send", "test.echo", "word=hello", "--to", "TOPCAT"]);
    assert.equal(text.code, 0, text.text);
    assert.match(text.text, new RegExp(`${topcat.id} \\(topcat\\): samp.ok`));
    assert.match(text.text, /echoed: "hello"/);
    const json = await run(hub, [
      "send",
      "test.echo",
      "--params",
      '{"word": 42}',
      "--json",
      "--mode",
      "async",
    ]);
    assert.equal(json.code, 0, json.text);
    const line = JSON.parse(json.text.trim());
    assert.equal(line.recipient, topcat.id);
    assert.deepEqual(line.response["samp.result"], { echoed: "42" });
  }));

Deno.test("samp send --mode notify reports who got it; exit codes tell refusals and bad input apart", () =>
  withHub(async (hub) => {
    // Named as the real DS9 registers; people still type "ds9".
    await using viewer = await SampClient.connect({
      lockfile: hub.lockfile,
      name: "SAOImageDS9",
    });
    const got: string[] = [];
    await viewer.on("coord.pointAt.sky", (m) => void got.push(`${m.params.ra} ${m.params.dec}`));
    await viewer.on("image.load.fits", () => {
      throw new Error("no such file");
    });
    const ok = await run(hub, [
      "send",
      "coord.pointAt.sky",
      "ra=83.6",
      "dec=-5.4",
      "--mode",
      "notify",
    ]);
    assert.equal(ok.code, 0, ok.text);
    assert.match(ok.text, /\(SAOImageDS9\): sent/);
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, ["83.6 -5.4"]);
    const error = await run(hub, [
      "send",
      "image.load.fits",
      "url=file:///nope.fits",
      "--to",
      "ds9",
    ]);
    assert.equal(error.code, 1, "an error response is a failure");
    assert.match(error.text, /samp.error[\s\S]*no such file/);
    const nobody = await run(hub, ["send", "nobody.listens"]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.text, /no client is subscribed to nobody.listens/);
    const unknown = await run(hub, ["send", "a.b", "--to", "aladin"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.text, /no client "aladin" is registered; there are: .*SAOImageDS9/);
    assert.doesNotMatch(unknown.text, /samp-send/, "the tool itself is not a choice");
    const bad = await run(hub, ["send", "a.b", "notkeyvalue"]);
    assert.equal(bad.code, 2);
    const mode = await run(hub, ["send", "a.b", "--mode", "loud"]);
    assert.equal(mode.code, 2);
    assert.match(mode.text, /--mode must be sync, async or notify/);
  }));

Deno.test("samp send --to ds9, aladin and topcat reach the tools under their real samp.names", () =>
  withHub(async (hub) => {
    const tools = await Promise.all(
      ["SAOImageDS9", "Aladin", "topcat"].map((name) =>
        SampClient.connect({ lockfile: hub.lockfile, name })
      ),
    );
    try {
      for (const tool of tools) await tool.on("test.echo", () => ({ me: tool.id }));
      for (const [to, index] of [["ds9", 0], ["aladin", 1], ["topcat", 2], ["SAO", 0]] as const) {
        const r = await run(hub, ["send", "test.echo", "--to", to, "--json"]);
        assert.equal(r.code, 0, r.text);
        const line = JSON.parse(r.text.trim());
        assert.equal(line.recipient, tools[index].id, to);
        assert.deepEqual(line.response["samp.result"], { me: tools[index].id });
      }
      // "i" is a part of SAOImageDS9 and Aladin: a usage error naming both, nothing sent.
      const ambiguous = await run(hub, ["send", "test.echo", "--to", "i"]);
      assert.equal(ambiguous.code, 2, ambiguous.text);
      assert.match(ambiguous.text, /"i" could be any of /);
      assert.ok(ambiguous.text.includes(`${tools[0].id} (SAOImageDS9)`), ambiguous.text);
      assert.ok(ambiguous.text.includes(`${tools[1].id} (Aladin)`), ambiguous.text);
      assert.doesNotMatch(ambiguous.text, /topcat/);
      const unknown = await run(hub, ["send", "test.echo", "--to", "xephem"]);
      assert.equal(unknown.code, 2, unknown.text);
      assert.match(unknown.text, /no client "xephem" is registered; there are: .*\(Aladin\)/);
    } finally {
      await Promise.all(tools.map((t) => t.close()));
    }
  }));

Deno.test("samp send: two clients with the same samp.name both get a message sent to that name", () =>
  withHub(async (hub) => {
    await using one = await SampClient.connect({ lockfile: hub.lockfile, name: "topcat" });
    await using two = await SampClient.connect({ lockfile: hub.lockfile, name: "topcat" });
    await one.on("test.echo", () => ({}));
    await two.on("test.echo", () => ({}));
    const r = await run(hub, ["send", "test.echo", "--to", "topcat", "--json"]);
    assert.equal(r.code, 0, r.text);
    const recipients = r.text.trim().split("\n").map((l) => JSON.parse(l).recipient).sort();
    assert.deepEqual(recipients, [one.id, two.id].sort());
  }));

Deno.test("samp send with a malformed MType exits 2 and says what an MType is", () =>
  withHub(async (hub) => {
    for (
      const [mtype, pattern] of [
        ["table load", /"table load" is not an MType: an MType is words of letters, digits/],
        ["a..b", /"a\.\.b" is not an MType/],
        ["table.*", /"table\.\*" is a subscription pattern, not an MType/],
      ] as const
    ) {
      for (const mode of ["sync", "notify"]) {
        const r = await run(hub, ["send", mtype, "--mode", mode]);
        assert.equal(r.code, 2, `${mtype} ${mode}: ${r.text}`);
        assert.match(r.text, pattern);
        assert.match(r.text, /like table\.load\.votable/);
      }
    }
  }));

Deno.test("samp snoop shows its own subscriptions event once, with its final subscriptions", () =>
  withHub(async (hub) => {
    for (const patterns of [["*"], ["table.*", "samp.hub.*"]]) {
      const { child, out } = samp(hub, ["snoop", ...patterns, "--json"]);
      try {
        await waitFor(() => out.text().includes("samp.hub.event.subscriptions"), 15000, "an event");
        // Let any further (duplicate) events arrive: the hub sends them right after.
        await using probe = await SampClient.connect({ lockfile: hub.lockfile, name: "probe" });
        await waitFor(() => out.text().includes(`"id":"${probe.id}"`), 15000, "the probe's events");
      } finally {
        child.kill("SIGINT");
        assert.equal(await out.wait(10000), 0, out.text());
      }
      const own = out.text().trim().split("\n").map((l) => JSON.parse(l)).filter((l) =>
        l.message["samp.mtype"] === "samp.hub.event.subscriptions" &&
        l.message["samp.params"].subscriptions["samp.app.ping"] !== undefined &&
        patterns.every((p) => p in l.message["samp.params"].subscriptions)
      );
      assert.equal(own.length, 1, `${patterns}: ${out.text()}`);
    }
  }));

Deno.test("samp commands with no hub running exit 3 and say how to start one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await run({ dir, lockfile: `${dir}/none.samp` } as HubProcess, ["clients"]);
    assert.equal(r.code, 3);
    assert.match(r.text, /no SAMP hub is running .*samp_hub/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("samp snoop prints what it receives, as JSON lines with --json", () =>
  withHub(async (hub) => {
    const { child, out } = samp(hub, ["snoop", "test.*", "--json", "--count", "2"]);
    await using sender = await SampClient.connect({ lockfile: hub.lockfile, name: "sender" });
    const snooper = await waitFor(
      () => {
        const c = sender.clients.byName("samp-snoop");
        return c && "test.*" in c.subscriptions ? c : undefined;
      },
      15000,
      "the snooper and its subscriptions",
    );
    await sender.notify(snooper.id, "test.one", { n: "1" });
    const r = await sender.call(snooper.id, "test.two", {}, { timeout: 5 });
    assert.equal(r["samp.status"], "samp.warning", JSON.stringify(r));
    assert.equal(await out.wait(15000), 0, out.text());
    // SAMP promises no order between two messages, and the hub delivers them
    // over separate connections at once: each must appear once, in any order.
    const lines = out.text().trim().split("\n").map((l) => JSON.parse(l));
    const byMtype = new Map(lines.map((l) => [l.message["samp.mtype"], l]));
    assert.equal(lines.length, 2, out.text());
    assert.deepEqual([...byMtype.keys()].sort(), ["test.one", "test.two"]);
    assert.equal(byMtype.get("test.one").name, "sender");
    assert.equal(byMtype.get("test.one").msgId, undefined);
    assert.ok(byMtype.get("test.two").msgId);
    void child;
  }));

Deno.test("samp clients lists names and subscriptions; samp monitor follows changes live", () =>
  withHub(async (hub) => {
    await using topcat = await SampClient.connect({ lockfile: hub.lockfile, name: "topcat" });
    await topcat.on("table.load.votable", () => {});
    const list = await run(hub, ["clients", "--json"]);
    assert.equal(list.code, 0, list.text);
    const clients = JSON.parse(list.text);
    const t = clients.find((c: { id: string }) => c.id === topcat.id);
    assert.equal(t.name, "topcat");
    assert.ok("table.load.votable" in t.subscriptions);
    const text = await run(hub, ["clients", "--subscriptions"]);
    assert.match(text.text, new RegExp(`${topcat.id} +topcat`));
    assert.match(text.text, / {4}table\.load\.votable/);

    const { child, out } = samp(hub, ["monitor", "--json"]);
    await waitFor(
      () => out.text().includes(`"id":"${topcat.id}"`),
      15000,
      "monitor's first listing",
    );
    const late = await SampClient.connect({ lockfile: hub.lockfile, name: "Aladin" });
    const lateId = late.id;
    await waitFor(
      () => out.text().includes(`"change":"register","id":"${lateId}"`),
      5000,
      "a register line",
    );
    await late.close();
    await waitFor(
      () => out.text().includes(`"change":"unregister","id":"${lateId}"`),
      5000,
      "an unregister line",
    );
    child.kill("SIGINT");
    assert.equal(await out.wait(10000), 0);
  }));

/** A minimal FITS file: a primary header with `cards`, padded to 2880 bytes, plus `extra`. */
function fits(cards: string[], extra = ""): Uint8Array {
  const header = [...cards, "END"].map((c) => c.padEnd(80)).join("");
  const block = (s: string) => s.padEnd(Math.ceil(s.length / 2880) * 2880 || 2880);
  return new TextEncoder().encode(block(header) + extra);
}

Deno.test("samp load picks the MType from the content: VOTable, FITS image, FITS table", () =>
  withHub(async (hub) => {
    await using tool = await SampClient.connect({ lockfile: hub.lockfile, name: "viewer" });
    const got: string[] = [];
    for (const mtype of ["table.load.votable", "image.load.fits", "table.load.fits"]) {
      await tool.on(mtype, (m) => void got.push(`${m.mtype} ${m.params.url}`));
    }
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(
        `${dir}/t.xml`,
        `<?xml version="1.0"?>\n<VOTABLE version="1.4"></VOTABLE>`,
      );
      await Deno.writeFile(
        `${dir}/img.fits`,
        fits([
          "SIMPLE  =                    T",
          "BITPIX  =                   16",
          "NAXIS   =                    2",
          "NAXIS1  =                   10",
          "NAXIS2  =                   10",
        ]),
      );
      await Deno.writeFile(
        `${dir}/tab.fits`,
        fits([
          "SIMPLE  =                    T",
          "BITPIX  =                    8",
          "NAXIS   =                    0",
          "EXTEND  =                    T",
        ], ["XTENSION= 'BINTABLE'", "END"].map((c) => c.padEnd(80)).join("")),
      );
      await Deno.writeTextFile(`${dir}/notes.txt`, "just text");
      for (const f of ["t.xml", "img.fits", "tab.fits"]) {
        const r = await run(hub, ["load", `${dir}/${f}`, "--to", "viewer"]);
        assert.equal(r.code, 0, r.text);
        assert.match(r.text, /\(viewer\): loaded/);
      }
      assert.deepEqual(got.map((g) => g.split(" ")[0]), [
        "table.load.votable",
        "image.load.fits",
        "table.load.fits",
      ]);
      assert.match(got[0], /^table\.load\.votable file:\/\/localhost\/.*t\.xml$/);
      const text = await run(hub, ["load", `${dir}/notes.txt`]);
      assert.equal(text.code, 2);
      assert.match(text.text, /neither a VOTable nor a FITS file/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("samp --help lists the commands and every command has --help", async () => {
  const top = await run(undefined, ["--help"]);
  assert.equal(top.code, 0);
  for (const c of ["send", "snoop", "clients", "monitor", "load"]) {
    assert.match(top.text, new RegExp(`^  ${c}`, "m"));
    const h = await run(undefined, [c, "--help"]);
    assert.equal(h.code, 0, c);
    assert.match(h.text, new RegExp(`^samp ${c}:`));
  }
  const unknown = await run(undefined, ["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.text, /unknown command "frobnicate"/);
});

Deno.test("deno.json's samp task runs the tool with exactly SAMP_PERMISSIONS", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const words = (config.tasks.samp as string).split(/\s+/);
  assert.deepEqual(words.filter((w) => w.startsWith("--allow")), [...SAMP_PERMISSIONS]);
  // Tasks run in the checkout: -C takes the tool back to the user's folder.
  assert.deepEqual(words.slice(-3), ["lib/tools/main.ts", "-C", '"$INIT_CWD"']);
});

await peerTest("jsamp", "samp send and samp snoop work through JSAMP's hub", async () => {
  const jsamp = await startAnyHub("jsamp");
  try {
    const hub = { dir: jsamp.dir, lockfile: jsamp.lockfile } as HubProcess;
    await using topcat = await SampClient.connect({ lockfile: jsamp.lockfile, name: "topcat" });
    await topcat.on("test.echo", (m) => ({ echoed: m.params.word }));
    const sent = await run(hub, ["send", "test.echo", "word=via-jsamp", "--to", "topcat"]);
    assert.equal(sent.code, 0, sent.text);
    assert.match(sent.text, /\(topcat\): samp.ok[\s\S]*echoed: "via-jsamp"/);

    const { out } = samp(hub, ["snoop", "test.*", "--json", "--count", "1"]);
    const snooper = await waitFor(
      () => {
        const c = topcat.clients.byName("samp-snoop");
        return c && "test.*" in c.subscriptions ? c : undefined;
      },
      15000,
      "the snooper and its subscriptions",
    );
    await topcat.notify(snooper.id, "test.hello", { n: "1" });
    assert.equal(await out.wait(15000), 0, out.text());
    const line = JSON.parse(out.text().trim());
    assert.equal(line.message["samp.mtype"], "test.hello");
    assert.equal(line.name, "topcat");
  } finally {
    await jsamp.stop();
  }
});

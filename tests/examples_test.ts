// The three runnable examples in examples/, each run as a subprocess
// (`deno run -A --config deno.json examples/X.ts …`) against each of the three
// hubs (ours, JSAMP's, astropy's), with SampClients standing in for the
// applications they talk to, named as the real tools register: "topcat"
// (table.load.votable), "SAOImageDS9" (image.load.fits, coord.pointAt.sky;
// the examples find it as "ds9") and a "highlighter" that sends
// table.highlight.row to watch_highlight.ts.
//
// Each example runs with HOME=<private dir>, TMPDIR=<private dir> and
// SAMP_HUB at the hub's private lockfile (see tests/_hubs.ts).

import assert from "node:assert/strict";
import { SampClient } from "../client.ts";
import type { IncomingMessage } from "../client.ts";
import { parseXml } from "../lib/_sax.ts";
import { collect, ROOT, waitFor } from "./_helpers.ts";
import { type AnyHub, HUB_PEER, type HubKind, startAnyHub } from "./_hubs.ts";
import { peerTest, runBounded } from "./_peers.ts";

const LABEL: Record<HubKind, string> = {
  ours: "our samp_hub",
  jsamp: "JSAMP's hub",
  astropy: "astropy's hub",
};

function exampleArgs(script: string, args: string[]): string[] {
  return [
    "run",
    "-A",
    "--quiet",
    `--config=${ROOT}deno.json`,
    `${ROOT}examples/${script}`,
    ...args,
  ];
}

/** Runs an example to completion in the hub's private dir, bounded in time. */
async function runExample(hub: AnyHub, script: string, args: string[], timeoutMs = 60000) {
  const r = await runBounded(Deno.execPath(), exampleArgs(script, args), {
    env: hub.env(),
    cwd: hub.dir,
    timeoutMs,
  });
  const output = `${script} ${args.join(" ")} (exit ${r.code})\n--- stdout\n${r.stdout}\n` +
    `--- stderr\n${r.stderr}`;
  assert.ok(!r.timedOut, `did not finish within ${timeoutMs} ms: ${output}`);
  return { ...r, output };
}

/** The local path of a `file://localhost/…` URL. */
function pathOf(url: string): string {
  assert.ok(url.startsWith("file://localhost/"), `not a file://localhost/ URL: ${url}`);
  // The WHATWG URL parser drops "localhost" from file: URLs; the path stays.
  return decodeURIComponent(new URL(url).pathname);
}

/** Parses a VOTable and returns its field names and rows (throws if it is not one). */
function readVotable(text: string): { fields: string[]; rows: string[][] } {
  let fieldCount = 0;
  const rows: string[][] = [];
  let cell: string | undefined;
  parseXml(text, {
    onOpen(name) {
      if (name === "TR") rows.push([]);
      if (name === "TD") cell = "";
      if (name === "FIELD") fieldCount++;
    },
    onClose(name) {
      if (name === "TD") {
        rows[rows.length - 1].push(cell!);
        cell = undefined;
      }
    },
    onText(t) {
      if (cell !== undefined) cell += t;
    },
  });
  assert.match(text, /^<\?xml[^>]*\?>\s*<VOTABLE\b/, "the file does not start with a VOTABLE");
  // parseXml does not report attributes: take the FIELD names from the text.
  const names = [...text.matchAll(/<FIELD\s+name="([^"]*)"/g)].map((m) => m[1]);
  assert.equal(names.length, fieldCount);
  return { fields: names, rows };
}

/** A minimal FITS file: one empty primary HDU (a 2880-byte header). */
function minimalFits(): Uint8Array {
  const card = (s: string) => s.padEnd(80, " ");
  const header = [
    card("SIMPLE  =                    T / conforms to FITS standard"),
    card("BITPIX  =                    8"),
    card("NAXIS   =                    0"),
    card("END"),
  ].join("").padEnd(2880, " ");
  return new TextEncoder().encode(header);
}

async function scenarios(t: Deno.TestContext, kind: HubKind): Promise<void> {
  const hub = await startAnyHub(kind);
  const open: SampClient[] = [];
  const connect = async (name: string) => {
    const c = await SampClient.connect({ lockfile: hub.lockfile, name });
    open.push(c);
    return c;
  };
  try {
    await t.step(
      "send_votable.ts with no TOPCAT registered exits 1 naming the missing client",
      async () => {
        const r = await runExample(hub, "send_votable.ts", []);
        assert.equal(r.code, 1, r.output);
        assert.match(r.stderr, /no client "topcat" is registered; there are: /, r.output);
        assert.doesNotMatch(r.stderr, /send-votable/, "the example itself is not a choice");
        assert.doesNotMatch(r.stderr, /Uncaught|error:/, r.output);
      },
    );

    const tables: IncomingMessage<"table.load.votable">[] = [];
    const tableTexts: string[] = [];
    const topcat = await connect("topcat");
    await topcat.on("table.load.votable", async (m) => {
      // Read the table while the sender waits for the reply: a failure here
      // becomes an error response, and the example says so.
      tableTexts.push(await Deno.readTextFile(pathOf(m.params.url)));
      tables.push(m);
      return {};
    });

    await t.step(
      "send_votable.ts sends its demo table to TOPCAT as a file://localhost URL of a readable VOTable",
      async () => {
        const r = await runExample(hub, "send_votable.ts", []);
        assert.equal(r.code, 0, r.output);
        assert.equal(tables.length, 1, r.output);
        const { params, senderName } = tables[0];
        assert.equal(senderName, "send-votable");
        assert.match(params.url, /^file:\/\/localhost\/.+\.vot$/);
        const path = pathOf(params.url);
        assert.ok(path.startsWith(`${hub.dir}/sampkit-demo-`), `not in TMPDIR: ${path}`);
        assert.equal(params.name, path.split("/").pop());
        assert.ok(r.stdout.includes(`wrote a demo table to ${path}`), r.output);
        assert.ok(r.stdout.includes(`topcat loaded ${params.url}`), r.output);
        const { fields, rows } = readVotable(tableTexts[0]);
        assert.deepEqual(fields, ["name", "ra", "dec", "vmag"]);
        assert.deepEqual(rows.map((row) => row[0]), ["M31", "M33", "M81"]);
        assert.ok(rows.every((row) => row.length === 4), JSON.stringify(rows));
        // The file is still there for TOPCAT to read again.
        assert.equal(await Deno.readTextFile(path), tableTexts[0]);
      },
    );

    await t.step(
      "send_votable.ts FILE --name sends a percent-encoded URL of that file",
      async () => {
        const text = tableTexts[0] ?? `<?xml version="1.0"?>\n<VOTABLE version="1.4"/>\n`;
        await Deno.writeTextFile(`${hub.dir}/my table #1.vot`, text);
        const before = tables.length;
        const r = await runExample(hub, "send_votable.ts", [
          "my table #1.vot",
          "--name",
          "My table",
        ]);
        assert.equal(r.code, 0, r.output);
        assert.equal(tables.length, before + 1, r.output);
        const { params } = tables[before];
        assert.equal(params.url, `file://localhost${encodeURI(hub.dir)}/my%20table%20%231.vot`);
        assert.equal(pathOf(params.url), `${hub.dir}/my table #1.vot`);
        assert.equal(params.name, "My table");
        assert.equal(tableTexts[before], text);
      },
    );

    await t.step(
      "ds9_image.ts with no DS9 registered exits 1 naming who is there, not taking itself for DS9",
      async () => {
        // The example registers as "ds9-image": "ds9" must not find it.
        await Deno.writeFile(`${hub.dir}/m31.fits`, minimalFits());
        const r = await runExample(hub, "ds9_image.ts", ["m31.fits", "10.6847", "41.269"]);
        assert.equal(r.code, 1, r.output);
        assert.match(r.stderr, /no client "ds9" is registered; there are: .*\(topcat\)/, r.output);
        assert.doesNotMatch(r.stderr, /ds9-image|Uncaught|error:/, r.output);
      },
    );

    const ds9Got: IncomingMessage[] = [];
    const ds9 = await connect("SAOImageDS9");
    await ds9.on("image.load.fits", async (m) => {
      const bytes = await Deno.readFile(pathOf(m.params.url));
      ds9Got.push(m);
      if (!new TextDecoder().decode(bytes.subarray(0, 30)).startsWith("SIMPLE  =")) {
        throw new Error(`${m.params.url} is not a FITS file`);
      }
      return {};
    });
    await ds9.on("coord.pointAt.sky", (m) => {
      ds9Got.push(m);
      return {};
    });

    await t.step(
      "ds9_image.ts loads the image into DS9, then points it at the RA and Dec given",
      async () => {
        await Deno.writeFile(`${hub.dir}/m31.fits`, minimalFits());
        const r = await runExample(hub, "ds9_image.ts", ["m31.fits", "10.6847", "41.269"]);
        assert.equal(r.code, 0, r.output);
        assert.deepEqual(ds9Got.map((m) => m.mtype), ["image.load.fits", "coord.pointAt.sky"]);
        const [load, point] = ds9Got;
        assert.equal(load.params.url, `file://localhost${encodeURI(hub.dir)}/m31.fits`);
        assert.equal(load.params.name, "m31.fits");
        assert.deepEqual(point.params, { ra: "10.6847", dec: "41.269" });
        assert.equal(load.senderName, "ds9-image");
        assert.ok(r.stdout.includes(`SAOImageDS9 loaded ${load.params.url}`), r.output);
        assert.ok(r.stdout.includes("SAOImageDS9 is centred on RA 10.6847, Dec 41.269"), r.output);
      },
    );

    await t.step(
      "ds9_image.ts exits 2 with a usage message on bad arguments or an unknown option",
      async () => {
        const cases: [string[], RegExp][] = [
          [[], /^usage: ds9_image\.ts IMAGE\.fits RA DEC/],
          [["m31.fits", "ten", "41"], /RA and DEC must be numbers of degrees.*not ten 41/],
          [["m31.fits", "10", "95"], /DEC within ±90/],
          [["m31.fits", "10", "20", "--frobnicate"], /unknown option --frobnicate/],
        ];
        const before = ds9Got.length;
        const runs = await Promise.all(
          cases.map(([args]) => runExample(hub, "ds9_image.ts", args)),
        );
        for (const [i, r] of runs.entries()) {
          assert.equal(r.code, 2, r.output);
          assert.match(r.stderr, cases[i][1], r.output);
        }
        assert.equal(ds9Got.length, before, "a bad invocation still sent something to ds9");
      },
    );

    await t.step(
      "watch_highlight.ts --count 1 prints the highlighted row and exits 0",
      async () => {
        const highlighter = await connect("highlighter");
        const child = new Deno.Command(Deno.execPath(), {
          args: exampleArgs("watch_highlight.ts", ["--count", "1"]),
          env: hub.env(),
          cwd: hub.dir,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const out = collect(child);
        try {
          const watcher = await waitFor(
            () => {
              if (out.code !== undefined) {
                throw new Error(`watch_highlight.ts exited with ${out.code}:\n${out.text()}`);
              }
              const c = highlighter.clients.byName("row-watcher");
              return c && "table.highlight.row" in c.subscriptions ? c : undefined;
            },
            30000,
            "row-watcher to register and subscribe to table.highlight.row",
          );
          await highlighter.notify(watcher.id, "table.highlight.row", {
            "table-id": "galaxies-1",
            url: "file://localhost/data/galaxies.vot",
            row: "7",
          });
          const code = await out.wait(30000);
          assert.equal(code, 0, out.text());
          assert.match(out.text(), new RegExp(`watching for table\\.highlight\\.row as \\S+`));
          assert.ok(
            out.text().includes("highlighter highlighted row 7 of galaxies-1"),
            out.text(),
          );
          // It unregistered on the way out.
          await waitFor(
            () => !highlighter.clients.get(watcher.id),
            10000,
            "row-watcher to leave the hub",
          );
        } finally {
          if (out.code === undefined) {
            try {
              child.kill("SIGTERM");
            } catch { /* already gone */ }
          }
          await out.wait(15000).catch(() => {});
        }
      },
    );
  } finally {
    for (const c of open) await c.close().catch(() => {});
    await hub.stop();
  }
}

for (const kind of ["ours", "jsamp", "astropy"] as const) {
  const name = `the examples send tables, images and positions to stand-in TOPCAT and DS9, ` +
    `and print highlighted rows, through ${LABEL[kind]}`;
  const peer = HUB_PEER[kind];
  if (peer === undefined) Deno.test(name, (t) => scenarios(t, kind));
  else await peerTest(peer, name, (t) => scenarios(t, kind));
}

Deno.test("ds9_image.ts takes a negative Dec (a southern target) as a position, not an option", async () => {
  const hub = await startAnyHub("ours");
  const ds9 = await SampClient.connect({ lockfile: hub.lockfile, name: "SAOImageDS9" });
  try {
    const points: IncomingMessage<"coord.pointAt.sky">[] = [];
    await ds9.on("image.load.fits", () => ({}));
    await ds9.on("coord.pointAt.sky", (m) => {
      points.push(m);
      return {};
    });
    await Deno.writeFile(`${hub.dir}/orion.fits`, minimalFits());
    // As the usage line shows it: IMAGE.fits RA DEC.
    const r = await runExample(hub, "ds9_image.ts", ["orion.fits", "83.822", "-5.391"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(points.length, 1, r.output);
    assert.deepEqual(points[0].params, { ra: "83.822", dec: "-5.391" });
    assert.ok(r.stdout.includes("SAOImageDS9 is centred on RA 83.822, Dec -5.391"), r.output);
  } finally {
    await ds9.close();
    await hub.stop();
  }
});

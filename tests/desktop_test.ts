// The real TOPCAT, SAOImage DS9 and Aladin (Debian packages, under Xvfb;
// see tests/_desktop.ts) driven through our hub by the installed `samp`
// command and the examples, as a user runs them: from a data folder outside
// the checkout, files by relative path, tools by their everyday names (ds9,
// aladin, topcat). The tools start once for the whole file; each scenario is
// a step, and the last step reads the hub's log: no delivery to a real tool
// may have failed during any of them.
//
// Ignored when the tools are missing, failed then with SAMP_REQUIRE_PEERS=1.

import assert from "node:assert/strict";
import { ROOT, sampRunArgs } from "./_helpers.ts";
import { installCommands } from "./_install.ts";
import { runBounded } from "./_peers.ts";
import {
  type Desktop,
  desktopTest,
  type DesktopToolName,
  type HubCommand,
  hubFromSource,
  SAMP_NAMES,
  spawnGroup,
  startDesktop,
  tail,
  waitForClient,
} from "./_desktop.ts";
import { fitsImage, votable } from "./_desktop_files.ts";
import { readmeBlocks, userProject } from "./_readme.ts";

/** How this file runs `samp` and `samp_hub`. */
interface Commands extends AsyncDisposable {
  /** `samp`: a program and the arguments before the user's. */
  samp: { command: string; args: string[] };
  hub: HubCommand;
  /** Extra environment they need (PATH to `deno`, for the installed ones). */
  env: Record<string, string>;
}

/** The commands as the README installs them (`deno install -g`, into a temp root). */
async function installed(): Promise<Commands> {
  const i = await installCommands();
  return {
    samp: { command: i.samp, args: [] },
    hub: { command: i.sampHub, args: [] },
    env: { PATH: i.env.PATH },
    [Symbol.asyncDispose]: () => i[Symbol.asyncDispose](),
  };
}

/** The commands run from this checkout's sources (`deno run` with their permissions). */
function _fromSource(): Commands {
  return {
    samp: { command: Deno.execPath(), args: sampRunArgs([]) },
    hub: hubFromSource(),
    env: {},
    [Symbol.asyncDispose]: async () => {},
  };
}

// The one line that chooses: `installed()` (as users get them) or `_fromSource()`.
const commands = (): Promise<Commands> => installed();

/** SAMP_DESKTOP_TRACE=1 prints every command and its output. */
const TRACE = Deno.env.get("SAMP_DESKTOP_TRACE") === "1";

const ALL: DesktopToolName[] = ["ds9", "aladin", "topcat"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** The command line and its output, for assertion messages. */
  text: string;
}

/** Runs a program in the data folder with the desktop's user environment, bounded in time. */
async function run(
  desk: Desktop,
  extraEnv: Record<string, string>,
  command: string,
  args: string[],
  label: string,
  timeoutMs = 120_000,
): Promise<Run> {
  const r = await runBounded(command, args, {
    env: desk.env(extraEnv),
    cwd: desk.data,
    timeoutMs,
  });
  const text = `$ ${label} (exit ${r.code}${r.timedOut ? ", timed out" : ""})\n` +
    `--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
  assert.ok(!r.timedOut, `did not finish within ${timeoutMs} ms:\n${text}`);
  if (TRACE) console.log(text);
  return { ...r, text };
}

/** `samp send … --json`: the response of each recipient, by samp.name. */
function responses(r: Run): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const line of r.stdout.split("\n").filter((l) => l.startsWith("{"))) {
    const o = JSON.parse(line);
    assert.ok(o.response, `no response from ${o.name ?? o.recipient}:\n${r.text}`);
    out.set(o.name, o.response);
  }
  return out;
}

/** The samp.result of the only recipient's samp.ok response, which must be from `sampName`. */
function okResult(r: Run, sampName: string): Record<string, unknown> {
  assert.equal(r.code, 0, r.text);
  const all = responses(r);
  assert.deepEqual([...all.keys()], [sampName], r.text);
  const response = all.get(sampName)!;
  assert.equal(response["samp.status"], "samp.ok", r.text);
  return (response["samp.result"] ?? {}) as Record<string, unknown>;
}

/** DS9's pan position in FK5 degrees, read with `ds9.get` (as a user would). */
async function ds9Pan(desk: Desktop, samp: (args: string[]) => Promise<Run>): Promise<number[]> {
  const r = await samp(["send", "ds9.get", "cmd=pan wcs fk5 degrees", "--to", "ds9", "--json"]);
  const value = okResult(r, SAMP_NAMES.ds9).value;
  assert.equal(typeof value, "string", r.text);
  const numbers = (value as string).trim().split(/\s+/).map(Number);
  assert.equal(numbers.length, 2, `not "RA DEC": ${value}\n${desk.diagnostics()}`);
  return numbers;
}

function assertNear(actual: number[], expected: number[], what: string): void {
  // 1e-4 deg = 0.36 arcsec, a tenth of a pixel of the test image.
  const near = actual.every((v, i) => Math.abs(v - expected[i]) < 1e-4);
  assert.ok(near, `${what}: ${actual.join(" ")} is not ${expected.join(" ")}`);
}

await desktopTest(
  "the installed samp command and the examples drive the real DS9, Aladin and TOPCAT by their everyday names, and the hub delivers every callback to them",
  ALL,
  async (t) => {
    const fileStart = performance.now();
    await using cmds = await commands();
    const installMs = performance.now() - fileStart;
    await using desk = await startDesktop(ALL, { hub: cmds.hub, extraEnv: cmds.env });
    const tools = desk.tools as Record<DesktopToolName, NonNullable<Desktop["tools"]["ds9"]>>;
    console.log(
      `commands ready in ${
        (installMs / 1000).toFixed(1)
      } s; tools registered: ${desk.startTimes()}`,
    );
    const samp = (args: string[], timeoutMs?: number) =>
      run(
        desk,
        cmds.env,
        cmds.samp.command,
        [...cmds.samp.args, ...args],
        `samp ${args.join(" ")}`,
        timeoutMs,
      );
    await Deno.writeFile(`${desk.data}/img.fits`, fitsImage({ ra: 83.633, dec: 22.0145 }));
    await Deno.writeTextFile(`${desk.data}/tbl.vot`, votable());

    await t.step("samp send samp.app.ping --to ds9 | aladin | topcat: each answers", async () => {
      for (const name of ALL) {
        const r = await samp(["send", "samp.app.ping", "--to", name, "--json"]);
        okResult(r, SAMP_NAMES[name]);
      }
    });

    await t.step(
      "samp load img.fits (relative path) shows the image in DS9 and in Aladin",
      async () => {
        // No --to: every image viewer, as the README says (TOPCAT loads no images).
        const r = await samp(["load", "img.fits", "--timeout", "30"]);
        const lines = r.stdout.trim().split("\n").sort();
        const expected = (name: DesktopToolName) =>
          `${tools[name].id} (${SAMP_NAMES[name]}): loaded img.fits (image.load.fits)`;
        assert.deepEqual(
          lines,
          [expected("ds9"), expected("aladin")].sort(),
          `${r.text}\n${desk.diagnostics()}`,
        );
        assert.equal(r.code, 0, r.text);

        const file = await samp(["send", "ds9.get", "cmd=file", "--to", "ds9", "--json"]);
        assert.equal(okResult(file, SAMP_NAMES.ds9).value, `${desk.data}/img.fits`, file.text);

        const status = await samp([
          "send",
          "script.aladin.send",
          "script=status",
          "--to",
          "aladin",
          "--json",
        ]);
        const planes = okResult(status, SAMP_NAMES.aladin)["script.result"];
        assert.ok(
          typeof planes === "string" && planes.includes(`${desk.data}/img.fits`),
          `Aladin shows no plane from ${desk.data}/img.fits:\n${status.text}`,
        );
      },
    );

    await t.step("samp load tbl.vot --to topcat: TOPCAT loads the table and says so", async () => {
      const r = await samp(["load", "tbl.vot", "--to", "topcat"]);
      assert.equal(r.code, 0, r.text);
      assert.match(
        r.stdout,
        new RegExp(`^${tools.topcat.id} .*loaded tbl\\.vot \\(table\\.load\\.votable\\)`, "m"),
        r.text,
      );
    });

    await t.step("coord.pointAt.sky to ds9 pans DS9 there, as ds9.get pan reads back", async () => {
      const target = [83.6335, 22.015];
      const r = await samp([
        "send",
        "coord.pointAt.sky",
        `ra=${target[0]}`,
        `dec=${target[1]}`,
        "--to",
        "ds9",
        "--json",
      ]);
      okResult(r, SAMP_NAMES.ds9);
      assertNear(await ds9Pan(desk, samp), target, "DS9's pan after coord.pointAt.sky");
    });

    await t.step(
      "samp snoop receives the image DS9 sends when told to (ds9.set samp send image)",
      async () => {
        // A receiving script: `samp snoop`, run in the background as a user would.
        const name = "deskviewer"; // DS9 matches the lower-cased samp.name
        const snoop = spawnGroup(
          cmds.samp.command,
          [...cmds.samp.args, "snoop", "image.load.fits", "--count", "1", "--json", "--name", name],
          { env: desk.env(cmds.env), cwd: desk.data },
        );
        try {
          await waitForClient(desk.hub, name, {
            mtype: "image.load.fits",
            exited: () => snoop.code !== undefined,
          }).catch((e) => {
            throw new Error(`${(e as Error).message}\n--- samp snoop:\n${snoop.output()}`);
          });
          // DS9 finds "deskviewer" in its list of image viewers, which it
          // refreshes from the hub 1 s after each register event (SAMPUpdate,
          // samp.tcl); told earlier, it silently sends nothing.
          await new Promise((r) => setTimeout(r, 2500));
          const r = await samp([
            "send",
            "ds9.set",
            `cmd=samp send image ${name}`,
            "--to",
            "ds9",
            "--json",
          ]);
          okResult(r, SAMP_NAMES.ds9);
          const end = Date.now() + 60_000;
          while (snoop.code === undefined && Date.now() < end) {
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.equal(
            snoop.code,
            0,
            `samp snoop --count 1 did not end with 0:\n${snoop.output()}`,
          );
          const line = snoop.stdout().split("\n").find((l) => l.startsWith("{"));
          assert.ok(line, `samp snoop printed nothing:\n${snoop.output()}`);
          const got = JSON.parse(line);
          assert.equal(got.name, SAMP_NAMES.ds9, line);
          assert.equal(got.message["samp.mtype"], "image.load.fits", line);
          const url = got.message["samp.params"].url as string;
          // DS9 sends file://localhost//tmp/… (two slashes) for a copy in its TMPDIR.
          const path = decodeURIComponent(new URL(url).pathname).replace(/^\/+/, "/");
          assert.ok(path.startsWith(`${tools.ds9.home}/`), `not in DS9's TMPDIR: ${url}`);
          const head = new TextDecoder().decode((await Deno.readFile(path)).subarray(0, 2880));
          assert.match(head, /^SIMPLE {2}= +T/, `${url} is not a FITS file`);
          assert.match(head, /NAXIS1 {2}= +16 /, `${url} is not the 16x16 image DS9 shows`);
        } finally {
          await snoop.stop();
        }
      },
    );

    await t.step(
      "examples/ds9_image.ts with its defaults shows the image in DS9 and centres it",
      async () => {
        const target = [83.6325, 22.014];
        const script = `${ROOT}examples/ds9_image.ts`;
        // The README's command line, run from the data folder.
        const r = await run(
          desk,
          cmds.env,
          Deno.execPath(),
          ["run", "-A", script, "img.fits", String(target[0]), String(target[1])],
          `deno run -A examples/ds9_image.ts img.fits ${target.join(" ")}`,
        );
        assert.equal(r.code, 0, r.text);
        assert.match(r.stdout, /SAOImageDS9 loaded file:/, r.text);
        assert.match(r.stdout, /SAOImageDS9 is centred/, r.text);
        assertNear(await ds9Pan(desk, samp), target, "DS9's pan after ds9_image.ts");
      },
    );

    await t.step(
      "examples/send_votable.ts with its defaults sends its demo table to TOPCAT",
      async () => {
        const r = await run(
          desk,
          cmds.env,
          Deno.execPath(),
          ["run", "-A", `${ROOT}examples/send_votable.ts`],
          "deno run -A examples/send_votable.ts",
        );
        assert.equal(r.code, 0, r.text);
        assert.match(r.stdout, /^topcat loaded file:/m, r.text);
      },
    );

    await t.step(
      "a script of the user's own importing @sampkit/samp (the README's) sends rows and an image from memory to topcat and ds9",
      async () => {
        const block = (await readmeBlocks()).find((b) => b.code.includes("client.sendTable("));
        assert.ok(block, "the README shows sendTable");
        const project = await userProject();
        try {
          await Deno.writeTextFile(`${project}/send_memory.ts`, block.code);
          const r = await runBounded(
            Deno.execPath(),
            ["run", "--allow-net", "--allow-read", "--allow-env", "send_memory.ts"],
            { env: desk.env(cmds.env), cwd: project, timeoutMs: 120_000 },
          );
          const text = `README.md:${block.line} (exit ${r.code})\n${r.stdout}${r.stderr}`;
          assert.equal(r.code, 0, `${text}\n${desk.diagnostics()}`);
          // TOPCAT fetched the table from the script's own server.
          assert.match(
            r.stdout,
            /^TOPCAT fetched http:\/\/127\.0\.0\.1:\d+\/\S+ [1-9]\d* time/m,
            text,
          );
        } finally {
          await Deno.remove(project, { recursive: true });
        }
        const size = await samp(["send", "ds9.get", "cmd=fits size", "--to", "ds9", "--json"]);
        assert.equal(String(okResult(size, SAMP_NAMES.ds9).value).trim(), "8 8", size.text);
      },
    );

    await t.step("the hub's log shows no failed delivery to DS9, Aladin or TOPCAT", () => {
      if (TRACE) console.log(`--- hub log:\n${desk.hub.log()}`);
      const failed = desk.failedDeliveries();
      assert.deepEqual(
        failed,
        [],
        `${failed.length} failed deliveries to real tools:\n${tail(failed.join("\n"), 4000)}`,
      );
    });
    console.log(
      `desktop scenarios done in ${((performance.now() - fileStart) / 1000).toFixed(1)} s`,
    );
  },
);

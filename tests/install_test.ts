// sampkit as users get it: the README's install lines (with JSR swapped for
// this checkout), the installed `samp_hub` and `samp` run from a folder
// outside the checkout with files given by relative path, `deno task samp`
// run from another folder, and a script of the user's own importing the
// package.

import assert from "node:assert/strict";
import { HUB_PERMISSIONS, HUB_RUNTIME_FLAGS, SAMP_PERMISSIONS } from "../scripts/permissions.ts";
import { VERSION } from "../lib/version.ts";
import { SampClient } from "../client.ts";
import { childEnv, collect, ROOT, waitFor } from "./_helpers.ts";
import {
  installCommands,
  localEntry,
  packageInfo,
  readmeInstallLines,
  readmeLines,
  runInstalled,
} from "./_install.ts";

const sorted = (list: readonly string[]) => [...list].sort();

Deno.test("the README's install lines give each command exactly the flags of scripts/permissions.ts and name exports of deno.json", async () => {
  const lines = await readmeInstallLines();
  assert.deepEqual(lines.map((l) => l.name), ["samp_hub", "samp"]);
  const [hub, samp] = lines;
  assert.deepEqual(sorted(hub.flags), sorted([...HUB_RUNTIME_FLAGS, ...HUB_PERMISSIONS]));
  assert.deepEqual(sorted(samp.flags), sorted(SAMP_PERMISSIONS));
  const { name } = await packageInfo();
  assert.equal(hub.specifier, `jsr:${name}/hub`);
  assert.equal(samp.specifier, `jsr:${name}/samp`);
  assert.equal(await localEntry(hub.specifier), `${ROOT}hub.ts`);
  assert.equal(await localEntry(samp.specifier), `${ROOT}lib/tools/main.ts`);
  assert.deepEqual(await readmeLines("deno add "), [`deno add jsr:${name}`]);
});

Deno.test("installed samp_hub and samp work from a folder outside the checkout, with relative paths", async () => {
  await using installed = await installCommands();
  const data = await Deno.makeTempDir({ prefix: "samp-userdata-" });
  try {
    for (const [command, name] of [[installed.sampHub, "samp_hub"], [installed.samp, "samp"]]) {
      const v = await runInstalled(command, ["--version"], { cwd: data, env: installed.env });
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.trim(), `${name} ${VERSION}`);
    }
    // The hub, started as a user would, with a lockfile named relative to
    // the folder they are in.
    const hub = new Deno.Command(installed.sampHub, {
      args: ["--lockfile", "my.samp", "--no-web-profile", "--no-page"],
      cwd: data,
      env: installed.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const hubOut = collect(hub);
    try {
      await waitFor(() => /^lockfile: /m.test(hubOut.text()), 60_000, "the installed hub's start");
      assert.doesNotMatch(hubOut.text(), /Failed to resolve|allow-run|Warning/);
      const lockfile = `${data}/my.samp`;
      await using viewer = await SampClient.connect({ lockfile, name: "topcat" });
      const loaded = Promise.withResolvers<string>();
      await viewer.on("table.load.votable", (m) => {
        loaded.resolve(String(m.params.url));
        return {};
      });
      await Deno.mkdir(`${data}/tables`);
      await Deno.writeTextFile(
        `${data}/tables/gal.vot`,
        '<?xml version="1.0"?>\n<VOTABLE version="1.4"><RESOURCE/></VOTABLE>\n',
      );
      const env = { ...installed.env, SAMP_HUB: `std-lockurl:file://${lockfile}` };
      const load = await runInstalled(installed.samp, ["load", "tables/gal.vot"], {
        cwd: data,
        env,
      });
      assert.equal(load.code, 0, load.stderr);
      assert.equal(await loaded.promise, `file://localhost${data}/tables/gal.vot`);
      // --lockfile given relative to the user's folder too.
      const clients = await runInstalled(installed.samp, ["clients", "--lockfile", "my.samp"], {
        cwd: data,
        env: installed.env,
      });
      assert.equal(clients.code, 0, clients.stderr);
      assert.match(clients.stdout, /topcat/);
    } finally {
      hub.kill("SIGTERM");
      assert.equal(await hubOut.wait(15_000), 0, hubOut.text());
    }
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("deno task samp run from another folder reads relative paths from that folder", async () => {
  const data = await Deno.makeTempDir({ prefix: "samp-userdata-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", `--config=${ROOT}deno.json`, "samp", "load", "missing.vot"],
      cwd: data,
      // A user's shell: no INIT_CWD of an outer `deno task test`, which
      // deno task would keep (as npm does) instead of setting its own.
      clearEnv: true,
      env: childEnv(data, {
        PATH: Deno.env.get("PATH") ?? "",
        SAMP_HUB: `std-lockurl:file://${data}/none.samp`,
      }),
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    // The file is looked for in the user's folder, not the checkout.
    assert.equal(out.code, 2, stderr);
    assert.ok(stderr.includes(`${data}/missing.vot`), stderr);
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("samp -C with a folder that does not exist is a usage error naming it", async () => {
  await using installed = await installCommands();
  const r = await runInstalled(installed.samp, ["-C", "/nonexistent/folder", "clients"], {
    cwd: installed.root,
    env: installed.env,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot change to folder \/nonexistent\/folder/);
});

Deno.test("the package's lockfile holds only the npm packages its programs import, so a first deno task hub fetches nothing for the tests", async () => {
  // Deno installs every npm package of the lockfile up front: test-only
  // packages live in tests/deno.lock, which only the test tasks use.
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}deno.lock`));
  const needed = new Set<string>();
  for (const entry of ["hub.ts", "mod.ts", "lib/tools/main.ts"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    for (const p of Object.keys(info.npmPackages ?? {})) needed.add(p);
  }
  assert.deepEqual(Object.keys(lock.npm ?? {}).sort(), [...needed].sort());
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  for (const name of ["test", "fuzz"]) {
    assert.match(
      tasks[name],
      /--lock=tests\/deno\.lock/,
      `the ${name} task uses the tests' lockfile`,
    );
  }
  assert.doesNotMatch(tasks.hub, /--lock/);
});

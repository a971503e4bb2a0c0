// The permissions of samp_hub: the `hub` task and the compile script use
// exactly HUB_PERMISSIONS, the hub needs nothing more (it reads no file of its
// own at run time), each of them is needed, and `deno task compile` either
// builds a working binary or says in one line why it could not.

import assert from "node:assert/strict";
import {
  BENCH_PERMISSIONS,
  HUB_PERMISSIONS,
  HUB_RUNTIME_FLAGS,
  openerPermission,
  SAMP_PERMISSIONS,
  targetOs,
} from "../scripts/permissions.ts";
import {
  childEnv,
  collect,
  exists,
  ROOT,
  spawnHub,
  startHubProcess,
  TestClient,
  waitFor,
} from "./_helpers.ts";

const isPermissionFlag = (arg: string) => /^(-A$|--allow-|--deny-)/.test(arg);
const sorted = (list: readonly string[]) => [...list].sort();

async function denoTasks(): Promise<Record<string, string>> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
}

Deno.test("deno.json's hub task runs hub.ts with exactly HUB_PERMISSIONS and HUB_RUNTIME_FLAGS", async () => {
  const words = (await denoTasks()).hub.trim().split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  const entry = words.indexOf("hub.ts");
  assert.equal(entry, words.length - 1, "hub.ts ends the task, so `deno task hub ARGS` works");
  const flags = words.slice(2, entry);
  assert.deepEqual(sorted(flags.filter(isPermissionFlag)), sorted(HUB_PERMISSIONS));
  assert.deepEqual(flags.filter((f) => !isPermissionFlag(f)), HUB_RUNTIME_FLAGS, "no other flags");
});

Deno.test("deno.json's bench task runs scripts/bench.ts with exactly BENCH_PERMISSIONS", async () => {
  const words = (await denoTasks()).bench.trim().split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.equal(words.at(-1), "scripts/bench.ts");
  assert.deepEqual(sorted(words.slice(2, -1)), sorted(BENCH_PERMISSIONS));
});

Deno.test("scripts/compile.ts passes exactly HUB_PERMISSIONS, the target's opener and HUB_RUNTIME_FLAGS to deno compile for every target", async () => {
  // Run the compile task as deno.json spells it, with a preloaded module that
  // replaces Deno.Command: it prints each command compile.ts would run and
  // reports success, so nothing is downloaded or built.
  const dir = await Deno.makeTempDir({ prefix: "samp-compile-test-" });
  try {
    const fake = `${dir}/fake_command.ts`;
    await Deno.writeTextFile(
      fake,
      `(Deno as unknown as Record<string, unknown>).Command = class {
        constructor(readonly cmd: string, readonly options: Deno.CommandOptions) {}
        output(): Promise<Deno.CommandOutput> {
          console.log("FAKE-COMMAND " + JSON.stringify({
            cmd: this.cmd, args: this.options.args, cwd: String(this.options.cwd),
          }));
          const empty = new Uint8Array();
          return Promise.resolve(
            { success: true, code: 0, signal: null, stdout: empty, stderr: empty } as
              unknown as Deno.CommandOutput,
          );
        }
      };\n`,
    );
    const words = (await denoTasks()).compile.trim().split(/\s+/);
    assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
    assert.equal(words.at(-1), "scripts/compile.ts");
    const out = `${dir}/out`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", `--preload=${fake}`, ...words.slice(2), "--all", "--out", out],
      cwd: ROOT,
      env: childEnv(dir),
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stdout = new TextDecoder().decode(result.stdout);
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    const commands = stdout.split("\n").filter((l) => l.startsWith("FAKE-COMMAND "))
      .map((l) => JSON.parse(l.slice("FAKE-COMMAND ".length)));
    assert.equal(commands.length, 10, `two programs per target:\n${stdout}`);
    const targets = [];
    for (const { cmd, args, cwd } of commands as { cmd: string; args: string[]; cwd: string }[]) {
      assert.equal(cmd, Deno.execPath());
      assert.equal(new URL(cwd).pathname, ROOT);
      assert.equal(args[0], "compile");
      const hub = args.at(-1) === "hub.ts";
      assert.equal(args.at(-1), hub ? "hub.ts" : "lib/tools/main.ts");
      const target = args[args.indexOf("--target") + 1];
      assert.deepEqual(
        sorted(args.filter(isPermissionFlag)),
        sorted(hub ? [...HUB_PERMISSIONS, openerPermission(targetOs(target))] : SAMP_PERMISSIONS),
      );
      for (const flag of HUB_RUNTIME_FLAGS) assert.equal(args.includes(flag), hub, flag);
      // The hub loads its codec worker by URL: the binary must carry it, and
      // the file named must be the one the hub loads.
      const included = args.flatMap((a, i) => (args[i - 1] === "--include" ? [a] : []));
      assert.deepEqual(included, hub ? ["lib/transport/_codec_worker.ts"] : []);
      assert.match(
        args[args.indexOf("--output") + 1],
        new RegExp(`^${out}/${hub ? "samp_hub" : "samp"}-`),
      );
      if (hub) targets.push(args[args.indexOf("--target") + 1]);
    }
    assert.deepEqual(sorted(targets), [
      "aarch64-apple-darwin",
      "aarch64-unknown-linux-gnu",
      "x86_64-apple-darwin",
      "x86_64-pc-windows-msvc",
      "x86_64-unknown-linux-gnu",
    ]);
    assert.equal(await exists(out), false, "the fake built nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with read and write limited to its temp dir the hub serves clients and stops cleanly: it reads no file of its own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-perm-test-" });
  try {
    assert.ok(HUB_PERMISSIONS.includes("--allow-read"));
    assert.ok(HUB_PERMISSIONS.includes("--allow-write"));
    const permissions = HUB_PERMISSIONS.map((p) =>
      p === "--allow-read"
        ? `--allow-read=${dir}`
        : p === "--allow-write"
        ? `--allow-write=${dir}`
        : p
    );
    const hub = await spawnHub(["--log-level", "DEBUG"], { dir, permissions });
    const a = await TestClient.register(hub.url, hub.secret);
    const b = await TestClient.register(hub.url, hub.secret);
    try {
      await b.hub("declareSubscriptions", { "test.*": {} });
      await a.hub("notify", b.id, { "samp.mtype": "test.hello", "samp.params": {} });
      await waitFor(() => b.got("receiveNotification", "test.hello").length === 1);
      // The icon in the hub's metadata is served from memory, not from the source tree.
      const icon = await fetch(new URL("/icon.svg", hub.url));
      assert.equal(icon.status, 200);
      assert.match(await icon.text(), /<svg/);
      await a.hub("unregister");
      await b.hub("unregister");
    } finally {
      await a.close(false);
      await b.close(false);
    }
    assert.equal(await hub.stop(), 0);
    assert.equal(await exists(hub.lockfile), false);
    assert.doesNotMatch(hub.output(), /WARNING|ERROR|NotCapable|Requires \w+ access/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const missing of HUB_PERMISSIONS) {
  const flag = missing.split("=")[0];
  Deno.test(`without ${flag} the hub exits 1 with a one-line error naming ${flag}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "samp-perm-test-" });
    try {
      // No --lockfile: the default $HOME/.samp, so HOME must be read (env).
      const child = startHubProcess([], {
        dir,
        permissions: HUB_PERMISSIONS.filter((p) => p !== missing),
      });
      const out = collect(child);
      assert.equal(await out.wait(15_000), 1, out.text());
      assert.match(out.text(), /^samp_hub: [^\n]+\n$/, "one line, no stack trace");
      assert.ok(out.text().includes(flag), out.text());
      assert.equal(await exists(`${dir}/.samp`), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("without --allow-run, --open exits 1 with a one-line error naming the opener's permission; the hub starts silently without --open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-perm-test-" });
  try {
    const out = collect(startHubProcess(["--open", "--lockfile", `${dir}/hub.samp`], { dir }));
    assert.equal(await out.wait(15_000), 1, out.text());
    assert.match(out.text(), /^samp_hub: [^\n]+\n$/, "one line, no stack trace");
    assert.ok(out.text().includes(openerPermission(Deno.build.os)), out.text());
    assert.equal(await exists(`${dir}/hub.samp`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task hub starts without Deno's 'Failed to resolve ... for allow-run' line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-perm-test-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "hub", "--lockfile", `${dir}/hub.samp`, "--no-web-profile", "--no-page"],
      cwd: ROOT,
      env: childEnv(dir),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = collect(child);
    try {
      await waitFor(() => /^lockfile: /m.test(out.text()), 30_000, "the hub's start");
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await out.wait(15_000), 0, out.text());
    assert.doesNotMatch(out.text(), /Failed to resolve|allow-run/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile builds a dist/samp_hub that answers --help, or says in one line that it cannot download the runtime", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-compile-test-" });
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "compile"],
      cwd: ROOT,
      env: childEnv(dir),
      stdin: "null",
      signal: AbortSignal.timeout(300_000),
    }).output();
    const stdout = new TextDecoder().decode(result.stdout);
    const stderr = new TextDecoder().decode(result.stderr);
    const binary = `${ROOT}dist/samp_hub${Deno.build.os === "windows" ? ".exe" : ""}`;
    if (result.code === 0) {
      assert.match(stdout, /^built dist\/samp_hub /m);
      const help = await new Deno.Command(binary, {
        args: ["--help"],
        env: childEnv(dir),
        stdin: "null",
        signal: AbortSignal.timeout(30_000),
      }).output();
      assert.equal(help.code, 0);
      assert.match(new TextDecoder().decode(help.stdout), /Usage: samp_hub \[options\]/);
    } else {
      assert.equal(result.code, 1, stderr);
      assert.equal(stdout, "");
      assert.match(
        stderr,
        /^compile: samp_hub and samp not built: deno compile must download its runtime \(https:\/\/\S+denort\S+\) and this machine cannot reach it;[^\n]*DENORT_BIN[^\n]*\n$/,
      );
      const dist = await exists(`${ROOT}dist`)
        ? await Array.fromAsync(Deno.readDir(`${ROOT}dist`))
        : [];
      const leftovers = dist.filter((e) => e.name.includes(".tmp"));
      assert.deepEqual(leftovers, [], "no half-written binary in dist/");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

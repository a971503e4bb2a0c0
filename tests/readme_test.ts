// Every TypeScript block of the README is a complete program: in a project
// of the user's own outside the checkout, importing the package as
// `deno add jsr:@sampkit/samp` would let it, each one type-checks, and each
// one not marked `no-run` runs against a hub to a clean end, by itself or on
// Ctrl-C (SIGINT) when it is one that listens.

import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import { SampClient } from "../client.ts";
import { childEnv, collect, ROOT, waitFor } from "./_helpers.ts";
import { readmeBlocks, userProject } from "./_readme.ts";

/** Whether `child` exits within `ms` (it is left running if not). */
async function exitsWithin(child: Deno.ChildProcess, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      child.status.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("every TypeScript block of the README type-checks as a program in a user's project", async () => {
  const blocks = await readmeBlocks();
  assert.ok(blocks.length >= 5, `found ${blocks.length} blocks`);
  const dir = await userProject();
  try {
    const files = [];
    for (const [i, b] of blocks.entries()) {
      files.push(`block${i}_line${b.line}.ts`);
      await Deno.writeTextFile(`${dir}/${files.at(-1)}`, b.code);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", ...files],
      cwd: dir,
      env: childEnv(dir),
      stdin: "null",
      signal: AbortSignal.timeout(180_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every README block not marked no-run runs against a hub and ends cleanly", async (t) => {
  const blocks = (await readmeBlocks()).filter((b) => b.run);
  const dir = await userProject();
  const lockfile = `${dir}/test-hub.samp`;
  await using _hub = await startHub({ lockfile, page: false });
  // Stand-ins for TOPCAT and DS9, so the blocks that look for them take the
  // path that sends; like the real tools they fetch what an http URL serves.
  const loads: string[] = [];
  const fetched: string[] = [];
  const load = async (url: string) => {
    loads.push(url);
    if (url.startsWith("http:")) fetched.push(await (await fetch(url)).text());
    return {};
  };
  await using topcat = await SampClient.connect({ lockfile, name: "topcat" });
  await topcat.on("table.load.votable", (m) => load(String(m.params.url)));
  await using ds9 = await SampClient.connect({ lockfile, name: "SAOImageDS9" });
  await ds9.on("image.load.fits", (m) => load(String(m.params.url)));
  const names = () => new Set([...topcat.clients].map((c) => c.name));
  try {
    for (const b of blocks) {
      await t.step(`README.md:${b.line}`, async () => {
        const file = `${dir}/block_line${b.line}.ts`;
        await Deno.writeTextFile(file, b.code);
        const before = names();
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", file],
          cwd: dir,
          env: childEnv(dir, { SAMP_HUB: `std-lockurl:file://${lockfile}` }),
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const out = collect(child);
        // Running: it ended, or it joined the hub, or (the hub block) it
        // wrote its own lockfile.
        await waitFor(
          async () =>
            out.code !== undefined ||
            [...names()].some((n) => !before.has(n)) ||
            await Deno.stat(`${dir}/my.samp`).then(() => true, () => false),
          60_000,
          `README.md:${b.line} to start`,
        );
        // A block that does a job ends by itself; one that listens is
        // stopped as a user stops it.
        if (!await exitsWithin(child, 5_000)) child.kill("SIGINT");
        const code = await out.wait(20_000);
        assert.equal(code, 0, `README.md:${b.line}:\n${out.text()}`);
        assert.doesNotMatch(out.text(), /error/i, `README.md:${b.line}`);
      });
    }
    assert.ok(loads.some((u) => u.endsWith("/m31.vot")), "the TOPCAT block sent its table");
    assert.ok(fetched.some((t) => t.includes("<TD>Crab centre</TD>")), "the rows were served");
    assert.ok(fetched.some((t) => t.startsWith("SIMPLE  =")), "the image was served");
    assert.equal(
      await Deno.stat(`${dir}/my.samp`).then(() => true, () => false),
      false,
      "the hub block removed its lockfile when stopped",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README's copies of samp_hub --help and samp --help are what the programs print", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  for (const [entry, task] of [["hub.ts", "hub"], ["lib/tools/main.ts", "samp"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-env", "--allow-read", `${ROOT}${entry}`, "--help"],
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(out.code, 0);
    const help = new TextDecoder().decode(out.stdout);
    const intro = `npx -y deno@2.9.6 task ${task} --help\n\`\`\`\n\n\`\`\`\n`;
    const at = readme.indexOf(intro);
    assert.ok(at >= 0, `the README shows \`${task} --help\``);
    const start = at + intro.length;
    const copy = readme.slice(start, readme.indexOf("```", start));
    assert.equal(copy.trimEnd(), help.trimEnd(), `${task} --help`);
  }
});

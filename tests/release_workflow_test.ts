// The release workflow (.github/workflows/release.yml) cannot run here: it
// needs GitHub, JSR and Deno's runtime downloads. What can be checked without
// them is checked: the file parses as a workflow, it runs on version tags,
// every `deno task` it runs exists, the binaries it builds are those of
// scripts/compile.ts (and so carry exactly scripts/permissions.ts), it
// attaches them with SHA-256 sums, it publishes to JSR, and the version it
// insists on is the one both programs print.

import assert from "node:assert/strict";
import { parse } from "npm:yaml@2.9.1";
import { ROOT } from "./_helpers.ts";
import { VERSION } from "../lib/version.ts";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: { push: { tags: string[] } };
  env?: Record<string, string>;
  jobs: Record<string, { needs?: string; steps: Step[]; permissions?: Record<string, string> }>;
}

const workflow = async (): Promise<Workflow> =>
  parse(await Deno.readTextFile(`${ROOT}.github/workflows/release.yml`));
const runs = (w: Workflow): string[] =>
  Object.values(w.jobs).flatMap((j) => j.steps.map((s) => s.run ?? "")).filter(Boolean);

Deno.test("the release workflow parses, runs on v* tags, and releases only after the tests pass", async () => {
  const w = await workflow();
  assert.deepEqual(w.on.push.tags, ["v*"]);
  assert.ok(runs(w).some((r) => r.trim() === "bash .ci/run"), "runs the CI script");
  assert.equal(w.jobs.release.needs, "test");
  assert.equal(w.jobs.release.permissions?.["id-token"], "write", "JSR publishes with OIDC");
});

Deno.test("every deno task the release workflow runs exists, with the Deno version CI uses", async () => {
  const w = await workflow();
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  assert.equal(`DENO_VERSION=${w.env?.DENO_VERSION}`, /DENO_VERSION=\S+/.exec(ci)?.[0]);
  const used = runs(w).flatMap((r) => [...r.matchAll(/deno@\$\{DENO_VERSION\}"? task (\S+)/g)])
    .map((m) => m[1]);
  assert.deepEqual(used, ["compile"]);
  for (const t of used) assert.ok(tasks[t], `deno.json has a "${t}" task`);
  const compile = runs(w).find((r) => r.includes("task compile"))!;
  assert.match(compile, /task compile --all$/, "every target");
  assert.ok(runs(w).some((r) => /deno@\$\{DENO_VERSION\}"? publish$/.test(r.trim())));
});

Deno.test("the release attaches every binary compile --all builds, with SHA256SUMS", async () => {
  const w = await workflow();
  const all = runs(w).join("\n");
  // scripts/compile.ts names its outputs dist/<program>-<target>[.exe].
  const compile = await Deno.readTextFile(`${ROOT}scripts/compile.ts`);
  assert.match(compile, /`\$\{values\.out\}\/\$\{program\.name\}\$\{suffix\}\$\{exe\}`/);
  assert.match(all, /sha256sum samp_hub-\* samp-\* > SHA256SUMS/);
  assert.match(
    all,
    /gh release create "\$GITHUB_REF_NAME" dist\/samp_hub-\* dist\/samp-\* dist\/SHA256SUMS/,
  );
});

Deno.test("the tag the workflow demands is the version deno.json, lib/version.ts and both programs' --version give", async () => {
  const w = await workflow();
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.equal(config.version, VERSION);
  const check = w.jobs.release.steps.find((s) => s.name?.startsWith("The tag names"));
  assert.ok(check?.run?.includes('"v$version"'));
  assert.ok(check?.run?.includes("lib/version.ts"));
  for (const entry of ["hub.ts", "lib/tools/main.ts"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-env", "--allow-read", `${ROOT}${entry}`, "--version"],
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(out.code, 0);
    assert.match(
      new TextDecoder().decode(out.stdout),
      new RegExp(` ${VERSION.replaceAll(".", "\\.")}\\n$`),
    );
  }
});

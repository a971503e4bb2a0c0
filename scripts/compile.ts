/**
 * `deno task compile [--target T]… [--all]`: builds the standalone `samp_hub`
 * and `samp` into `dist/`, with the permissions of `scripts/permissions.ts`
 * baked in.
 *
 * `deno compile` downloads the matching Deno runtime (denort) for each
 * target. Where that download is impossible, this says so in one line and
 * exits 1 instead of showing a stack trace.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  HUB_PERMISSIONS,
  HUB_RUNTIME_FLAGS,
  openerPermission,
  SAMP_PERMISSIONS,
  targetOs,
} from "./permissions.ts";

const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    target: { type: "string", multiple: true },
    all: { type: "boolean" },
    out: { type: "string", default: "dist" },
  },
});
for (const t of values.target ?? []) {
  if (!TARGETS.includes(t)) {
    console.error(`compile: unknown --target ${t}; choose from ${TARGETS.join(", ")}`);
    Deno.exit(2);
  }
}
const targets: (string | undefined)[] = values.all ? TARGETS : values.target ?? [undefined];
const root = new URL("..", import.meta.url);
/** The hub's codec worker (see lib/transport/_offload.ts). */
const CODEC_WORKER = "lib/transport/_codec_worker.ts";
/** The two programs: the hub, and the everyday tools. */
const PROGRAMS = [
  {
    name: "samp_hub",
    entry: "hub.ts",
    permissions: (os: string) => [...HUB_RUNTIME_FLAGS, ...HUB_PERMISSIONS, openerPermission(os)],
    // The worker that decodes big calls is loaded by URL at run time: the
    // binary must carry it (and the modules it imports).
    include: [CODEC_WORKER],
  },
  { name: "samp", entry: "lib/tools/main.ts", permissions: () => SAMP_PERMISSIONS, include: [] },
];
let failed = 0;
for (const target of targets) {
  const suffix = target ? `-${target}` : "";
  const exe = target?.includes("windows") ? ".exe" : "";
  for (const [i, program] of PROGRAMS.entries()) {
    const output = `${values.out}/${program.name}${suffix}${exe}`;
    const args = [
      "compile",
      "--no-check=remote",
      ...program.permissions(target ? targetOs(target) : Deno.build.os),
      ...program.include.flatMap((path) => ["--include", path]),
      "--output",
      output,
      ...(target ? ["--target", target] : []),
      program.entry,
    ];
    const result = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(result.stderr);
    if (result.success) {
      console.log(`built ${output} (${target ?? Deno.build.target})`);
      continue;
    }
    failed++;
    const download = /https?:\/\/\S*denort\S*/.exec(err)?.[0];
    if (download && /error sending request|dns error|Connect|timed out|404/i.test(err)) {
      // Every program of this target needs the same runtime: say it once.
      const names = PROGRAMS.slice(i).map((p) => `${p.name}${suffix}`).join(" and ");
      console.error(
        `compile: ${names} not built: deno compile must download its runtime ` +
          `(${download}) and this machine cannot reach it; run \`deno task compile\` on a ` +
          "machine with internet access, or set DENORT_BIN to a local denort binary",
      );
      failed += PROGRAMS.length - i - 1;
      break;
    }
    const first = err.split("\n").map((l) => l.trim())
      .find((l) => l.startsWith("error:")) ?? err.trim().split("\n")[0];
    console.error(`compile: ${program.name}${suffix} not built: ${first}`);
  }
}
Deno.exit(failed === 0 ? 0 : 1);

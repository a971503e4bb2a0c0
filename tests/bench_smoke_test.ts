// The load generator never rots: `scripts/bench.ts --quick --json` against a
// freshly spawned samp_hub must run every scenario with nothing lost, no
// errors and sane (positive) numbers, in a few seconds.

import { BENCH_PERMISSIONS } from "../scripts/permissions.ts";
import assert from "node:assert/strict";
import { ROOT, spawnHub } from "./_helpers.ts";
import { lockUrl, privateEnv } from "../scripts/hubs.ts";
import type { BenchReport } from "../scripts/bench.ts";

const SCENARIOS = ["notify", "call", "callAndWait", "fanout50", "fanout200", "storm"];

Deno.test("bench --quick runs every scenario against samp_hub with nothing lost", async () => {
  const hub = await spawnHub();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        `--config=${ROOT}deno.json`,
        ...BENCH_PERMISSIONS,
        `${ROOT}scripts/bench.ts`,
        "--quick",
        "--json",
        "--duration",
        "0.3",
        "--hub-pid",
        String(hub.child.pid),
      ],
      env: privateEnv(hub.dir, lockUrl(hub.lockfile)),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
    const out = await child.output().finally(() => clearTimeout(timer));
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    const context = `exit ${out.code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
    let report: BenchReport;
    try {
      report = JSON.parse(stdout);
    } catch {
      assert.fail(`bench.ts printed no JSON report: ${context}`);
    }

    assert.deepEqual(report.scenarios.map((s) => s.name), SCENARIOS, context);
    for (const s of report.scenarios) {
      const what = `${s.name}: ${JSON.stringify(s)}`;
      assert.equal(s.skipped, undefined, what);
      assert.equal(s.lost, 0, what);
      assert.equal(s.errors, 0, what);
      assert.equal(s.duplicates, 0, what);
      assert.ok(s.sent > 0 && s.received > 0 && s.expected === s.received, what);
      assert.ok(s.rate > 0 && Number.isFinite(s.rate), what);
      if (s.p50Ms !== undefined) assert.ok(s.p50Ms > 0 && s.p99Ms! >= s.p50Ms, what);
    }
    const fan = report.scenarios.find((s) => s.name === "fanout200")!;
    assert.equal(fan.received % 200, 0, "fan-out deliveries come in whole broadcasts");
    if (Deno.build.os === "linux") {
      for (const v of [report.rss.idleKiB, report.rss.loadKiB, report.rss.afterKiB]) {
        assert.ok(v !== null && v > 1024, `RSS ${JSON.stringify(report.rss)}`);
      }
    }
    assert.equal(report.ok, true, context);
    assert.equal(out.code, 0, context);
  } finally {
    assert.equal(await hub.stop(), 0, `samp_hub did not exit 0:\n${hub.output()}`);
    await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
  }
});

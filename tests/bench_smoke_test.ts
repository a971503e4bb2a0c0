// The load generator never rots: `scripts/bench.ts --quick --json` against a
// freshly spawned samp_hub must run every scenario with nothing lost, no
// errors and sane (positive) numbers, in a few seconds; and the big-message
// scenarios, at tiny sizes, must find every item arrived exactly once.

import { BENCH_PERMISSIONS } from "../scripts/permissions.ts";
import assert from "node:assert/strict";
import { type HubProcess, ROOT, spawnHub } from "./_helpers.ts";
import { lockUrl, privateEnv } from "../scripts/hubs.ts";
import type { BenchReport } from "../scripts/bench.ts";

const SCENARIOS = ["notify", "call", "callAndWait", "fanout50", "fanout200", "storm"];

/** Runs scripts/bench.ts with `args` against the hub; its report, exit code and output. */
async function runBench(
  hub: HubProcess,
  args: string[],
  timeoutMs: number,
): Promise<{ report: BenchReport; code: number; context: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--config=${ROOT}deno.json`,
      ...BENCH_PERMISSIONS,
      `${ROOT}scripts/bench.ts`,
      "--json",
      "--hub-pid",
      String(hub.child.pid),
      ...args,
    ],
    env: privateEnv(hub.dir, lockUrl(hub.lockfile)),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const out = await child.output().finally(() => clearTimeout(timer));
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const context = `exit ${out.code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  try {
    return { report: JSON.parse(stdout), code: out.code, context };
  } catch {
    assert.fail(`bench.ts printed no JSON report: ${context}`);
  }
}

Deno.test("bench --quick runs every scenario against samp_hub with nothing lost", async () => {
  const hub = await spawnHub();
  try {
    const { report, code, context } = await runBench(hub, ["--quick", "--duration", "0.3"], 30000);

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
    assert.equal(code, 0, context);
  } finally {
    assert.equal(await hub.stop(), 0, `samp_hub did not exit 0:\n${hub.output()}`);
    await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("bench --only big at tiny sizes: every row and metadata line arrives, in order, exactly once", async () => {
  const hub = await spawnHub();
  try {
    const { report, code, context } = await runBench(hub, [
      "--quick",
      "--only",
      "big",
      "--rows",
      "3000",
      "--metadata-mb",
      "0.02",
      "--fetchers",
      "3",
      "--clients",
      "8",
      "--repeats",
      "2",
      "--duration",
      "0.3",
    ], 60000);
    assert.deepEqual(
      report.scenarios.map((s) => s.name),
      ["rowListNotify", "rowListCall", "bigMetadata", "fanoutMany", "stormMany"],
      context,
    );
    for (const s of report.scenarios) {
      const what = `${s.name}: ${JSON.stringify(s)}`;
      assert.equal(s.skipped, undefined, what);
      assert.equal(s.lost, 0, what);
      assert.equal(s.errors, 0, what);
      assert.ok(s.sent > 0 && s.expected === s.received, what);
      // The bystander ran (its figures may be null: no call overlaps a very short transfer).
      assert.ok(s.bystander, what);
      assert.equal(s.bystander.failed, 0, what);
      assert.equal(s.bystander.intervalMs, 10, what);
      for (const k of ["calls", "p50Ms", "p99Ms", "maxMs"] as const) {
        assert.ok(k in s.bystander, what);
      }
      if (Deno.build.os === "linux") assert.ok((s.rssPeakKiB ?? 0) > 1024, what);
    }
    const [notify, call, metadata] = report.scenarios;
    for (const [s, items] of [[notify, 3000], [call, 3000], [metadata, 205]] as const) {
      const what = `${s.name}: ${JSON.stringify(s.transfer)}`;
      assert.ok(s.transfer, what);
      assert.equal(s.transfer.items, items, what);
      assert.equal(s.transfer.lostItems, 0, what);
      assert.equal(s.transfer.corruptedItems, 0, what);
      assert.equal(s.transfer.runsMs.length, 2, what);
      assert.ok(s.transfer.medianMs > 0 && s.transfer.bytes > 0, what);
    }
    assert.equal(notify.transfer!.measure, "send→received");
    assert.equal(call.transfer!.measure, "call→reply");
    assert.equal(metadata.received, 2 * 3, "each of 3 fetchers got its copy twice");
    const fan = report.scenarios[3];
    assert.equal(fan.received % 8, 0, "fan-out deliveries come in whole broadcasts");
    const storm = report.scenarios[4];
    assert.equal(storm.extra?.eventsReceived, storm.sent * 2 * 8, "8 listeners × 2 events a cycle");
    assert.ok(fan.bystander!.calls > 0 && storm.bystander!.calls > 0, context);
    assert.equal(report.ok, true, context);
    assert.equal(code, 0, context);
  } finally {
    assert.equal(await hub.stop(), 0, `samp_hub did not exit 0:\n${hub.output()}`);
    await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
  }
});

/**
 * A bench run: every chosen scenario, `--rounds` times, against one target,
 * with the hub's RSS (idle, peak under load, after each round) and the CPU
 * the hub and the bench used in each scenario.
 *
 * @module
 */

import type { BenchOptions } from "./args.ts";
import { connectTarget } from "./connect.ts";
import { type ScenarioName, selectScenarios, settleMs, sizesFor } from "./plan.ts";
import { ownCpuSeconds, readCpuSeconds, readRssKiB, RssSampler } from "./proc.ts";
import type { BenchReport, RssResult, ScenarioResult } from "./report.ts";
import { type ScenarioContext, SCENARIOS } from "./scenarios/mod.ts";
import { peak } from "./stats.ts";
import { sleep } from "./_async.ts";

/** The result of a scenario that threw instead of returning. */
function failedScenario(name: ScenarioName, e: unknown): ScenarioResult {
  return {
    name,
    label: name,
    rate: NaN,
    unit: "",
    seconds: 0,
    sent: 0,
    expected: 0,
    received: 0,
    lost: 0,
    duplicates: 0,
    errors: 1,
    errorSamples: [`the scenario failed: ${(e as Error).message}`],
  };
}

/** A short random word that keeps the MTypes of this run apart from any other's. */
function newRunId(): string {
  return Math.random().toString(36).slice(2, 8).replace(/[^a-z0-9]/g, "x");
}

/**
 * Runs every scenario `opts.rounds` times against the target and returns
 * the report; `log` gets a line as each scenario starts.
 *
 * @throws {Error} when the target cannot be found (no hub running).
 *
 * @example
 * ```ts ignore
 * import { parseBenchArgs } from "./args.ts";
 * import { runBench } from "./run.ts";
 * const report = await runBench(parseBenchArgs(["--quick", "--only", "notify"]));
 * console.log(report.ok);
 * ```
 */
export async function runBench(
  opts: BenchOptions,
  log: (line: string) => void = () => {},
): Promise<BenchReport> {
  const { target, name } = await connectTarget(opts);
  const sizes = sizesFor(opts.quick, opts.bigSizes);
  const names = selectScenarios(opts.big, opts.only);
  const rss: RssResult = {
    idleKiB: await readRssKiB(opts.hubPid),
    loadKiB: null,
    afterKiB: null,
    afterRoundsKiB: [],
  };
  const peaks: (number | null)[] = [];
  const rounds: ScenarioResult[][] = [];
  const runId = newRunId();
  try {
    for (let round = 0; round < opts.rounds; round++) {
      const results: ScenarioResult[] = [];
      for (const n of names) {
        log(`round ${round + 1}/${opts.rounds}: ${n}…`);
        const sampler = new RssSampler(opts.hubPid);
        sampler.start();
        const hubCpu0 = await readCpuSeconds(opts.hubPid);
        const ownCpu0 = ownCpuSeconds();
        const t0 = performance.now();
        const ctx: ScenarioContext = { target, opts, sizes, run: `r${runId}${round}` };
        let r: ScenarioResult;
        try {
          r = await SCENARIOS[n](ctx);
        } catch (e) {
          r = failedScenario(n, e);
        } finally {
          sampler.stop();
        }
        const wall = (performance.now() - t0) / 1000;
        const hubCpu1 = await readCpuSeconds(opts.hubPid);
        if (!r.skipped) {
          r.cpu = {
            hubPct: hubCpu0 === null || hubCpu1 === null ? null : 100 * (hubCpu1 - hubCpu0) / wall,
            benchPct: 100 * (ownCpuSeconds() - ownCpu0) / wall,
          };
          r.rssPeakKiB = sampler.peak;
        }
        peaks.push(sampler.peak);
        results.push(r);
      }
      rounds.push(results);
      // Let the hub settle before the "after" reading.
      await sleep(settleMs(opts.quick));
      rss.afterRoundsKiB.push(await readRssKiB(opts.hubPid));
    }
  } finally {
    target.close();
  }
  rss.loadKiB = peak(peaks);
  rss.afterKiB = rss.afterRoundsKiB.at(-1) ?? null;
  const all = rounds.flat();
  const lost = all.reduce((a, r) => a + r.lost, 0);
  const errors = all.reduce((a, r) => a + r.errors, 0);
  return {
    target: { kind: target.kind, url: opts.relay ?? target.url, name, pid: opts.hubPid },
    settings: {
      quick: opts.quick,
      durationS: opts.duration,
      rounds: opts.rounds,
      sizes,
      scenarios: [...names],
    },
    scenarios: rounds[0],
    rounds,
    rss,
    slowParses: target.callbacks.slowParses,
    lost,
    errors,
    ok: lost === 0 && errors === 0,
  };
}

/**
 * Measuring one target: a warm-up start, a timed start, `deno task bench`
 * against it as a subprocess (`--json --hub-pid PID`), calcstorm against a
 * hub, the big-message and many-client scenarios (a second bench run,
 * `--only big`), and a stop.
 *
 * @module
 */

import { BENCH_PERMISSIONS } from "../../permissions.ts";
import { ROOT } from "../../hubs.ts";
import { SCENARIO_NAMES } from "../plan.ts";
import type { BenchReport } from "../report.ts";
import { PEER_LABELS, type PeersOptions, type PeerTarget } from "./args.ts";
import {
  CALC_MODES,
  CALC_RUNS,
  type CalcMode,
  type CalcResult,
  calcstorm,
  medianCalc,
} from "./calcstorm.ts";
import type { Launcher, Running } from "./launcher.ts";

/** The bench's entry point, run as a subprocess against each target. */
const BENCH = `${ROOT}scripts/bench.ts`;

/** Time a bench round may take beyond its scenarios' durations (set-up, message timeouts). */
const ROUND_SLACK_MS = 240_000;
/** Time the bench subprocess may take beyond its rounds. */
const BENCH_SLACK_MS = 60_000;
/** Time the big scenarios may take in all (JSAMP's hub needs minutes). */
const BIG_TIMEOUT_MS = 40 * 60_000;

/** Everything measured of one target (what `--json FILE` writes per target). */
export interface TargetResult {
  target: PeerTarget;
  startToPingMs?: number;
  bench?: BenchReport;
  /** The big-message and many-client scenarios (one round, after calcstorm). */
  big?: BenchReport;
  calc: Partial<Record<CalcMode, CalcResult>>;
  error?: string;
}

/**
 * Runs scripts/bench.ts against a running target and returns its report:
 * the standard scenarios `rounds` times, or with `big` the big ones once.
 */
async function runBenchOn(
  launcher: Launcher,
  r: Running,
  o: PeersOptions,
  rounds: number,
  big = false,
): Promise<BenchReport> {
  const args = [
    "run",
    "--quiet",
    "--no-prompt",
    `--config=${ROOT}deno.json`,
    ...BENCH_PERMISSIONS,
    BENCH,
    "--json",
    "--hub-pid",
    String(r.pid),
    "--duration",
    String(o.duration),
    "--rounds",
    String(rounds),
    ...(o.quick ? ["--quick"] : []),
    ...(r.relayUrl ? ["--relay", r.relayUrl] : []),
    ...(big ? ["--only", "big", ...o.bigArgs] : []),
  ];
  // Every scenario of a round, each bounded by its duration plus message timeouts.
  const timeoutMs = big
    ? BIG_TIMEOUT_MS
    : rounds * (SCENARIO_NAMES.length * o.duration * 1000 + ROUND_SLACK_MS) + BENCH_SLACK_MS;
  const res = await launcher.run(Deno.execPath(), args, { env: r.env, cwd: r.cwd, timeoutMs });
  if (res.timedOut) throw new Error(`bench.ts did not finish within ${timeoutMs / 1000} s`);
  try {
    return JSON.parse(res.stdout) as BenchReport;
  } catch {
    throw new Error(`bench.ts exited ${res.code} without a report:\n${res.stdout}${res.stderr}`);
  }
}

/**
 * Measures one target; a failure is recorded in the result's `error`, not
 * thrown. Ours gets `o.rounds` bench rounds, the others one.
 *
 * @example
 * ```ts ignore
 * import { measure } from "./measure.ts";
 * const result = await measure(launcher, "ours", options, console.error);
 * ```
 */
export async function measure(
  launcher: Launcher,
  target: PeerTarget,
  o: PeersOptions,
  log: (line: string) => void,
): Promise<TargetResult> {
  const label = PEER_LABELS[target];
  const result: TargetResult = { target, calc: {} };
  try {
    // One unmeasured start, so every hub starts from a warm page cache.
    log(`${label}: warm-up start`);
    await (await launcher.start(target)).stop();
    log(`${label}: start`);
    const r = await launcher.start(target);
    try {
      result.startToPingMs = r.startToPingMs;
      log(`${label}: up in ${r.startToPingMs.toFixed(0)} ms (pid ${r.pid}); bench`);
      result.bench = await runBenchOn(launcher, r, o, target === "ours" ? o.rounds : 1);
      if (r.hub && o.calcstorm) {
        // A JVM run varies by ±20 %: each mode runs CALC_RUNS times, the median counts.
        const runs = o.quick ? 1 : CALC_RUNS;
        for (const mode of CALC_MODES) {
          const results: CalcResult[] = [];
          for (let i = 0; i < runs; i++) {
            log(`${label}: calcstorm -mode ${mode} (${i + 1}/${runs})`);
            const c = await calcstorm(launcher, r.hub, mode);
            results.push(c);
            if (c.error) break;
          }
          result.calc[mode] = medianCalc(results);
        }
      }
      if (o.big) {
        // Last: a big transfer can leave a hub (a JVM) gigabytes bigger.
        log(`${label}: big-message and many-client scenarios`);
        try {
          result.big = await runBenchOn(launcher, r, o, 1, true);
        } catch (e) {
          throw new Error(`the big scenarios: ${(e as Error).message}`);
        }
      }
    } finally {
      await r.stop();
    }
  } catch (e) {
    result.error = (e as Error).message;
    log(`${label}: FAILED: ${result.error}`);
  }
  return result;
}

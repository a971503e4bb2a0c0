/**
 * JSAMP's load test against a hub: `jsamp calcstorm -nclient 10 -nquery 300
 * -mode M` for each mode, a few runs each (the median counts), with the CPU
 * the hub and calcstorm's JVM used.
 *
 * @module
 */

import type { AnyHub } from "../../hubs.ts";
import { readCpuSeconds } from "../proc.ts";
import { quantileIndex } from "../stats.ts";
import type { Launcher } from "./launcher.ts";

/** calcstorm's modes, in the order of the table's rows. */
export const CALC_MODES = ["sync", "async", "notify", "random"] as const;

/** One calcstorm mode. */
export type CalcMode = typeof CALC_MODES[number];

/** Runs of each calcstorm mode per hub; the median is reported. */
export const CALC_RUNS = 3;

/** A calcstorm run takes seconds; one that hangs (astropy's hub, sync mode) is killed. */
export const CALC_TIMEOUT_MS = 120_000;

/** The outcome of one calcstorm run (or the median of several). */
export interface CalcResult {
  usPerMessage: number | null;
  elapsedMs: number | null;
  /** CPU seconds the hub used during the run. */
  hubCpuS?: number;
  /** CPU seconds calcstorm's JVM (its ten clients) used. */
  clientsCpuS?: number;
  error?: string;
}

/**
 * The run with the median time (a failed run wins: it is reported), with
 * the CPU summed over the runs.
 *
 * @example
 * ```ts
 * import { medianCalc } from "./calcstorm.ts";
 * const m = medianCalc([
 *   { usPerMessage: 3, elapsedMs: 30 },
 *   { usPerMessage: 1, elapsedMs: 10 },
 *   { usPerMessage: 2, elapsedMs: 20 },
 * ]);
 * console.log(m.usPerMessage); // 2
 * ```
 */
export function medianCalc(results: readonly CalcResult[]): CalcResult {
  const failed = results.find((r) => r.error || r.usPerMessage === null);
  if (failed) return failed;
  const sorted = [...results].sort((a, b) => a.usPerMessage! - b.usPerMessage!);
  const median = sorted[quantileIndex(sorted.length, 0.5)];
  const sum = (f: (r: CalcResult) => number | undefined): number | undefined =>
    results.every((r) => f(r) !== undefined) ? results.reduce((a, r) => a + f(r)!, 0) : undefined;
  return { ...median, hubCpuS: sum((r) => r.hubCpuS), clientsCpuS: sum((r) => r.clientsCpuS) };
}

/**
 * Runs `jsamp calcstorm` in `mode` against a hub and parses its timing line.
 *
 * @example
 * ```ts ignore
 * import { calcstorm } from "./calcstorm.ts";
 * const result = await calcstorm(launcher, hub, "sync");
 * ```
 */
export async function calcstorm(
  launcher: Launcher,
  hub: AnyHub,
  mode: CalcMode,
): Promise<CalcResult> {
  // Who limits it: the hub's CPU, and calcstorm's (a child this process waits for).
  const hub0 = await readCpuSeconds(hub.pid);
  const kids0 = await readCpuSeconds(Deno.pid, "children");
  const res = await launcher.run(
    "jsamp",
    ["calcstorm", "-nclient", "10", "-nquery", "300", "-mode", mode],
    { env: hub.env(), cwd: hub.dir, timeoutMs: CALC_TIMEOUT_MS },
  );
  const text = res.stdout + res.stderr;
  const m = /Elapsed time:\s*(\d+)\s*ms\s*\((\d+(?:\.\d+)?)\s*us per message\)/.exec(text);
  const hub1 = await readCpuSeconds(hub.pid);
  const kids1 = await readCpuSeconds(Deno.pid, "children");
  const cpu = hub0 === null || hub1 === null || kids0 === null || kids1 === null
    ? {}
    : { hubCpuS: hub1 - hub0, clientsCpuS: kids1 - kids0 };
  if (m && res.code === 0) return { elapsedMs: Number(m[1]), usPerMessage: Number(m[2]), ...cpu };
  return {
    elapsedMs: null,
    usPerMessage: null,
    error: res.timedOut
      ? `no result within ${CALC_TIMEOUT_MS / 1000} s (killed)`
      : `exit ${res.code}: ${text.trim().split("\n").slice(-3).join(" | ")}`,
  };
}

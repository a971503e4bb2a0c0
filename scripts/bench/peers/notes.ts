/**
 * The lines under bench:peers' table: ours over several rounds, failures
 * and error samples, the settings, and the machine.
 *
 * @module
 */

import { formatNumber, toMib } from "../format.ts";
import { settleMs, sizesFor } from "../plan.ts";
import { readProcText } from "../proc.ts";
import { PEER_LABELS, type PeersOptions } from "./args.ts";
import { CALC_RUNS } from "./calcstorm.ts";
import type { TargetResult } from "./measure.ts";

/** RSS after each round and notify msg/s per round, when ours ran several rounds. */
function roundsNotes(results: readonly TargetResult[]): string[] {
  const ours = results.find((r) => r.target === "ours")?.bench;
  if (!ours || ours.rss.afterRoundsKiB.length <= 1) return [];
  const rs = ours.rss.afterRoundsKiB;
  const mibs = rs.map((k) => formatNumber(toMib(k), 1));
  const first = rs[0];
  const last = rs.at(-1);
  const growth = first != null && last != null ? (last - first) / 1024 : null;
  const rates = ours.rounds.map((round) => round.find((s) => s.name === "notify")?.rate);
  return [
    `Ours, the same load ${rs.length} times on one hub: RSS after each round ${
      mibs.join(", ")
    } MiB (round 1 → ${rs.length}: ${
      growth === null ? "n/a" : `${growth >= 0 ? "+" : ""}${formatNumber(growth, 1)} MiB`
    }).`,
    `Ours, notify msg/s per round: ${rates.map((x) => formatNumber(x, 0)).join(", ")}.`,
  ];
}

/** Every failure and error sample, per target. */
function failureNotes(results: readonly TargetResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const label = PEER_LABELS[r.target];
    if (r.error) out.push(`${label}: FAILED: ${r.error}`);
    for (const s of [...r.bench?.rounds.flat() ?? [], ...r.big?.rounds.flat() ?? []]) {
      for (const e of s.errorSamples) out.push(`${label} ${s.name}: ${e}`);
    }
    for (const [mode, c] of Object.entries(r.calc)) {
      if (c?.error) out.push(`${label} calcstorm ${mode}: ${c.error}`);
    }
  }
  return out;
}

/** What the big scenarios were, when they ran. */
function bigNote(results: readonly TargetResult[], o: PeersOptions): string[] {
  const sizes = results.find((r) => r.big)?.big?.settings.sizes;
  if (!o.big || !sizes) return [];
  const z = sizes.big;
  return [
    `Big scenarios (once per target, after calcstorm, \`bench.ts --only big\`): a ` +
    `table.select.rowList of ${formatNumber(z.rows)} row indices sent by notify (timed until ` +
    `the receiver has the body) and by call (until the reply reaches the caller), and a ` +
    `${formatNumber(z.metadataBytes / 1e6, 1)} MB metadata value fetched by ${z.fetchers} ` +
    `clients at once (until all have it): ${z.repeats} transfers each, one at a time, the ` +
    `median reported; the request is encoded before the clock starts, and each receiver ` +
    `checks every item (in order, exactly once) after it stops. fanoutMany and stormMany: ` +
    `${formatNumber(z.clients)} clients, each with its own callback server (the storm's ` +
    `clients subscribed to its register and unregister events), for the scenario duration. ` +
    `The bystander is a client in its own thread calling samp.hub.ping every ` +
    `${z.bystanderIntervalMs} ms, one call at a time; its latency counts the calls that ` +
    `overlap a transfer (or the load).`,
  ];
}

/** What the load was. */
function settingsNote(o: PeersOptions): string {
  const s = sizesFor(o.quick);
  const lanes = `${s.notify.senders} senders × ${s.notify.window} in flight, ` +
    `${s.notify.receivers} receivers`;
  const runs = o.quick ? 1 : CALC_RUNS;
  return `Settings: ${o.duration} s per scenario, closed loop (a message counts as in flight until ` +
    `every recipient has it); notify and call: ${lanes}; callAndWait: 1 caller, 1 in flight; ` +
    `notifyAll: ${s.fanWindow} in flight; storm: ${s.stormWorkers} concurrent workers, each ` +
    `cycle ending when an observer has its register and unregister events. RSS "after" is read ` +
    `${settleMs(o.quick) / 1000} s after the load. calcstorm: ` +
    `\`jsamp calcstorm -nclient 10 -nquery 300\`, the median of ${runs} runs per mode. ` +
    `The ceiling is a bare Deno.serve relay (POST in, POST out, no XML parsed) ` +
    `forwarding through the hub's own HTTP client; ` +
    `registration and calcstorm do not apply to it. ↑ higher is better, ↓ lower is better.`;
}

/**
 * The notes printed under the table (and written after the Markdown one).
 *
 * @example
 * ```ts ignore
 * import { notes } from "./notes.ts";
 * for (const line of notes(results, options, await machineInfo())) console.log(line);
 * ```
 */
export function notes(
  results: readonly TargetResult[],
  o: PeersOptions,
  machine: string,
): string[] {
  return [
    ...roundsNotes(results),
    ...failureNotes(results),
    settingsNote(o),
    ...bigNote(results, o),
    `Machine: ${machine}.`,
  ];
}

/**
 * One line about this machine: OS, Deno, CPU model and count, load average.
 *
 * @example
 * ```ts ignore
 * import { machineInfo } from "./notes.ts";
 * console.log(await machineInfo()); // linux/x86_64, Deno 2.9.6, AMD EPYC, 2 CPUs, …
 * ```
 */
export async function machineInfo(): Promise<string> {
  const parts = [`${Deno.build.os}/${Deno.build.arch}`, `Deno ${Deno.version.deno}`];
  const cpu = (await readProcText("/proc/cpuinfo") ?? "").match(/^model name\s*:\s*(.*)$/m)?.[1];
  if (cpu) parts.push(cpu.trim());
  parts.push(`${navigator.hardwareConcurrency} CPUs`);
  const load = (await readProcText("/proc/loadavg") ?? "").split(" ").slice(0, 3).join(" ");
  if (load) parts.push(`load average at the end ${load}`);
  return parts.join(", ");
}

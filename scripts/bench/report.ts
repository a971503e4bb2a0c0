/**
 * The bench's report: its shape (what `--json` prints, field for field) and
 * its plain-text table.
 *
 * @module
 */

import type { ScenarioName, Sizes } from "./plan.ts";
import type { BystanderResult } from "./bystander.ts";
import { formatNumber as fmt, mib } from "./format.ts";

export type { BystanderResult } from "./bystander.ts";

/** The figures of a big-message scenario's transfers. */
export interface TransferResult {
  /** What `runsMs` measures: "send→received", "call→reply" or "all fetched". */
  measure: string;
  /** Items per transfer (rows of the row list, lines of the metadata text) … */
  items: number;
  /** … and what they are ("rows", "lines"). */
  itemUnit: string;
  /** Bytes of the big request (or of the metadata value) per transfer. */
  bytes: number;
  /** The time of each transfer, ms. */
  runsMs: number[];
  /** Their median, ms (NaN when none completed). */
  medianMs: number;
  /** Items lost and corrupted over every transfer (must be 0). */
  lostItems: number;
  corruptedItems: number;
}

/** One scenario's outcome. */
export interface ScenarioResult {
  name: ScenarioName;
  label: string;
  /** The headline rate and its unit. */
  rate: number;
  unit: string;
  seconds: number;
  /** Messages (or storm cycles) the hub accepted. */
  sent: number;
  /** Deliveries expected, received, lost (expected − received), duplicated. */
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Hub faults and transport failures. */
  errors: number;
  errorSamples: string[];
  p50Ms?: number;
  p99Ms?: number;
  /** Further figures (e.g. msg/s of a fan-out). */
  extra?: Record<string, number>;
  /** Why the scenario did not run. */
  skipped?: string;
  /** Peak hub RSS during the scenario, in KiB. */
  rssPeakKiB?: number | null;
  /** CPU use over the scenario (set-up included), in % of one core: the hub's and the bench's. */
  cpu?: { hubPct: number | null; benchPct: number };
  /** The big transfers (big-message scenarios). */
  transfer?: TransferResult;
  /** A bystander's latency during the load (big and many-client scenarios). */
  bystander?: BystanderResult;
}

/** RSS figures in KiB (null: unknown). */
export interface RssResult {
  idleKiB: number | null;
  loadKiB: number | null;
  afterKiB: number | null;
  afterRoundsKiB: (number | null)[];
}

/** The whole report (`--json`). */
export interface BenchReport {
  target: { kind: "hub" | "relay"; url: string; name?: string; pid?: number };
  settings: {
    quick: boolean;
    durationS: number;
    rounds: number;
    sizes: Sizes;
    /** The scenarios run, in order. */
    scenarios?: ScenarioName[];
  };
  /** Results of the first round. */
  scenarios: ScenarioResult[];
  /** Results of every round. */
  rounds: ScenarioResult[][];
  rss: RssResult;
  /** Callbacks the fast scanner handed to the full decoder. */
  slowParses: number;
  lost: number;
  errors: number;
  ok: boolean;
}

/** The "result" cell of a scenario's row. */
function resultCell(s: ScenarioResult): string {
  let res = s.skipped ? `skipped: ${s.skipped}` : `${fmt(s.rate)} ${s.unit}`;
  if (!s.skipped && s.p50Ms !== undefined) {
    res += `, p50 ${fmt(s.p50Ms, 2)} ms, p99 ${fmt(s.p99Ms, 2)} ms`;
  }
  if (!s.skipped && s.extra?.messagesPerSecond !== undefined) {
    res += ` (${fmt(s.extra.messagesPerSecond)} msg/s)`;
  }
  const t = s.transfer;
  if (!s.skipped && t) {
    res += `; ${t.measure} ${fmt(t.medianMs)} ms` +
      (t.runsMs.length > 1 ? ` (median of ${t.runsMs.length})` : "") +
      `, ${fmt(t.lostItems)} lost / ${fmt(t.corruptedItems)} corrupted ${t.itemUnit}`;
  }
  return res;
}

/** The bystander cell: p50/p99/max ms, or "-". */
function bystanderCell(s: ScenarioResult): string {
  const b = s.bystander;
  if (s.skipped || !b) return "-";
  return `${fmt(b.p50Ms, 1)} / ${fmt(b.p99Ms, 1)} / ${fmt(b.maxMs, 1)} ms` +
    (b.failed ? ` (${b.failed} failed)` : "");
}

/** The hub RSS line under the table. */
function rssLine(r: BenchReport): string {
  const rss = r.rss;
  if (!r.target.pid) return "hub RSS: n/a (pass --hub-pid PID, Linux)";
  return `hub RSS: idle ${mib(rss.idleKiB)}, under load (peak) ${mib(rss.loadKiB)}, after ${
    mib(rss.afterKiB)
  }` +
    (rss.afterRoundsKiB.length > 1
      ? `; after each round: ${rss.afterRoundsKiB.map(mib).join(", ")}`
      : "");
}

/**
 * The report as a plain-text table (first round), then RSS, error samples
 * of every round and the verdict.
 *
 * @example
 * ```ts ignore
 * import { formatReport } from "./report.ts";
 * import { runBench } from "./run.ts";
 * import { parseBenchArgs } from "./args.ts";
 * console.log(formatReport(await runBench(parseBenchArgs(["--quick"]))));
 * ```
 */
export function formatReport(r: BenchReport): string {
  // The bystander's column only when a scenario had one.
  const withBystander = r.scenarios.some((s) => s.bystander);
  const rows: string[][] = [[
    "scenario",
    "result",
    "lost",
    "errors",
    "hub CPU",
    "bench CPU",
    "hub RSS peak",
    ...(withBystander ? ["bystander p50 / p99 / max"] : []),
  ]];
  for (const s of r.scenarios) {
    rows.push([
      s.label,
      resultCell(s),
      s.skipped ? "-" : String(s.lost),
      String(s.errors),
      s.cpu?.hubPct != null ? `${fmt(s.cpu.hubPct)}%` : "n/a",
      s.cpu ? `${fmt(s.cpu.benchPct)}%` : "n/a",
      mib(s.rssPeakKiB),
      ...(withBystander ? [bystanderCell(s)] : []),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]): string =>
    row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const out = [
    `SAMP bench: ${
      r.target.kind === "relay" ? "bare relay" : r.target.name ?? "hub"
    } at ${r.target.url}` +
    `${r.target.pid ? ` (pid ${r.target.pid})` : ""}; ${r.settings.durationS} s per scenario` +
    (r.settings.rounds > 1 ? `, round 1 of ${r.settings.rounds}` : ""),
    "",
    line(rows[0]),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
    "",
  ];
  out.push(rssLine(r));
  out.push(
    "start → ping: n/a here (the hub was already running; `deno task bench:peers` times it)",
  );
  for (const s of r.rounds.flat()) {
    for (const e of s.errorSamples) out.push(`error in ${s.name}: ${e}`);
  }
  out.push(
    r.ok
      ? "every message arrived: 0 lost"
      : `FAILED: ${r.lost} lost, ${r.errors} errors over ${r.settings.rounds} round(s)`,
  );
  return out.join("\n");
}

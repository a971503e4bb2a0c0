/**
 * bench:peers' comparison: each metric × {ceiling, ours, JSAMP, astropy}
 * with the ratios ours/JSAMP and ours/ceiling, as text or Markdown.
 *
 * @module
 */

import { formatNumber, toMib } from "../format.ts";
import type { ScenarioName } from "../plan.ts";
import type { BenchReport, ScenarioResult } from "../report.ts";
import { peak } from "../stats.ts";
import { PEER_LABELS, PEER_TARGETS, type PeerTarget } from "./args.ts";
import { CALC_MODES } from "./calcstorm.ts";
import type { TargetResult } from "./measure.ts";

/** One row of the table. */
interface Metric {
  label: string;
  /** "up": higher is better; "down": lower is better; "zero": must be 0 (no ratio). */
  better: "up" | "down" | "zero";
  digits: number;
  get(r: TargetResult): number | null | undefined;
}

/** The first round's result of a scenario that ran. */
function scenario(r: TargetResult, name: ScenarioName): ScenarioResult | undefined {
  const s = r.bench?.scenarios.find((x) => x.name === name);
  return s && !s.skipped ? s : undefined;
}

/** The highest hub RSS of any scenario of a round. */
function peakOfRound(b: BenchReport, round: number): number | null {
  return peak((b.rounds[round] ?? []).map((s) => s.rssPeakKiB));
}

/** The share of CPU calcstorm's runs spent in the hub, in %. */
function hubCpuShare(r: TargetResult): number | null {
  let hub = 0, all = 0;
  for (const c of Object.values(r.calc)) {
    if (c?.hubCpuS === undefined || c.clientsCpuS === undefined) continue;
    hub += c.hubCpuS;
    all += c.hubCpuS + c.clientsCpuS;
  }
  return all > 0 ? 100 * hub / all : null;
}

const METRICS: readonly Metric[] = [
  { label: "start → ping answered (ms)", better: "down", digits: 0, get: (r) => r.startToPingMs },
  {
    label: "notify throughput (msg/s)",
    better: "up",
    digits: 0,
    get: (r) => scenario(r, "notify")?.rate,
  },
  {
    label: "call→reply throughput (calls/s)",
    better: "up",
    digits: 0,
    get: (r) => scenario(r, "call")?.rate,
  },
  {
    label: "callAndWait latency p50 (ms)",
    better: "down",
    digits: 2,
    get: (r) => scenario(r, "callAndWait")?.p50Ms,
  },
  {
    label: "callAndWait latency p99 (ms)",
    better: "down",
    digits: 2,
    get: (r) => scenario(r, "callAndWait")?.p99Ms,
  },
  {
    label: "notifyAll fan-out to 50 (deliveries/s)",
    better: "up",
    digits: 0,
    get: (r) => scenario(r, "fanout50")?.rate,
  },
  {
    label: "notifyAll fan-out to 200 (deliveries/s)",
    better: "up",
    digits: 0,
    get: (r) => scenario(r, "fanout200")?.rate,
  },
  {
    label: "registration storm (cycles/s)",
    better: "up",
    digits: 0,
    get: (r) => scenario(r, "storm")?.rate,
  },
  {
    label: "lost messages (must be 0)",
    better: "zero",
    digits: 0,
    get: (r) => r.bench ? r.bench.scenarios.reduce((a, s) => a + s.lost, 0) : null,
  },
  {
    label: "errors",
    better: "zero",
    digits: 0,
    get: (r) => r.bench ? r.bench.scenarios.reduce((a, s) => a + s.errors, 0) : null,
  },
  {
    label: "RSS idle (MiB)",
    better: "down",
    digits: 1,
    get: (r) => toMib(r.bench?.rss.idleKiB),
  },
  {
    label: "RSS under load, peak (MiB)",
    better: "down",
    digits: 1,
    get: (r) => toMib(r.bench?.rounds.length ? peakOfRound(r.bench, 0) : null),
  },
  {
    label: "RSS after (MiB)",
    better: "down",
    digits: 1,
    get: (r) => toMib(r.bench?.rss.afterRoundsKiB[0]),
  },
  ...CALC_MODES.map((mode): Metric => ({
    label: `calcstorm ${mode} (µs/message)`,
    better: "down",
    digits: 0,
    get: (r) => r.calc[mode]?.usPerMessage,
  })),
  {
    label: "calcstorm: hub's share of CPU used (%)",
    better: "down",
    digits: 0,
    get: hubCpuShare,
  },
];

function ratio(a: number | null | undefined, b: number | null | undefined, m: Metric): string {
  if (m.better === "zero") return "";
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "n/a";
  return `${(a / b).toFixed(2)}×`;
}

/**
 * The comparison as rows of cells, the header first; targets not measured
 * read "not run".
 *
 * @example
 * ```ts
 * import { buildTable } from "./table.ts";
 * const rows = buildTable([]);
 * console.log(rows[0].join(" | ")); // metric | ceiling | ours | JSAMP | astropy | ours/JSAMP | ours/ceiling
 * ```
 */
export function buildTable(results: readonly TargetResult[]): string[][] {
  const by = (t: PeerTarget): TargetResult | undefined => results.find((r) => r.target === t);
  const header = [
    "metric",
    ...PEER_TARGETS.map((t) => PEER_LABELS[t]),
    "ours/JSAMP",
    "ours/ceiling",
  ];
  const rows = [header];
  for (const m of METRICS) {
    const v = (t: PeerTarget): number | null | undefined => {
      const r = by(t);
      return r ? m.get(r) : undefined;
    };
    const arrow = m.better === "up" ? " ↑" : m.better === "down" ? " ↓" : "";
    rows.push([
      m.label + arrow,
      ...PEER_TARGETS.map((t) => (by(t) ? formatNumber(v(t), m.digits) : "not run")),
      ratio(v("ours"), v("jsamp"), m),
      ratio(v("ours"), v("ceiling"), m),
    ]);
  }
  return rows;
}

/**
 * Rows as an aligned text table: the first column left-aligned, the others right.
 *
 * @example
 * ```ts
 * import { textTable } from "./table.ts";
 * console.log(textTable([["metric", "ours"], ["notify", "20,872"]]));
 * ```
 */
export function textTable(rows: readonly string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

/**
 * Rows as a Markdown table (numbers right-aligned, `|` escaped).
 *
 * @example
 * ```ts
 * import { markdownTable } from "./table.ts";
 * console.log(markdownTable([["metric", "ours"], ["notify", "20,872"]]));
 * ```
 */
export function markdownTable(rows: readonly string[][]): string {
  const esc = (c: string): string => c.replaceAll("|", "\\|");
  return [
    `| ${rows[0].map(esc).join(" | ")} |`,
    `|${rows[0].map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...rows.slice(1).map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/**
 * bench:peers' comparison: each metric × {ceiling, ours, JSAMP, astropy}
 * with the ratios ours/JSAMP and ours/ceiling, as text or Markdown.
 *
 * @module
 */

import { formatNumber, toMib } from "../format.ts";
import type { BigSizes, ScenarioName } from "../plan.ts";
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

/** The first round's result of a scenario that ran (standard or big). */
function scenario(r: TargetResult, name: ScenarioName): ScenarioResult | undefined {
  const s = r.bench?.scenarios.find((x) => x.name === name) ??
    r.big?.scenarios.find((x) => x.name === name);
  return s && !s.skipped ? s : undefined;
}

/** Every scenario result of a target's first rounds, standard and big. */
function allScenarios(r: TargetResult): ScenarioResult[] {
  return [...r.bench?.scenarios ?? [], ...r.big?.scenarios ?? []];
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
    get: (r) => r.bench ? allScenarios(r).reduce((a, s) => a + s.lost, 0) : null,
  },
  {
    label: "errors",
    better: "zero",
    digits: 0,
    get: (r) => r.bench ? allScenarios(r).reduce((a, s) => a + s.errors, 0) : null,
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

/** The big scenarios' rows, labelled with their sizes. */
function bigMetrics(z: BigSizes): Metric[] {
  const n = (x: number): string => formatNumber(x, 0);
  const ms = (name: ScenarioName, what: string, label: string): Metric[] => [
    {
      label: `${label}, ${what} (ms)`,
      better: "down",
      digits: 0,
      get: (r) => scenario(r, name)?.transfer?.medianMs,
    },
    ...bystanderRows(name, `during the ${label}`, ["p50Ms", "p99Ms", "maxMs"]),
  ];
  const rowList = `rowList ${n(z.rows)} rows`;
  const metadata = `${formatNumber(z.metadataBytes / 1e6, 1)} MB metadata × ${z.fetchers} ` +
    "concurrent getMetadata";
  const big: ScenarioName[] = ["rowListNotify", "rowListCall", "bigMetadata"];
  const many: ScenarioName[] = ["fanoutMany", "stormMany"];
  return [
    ...ms("rowListNotify", "send → received", `${rowList} notify`),
    ...ms("rowListCall", "call → reply", `${rowList} call`),
    ...ms("bigMetadata", "all fetched", metadata),
    {
      label: "big transfers: rows and lines lost + corrupted (must be 0)",
      better: "zero",
      digits: 0,
      get: (r) => {
        const ts = big.map((b) => scenario(r, b)?.transfer).filter((t) => t !== undefined);
        return ts.length ? ts.reduce((a, t) => a + t.lostItems + t.corruptedItems, 0) : null;
      },
    },
    {
      label: "hub RSS peak during the big transfers (MiB)",
      better: "down",
      digits: 1,
      get: (r) => toMib(peak(big.map((b) => scenario(r, b)?.rssPeakKiB))),
    },
    {
      label: `notifyAll fan-out to ${n(z.clients)} (deliveries/s)`,
      better: "up",
      digits: 0,
      get: (r) => scenario(r, "fanoutMany")?.rate,
    },
    ...bystanderRows("fanoutMany", `during the fan-out to ${n(z.clients)}`, ["p99Ms", "maxMs"]),
    {
      label: `registration storm with ${n(z.clients)} clients listening (cycles/s)`,
      better: "up",
      digits: 1,
      get: (r) => scenario(r, "stormMany")?.rate,
    },
    {
      label: `registration storm with ${n(z.clients)}: event deliveries/s`,
      better: "up",
      digits: 0,
      get: (r) => scenario(r, "stormMany")?.extra?.eventDeliveriesPerSecond,
    },
    ...bystanderRows("stormMany", `during the storm with ${n(z.clients)}`, ["p99Ms", "maxMs"]),
    {
      label: `hub RSS peak with ${n(z.clients)} clients (MiB)`,
      better: "down",
      digits: 1,
      get: (r) => toMib(peak(many.map((b) => scenario(r, b)?.rssPeakKiB))),
    },
  ];
}

/** Rows of a scenario's bystander latency. */
function bystanderRows(
  name: ScenarioName,
  during: string,
  which: ("p50Ms" | "p99Ms" | "maxMs")[],
): Metric[] {
  const word = { p50Ms: "p50", p99Ms: "p99", maxMs: "max" };
  return which.map((k) => ({
    label: `bystander ${word[k]} ${during} (ms)`,
    better: "down",
    digits: 1,
    get: (r) => scenario(r, name)?.bystander?.[k],
  }));
}

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
  // The big rows when any target ran the big scenarios, with its sizes.
  const sizes = results.find((r) => r.big)?.big?.settings.sizes.big;
  for (const m of [...METRICS, ...(sizes ? bigMetrics(sizes) : [])]) {
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

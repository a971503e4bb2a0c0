/**
 * Side-by-side benchmark: `deno task bench:peers [--duration S] [--markdown FILE]`.
 *
 * One at a time, it starts each of
 *
 * - the relay ceiling: a bare `Deno.serve` relay (built here, run as a child
 *   `deno run` of this script) that takes a POST and forwards it to a
 *   receiver without parsing it, routed by its query string (see
 *   scripts/bench.ts for the protocol);
 * - ours: `deno run` of hub.ts with the permissions of scripts/permissions.ts,
 *   `--no-web-profile`;
 * - JSAMP's hub: `jsamp hub -mode no-gui -profiles std` (Debian `jsamp`);
 * - astropy's hub: SAMPHubServer (Debian `python3-astropy`), via
 *   tests/peers/astropy_hub.py;
 *
 * each with a private lockfile (scripts/hubs.ts: HOME and SAMP_HUB point into
 * a new temp dir, never at ~/.samp), times it from spawn to its first
 * `samp.hub.ping` answer (after one unmeasured warm-up start, so every hub
 * starts from a warm page cache), runs scripts/bench.ts against it as a
 * subprocess (`--json --hub-pid PID`; 5 rounds for ours, RSS after each),
 * runs JSAMP's `jsamp calcstorm -nclient 10 -nquery 300 -mode M` for M in
 * sync, async, notify, random (three times each, the median counts, with the
 * CPU the hub and calcstorm's JVM used), and stops it by PID. Then it prints one
 * table, each metric × {ceiling, ours, JSAMP, astropy} with the ratios
 * ours/JSAMP and ours/ceiling, and writes it as Markdown with
 * `--markdown FILE`.
 *
 * Everything listens on 127.0.0.1 (JSAMP's hub also binds the wildcard
 * address: see scripts/hubs.ts), and every child is bounded in time.
 *
 * @module
 */

import { BENCH_PERMISSIONS } from "./permissions.ts";
import {
  type AnyHub,
  collectOutput,
  type HubKind,
  privateEnv,
  ROOT,
  runBounded,
  startAnyHub,
} from "./hubs.ts";
import { type BenchReport, readCpuSeconds, type ScenarioResult, SETTLE_MS } from "./bench.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import { encodeResponse } from "../lib/xmlrpc.ts";
import { createHttpPool } from "../lib/transport/http_pool.ts";

// ---------------------------------------------------------------- the bare relay

const XML_HEADERS = { "content-type": "text/xml" };
const EMPTY = encodeResponse("");

/**
 * The relay ceiling: takes a POST and forwards its body, routed by the query
 * string, answering at once (`/fwd`, `/fan`) or when the reply comes back
 * (`/wait` … `/done`). Anything else (a ping) gets an empty XML-RPC answer.
 * It forwards through the same HTTP client as the hub's callbacks
 * (lib/transport/http_pool.ts), so it stays the ceiling of what the hub's
 * transport can do.
 */
export function serveRelay(port: number): Deno.HttpServer<Deno.NetAddr> {
  const groups = new Map<string, string[]>();
  const held = new Map<string, (body: string) => void>();
  let failures = 0;
  const pool = createHttpPool();
  const forward = (to: string | null, body: string) => {
    if (!to) return void failures++;
    pool.post(to, body)
      .catch((e) => {
        if (failures++ < 5) console.error(`relay: forwarding to ${to} failed: ${e}`);
      });
  };
  const ok = () => new Response(EMPTY, { headers: XML_HEADERS });
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const q = url.searchParams;
    const body = await req.text();
    switch (url.pathname) {
      case "/fwd":
        forward(q.get("to"), body);
        return ok();
      case "/group":
        groups.set(q.get("id") ?? "", body.split("\n").filter(Boolean));
        return ok();
      case "/fan":
        for (const to of groups.get(q.get("group") ?? "") ?? []) forward(to, body);
        return ok();
      case "/wait": {
        const id = q.get("id") ?? "";
        let timer: ReturnType<typeof setTimeout> | undefined;
        const answer = new Promise<string | null>((resolve) => {
          held.set(id, resolve);
          timer = setTimeout(() => resolve(null), 60000);
        });
        forward(q.get("to"), body);
        const text = await answer;
        clearTimeout(timer);
        held.delete(id);
        return text === null
          ? new Response("no reply within 60 s\n", { status: 504 })
          : new Response(text, { headers: XML_HEADERS });
      }
      case "/done":
        held.get(q.get("id") ?? "")?.(body);
        return ok();
      default:
        return ok();
    }
  });
  server.finished.then(() => pool.close());
  return server;
}

// ---------------------------------------------------------------- options

interface PeersOptions {
  duration: number;
  rounds: number;
  markdown?: string;
  json?: string;
  only: Target[];
  calcstorm: boolean;
  quick: boolean;
}

type Target = "ceiling" | HubKind;
const TARGETS: Target[] = ["ceiling", "ours", "jsamp", "astropy"];
const LABEL: Record<Target, string> = {
  ceiling: "ceiling",
  ours: "ours",
  jsamp: "JSAMP",
  astropy: "astropy",
};
const CALC_MODES = ["sync", "async", "notify", "random"] as const;
/** A calcstorm run takes seconds; one that hangs (astropy's hub, sync mode) is killed. */
const CALC_TIMEOUT_MS = 120_000;

const USAGE = `usage: deno task bench:peers [--duration S] [--rounds N] [--markdown FILE]
                             [--json FILE] [--only ceiling,ours,jsamp,astropy]
                             [--no-calcstorm] [--quick]`;

function parseArgs(args: string[]): PeersOptions {
  const o: PeersOptions = {
    duration: NaN,
    rounds: 5,
    only: TARGETS,
    calcstorm: true,
    quick: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case "--duration":
        o.duration = Number(value());
        if (!(o.duration > 0)) throw new Error("--duration must be a positive number");
        break;
      case "--rounds":
        o.rounds = Math.floor(Number(value()));
        if (!(o.rounds >= 1)) throw new Error("--rounds must be at least 1");
        break;
      case "--markdown":
        o.markdown = value();
        break;
      case "--json":
        o.json = value();
        break;
      case "--only": {
        const names = value().split(",").map((s) => s.trim()) as Target[];
        for (const n of names) {
          if (!TARGETS.includes(n)) throw new Error(`--only: unknown target ${n}`);
        }
        o.only = names;
        break;
      }
      case "--no-calcstorm":
        o.calcstorm = false;
        break;
      case "--quick":
        o.quick = true;
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (Number.isNaN(o.duration)) o.duration = o.quick ? 0.4 : 3;
  return o;
}

// ---------------------------------------------------------------- running things

const BENCH = `${ROOT}scripts/bench.ts`;
const SELF = new URL(import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Children of run() still running (killed on SIGINT/SIGTERM). */
const children = new Set<Deno.ChildProcess>();

/** Runs a command to completion (SIGKILL after `timeoutMs`), tracked in `children`. */
function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs: number },
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  return runBounded(cmd, args, { ...opts, running: children });
}

/** A free loopback port (closed again at once). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface Running {
  pid: number;
  startToPingMs: number;
  /** For the relay: its URL; for a hub: the hub. */
  relayUrl?: string;
  hub?: AnyHub;
  env: Record<string, string>;
  cwd: string;
  stop(): Promise<void>;
}

/** Starts the relay as a child process and times it from spawn to its first answer. */
async function startRelay(): Promise<Running> {
  const dir = await Deno.makeTempDir({ prefix: "samp-relay-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}/`;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--config=${ROOT}deno.json`,
      "--allow-net",
      SELF,
      "--serve-relay",
      String(port),
    ],
    env: privateEnv(dir, ""),
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = collectOutput(child);
  const stop = async () => {
    if (out.code === undefined) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
    }
    await out.wait(10000).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    while (true) {
      if (out.code !== undefined) throw new Error(`the relay exited: ${out.text()}`);
      if (performance.now() - started > 30000) throw new Error("the relay did not answer");
      try {
        await xmlrpcRequest(url, "samp.hub.ping", [], { timeoutMs: 2000 });
        break;
      } catch {
        await sleep(1);
      }
    }
    return {
      pid: child.pid,
      startToPingMs: performance.now() - started,
      relayUrl: url,
      env: privateEnv(dir, ""),
      cwd: dir,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** What is running now, stopped on SIGINT/SIGTERM before exiting. */
const running = new Set<Running>();

async function start(target: Target): Promise<Running> {
  const r = await startTarget(target);
  const stop = r.stop;
  r.stop = async () => {
    running.delete(r);
    await stop();
  };
  running.add(r);
  return r;
}

async function startTarget(target: Target): Promise<Running> {
  if (target === "ceiling") return await startRelay();
  const hub = await startAnyHub(target, { outputTail: 64 * 1024 });
  return {
    pid: hub.pid,
    startToPingMs: hub.startToPingMs,
    hub,
    env: hub.env(),
    cwd: hub.dir,
    stop: () => hub.stop(),
  };
}

/** Runs scripts/bench.ts against a running target and returns its report. */
async function runBenchOn(r: Running, o: PeersOptions, rounds: number): Promise<BenchReport> {
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
  ];
  // Six scenarios per round, each bounded by its duration plus message timeouts.
  const timeoutMs = rounds * (6 * o.duration * 1000 + 240_000) + 60_000;
  const res = await run(Deno.execPath(), args, { env: r.env, cwd: r.cwd, timeoutMs });
  if (res.timedOut) throw new Error(`bench.ts did not finish within ${timeoutMs / 1000} s`);
  try {
    return JSON.parse(res.stdout) as BenchReport;
  } catch {
    throw new Error(`bench.ts exited ${res.code} without a report:\n${res.stdout}${res.stderr}`);
  }
}

interface CalcResult {
  usPerMessage: number | null;
  elapsedMs: number | null;
  /** CPU seconds the hub used during the run. */
  hubCpuS?: number;
  /** CPU seconds calcstorm's JVM (its ten clients) used. */
  clientsCpuS?: number;
  error?: string;
}

/** Runs of each calcstorm mode per hub; the median is reported. */
const CALC_RUNS = 3;

/** The run with the median time (a failed run wins: it is reported); CPU summed over runs. */
function medianCalc(results: CalcResult[]): CalcResult {
  const failed = results.find((r) => r.error || r.usPerMessage === null);
  if (failed) return failed;
  const sorted = [...results].sort((a, b) => a.usPerMessage! - b.usPerMessage!);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const sum = (f: (r: CalcResult) => number | undefined) =>
    results.every((r) => f(r) !== undefined) ? results.reduce((a, r) => a + f(r)!, 0) : undefined;
  return { ...median, hubCpuS: sum((r) => r.hubCpuS), clientsCpuS: sum((r) => r.clientsCpuS) };
}

/** Runs `jsamp calcstorm` against a hub and parses its timing line. */
async function calcstorm(hub: AnyHub, mode: string): Promise<CalcResult> {
  // Who limits it: the hub's CPU, and calcstorm's (a child this process waits for).
  const hub0 = await readCpuSeconds(hub.pid);
  const kids0 = await readCpuSeconds(Deno.pid, "children");
  const res = await run(
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

interface TargetResult {
  target: Target;
  startToPingMs?: number;
  bench?: BenchReport;
  calc: Partial<Record<typeof CALC_MODES[number], CalcResult>>;
  error?: string;
}

async function measure(target: Target, o: PeersOptions, log: (s: string) => void) {
  const result: TargetResult = { target, calc: {} };
  try {
    // One unmeasured start, so every hub starts from a warm page cache.
    log(`${LABEL[target]}: warm-up start`);
    await (await start(target)).stop();
    log(`${LABEL[target]}: start`);
    const r = await start(target);
    try {
      result.startToPingMs = r.startToPingMs;
      log(`${LABEL[target]}: up in ${r.startToPingMs.toFixed(0)} ms (pid ${r.pid}); bench`);
      result.bench = await runBenchOn(r, o, target === "ours" ? o.rounds : 1);
      if (r.hub && o.calcstorm) {
        // A JVM run varies by ±20 %: each mode runs CALC_RUNS times, the median counts.
        const runs = o.quick ? 1 : CALC_RUNS;
        for (const mode of CALC_MODES) {
          const results: CalcResult[] = [];
          for (let i = 0; i < runs; i++) {
            log(`${LABEL[target]}: calcstorm -mode ${mode} (${i + 1}/${runs})`);
            const c = await calcstorm(r.hub, mode);
            results.push(c);
            if (c.error) break;
          }
          result.calc[mode] = medianCalc(results);
        }
      }
    } finally {
      await r.stop();
    }
  } catch (e) {
    result.error = (e as Error).message;
    log(`${LABEL[target]}: FAILED: ${result.error}`);
  }
  return result;
}

// ---------------------------------------------------------------- the table

interface Metric {
  label: string;
  /** "up": higher is better; "down": lower is better. */
  better: "up" | "down" | "zero";
  digits: number;
  get(r: TargetResult): number | null | undefined;
}

function scenario(r: TargetResult, name: string): ScenarioResult | undefined {
  const s = r.bench?.scenarios.find((x) => x.name === name);
  return s && !s.skipped ? s : undefined;
}

const MIB = (kib: number | null | undefined) => kib == null ? null : kib / 1024;

const METRICS: Metric[] = [
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
    get: (r) => MIB(r.bench?.rss.idleKiB),
  },
  {
    label: "RSS under load, peak (MiB)",
    better: "down",
    digits: 1,
    get: (r) => MIB(r.bench?.rounds.length ? peakOfRound(r.bench, 0) : null),
  },
  {
    label: "RSS after (MiB)",
    better: "down",
    digits: 1,
    get: (r) => MIB(r.bench?.rss.afterRoundsKiB[0]),
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
    get: (r) => {
      let hub = 0, all = 0;
      for (const c of Object.values(r.calc)) {
        if (c?.hubCpuS === undefined || c.clientsCpuS === undefined) continue;
        hub += c.hubCpuS;
        all += c.hubCpuS + c.clientsCpuS;
      }
      return all > 0 ? 100 * hub / all : null;
    },
  },
];

function peakOfRound(b: BenchReport, round: number): number | null {
  let peak: number | null = null;
  for (const s of b.rounds[round] ?? []) {
    if (s.rssPeakKiB != null && (peak === null || s.rssPeakKiB > peak)) peak = s.rssPeakKiB;
  }
  return peak;
}

function num(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  return v.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(a: number | null | undefined, b: number | null | undefined, m: Metric): string {
  if (m.better === "zero") return "";
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "n/a";
  return `${(a / b).toFixed(2)}×`;
}

function buildTable(results: TargetResult[]): string[][] {
  const by = (t: Target) => results.find((r) => r.target === t);
  const header = ["metric", ...TARGETS.map((t) => LABEL[t]), "ours/JSAMP", "ours/ceiling"];
  const rows = [header];
  for (const m of METRICS) {
    const v = (t: Target) => {
      const r = by(t);
      return r ? m.get(r) : undefined;
    };
    const arrow = m.better === "up" ? " ↑" : m.better === "down" ? " ↓" : "";
    rows.push([
      m.label + arrow,
      ...TARGETS.map((t) => (by(t) ? num(v(t), m.digits) : "not run")),
      ratio(v("ours"), v("jsamp"), m),
      ratio(v("ours"), v("ceiling"), m),
    ]);
  }
  return rows;
}

function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  const line = (r: string[]) =>
    r.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

function markdownTable(rows: string[][]): string {
  const esc = (c: string) => c.replaceAll("|", "\\|");
  return [
    `| ${rows[0].map(esc).join(" | ")} |`,
    `|${rows[0].map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...rows.slice(1).map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

function notes(results: TargetResult[], o: PeersOptions, machine: string): string[] {
  const out: string[] = [];
  const ours = results.find((r) => r.target === "ours")?.bench;
  if (ours && ours.rss.afterRoundsKiB.length > 1) {
    const rs = ours.rss.afterRoundsKiB;
    const mibs = rs.map((k) => num(MIB(k), 1));
    const first = rs[0];
    const last = rs.at(-1);
    const growth = first != null && last != null ? (last - first) / 1024 : null;
    out.push(
      `Ours, the same load ${rs.length} times on one hub: RSS after each round ${
        mibs.join(", ")
      } MiB (round 1 → ${rs.length}: ${
        growth === null ? "n/a" : `${growth >= 0 ? "+" : ""}${num(growth, 1)} MiB`
      }).`,
    );
    const rates = ours.rounds.map((round) => round.find((s) => s.name === "notify")?.rate);
    out.push(`Ours, notify msg/s per round: ${rates.map((x) => num(x, 0)).join(", ")}.`);
  }
  for (const r of results) {
    if (r.error) out.push(`${LABEL[r.target]}: FAILED: ${r.error}`);
    for (const s of r.bench?.rounds.flat() ?? []) {
      for (const e of s.errorSamples) out.push(`${LABEL[r.target]} ${s.name}: ${e}`);
    }
    for (const [mode, c] of Object.entries(r.calc)) {
      if (c?.error) out.push(`${LABEL[r.target]} calcstorm ${mode}: ${c.error}`);
    }
  }
  out.push(
    `Settings: ${o.duration} s per scenario, closed loop (a message counts as in flight until ` +
      `every recipient has it); notify and call: ${
        o.quick ? "2 senders × 4 in flight, 2 receivers" : "4 senders × 8 in flight, 4 receivers"
      }; callAndWait: 1 caller, 1 in flight; notifyAll: ${o.quick ? 2 : 4} in flight; storm: ${
        o.quick ? 4 : 8
      } concurrent workers, each cycle ending when an observer has its register and ` +
      `unregister events. RSS "after" is read ${
        o.quick ? "0.2" : SETTLE_MS / 1000
      } s after the load. calcstorm: \`jsamp calcstorm -nclient 10 -nquery 300\`, the median of ${
        o.quick ? 1 : CALC_RUNS
      } runs per mode. ` +
      `The ceiling is a bare Deno.serve relay (POST in, POST out, no XML parsed) ` +
      `forwarding through the hub's own HTTP client; ` +
      `registration and calcstorm do not apply to it. ↑ higher is better, ↓ lower is better.`,
  );
  out.push(`Machine: ${machine}.`);
  return out;
}

/** A /proc file's text (via `cat`: Deno reads /proc only with --allow-all), or "". */
async function procFile(path: string): Promise<string> {
  if (Deno.build.os !== "linux") return "";
  try {
    return (await run("cat", [path], { timeoutMs: 5000 })).stdout;
  } catch {
    return "";
  }
}

async function machineInfo(): Promise<string> {
  const parts = [`${Deno.build.os}/${Deno.build.arch}`, `Deno ${Deno.version.deno}`];
  const cpu = (await procFile("/proc/cpuinfo")).match(/^model name\s*:\s*(.*)$/m)?.[1];
  if (cpu) parts.push(cpu.trim());
  parts.push(`${navigator.hardwareConcurrency} CPUs`);
  const load = (await procFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  if (load) parts.push(`load average at the end ${load}`);
  return parts.join(", ");
}

// ---------------------------------------------------------------- main

if (import.meta.main) {
  if (Deno.args[0] === "--serve-relay") {
    const server = serveRelay(Number(Deno.args[1] ?? 0));
    const stop = () => server.shutdown();
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
    console.log(`relay at http://127.0.0.1:${server.addr.port}/`);
    await server.finished;
    Deno.exit(0);
  }
  let o: PeersOptions;
  try {
    o = parseArgs(Deno.args);
  } catch (e) {
    console.error(`bench:peers: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
  const interrupted = async () => {
    log("interrupted: stopping what runs");
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await Promise.all([...running].map((r) => r.stop().catch(() => {})));
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  const results: TargetResult[] = [];
  for (const t of o.only) results.push(await measure(t, o, log));
  const rows = buildTable(results);
  const machine = await machineInfo();
  const extra = notes(results, o, machine);
  console.log("");
  console.log(textTable(rows));
  console.log("");
  for (const n of extra) console.log(n);
  if (o.markdown) {
    const md = [markdownTable(rows), "", ...extra.map((n) => `${n}\n`)].join("\n");
    await Deno.writeTextFile(o.markdown, md);
    log(`wrote ${o.markdown}`);
  }
  if (o.json) {
    await Deno.writeTextFile(o.json, JSON.stringify({ machine, results }, null, 2));
    log(`wrote ${o.json}`);
  }
  // Failures of ours or of the relay fail the run; the peers' own losses are only reported.
  const bad = results.some((r) =>
    r.error || (r.bench && !r.bench.ok && (r.target === "ours" || r.target === "ceiling"))
  );
  Deno.exit(bad ? 1 : 0);
}

/**
 * The command line of `deno task bench`.
 *
 * @module
 */

import { SCENARIO_NAMES, type ScenarioName } from "./plan.ts";

/** Settings of one bench run. */
export interface BenchOptions {
  /** A few seconds in all, small client counts (CI smoke run). */
  quick: boolean;
  /** Print JSON instead of a table. */
  json: boolean;
  /** Seconds per scenario. */
  duration: number;
  /** The hub's process id, for RSS. */
  hubPid?: number;
  /** Drive the bare relay at this URL instead of a hub. */
  relay?: string;
  /** Lockfile path or URL instead of SAMP_HUB. */
  lockfile?: string;
  /** Repeat the whole load this many times (RSS after each round). */
  rounds: number;
  /** Run only these scenarios. */
  only?: ScenarioName[];
}

/** The usage text (printed for `--help` and after a bad flag). */
export const BENCH_USAGE = `usage: deno task bench [--quick] [--json] [--duration S] [--hub-pid PID]
                       [--rounds N] [--only a,b] [--lockfile FILE] [--relay URL]

Drives the SAMP hub found through SAMP_HUB (std-lockurl:file:///path) or ~/.samp.
Scenarios: ${SCENARIO_NAMES.join(", ")}.`;

/**
 * A bad command line (exit status 2), or `--help` when the message is empty
 * (exit status 0); either way the usage follows.
 */
export class UsageError extends Error {
  /** The message says what is wrong; an empty one means help was asked for. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

/**
 * Parses the bench's command line; `--duration` defaults to 0.4 s with
 * `--quick`, else 5 s.
 *
 * @throws {UsageError} for an unknown or malformed flag, or for `--help`.
 *
 * @example
 * ```ts
 * import { parseBenchArgs } from "./args.ts";
 * const o = parseBenchArgs(["--quick", "--only", "notify,call"]);
 * console.log(o.duration, o.only); // 0.4 ["notify", "call"]
 * ```
 */
export function parseBenchArgs(args: readonly string[]): BenchOptions {
  const o: BenchOptions = { quick: false, json: false, duration: NaN, rounds: 1 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.startsWith("--") && a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const num = (min: number): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag}: bad number ${v}`);
      return n;
    };
    switch (flag) {
      case "--quick":
        o.quick = true;
        break;
      case "--json":
        o.json = true;
        break;
      case "--duration":
        o.duration = num(0.1);
        break;
      case "--hub-pid":
        o.hubPid = num(1);
        break;
      case "--rounds":
        o.rounds = Math.floor(num(1));
        break;
      case "--relay":
        o.relay = value();
        break;
      case "--lockfile":
        o.lockfile = value();
        break;
      case "--only": {
        const names = value().split(",").map((s) => s.trim()).filter(Boolean);
        const only: ScenarioName[] = [];
        for (const n of names) {
          if (!isScenarioName(n)) {
            throw new UsageError(`--only: unknown scenario ${n} (${SCENARIO_NAMES.join(", ")})`);
          }
          only.push(n);
        }
        o.only = only;
        break;
      }
      case "-h":
      case "--help":
        throw new UsageError("");
      default:
        throw new UsageError(`unknown argument ${a}`);
    }
  }
  if (Number.isNaN(o.duration)) o.duration = o.quick ? 0.4 : 5;
  return o;
}

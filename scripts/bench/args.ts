/**
 * The command line of `deno task bench`.
 *
 * @module
 */

import {
  ALL_SCENARIO_NAMES,
  BIG_SCENARIO_NAMES,
  type BigSizes,
  SCENARIO_NAMES,
  type ScenarioName,
} from "./plan.ts";

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
  /** Add the big-message and many-client scenarios after the standard ones. */
  big: boolean;
  /** Sizes of the big scenarios given on the command line (the rest: defaults). */
  bigSizes: Partial<BigSizes>;
}

/** The usage text (printed for `--help` and after a bad flag). */
export const BENCH_USAGE = `usage: deno task bench [--quick] [--json] [--duration S] [--hub-pid PID]
                       [--rounds N] [--only a,b] [--lockfile FILE] [--relay URL]
                       [--big] [--rows N] [--metadata-mb MB] [--fetchers N]
                       [--clients N] [--repeats N]

Drives the SAMP hub found through SAMP_HUB (std-lockurl:file:///path) or ~/.samp.
Standard scenarios (the default): ${SCENARIO_NAMES.join(", ")}.
Big scenarios: ${BIG_SCENARIO_NAMES.join(", ")}.

--big adds the big scenarios after the standard ones. They are not in the
default run: against our hub they take a minute or more (JSAMP's hub needs
several and gigabytes of memory). --only takes scenario names, or "standard"
and "big" for either group. Their sizes (the defaults are issue 15's; with
--quick they are small, for a smoke run):
  --rows N          rows of the table.select.rowList, notified and called (1000000)
  --metadata-mb MB  size of the metadata value (5, in 10^6 characters) ...
  --fetchers N      ... fetched by this many clients at once (20)
  --clients N       clients registered for fanoutMany and stormMany (500)
  --repeats N       big transfers per scenario, the median reported (3)
Each big scenario has a bystander in its own thread (a Worker) calling
samp.hub.ping every 10 ms; its latency p50/p99/max is taken over the
transfers (and over the whole load of fanoutMany and stormMany).`;

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
  return (ALL_SCENARIO_NAMES as readonly string[]).includes(name);
}

/**
 * Parses the bench's command line; `--duration` defaults to 0.4 s with
 * `--quick`, else 5 s; `--only big` names the big scenarios.
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
  const o: BenchOptions = {
    quick: false,
    json: false,
    duration: NaN,
    rounds: 1,
    big: false,
    bigSizes: {},
  };
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
          if (n === "standard") only.push(...SCENARIO_NAMES);
          else if (n === "big") only.push(...BIG_SCENARIO_NAMES);
          else if (isScenarioName(n)) only.push(n);
          else {
            throw new UsageError(
              `--only: unknown scenario ${n} (${ALL_SCENARIO_NAMES.join(", ")}, standard, big)`,
            );
          }
        }
        o.only = [...new Set(only)];
        break;
      }
      case "--big":
        o.big = true;
        break;
      case "--rows":
        o.bigSizes.rows = Math.floor(num(1));
        break;
      case "--metadata-mb":
        o.bigSizes.metadataBytes = Math.max(1, Math.round(num(0.000001) * 1e6));
        break;
      case "--fetchers":
        o.bigSizes.fetchers = Math.floor(num(1));
        break;
      case "--clients":
        o.bigSizes.clients = Math.floor(num(1));
        break;
      case "--repeats":
        o.bigSizes.repeats = Math.floor(num(1));
        break;
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

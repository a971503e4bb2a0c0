/**
 * The command line of `deno task bench:peers`, and the targets it compares.
 *
 * @module
 */

import type { HubKind } from "../../hubs.ts";
import { parseBenchArgs, UsageError } from "../args.ts";

/** What bench:peers measures: the relay ceiling, or one of the hubs. */
export type PeerTarget = "ceiling" | HubKind;

/** Every target, in the order of the table's columns. */
export const PEER_TARGETS: readonly PeerTarget[] = ["ceiling", "ours", "jsamp", "astropy"];

/** Each target's column heading. */
export const PEER_LABELS: Readonly<Record<PeerTarget, string>> = {
  ceiling: "ceiling",
  ours: "ours",
  jsamp: "JSAMP",
  astropy: "astropy",
};

/** Settings of one bench:peers run. */
export interface PeersOptions {
  /** Seconds per bench scenario. */
  duration: number;
  /** Rounds of the bench against ours (the others get one). */
  rounds: number;
  /** Also write the table as Markdown to this file. */
  markdown?: string;
  /** Also write every result as JSON to this file. */
  json?: string;
  /** The targets to measure, in this order. */
  only: readonly PeerTarget[];
  /** Run `jsamp calcstorm` against each hub. */
  calcstorm: boolean;
  /** Small client counts, short scenarios, one calcstorm run per mode. */
  quick: boolean;
  /** Run the big-message and many-client scenarios (last, once per target). */
  big: boolean;
  /** Their size flags, passed on to the bench (`--rows N` …). */
  bigArgs: string[];
}

/** The bench's size flags of the big scenarios, which bench:peers passes on. */
const BIG_SIZE_FLAGS = ["--rows", "--metadata-mb", "--fetchers", "--clients", "--repeats"];

/** The usage text (after an unknown flag). */
export const PEERS_USAGE =
  `usage: deno task bench:peers [--duration S] [--rounds N] [--markdown FILE]
                             [--json FILE] [--only ceiling,ours,jsamp,astropy]
                             [--no-calcstorm] [--quick] [--no-big] [--rows N]
                             [--metadata-mb MB] [--fetchers N] [--clients N]
                             [--repeats N]

After each target's standard scenarios and calcstorm, the big-message and
many-client scenarios run once (\`deno task bench --only big\`; their size
flags are passed on, see \`deno task bench --help\`); --no-big skips them.`;

function isPeerTarget(name: string): name is PeerTarget {
  return (PEER_TARGETS as readonly string[]).includes(name);
}

/**
 * Parses bench:peers' command line; `--duration` defaults to 0.4 s with
 * `--quick`, else 3 s.
 *
 * @throws {UsageError} for an unknown or malformed flag (exit status 2).
 *
 * @example
 * ```ts
 * import { parsePeersArgs } from "./args.ts";
 * const o = parsePeersArgs(["--only", "ours,jsamp", "--no-calcstorm"]);
 * console.log(o.only, o.calcstorm, o.duration); // ["ours", "jsamp"] false 3
 * ```
 */
export function parsePeersArgs(args: readonly string[]): PeersOptions {
  const o: PeersOptions = {
    duration: NaN,
    rounds: 5,
    only: PEER_TARGETS,
    calcstorm: true,
    quick: false,
    big: true,
    bigArgs: [],
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case "--duration":
        o.duration = Number(value());
        if (!(o.duration > 0)) throw new UsageError("--duration must be a positive number");
        break;
      case "--rounds":
        o.rounds = Math.floor(Number(value()));
        if (!(o.rounds >= 1)) throw new UsageError("--rounds must be at least 1");
        break;
      case "--markdown":
        o.markdown = value();
        break;
      case "--json":
        o.json = value();
        break;
      case "--only": {
        const only: PeerTarget[] = [];
        for (const n of value().split(",").map((s) => s.trim())) {
          if (!isPeerTarget(n)) throw new UsageError(`--only: unknown target ${n}`);
          only.push(n);
        }
        o.only = only;
        break;
      }
      case "--no-calcstorm":
        o.calcstorm = false;
        break;
      case "--quick":
        o.quick = true;
        break;
      case "--no-big":
        o.big = false;
        break;
      default:
        if (BIG_SIZE_FLAGS.includes(a)) {
          o.bigArgs.push(a, value());
          break;
        }
        throw new UsageError(`unknown argument ${a}\n${PEERS_USAGE}`);
    }
  }
  if (Number.isNaN(o.duration)) o.duration = o.quick ? 0.4 : 3;
  // The bench checks the size flags: a bad one fails here, not after an hour.
  parseBenchArgs(o.bigArgs);
  return o;
}

/**
 * Side-by-side benchmark: `deno task bench:peers [--duration S] [--markdown FILE]`.
 *
 * One at a time, it starts each of
 *
 * - the relay ceiling: a bare `Deno.serve` relay (relay_server.ts, run as a
 *   child `deno run` of the bench:peers entry with `--serve-relay PORT`)
 *   that takes a POST and forwards it to a receiver without parsing it,
 *   routed by its query string (see relay_target.ts for the protocol);
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
 * CPU the hub and calcstorm's JVM used), then (unless `--no-big`) the
 * big-message and many-client scenarios once (`bench.ts --only big`: a
 * 1,000,000-row rowList by notify and by call, 5 MB metadata fetched by 20
 * clients at once, 500 clients in a fan-out and a storm, each with a
 * bystander's latency), and stops it by PID. Then it prints one
 * table, each metric × {ceiling, ours, JSAMP, astropy} with the ratios
 * ours/JSAMP and ours/ceiling, and writes it as Markdown with
 * `--markdown FILE`.
 *
 * Everything listens on 127.0.0.1 (JSAMP's hub also binds the wildcard
 * address: see scripts/hubs.ts), and every child is bounded in time.
 *
 * Exit status: 0, or 1 when ours or the relay failed or lost messages (the
 * peers' own losses are only reported), 2 for bad flags, 130 when
 * interrupted.
 *
 * @module
 */

import { UsageError } from "../args.ts";
import { runRelay } from "../relay_server.ts";
import { parsePeersArgs, type PeersOptions } from "./args.ts";
import { Launcher } from "./launcher.ts";
import { measure, type TargetResult } from "./measure.ts";
import { machineInfo, notes } from "./notes.ts";
import { buildTable, markdownTable, textTable } from "./table.ts";

/** The flag that makes the bench:peers entry serve the relay instead (its child). */
const SERVE_RELAY = "--serve-relay";

/** A progress line on stderr, with the time of day. */
function log(s: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
}

/**
 * Runs `deno task bench:peers` with these arguments and returns the exit
 * status. `entry` is the script being run: the relay is started as
 * `entry --serve-relay PORT`, which this function also serves.
 *
 * @example
 * ```ts ignore
 * import { peersMain } from "./main.ts";
 * Deno.exit(await peersMain(Deno.args, new URL(import.meta.url).pathname));
 * ```
 */
export async function peersMain(args: readonly string[], entry: string): Promise<number> {
  if (args[0] === SERVE_RELAY) {
    await runRelay(Number(args[1] ?? 0));
    return 0;
  }
  let o: PeersOptions;
  try {
    o = parsePeersArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench:peers: ${e.message}`);
    return 2;
  }
  const launcher = new Launcher(entry);
  const interrupted = async (): Promise<void> => {
    log("interrupted: stopping what runs");
    await launcher.stopAll();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  const results: TargetResult[] = [];
  for (const t of o.only) results.push(await measure(launcher, t, o, log));
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
    r.error ||
    ((r.target === "ours" || r.target === "ceiling") &&
      [r.bench, r.big].some((b) => b && !b.ok))
  );
  return bad ? 1 : 0;
}

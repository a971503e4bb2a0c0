/**
 * Load generator for any SAMP hub: `deno task bench [--quick] [--big] [--json] [--duration S]`.
 *
 * It finds the hub through `SAMP_HUB` (else `~/.samp`, or `--lockfile FILE`)
 * and drives it with lean clients built directly on the XML-RPC transport
 * (not SampClient): each client that receives is a `Deno.serve` callback
 * server on 127.0.0.1 that answers at once and counts what it got. Every
 * message carries a sequence number, so each scenario checks that every
 * message arrived exactly once; `lost = expected − received` must be 0.
 *
 * Scenarios (each runs for `--duration` seconds, closed loop: a sender keeps
 * a fixed number of messages in flight, a message being in flight until its
 * recipients have it, so no hub queue grows without bound):
 *
 * - notify: several senders, several in flight each, several receivers
 *   (`samp.hub.notify`, round robin over the receivers);
 * - call→reply: `samp.hub.call`, the receiver replies with `samp.hub.reply`,
 *   complete when `receiveResponse` reaches the sender;
 * - callAndWait: one caller, one in flight: latency p50/p99;
 * - notifyAll fan-out to 50 and to 200 subscribed clients (deliveries/s);
 * - registration storm: register, declareMetadata, unregister in a loop,
 *   with an observer that must see every register and unregister event.
 *
 * With `--big` (not in the default run: a minute or more against our hub),
 * or named in `--only` (`--only big` for all of them), the big-message and
 * many-client scenarios follow, each with a bystander: a client in its own
 * thread (a Worker, bystander.ts) calling `samp.hub.ping` every 10 ms, whose
 * latency p50/p99/max is taken over the transfers:
 *
 * - rowListNotify, rowListCall: a `table.select.rowList` of 1,000,000 row
 *   indices (`--rows`; a 38 MB request) by notify (send → received) and by
 *   call (call → reply), `--repeats` (3) transfers one at a time, encoded
 *   before the clock starts;
 * - bigMetadata: a 5 MB metadata value (`--metadata-mb`) fetched by 20
 *   clients at once (`--fetchers`) with `samp.hub.getMetadata`;
 * - fanoutMany, stormMany: notifyAll to 500 clients (`--clients`), and the
 *   registration storm with the 500 listening to its events.
 *
 * Each receiver keeps a big body as it arrives and checks after the clock
 * stops that every row index (or metadata line) arrived, in order, exactly
 * once: lost and corrupted items must be 0 (they count as errors). With
 * `--quick` the sizes are small, for a smoke run.
 *
 * Hub RSS (`--hub-pid PID`; Linux: VmRSS of /proc/PID/status, read with
 * `cat` because Deno reads /proc/PID only with --allow-all): idle before the
 * load, the peak under load, and after it (`--rounds N` repeats the load and
 * records RSS after each round); with it, each scenario also reports the
 * hub's CPU use next to the bench's own, which shows which side is the
 * bottleneck. Start-to-ping needs the hub's spawn time, so only
 * `deno task bench:peers`, which starts the hubs, measures it.
 *
 * `--relay URL` drives the bare relay of `deno task bench:peers` instead of
 * a hub (the ceiling: one POST in, one POST out, no XML parsed), with the
 * same clients and the same messages, pre-encoded as the hub would deliver
 * them (the protocol is in relay_target.ts).
 *
 * Exit status: 0 when every scenario ran with nothing lost and no errors,
 * 1 otherwise, 2 for bad flags.
 *
 * The modules: args.ts (the command line), plan.ts (scenario names and
 * sizes), connect.ts, target.ts, hub_target.ts and relay_target.ts (what is
 * driven), client.ts and callback.ts (the bench's clients and their callback
 * parsing), tracker.ts (delivery accounting), scenarios/ (one module per
 * scenario), proc.ts (RSS and CPU), stats.ts, run.ts (a run), report.ts
 * (its JSON shape and table); peers/ is `deno task bench:peers`.
 *
 * @module
 */

import { BENCH_USAGE, type BenchOptions, parseBenchArgs, UsageError } from "./args.ts";
import { type BenchReport, formatReport } from "./report.ts";
import { runBench } from "./run.ts";

/**
 * Runs `deno task bench` with these arguments: prints the report (JSON or
 * a table) on stdout, progress and errors on stderr, and returns the exit
 * status (0 all delivered, 1 lost messages, errors or no hub, 2 bad flags).
 *
 * @example
 * ```ts ignore
 * import { benchMain } from "./main.ts";
 * Deno.exit(await benchMain(["--quick"]));
 * ```
 */
export async function benchMain(args: readonly string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(`bench: ${e.message}`);
    console.error(BENCH_USAGE);
    return e.message ? 2 : 0;
  }
  let report: BenchReport;
  try {
    report = await runBench(opts, opts.json ? () => {} : (l) => console.error(l));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    return 1;
  }
  console.log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.ok ? 0 : 1;
}

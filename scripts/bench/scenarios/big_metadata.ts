/**
 * The big metadata: one client declares a metadata map whose
 * `samp.description.text` holds `--metadata-mb` megabytes (5 by default),
 * then `--fetchers` clients (20) call `samp.hub.getMetadata` for it at once,
 * `--repeats` times, timed until every fetcher has its copy, while a
 * bystander calls the hub every 10 ms from its own thread. Each copy is
 * checked line by line after the clock stops (lost and corrupted lines must
 * be 0). Hubs only: the relay has no registry.
 *
 * @module
 */

import { BIG_METADATA_KEY, checkMetadata, metadataText } from "../big_payloads.ts";
import { epochMs, type Window, withBystander } from "../bystander.ts";
import type { ScenarioResult } from "../report.ts";
import { percentile } from "../stats.ts";
import { Tracker } from "../tracker.ts";
import { sleep } from "../_async.ts";
import {
  addBystanderFailures,
  ErrorSamples,
  type ScenarioContext,
  scenarioResult,
  withClients,
} from "./_harness.ts";

/** Quiet time before each round of fetches. */
const PAUSE_MS = 500;

/**
 * Runs the big metadata scenario; against the relay it returns a skipped result.
 *
 * @example
 * ```ts ignore
 * import { bigMetadataScenario } from "./big_metadata.ts";
 * const result = await bigMetadataScenario(ctx);
 * console.log(result.transfer?.medianMs, result.bystander?.p99Ms);
 * ```
 */
export async function bigMetadataScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const big = ctx.sizes.big;
  const mb = (big.metadataBytes / 1e6).toLocaleString("en-US", { maximumFractionDigits: 2 });
  const label = `${mb} MB metadata × ${big.fetchers} concurrent getMetadata`;
  const tracker = new Tracker(big.transferTimeoutMs);
  const errors = new ErrorSamples();
  const callText = ctx.target.callText?.bind(ctx.target);
  const rawCall = ctx.target.rawCall?.bind(ctx.target);
  if (!callText || !rawCall) {
    tracker.close();
    return {
      ...scenarioResult("bigMetadata", label, tracker, errors, 0, 0, NaN, "MB/s"),
      skipped: "not applicable to the relay",
    };
  }
  const text = metadataText(big.metadataBytes);
  const lines = text.split("\n").length;
  try {
    return await withClients(
      ctx,
      Array.from({ length: big.fetchers + 1 }, (_, i) => ({
        callable: false,
        name: i === 0 ? "metadata-owner" : `metadata-fetcher-${i}`,
      })),
      async ([owner, ...fetchers]) => {
        const declared0 = performance.now();
        await rawCall("samp.hub.declareMetadata", [owner.key, {
          "samp.name": "bench big metadata",
          [BIG_METADATA_KEY]: text,
        }]);
        const declareMs = performance.now() - declared0;
        const runsMs: number[] = [];
        let sent = 0, lostItems = 0, corruptedItems = 0, responseBytes = 0;
        const t0 = performance.now();
        const { bystander, failures } = await withBystander(
          ctx.target.url,
          big.bystanderIntervalMs,
          async () => {
            const windows: Window[] = [];
            for (let i = 0; i < big.repeats; i++) {
              await sleep(PAUSE_MS);
              // Every fetch is answered or failed once Promise.all is done: no wait.
              const { seq } = tracker.open(fetchers.length, true);
              const start = epochMs();
              const got = await Promise.all(fetchers.map(async (f, k) => {
                try {
                  const body = await callText("samp.hub.getMetadata", [f.key, owner.id]);
                  const at = epochMs();
                  tracker.receipt(String(seq), k);
                  sent++;
                  return { at, body };
                } catch (e) {
                  errors.add(e);
                  return { at: epochMs(), body: null };
                }
              }));
              const end = Math.max(...got.map((g) => g.at));
              windows.push([start, end]);
              if (got.every((g) => g.body !== null)) runsMs.push(end - start);
              // Check every copy (after the clock: the check is the bench's work).
              for (const g of got) {
                const check = g.body === null
                  ? { received: 0, lost: lines, corrupted: 0, unreadable: "not received" }
                  : checkMetadata(g.body, text);
                if (g.body !== null) responseBytes = g.body.length;
                lostItems += check.lost;
                corruptedItems += check.corrupted;
                if (check.lost || check.corrupted) {
                  errors.add(
                    new Error(
                      `metadata: ${check.lost} lines lost, ${check.corrupted} corrupted of ${lines}` +
                        (check.unreadable ? ` (${check.unreadable})` : ""),
                    ),
                  );
                }
              }
            }
            return { value: undefined, windows };
          },
        );
        addBystanderFailures(errors, bystander.failed, failures);
        const seconds = (performance.now() - t0) / 1000;
        const medianMs = percentile([...runsMs].sort((a, b) => a - b), 0.5);
        const res = scenarioResult(
          "bigMetadata",
          label,
          tracker,
          errors,
          sent,
          seconds,
          fetchers.length * big.metadataBytes / 1e6 / (medianMs / 1000),
          "MB/s",
          { declareMs, responseBytes },
        );
        res.transfer = {
          measure: "all fetched",
          items: lines,
          itemUnit: "lines",
          bytes: big.metadataBytes,
          runsMs,
          medianMs,
          lostItems,
          corruptedItems,
        };
        res.bystander = bystander;
        return res;
      },
    );
  } finally {
    tracker.close();
  }
}

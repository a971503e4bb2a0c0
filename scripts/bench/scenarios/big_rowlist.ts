/**
 * The big row list: one client sends another a `table.select.rowList` of
 * `--rows` row indices (1,000,000 by default: a 38 MB request), by
 * `samp.hub.notify` (timed send → received) or by `samp.hub.call` (timed
 * call → reply, the receiver replying at once), `--repeats` times, one at a
 * time, while a bystander calls the hub every 10 ms from its own thread.
 *
 * The request is encoded before the clock starts and the receiver only
 * keeps the body as it arrives; after each transfer it checks that every
 * row index arrived, in order, exactly once (lost and corrupted rows must
 * be 0).
 *
 * @module
 */

import { leadingArgs, memberAt } from "../callback.ts";
import { epochMs, type Window, withBystander } from "../bystander.ts";
import { checkRowList, ROW_LIST_MTYPE, rowIndices, rowListMessage } from "../big_payloads.ts";
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

/** Quiet time before each transfer (the previous one's garbage, the encoding's). */
const PAUSE_MS = 500;

/** A body as the receiver got it, and when. */
interface Arrival {
  at: number;
  body: string;
}

/**
 * Runs the big row list by notify or by call.
 *
 * @example
 * ```ts ignore
 * import { rowListScenario } from "./big_rowlist.ts";
 * const result = await rowListScenario(ctx, "notify");
 * console.log(result.transfer?.medianMs, result.bystander?.p99Ms);
 * ```
 */
export async function rowListScenario(
  ctx: ScenarioContext,
  mode: "notify" | "call",
): Promise<ScenarioResult> {
  const big = ctx.sizes.big;
  const n = big.rows;
  const tracker = new Tracker(big.transferTimeoutMs);
  const errors = new ErrorSamples();
  const measure = mode === "notify" ? "send→received" : "call→reply";
  const name = mode === "notify" ? "rowListNotify" : "rowListCall";
  const label = `${ROW_LIST_MTYPE} of ${n.toLocaleString("en-US")} rows by ${mode}`;
  try {
    return await withClients(
      ctx,
      [
        { name: "rowlist-sender", callable: mode === "call" },
        { name: "rowlist-receiver", subscriptions: { [ROW_LIST_MTYPE]: {} } },
      ],
      async ([from, to]) => {
        // The bodies the receiver got, by seq; when each transfer ended.
        const received = new Map<number, Arrival[]>();
        const ends = new Map<number, number>();
        to.onBody = (body) => {
          const at = epochMs();
          const head = leadingArgs(body, mode === "notify" ? 2 : 3);
          const seq = Number(memberAt(body, "seq", head?.end ?? 0));
          const list = received.get(seq) ?? [];
          list.push({ at, body });
          received.set(seq, list);
          if (mode === "notify") {
            if (!ends.has(seq)) ends.set(seq, at);
            tracker.receipt(String(seq));
            return true;
          }
          // A call: reply at once, from the leading params only.
          if (!head || head.method !== "samp.client.receiveCall") return false;
          ctx.target.reply(to, head.args[1], head.args[2], {
            "samp.status": "samp.ok",
            "samp.result": {},
          }).catch((e) => errors.add(e));
          return true;
        };
        if (mode === "call") {
          from.onResponse = (_r, tag, cb) => {
            if (!ends.has(Number(tag))) ends.set(Number(tag), epochMs());
            if (!cb.ok) errors.add(new Error(`the rowList call ${tag} was answered with an error`));
            tracker.receipt(tag);
          };
        }
        const rows = rowIndices(n);
        const runsMs: number[] = [];
        const answeredMs: number[] = [];
        let sent = 0, bytes = 0, lostItems = 0, corruptedItems = 0;
        const t0 = performance.now();
        const { bystander, failures } = await withBystander(
          ctx.target.url,
          big.bystanderIntervalMs,
          async () => {
            const windows: Window[] = [];
            for (let i = 0; i < big.repeats; i++) {
              const { seq, wait } = tracker.open(1);
              const msg = rowListMessage(rows, seq, ctx.run);
              const req = mode === "notify"
                ? ctx.target.prepareNotify(from, to, msg)
                : ctx.target.prepareCall(from, to, String(seq), msg);
              bytes = req.body.length;
              await sleep(PAUSE_MS);
              const start = epochMs();
              try {
                await ctx.target.send(req);
                sent++;
              } catch (e) {
                tracker.cancel(seq);
                errors.add(e);
                continue;
              }
              const answered = epochMs();
              answeredMs.push(answered - start);
              const ok = await wait;
              const end = ends.get(seq) ?? epochMs();
              windows.push([start, Math.max(end, answered)]);
              if (ok) runsMs.push(end - start);
              // Check what the receiver got (after the clock: the check is the bench's work).
              const got = received.get(seq) ?? [];
              received.delete(seq);
              const check = got.length
                ? checkRowList(got[0].body, n)
                : { received: 0, lost: n, corrupted: 0, unreadable: "not received" };
              if (got.length > 1) {
                errors.add(new Error(`the rowList ${seq} arrived ${got.length} times`));
              }
              lostItems += check.lost;
              corruptedItems += check.corrupted;
              if (check.lost || check.corrupted) {
                errors.add(
                  new Error(
                    `rowList ${seq}: ${check.lost} rows lost, ${check.corrupted} corrupted of ${n}` +
                      (check.unreadable ? ` (${check.unreadable})` : ""),
                  ),
                );
              }
            }
            return { value: undefined, windows };
          },
        );
        addBystanderFailures(errors, bystander.failed, failures);
        const seconds = (performance.now() - t0) / 1000;
        const sorted = [...runsMs].sort((a, b) => a - b);
        const medianMs = percentile(sorted, 0.5);
        const res = scenarioResult(
          name,
          label,
          tracker,
          errors,
          sent,
          seconds,
          n / (medianMs / 1000),
          "rows/s",
          { hubAnsweredMs: percentile([...answeredMs].sort((a, b) => a - b), 0.5) },
        );
        res.transfer = {
          measure,
          items: n,
          itemUnit: "rows",
          bytes,
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

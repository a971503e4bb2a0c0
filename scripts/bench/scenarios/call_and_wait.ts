/**
 * The callAndWait scenario: one caller, one call in flight; latency p50/p99.
 *
 * @module
 */

import { Tracker } from "../tracker.ts";
import type { ScenarioResult } from "../report.ts";
import { percentile } from "../stats.ts";
import { mapOf, stringOf } from "../_values.ts";
import {
  ErrorSamples,
  message,
  type ScenarioContext,
  scenarioResult,
  withClients,
} from "./_harness.ts";

/**
 * Runs the callAndWait scenario for `ctx.opts.duration` seconds.
 *
 * @example
 * ```ts ignore
 * import { callAndWaitScenario } from "./call_and_wait.ts";
 * const { p50Ms } = await callAndWaitScenario(ctx);
 * ```
 */
export async function callAndWaitScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const mtype = `bench.${ctx.run}.sync`;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new ErrorSamples();
  try {
    return await withClients(
      ctx,
      [{ callable: false, name: "caller" }, { subscriptions: { [mtype]: {} } }],
      async ([from, to]) => {
        to.onCall = (sender, msgId, cb) => {
          ctx.target.reply(to, sender, msgId, {
            "samp.status": "samp.ok",
            "samp.result": { seq: cb.seq ?? "" },
          }).catch((e) => errors.add(e));
        };
        const latencies: number[] = [];
        let sent = 0;
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        while (performance.now() < deadline) {
          const { seq } = tracker.open(1);
          const start = performance.now();
          try {
            const r = await ctx.target.callAndWait(from, to, message(mtype, seq));
            latencies.push(performance.now() - start);
            sent++;
            const got = stringOf(mapOf(r["samp.result"]).seq);
            if (r["samp.status"] !== "samp.ok") {
              errors.add(new Error(`callAndWait answered ${JSON.stringify(r)}`));
            } else {
              tracker.receipt(got);
            }
          } catch (e) {
            // No response (a hub timeout, a transport failure): the message is lost.
            errors.add(e);
          }
        }
        const seconds = (performance.now() - t0) / 1000;
        latencies.sort((a, b) => a - b);
        const res = scenarioResult(
          "callAndWait",
          "callAndWait (1 caller, 1 in flight)",
          tracker,
          errors,
          sent,
          seconds,
          tracker.completed / seconds,
          "calls/s",
        );
        res.p50Ms = percentile(latencies, 0.5);
        res.p99Ms = percentile(latencies, 0.99);
        return res;
      },
    );
  } finally {
    tracker.close();
  }
}

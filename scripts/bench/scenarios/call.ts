/**
 * The call→reply scenario: `samp.hub.call`, the receiver replies with
 * `samp.hub.reply`, complete when `receiveResponse` reaches the sender.
 *
 * @module
 */

import { Tracker } from "../tracker.ts";
import type { ScenarioResult } from "../report.ts";
import {
  ErrorSamples,
  message,
  roundRobin,
  type ScenarioContext,
  scenarioResult,
  withClients,
} from "./_harness.ts";

/**
 * Runs the call→reply scenario for `ctx.opts.duration` seconds.
 *
 * @example
 * ```ts ignore
 * import { callScenario } from "./call.ts";
 * const result = await callScenario(ctx);
 * ```
 */
export async function callScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { senders, window, receivers } = ctx.sizes.call;
  const mtype = `bench.${ctx.run}.call`;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new ErrorSamples();
  let callsIn = 0;
  try {
    return await withClients(
      ctx,
      [
        ...Array.from({ length: senders }, () => ({ name: "sender" })),
        ...Array.from({ length: receivers }, () => ({ subscriptions: { [mtype]: {} } })),
      ],
      async (clients) => {
        const from = clients.slice(0, senders);
        const to = clients.slice(senders);
        for (const s of from) {
          s.onResponse = (_r, tag, cb) => {
            if (!cb.ok || (cb.seq !== undefined && cb.seq !== tag)) {
              errors.add(new Error(`bad response for tag ${tag}: ok=${cb.ok} seq=${cb.seq}`));
            }
            tracker.receipt(tag);
          };
        }
        for (const r of to) {
          r.onCall = (sender, msgId, cb) => {
            callsIn++;
            ctx.target.reply(r, sender, msgId, {
              "samp.status": "samp.ok",
              "samp.result": { seq: cb.seq ?? "" },
            }).catch((e) => errors.add(e));
          };
        }
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        const sent = await roundRobin(
          tracker,
          errors,
          deadline,
          window,
          from,
          to,
          (s, r, seq) => ctx.target.call(s, r, String(seq), message(mtype, seq)),
        );
        const seconds = (performance.now() - t0) / 1000;
        return scenarioResult(
          "call",
          `call→reply (${senders} callers × ${window} in flight → ${receivers} responders)`,
          tracker,
          errors,
          sent,
          seconds,
          tracker.completed / seconds,
          "calls/s",
          { callsDelivered: callsIn },
        );
      },
    );
  } finally {
    tracker.close();
  }
}

/**
 * The notify scenario: several senders, several in flight each, several
 * receivers (`samp.hub.notify`, round robin over the receivers).
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
 * Runs the notify scenario for `ctx.opts.duration` seconds.
 *
 * @example
 * ```ts ignore
 * import { notifyScenario } from "./notify.ts";
 * const result = await notifyScenario(ctx);
 * ```
 */
export async function notifyScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { senders, window, receivers } = ctx.sizes.notify;
  const mtype = `bench.${ctx.run}.notify`;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new ErrorSamples();
  try {
    return await withClients(
      ctx,
      [
        ...Array.from({ length: senders }, () => ({ callable: false })),
        ...Array.from({ length: receivers }, () => ({ subscriptions: { [mtype]: {} } })),
      ],
      async (clients) => {
        const from = clients.filter((c) => !c.server);
        const to = clients.filter((c) => c.server);
        for (const r of to) r.onNotification = (_s, cb) => tracker.receipt(cb.seq);
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        const sent = await roundRobin(
          tracker,
          errors,
          deadline,
          window,
          from,
          to,
          (s, r, seq) => ctx.target.notify(s, r, message(mtype, seq)),
        );
        const seconds = (performance.now() - t0) / 1000;
        return scenarioResult(
          "notify",
          `notify (${senders} senders × ${window} in flight → ${receivers} receivers)`,
          tracker,
          errors,
          sent,
          seconds,
          tracker.completed / seconds,
          "msg/s",
        );
      },
    );
  } finally {
    tracker.close();
  }
}

/**
 * The fan-out scenarios: `samp.hub.notifyAll` to 50 and to 200 subscribed
 * clients, a few broadcasts in flight (deliveries/s).
 *
 * @module
 */

import { Tracker } from "../tracker.ts";
import type { ScenarioResult } from "../report.ts";
import {
  closedLoop,
  ErrorSamples,
  message,
  type ScenarioContext,
  scenarioResult,
  withClients,
} from "./_harness.ts";

/**
 * Runs the fan-out scenario to `n` receivers for `ctx.opts.duration` seconds.
 *
 * @example
 * ```ts ignore
 * import { fanoutScenario } from "./fanout.ts";
 * const result = await fanoutScenario(ctx, 50);
 * ```
 */
export async function fanoutScenario(ctx: ScenarioContext, n: 50 | 200): Promise<ScenarioResult> {
  const mtype = `bench.${ctx.run}.fan${n}`;
  const window = ctx.sizes.fanWindow;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new ErrorSamples();
  try {
    return await withClients(
      ctx,
      [
        { callable: false, name: "broadcaster" },
        ...Array.from({ length: n }, () => ({ subscriptions: { [mtype]: {} } })),
      ],
      async (clients) => {
        const from = clients.find((c) => !c.server)!;
        const to = clients.filter((c) => c.server);
        to.forEach((r, i) => r.onNotification = (_s, cb) => tracker.receipt(cb.seq, i));
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        const sent = await closedLoop(tracker, errors, deadline, window, n, true, async (seq) => {
          const count = await ctx.target.notifyAll(from, message(mtype, seq), to);
          if (count !== n) {
            throw new Error(`notifyAll named ${count} recipients, not the ${n} subscribed`);
          }
        });
        const seconds = (performance.now() - t0) / 1000;
        return scenarioResult(
          n === 50 ? "fanout50" : "fanout200",
          `notifyAll fan-out to ${n} (${window} in flight)`,
          tracker,
          errors,
          sent,
          seconds,
          tracker.received / seconds,
          "deliveries/s",
          { messagesPerSecond: tracker.completed / seconds },
        );
      },
    );
  } finally {
    tracker.close();
  }
}

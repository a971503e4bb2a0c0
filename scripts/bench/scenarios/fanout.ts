/**
 * The fan-out scenarios: `samp.hub.notifyAll` to 50, to 200 and (fanoutMany)
 * to `--clients` subscribed clients, a few broadcasts in flight
 * (deliveries/s); fanoutMany also has a bystander's latency.
 *
 * @module
 */

import { Tracker } from "../tracker.ts";
import type { ScenarioName } from "../plan.ts";
import type { ScenarioResult } from "../report.ts";
import { epochMs, withBystander } from "../bystander.ts";
import {
  addBystanderFailures,
  closedLoop,
  ErrorSamples,
  message,
  type ScenarioContext,
  scenarioResult,
  withClients,
} from "./_harness.ts";

/** Options of {@linkcode fanoutScenario}. */
export interface FanoutOptions {
  /** The scenario's name (default fanout50 or fanout200 by `n`). */
  name?: ScenarioName;
  /** Run a bystander (big sizes' period) over the timed load. */
  bystander?: boolean;
}

/**
 * Runs the fan-out scenario to `n` receivers for `ctx.opts.duration` seconds.
 *
 * @example
 * ```ts ignore
 * import { fanoutScenario } from "./fanout.ts";
 * const result = await fanoutScenario(ctx, 50);
 * const many = await fanoutScenario(ctx, 500, { name: "fanoutMany", bystander: true });
 * ```
 */
export async function fanoutScenario(
  ctx: ScenarioContext,
  n: number,
  options: FanoutOptions = {},
): Promise<ScenarioResult> {
  const name = options.name ?? (n === 50 ? "fanout50" : "fanout200");
  const mtype = `bench.${ctx.run}.${name}`;
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
        const load = async (): Promise<{ sent: number; seconds: number }> => {
          const t0 = performance.now();
          const deadline = t0 + ctx.opts.duration * 1000;
          const sent = await closedLoop(tracker, errors, deadline, window, n, true, async (seq) => {
            const count = await ctx.target.notifyAll(from, message(mtype, seq), to);
            if (count !== n) {
              throw new Error(`notifyAll named ${count} recipients, not the ${n} subscribed`);
            }
          });
          return { sent, seconds: (performance.now() - t0) / 1000 };
        };
        let run: { sent: number; seconds: number };
        let bystander;
        if (options.bystander) {
          const b = await withBystander(
            ctx.target.url,
            ctx.sizes.big.bystanderIntervalMs,
            async () => {
              const start = epochMs();
              const value = await load();
              return { value, windows: [[start, epochMs()]] };
            },
          );
          run = b.value;
          bystander = b.bystander;
          addBystanderFailures(errors, bystander.failed, b.failures);
        } else {
          run = await load();
        }
        const res = scenarioResult(
          name,
          `notifyAll fan-out to ${n} (${window} in flight)`,
          tracker,
          errors,
          run.sent,
          run.seconds,
          tracker.received / run.seconds,
          "deliveries/s",
          { messagesPerSecond: tracker.completed / run.seconds },
        );
        if (bystander) res.bystander = bystander;
        return res;
      },
    );
  } finally {
    tracker.close();
  }
}

/**
 * Many clients (`--clients`, 500 by default), each with its own callback
 * server, with a bystander calling the hub every 10 ms from its own thread:
 *
 * - fanoutMany: `samp.hub.notifyAll` to all of them, a few broadcasts in
 *   flight (deliveries/s);
 * - stormMany: the registration storm while all of them are registered and
 *   subscribed to the register and unregister events, a cycle ending when
 *   every one of them has both events of its client (cycles/s, and event
 *   deliveries/s). They subscribe only once all are registered, and
 *   unsubscribe before they unregister, so set-up and teardown do not
 *   broadcast to hundreds (hubs only: the relay has no registry).
 *
 * @module
 */

import { epochMs, withBystander } from "../bystander.ts";
import type { ScenarioResult } from "../report.ts";
import { percentile } from "../stats.ts";
import { Tracker } from "../tracker.ts";
import { inParallel } from "../_async.ts";
import {
  addBystanderFailures,
  ErrorSamples,
  type ScenarioContext,
  scenarioResult,
  withClients,
} from "./_harness.ts";
import { fanoutScenario } from "./fanout.ts";
import { skippedStorm, stormCycles } from "./storm.ts";

/** How many subscription changes go to the hub at once. */
const PARALLEL = 8;

/** The register and unregister events' subscriptions. */
const EVENTS = { "samp.hub.event.register": {}, "samp.hub.event.unregister": {} };

/**
 * notifyAll to `--clients` subscribed clients, with a bystander.
 *
 * @example
 * ```ts ignore
 * import { fanoutManyScenario } from "./many_clients.ts";
 * const { rate, bystander } = await fanoutManyScenario(ctx);
 * ```
 */
export function fanoutManyScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  return fanoutScenario(ctx, ctx.sizes.big.clients, { name: "fanoutMany", bystander: true });
}

/**
 * The registration storm with `--clients` registered clients listening to
 * its events, with a bystander; against the relay it returns a skipped result.
 *
 * @example
 * ```ts ignore
 * import { stormManyScenario } from "./many_clients.ts";
 * const { rate, bystander } = await stormManyScenario(ctx);
 * ```
 */
export async function stormManyScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const n = ctx.sizes.big.clients;
  const workers = ctx.sizes.stormWorkers;
  const label = `registration storm with ${n} clients listening (${workers} concurrent)`;
  const errors = new ErrorSamples();
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const rawCall = ctx.target.rawCall?.bind(ctx.target);
  try {
    if (!ctx.target.rawRegister || !rawCall) {
      return skippedStorm("stormMany", label, tracker, errors);
    }
    return await withClients(
      ctx,
      Array.from({ length: n }, (_, i) => ({ name: `listener-${i}` })),
      async (clients) => {
        const subscribe = (subs: Record<string, Record<string, never>>): Promise<unknown> =>
          inParallel(
            clients,
            PARALLEL,
            (c) => rawCall("samp.hub.declareSubscriptions", [c.key, subs]),
          );
        await subscribe(EVENTS);
        try {
          const { value, bystander, failures } = await withBystander(
            ctx.target.url,
            ctx.sizes.big.bystanderIntervalMs,
            async () => {
              const start = epochMs();
              const deadline = performance.now() + ctx.opts.duration * 1000;
              const cycles = await stormCycles(ctx, clients, tracker, errors, deadline);
              const end = epochMs();
              return { value: { cycles, seconds: (end - start) / 1000 }, windows: [[start, end]] };
            },
          );
          addBystanderFailures(errors, bystander.failed, failures);
          const { cycles, seconds } = value;
          cycles.sort((a, b) => a - b);
          const res = scenarioResult(
            "stormMany",
            label,
            tracker,
            errors,
            cycles.length,
            seconds,
            cycles.length / seconds,
            "cycles/s",
            {
              eventsExpected: tracker.expected,
              eventsReceived: tracker.received,
              eventDeliveriesPerSecond: tracker.received / seconds,
            },
          );
          res.p50Ms = percentile(cycles, 0.5);
          res.p99Ms = percentile(cycles, 0.99);
          res.bystander = bystander;
          return res;
        } finally {
          // No unregister broadcasts to hundreds on the way out.
          await subscribe({}).catch(() => {});
        }
      },
    );
  } finally {
    tracker.close();
  }
}

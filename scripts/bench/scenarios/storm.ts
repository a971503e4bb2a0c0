/**
 * The registration storm: concurrent workers register, declareMetadata and
 * unregister in a loop, and an observer must see every register and
 * unregister event (hubs only: the relay has no registry). stormMany
 * (many_clients.ts) runs the same cycles with many listeners.
 *
 * @module
 */

import { Tracker } from "../tracker.ts";
import type { ScenarioResult } from "../report.ts";
import { percentile } from "../stats.ts";
import { sleep } from "../_async.ts";
import type { BenchClient } from "../client.ts";
import { ErrorSamples, type ScenarioContext, scenarioResult, withClients } from "./_harness.ts";

/** Pause after a failed cycle. */
const RETRY_PAUSE_MS = 10;

type EventKind = "register" | "unregister";

/**
 * The events of one storm client: the receipt to make for each (by
 * listener), or the events seen before the client was known.
 */
interface ClientEvents {
  fire?: (kind: EventKind, listener: number) => void;
  early: [EventKind, number][];
}

/**
 * Runs storm cycles until `deadline`: `ctx.sizes.stormWorkers` concurrent
 * workers register, declareMetadata and unregister in a loop, and a cycle
 * ends when each of `listeners` (subscribed to the register and unregister
 * events) has both of its events, each exactly once. Returns the cycle
 * times in ms; deliveries are counted in `tracker`.
 *
 * @example
 * ```ts ignore
 * import { stormCycles } from "./storm.ts";
 * const cycles = await stormCycles(ctx, [observer], tracker, errors, performance.now() + 1000);
 * ```
 */
export async function stormCycles(
  ctx: ScenarioContext,
  listeners: readonly BenchClient[],
  tracker: Tracker,
  errors: ErrorSamples,
  deadline: number,
): Promise<number[]> {
  const rawRegister = ctx.target.rawRegister!.bind(ctx.target);
  const rawCall = ctx.target.rawCall!.bind(ctx.target);
  const events = new Map<string, ClientEvents>();
  const note = (id: string | undefined, kind: EventKind, listener: number): void => {
    if (id === undefined) return tracker.receipt(undefined);
    let e = events.get(id);
    if (!e) events.set(id, e = { early: [] });
    if (e.fire) e.fire(kind, listener);
    else e.early.push([kind, listener]);
  };
  listeners.forEach((l, i) => {
    l.onNotification = (_s, cb) => {
      if (cb.mtype === "samp.hub.event.register") note(cb.id, "register", i);
      else if (cb.mtype === "samp.hub.event.unregister") note(cb.id, "unregister", i);
    };
  });
  const cycles: number[] = [];
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const start = performance.now();
      let id: string | undefined;
      try {
        const r = await rawRegister();
        id = r.id;
        // This client's events: one tracked message, a receipt per listener and event.
        const { seq, wait } = tracker.open(2 * listeners.length, true);
        let e = events.get(id);
        if (!e) events.set(id, e = { early: [] });
        e.fire = (kind, l) => tracker.receipt(String(seq), 2 * l + (kind === "register" ? 0 : 1));
        for (const [k, l] of e.early.splice(0)) e.fire(k, l);
        await rawCall("samp.hub.declareMetadata", [r.key, {
          "samp.name": `storm-${w}`,
          "samp.description.text": "registration storm",
        }]);
        await rawCall("samp.hub.unregister", [r.key]);
        // Closed loop, as elsewhere: the cycle ends when the listeners have both events.
        await wait;
        cycles.push(performance.now() - start);
      } catch (e) {
        errors.add(e);
        await sleep(RETRY_PAUSE_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: ctx.sizes.stormWorkers }, (_, w) => worker(w)));
  return cycles;
}

/** The result of a skipped storm (the relay has no registry). */
export function skippedStorm(
  name: "storm" | "stormMany",
  label: string,
  tracker: Tracker,
  errors: ErrorSamples,
): ScenarioResult {
  return {
    ...scenarioResult(name, label, tracker, errors, 0, 0, NaN, "cycles/s"),
    skipped: "not applicable to the relay",
  };
}

/**
 * Runs the registration storm for `ctx.opts.duration` seconds; against the
 * relay it returns a skipped result.
 *
 * @example
 * ```ts ignore
 * import { stormScenario } from "./storm.ts";
 * const { rate } = await stormScenario(ctx);
 * ```
 */
export async function stormScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const label = `registration storm (${ctx.sizes.stormWorkers} concurrent: register, ` +
    "declareMetadata, unregister)";
  const errors = new ErrorSamples();
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  try {
    if (!ctx.target.rawRegister || !ctx.target.rawCall) {
      return skippedStorm("storm", label, tracker, errors);
    }
    return await withClients(
      ctx,
      [{
        name: "observer",
        subscriptions: { "samp.hub.event.register": {}, "samp.hub.event.unregister": {} },
      }],
      async ([observer]) => {
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        const cycles = await stormCycles(ctx, [observer], tracker, errors, deadline);
        const seconds = (performance.now() - t0) / 1000;
        cycles.sort((a, b) => a - b);
        const res = scenarioResult(
          "storm",
          label,
          tracker,
          errors,
          cycles.length,
          seconds,
          cycles.length / seconds,
          "cycles/s",
          { eventsExpected: tracker.expected, eventsReceived: tracker.received },
        );
        res.p50Ms = percentile(cycles, 0.5);
        res.p99Ms = percentile(cycles, 0.99);
        return res;
      },
    );
  } finally {
    tracker.close();
  }
}

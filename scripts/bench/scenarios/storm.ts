/**
 * The registration storm: concurrent workers register, declareMetadata and
 * unregister in a loop, and an observer must see every register and
 * unregister event (hubs only: the relay has no registry).
 *
 * @module
 */

import { Tracker } from "../tracker.ts";
import type { ScenarioResult } from "../report.ts";
import { percentile } from "../stats.ts";
import { sleep } from "../_async.ts";
import { ErrorSamples, type ScenarioContext, scenarioResult, withClients } from "./_harness.ts";

/** Pause after a failed cycle. */
const RETRY_PAUSE_MS = 10;

type EventKind = "register" | "unregister";

/** The events of one client: the receipts to make, or the events seen before the client was known. */
interface ClientEvents {
  reg?: () => void;
  unreg?: () => void;
  early: EventKind[];
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
  const target = ctx.target;
  const errors = new ErrorSamples();
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  if (!target.rawRegister || !target.rawCall) {
    tracker.close();
    return {
      ...scenarioResult("storm", label, tracker, errors, 0, 0, NaN, "cycles/s"),
      skipped: "not applicable to the relay",
    };
  }
  const rawRegister = target.rawRegister.bind(target);
  const rawCall = target.rawCall.bind(target);
  // The observer must see one register and one unregister event per cycle.
  const events = new Map<string, ClientEvents>();
  const note = (id: string | undefined, kind: EventKind): void => {
    if (id === undefined) return tracker.receipt(undefined);
    let e = events.get(id);
    if (!e) events.set(id, e = { early: [] });
    const fire = kind === "register" ? e.reg : e.unreg;
    if (fire) fire();
    else e.early.push(kind);
  };
  try {
    return await withClients(
      ctx,
      [{
        name: "observer",
        subscriptions: { "samp.hub.event.register": {}, "samp.hub.event.unregister": {} },
      }],
      async ([observer]) => {
        observer.onNotification = (_s, cb) => {
          if (cb.mtype === "samp.hub.event.register") note(cb.id, "register");
          else if (cb.mtype === "samp.hub.event.unregister") note(cb.id, "unregister");
        };
        const cycles: number[] = [];
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        const worker = async (w: number): Promise<void> => {
          while (performance.now() < deadline) {
            const start = performance.now();
            let id: string | undefined;
            try {
              const r = await rawRegister();
              id = r.id;
              // Tie this client's two events to one tracked message of 2 receipts.
              const { seq, wait } = tracker.open(2);
              let e = events.get(id);
              if (!e) events.set(id, e = { early: [] });
              e.reg = () => tracker.receipt(String(seq));
              e.unreg = () => tracker.receipt(String(seq));
              for (const k of e.early.splice(0)) (k === "register" ? e.reg : e.unreg)();
              await rawCall("samp.hub.declareMetadata", [r.key, {
                "samp.name": `storm-${w}`,
                "samp.description.text": "registration storm",
              }]);
              await rawCall("samp.hub.unregister", [r.key]);
              // Closed loop, as elsewhere: the cycle ends when the observer has both events.
              await wait;
              cycles.push(performance.now() - start);
            } catch (e) {
              errors.add(e);
              await sleep(RETRY_PAUSE_MS);
            }
          }
        };
        await Promise.all(Array.from({ length: ctx.sizes.stormWorkers }, (_, w) => worker(w)));
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

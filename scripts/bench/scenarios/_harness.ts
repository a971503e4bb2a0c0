/**
 * What every scenario shares: its context, the test message, registering
 * and unregistering its clients, the closed loop that keeps a fixed number
 * of messages in flight, error samples, and the result record.
 *
 * @module
 */

import type { SampMap } from "../../../lib/types.ts";
import type { BenchOptions } from "../args.ts";
import type { BenchClient } from "../client.ts";
import type { ScenarioName, Sizes } from "../plan.ts";
import type { ScenarioResult } from "../report.ts";
import type { RegisterOptions, Target } from "../target.ts";
import type { Tracker } from "../tracker.ts";
import { inParallel, sleep } from "../_async.ts";

/** How many clients register (or unregister) at once. */
const REGISTER_PARALLEL = 8;
/** Pause after a failed send, so a failing target is not hammered. */
const RETRY_PAUSE_MS = 10;
/** Error messages kept per scenario. */
const MAX_SAMPLES = 5;

/** What a scenario runs against and with. */
export interface ScenarioContext {
  target: Target;
  opts: BenchOptions;
  sizes: Sizes;
  /** Unique per run and round: keeps the MTypes of one round apart from another's. */
  run: string;
}

/** A scenario: runs against the context, returns its outcome. */
export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;

/** Counts errors and keeps the first few messages. */
export class ErrorSamples {
  /** Errors counted. */
  count = 0;
  /** The first messages ("Name: message"). */
  samples: string[] = [];

  /** Counts `e` and keeps its text while fewer than five are kept. */
  add(e: unknown): void {
    this.count++;
    if (this.samples.length < MAX_SAMPLES) {
      this.samples.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  }
}

/**
 * Counts the bystander's failed calls (during the measured windows) as
 * errors, with the first reason.
 */
export function addBystanderFailures(
  errors: ErrorSamples,
  failed: number,
  failures: readonly string[],
): void {
  if (!failed) return;
  errors.add(new Error(`the bystander's calls failed ${failed} times: ${failures[0] ?? "?"}`));
  errors.count += failed - 1;
}

/**
 * The bench's message: MType `mtype`, params `{ seq }`.
 *
 * @example
 * ```ts
 * import { message } from "./_harness.ts";
 * console.log(message("bench.x", 3)); // { "samp.mtype": "bench.x", "samp.params": { seq: "3" } }
 * ```
 */
export function message(mtype: string, seq: number): SampMap {
  return { "samp.mtype": mtype, "samp.params": { seq: String(seq) } };
}

/**
 * Registers one client per spec (eight at a time), runs `fn` with them in
 * the order of `specs`, and unregisters every one that registered.
 */
export async function withClients<T>(
  ctx: ScenarioContext,
  specs: RegisterOptions[],
  fn: (clients: BenchClient[]) => Promise<T>,
): Promise<T> {
  // In the order of `specs`, whatever order the registrations finish in.
  const clients: (BenchClient | undefined)[] = new Array(specs.length);
  try {
    await inParallel(specs.map((s, i) => [s, i] as const), REGISTER_PARALLEL, async ([s, i]) => {
      clients[i] = await ctx.target.register(s);
    });
    return await fn(clients as BenchClient[]);
  } finally {
    const registered = clients.filter((c): c is BenchClient => c !== undefined);
    await inParallel(
      registered,
      REGISTER_PARALLEL,
      (c) => ctx.target.unregister(c).catch(() => {}),
    );
  }
}

/**
 * Keeps `window` messages in flight until the deadline; each `send` is
 * awaited, then its delivery to `need` recipients. Returns how many sends
 * succeeded.
 */
export async function closedLoop(
  tracker: Tracker,
  errors: ErrorSamples,
  deadline: number,
  window: number,
  need: number,
  perRecipient: boolean,
  send: (seq: number) => Promise<void>,
): Promise<number> {
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const { seq, wait } = tracker.open(need, perRecipient);
      try {
        await send(seq);
        sent++;
      } catch (e) {
        tracker.cancel(seq);
        errors.add(e);
        await sleep(RETRY_PAUSE_MS);
        continue;
      }
      await wait;
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return sent;
}

/**
 * A scenario's result from its tracker and errors; unexpected and duplicate
 * deliveries count as errors (and are added to the samples).
 */
export function scenarioResult(
  name: ScenarioName,
  label: string,
  tracker: Tracker,
  errors: ErrorSamples,
  sent: number,
  seconds: number,
  rate: number,
  unit: string,
  extra?: Record<string, number>,
): ScenarioResult {
  const errs = errors.count + tracker.unexpected + tracker.duplicates;
  if (tracker.unexpected) errors.samples.push(`${tracker.unexpected} unexpected callbacks`);
  if (tracker.duplicates) errors.samples.push(`${tracker.duplicates} duplicate deliveries`);
  return {
    name,
    label,
    rate,
    unit,
    seconds,
    sent,
    expected: tracker.expected,
    received: tracker.received,
    lost: tracker.lost,
    duplicates: tracker.duplicates,
    errors: errs,
    errorSamples: errors.samples,
    extra,
  };
}

/**
 * Each of `from` keeps `window` messages in flight (one recipient each)
 * until the deadline, the recipients taken in turn from `to`. Returns how
 * many sends succeeded in all.
 */
export async function roundRobin(
  tracker: Tracker,
  errors: ErrorSamples,
  deadline: number,
  window: number,
  from: BenchClient[],
  to: BenchClient[],
  send: (from: BenchClient, to: BenchClient, seq: number) => Promise<void>,
): Promise<number> {
  let rr = 0;
  const sent = await Promise.all(
    from.map((s) =>
      closedLoop(tracker, errors, deadline, window, 1, false, (seq) => {
        const r = to[rr++ % to.length];
        return send(s, r, seq);
      })
    ),
  );
  return sent.reduce((a, b) => a + b, 0);
}

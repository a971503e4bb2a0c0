/**
 * What a bench run consists of: the scenario names, the client counts and
 * windows of each, and how long the hub may settle after a round.
 *
 * @module
 */

/** Every scenario, in the order a run goes through them. */
export const SCENARIO_NAMES = [
  "notify",
  "call",
  "callAndWait",
  "fanout50",
  "fanout200",
  "storm",
] as const;

/** The name of one scenario (`--only` takes these). */
export type ScenarioName = typeof SCENARIO_NAMES[number];

/** Senders, messages in flight per sender, and receivers of a point-to-point scenario. */
export interface Lanes {
  senders: number;
  window: number;
  receivers: number;
}

/** Client counts and windows per scenario (reported as `settings.sizes`). */
export interface Sizes {
  notify: Lanes;
  call: Lanes;
  /** Broadcasts in flight in the fan-out scenarios. */
  fanWindow: number;
  /** Concurrent register/declareMetadata/unregister loops in the storm. */
  stormWorkers: number;
  /** A message not delivered within this many ms counts as lost. */
  msgTimeoutMs: number;
}

/** Quiet time after each round before reading the hub's RSS "after". */
export const SETTLE_MS = 5000;

/** Quiet time after each round of a `--quick` run. */
const QUICK_SETTLE_MS = 200;

/**
 * The client counts and windows of a run: small ones for `--quick`.
 *
 * @example
 * ```ts
 * import { sizesFor } from "./plan.ts";
 * console.log(sizesFor(true).notify.senders); // 2
 * ```
 */
export function sizesFor(quick: boolean): Sizes {
  return quick
    ? {
      notify: { senders: 2, window: 4, receivers: 2 },
      call: { senders: 2, window: 4, receivers: 2 },
      fanWindow: 2,
      stormWorkers: 4,
      msgTimeoutMs: 5000,
    }
    : {
      notify: { senders: 4, window: 8, receivers: 4 },
      call: { senders: 4, window: 8, receivers: 4 },
      fanWindow: 4,
      stormWorkers: 8,
      msgTimeoutMs: 30000,
    };
}

/**
 * How long the hub settles after a round (pending callbacks, GC; ours
 * compacts its heap 2-3 s after the last request) before the RSS "after".
 *
 * @example
 * ```ts
 * import { settleMs } from "./plan.ts";
 * console.log(settleMs(false)); // 5000
 * ```
 */
export function settleMs(quick: boolean): number {
  return quick ? QUICK_SETTLE_MS : SETTLE_MS;
}

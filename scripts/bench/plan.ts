/**
 * What a bench run consists of: the scenario names, the client counts and
 * windows of each, and how long the hub may settle after a round.
 *
 * @module
 */

/** The standard scenarios (small messages), in the order a run goes through them. */
export const SCENARIO_NAMES = [
  "notify",
  "call",
  "callAndWait",
  "fanout50",
  "fanout200",
  "storm",
] as const;

/**
 * The big-message and many-client scenarios (`--big`), run after the
 * standard ones: a `table.select.rowList` of `rows` rows by notify and by
 * call, a metadata value of `metadataBytes` fetched by `fetchers` clients at
 * once, and a notifyAll fan-out and a registration storm with `clients`
 * clients registered; each with a bystander's latency.
 */
export const BIG_SCENARIO_NAMES = [
  "rowListNotify",
  "rowListCall",
  "bigMetadata",
  "fanoutMany",
  "stormMany",
] as const;

/** Every scenario, standard then big. */
export const ALL_SCENARIO_NAMES = [...SCENARIO_NAMES, ...BIG_SCENARIO_NAMES] as const;

/** The name of one scenario (`--only` takes these). */
export type ScenarioName = typeof ALL_SCENARIO_NAMES[number];

/** Sizes of the big-message and many-client scenarios. */
export interface BigSizes {
  /** Rows of the `table.select.rowList` (one row index per item). */
  rows: number;
  /** Characters (bytes: ASCII) of the big metadata value. */
  metadataBytes: number;
  /** Clients fetching the big metadata at once. */
  fetchers: number;
  /** Clients registered in fanoutMany and stormMany. */
  clients: number;
  /** Big transfers per scenario (the median time is the headline). */
  repeats: number;
  /** A big transfer not complete within this many ms counts as lost. */
  transferTimeoutMs: number;
  /** The bystander calls the hub this often (ms). */
  bystanderIntervalMs: number;
}

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
  /** The big-message and many-client scenarios. */
  big: BigSizes;
}

/** The sizes: what `--big` runs unless told otherwise. */
const FULL_BIG: BigSizes = {
  rows: 1_000_000,
  metadataBytes: 5_000_000,
  fetchers: 20,
  clients: 500,
  repeats: 3,
  transferTimeoutMs: 180_000,
  bystanderIntervalMs: 10,
};

/** Small sizes for `--quick` (a smoke run of the same code paths). */
const QUICK_BIG: BigSizes = {
  rows: 20_000,
  metadataBytes: 100_000,
  fetchers: 4,
  clients: 20,
  repeats: 1,
  transferTimeoutMs: 30_000,
  bystanderIntervalMs: 10,
};

/** Quiet time after each round before reading the hub's RSS "after". */
export const SETTLE_MS = 5000;

/** Quiet time after each round of a `--quick` run. */
const QUICK_SETTLE_MS = 200;

/**
 * The client counts and windows of a run: small ones for `--quick`; `big`
 * overrides sizes of the big scenarios (the command line's `--rows` etc.).
 *
 * @example
 * ```ts
 * import { sizesFor } from "./plan.ts";
 * console.log(sizesFor(true).notify.senders); // 2
 * console.log(sizesFor(false).big.rows, sizesFor(true, { rows: 10 }).big.rows); // 1000000 10
 * ```
 */
export function sizesFor(quick: boolean, big: Partial<BigSizes> = {}): Sizes {
  return quick
    ? {
      notify: { senders: 2, window: 4, receivers: 2 },
      call: { senders: 2, window: 4, receivers: 2 },
      fanWindow: 2,
      stormWorkers: 4,
      msgTimeoutMs: 5000,
      big: { ...QUICK_BIG, ...big },
    }
    : {
      notify: { senders: 4, window: 8, receivers: 4 },
      call: { senders: 4, window: 8, receivers: 4 },
      fanWindow: 4,
      stormWorkers: 8,
      msgTimeoutMs: 30000,
      big: { ...FULL_BIG, ...big },
    };
}

/**
 * The scenarios a run goes through: `only` when given, else the standard
 * ones, followed by the big ones with `big`.
 *
 * @example
 * ```ts
 * import { selectScenarios } from "./plan.ts";
 * console.log(selectScenarios(true).length, selectScenarios(false, ["storm"])); // 11 ["storm"]
 * ```
 */
export function selectScenarios(
  big: boolean,
  only?: readonly ScenarioName[],
): readonly ScenarioName[] {
  return only ?? (big ? ALL_SCENARIO_NAMES : SCENARIO_NAMES);
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

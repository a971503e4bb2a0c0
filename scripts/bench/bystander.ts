/**
 * The bystander: a client that calls the hub every 10 ms (`samp.hub.ping`,
 * one call at a time) while a big message flows, from a thread of its own
 * (a Worker, _bystander_worker.ts), so the bench's own work (sending and
 * reading tens of megabytes) does not skew its latency. The scenarios mark
 * the windows that count (each transfer); the calls that overlap them give
 * the p50/p99/max.
 *
 * @module
 */

import type { BystanderCommand, BystanderReport } from "./_bystander_worker.ts";
import { percentile } from "./stats.ts";
import { RPC_TIMEOUT_MS } from "./target.ts";

/** How long the worker may take to start and get its first answer. */
const START_TIMEOUT_MS = 30_000;

/** The bystander's latency over the measured windows. */
export interface BystanderResult {
  /** Calls that overlapped a window. */
  calls: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Calls in a window that failed (they count as errors). */
  failed: number;
  /** The bystander's period, ms. */
  intervalMs: number;
}

/** Every call the bystander made. */
export interface BystanderSamples {
  /** Start of each call, ms since the epoch (see {@linkcode epochMs}). */
  starts: Float64Array;
  /** Round trip of each call, ms (of a failed one: until it failed). */
  rtts: Float64Array;
  /** 1 for each call answered, 0 for each that failed. */
  oks: Uint8Array;
  /** The first few failures. */
  failures: string[];
}

/** A window of time, [from, to] in ms since the epoch. */
export type Window = readonly [number, number];

/**
 * Milliseconds since the epoch, with the sub-millisecond precision of
 * `performance.now()`, comparable with the bystander thread's clock.
 *
 * @example
 * ```ts
 * import { epochMs } from "./bystander.ts";
 * console.log(Math.abs(epochMs() - Date.now()) < 1000); // true
 * ```
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The latency of the calls that overlap any of `windows` (started before a
 * window ends and ended after it starts): a call held up by the transfer
 * counts whole, even if it started just before.
 *
 * @example
 * ```ts
 * import { bystanderStats } from "./bystander.ts";
 * const s = bystanderStats(
 *   {
 *     starts: Float64Array.of(0, 10, 20, 300),
 *     rtts: Float64Array.of(1, 250, 2, 1),
 *     oks: Uint8Array.of(1, 1, 1, 1),
 *     failures: [],
 *   },
 *   [[15, 100]],
 *   10,
 * );
 * console.log(s.calls, s.maxMs); // 2 250
 * ```
 */
export function bystanderStats(
  samples: BystanderSamples,
  windows: readonly Window[],
  intervalMs: number,
): BystanderResult {
  const picked: number[] = [];
  let failed = 0;
  for (let i = 0; i < samples.starts.length; i++) {
    const from = samples.starts[i];
    const to = from + samples.rtts[i];
    if (windows.some(([a, b]) => from <= b && to >= a)) {
      picked.push(samples.rtts[i]);
      if (!samples.oks[i]) failed++;
    }
  }
  picked.sort((a, b) => a - b);
  return {
    calls: picked.length,
    p50Ms: percentile(picked, 0.5),
    p99Ms: percentile(picked, 0.99),
    maxMs: picked.length ? picked[picked.length - 1] : NaN,
    failed,
    intervalMs,
  };
}

/**
 * A running bystander thread. Start it with {@linkcode Bystander.start},
 * end it with {@linkcode Bystander.stop} (always: it holds a Worker).
 *
 * @example
 * ```ts ignore
 * import { Bystander, bystanderStats, epochMs } from "./bystander.ts";
 * const b = await Bystander.start("http://127.0.0.1:21000/xmlrpc", 10);
 * const t0 = epochMs();
 * // … the transfer …
 * const stats = bystanderStats(await b.stop(), [[t0, epochMs()]], 10);
 * ```
 */
export class Bystander {
  readonly #worker: Worker;
  readonly #reports: ((r: BystanderReport | Error) => void)[] = [];
  #stopped = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<BystanderReport>) => this.#reports.shift()?.(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const err = new Error(`the bystander thread failed: ${e.message}`);
      for (const f of this.#reports.splice(0)) f(err);
    };
  }

  /** The next report of the worker, or an Error after `ms`. */
  #next(ms: number, what: string): Promise<BystanderReport | Error> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.#reports.indexOf(done);
        if (i >= 0) this.#reports.splice(i, 1);
        resolve(new Error(`the bystander did not ${what} within ${ms / 1000} s`));
      }, ms);
      const done = (r: BystanderReport | Error): void => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#reports.push(done);
    });
  }

  /**
   * Starts a bystander calling `url` every `intervalMs`; resolves once its
   * first call was answered.
   *
   * @throws {Error} when the thread cannot start or its first call fails.
   */
  static async start(url: string, intervalMs: number): Promise<Bystander> {
    const worker = new Worker(new URL("./_bystander_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const b = new Bystander(worker);
    const ready = b.#next(START_TIMEOUT_MS, "answer");
    const cmd: BystanderCommand = { type: "start", url, intervalMs, timeoutMs: RPC_TIMEOUT_MS };
    worker.postMessage(cmd);
    const r = await ready;
    if (r instanceof Error || r.type !== "ready") {
      b.#stopped = true;
      worker.terminate();
      throw r instanceof Error ? r : new Error(
        `the bystander's first call failed: ${r.type === "error" ? r.message : r.type}`,
      );
    }
    return b;
  }

  /**
   * Stops the calls (the one in flight ends first, so a call held up by the
   * hub is timed whole), ends the thread and returns every call made.
   *
   * @throws {Error} when the thread does not report within the call timeout.
   */
  async stop(): Promise<BystanderSamples> {
    if (this.#stopped) throw new Error("the bystander was already stopped");
    this.#stopped = true;
    const samples = this.#next(RPC_TIMEOUT_MS + START_TIMEOUT_MS, "stop");
    this.#worker.postMessage({ type: "stop" } satisfies BystanderCommand);
    try {
      const r = await samples;
      if (r instanceof Error) throw r;
      if (r.type !== "samples") throw new Error(`the bystander reported ${r.type}`);
      return r;
    } finally {
      this.#worker.terminate();
    }
  }
}

/**
 * Runs `fn` with a bystander calling `url` every `intervalMs`; `fn` returns
 * its result and the windows that count. The bystander is stopped whatever
 * happens.
 *
 * @example
 * ```ts ignore
 * import { epochMs, withBystander } from "./bystander.ts";
 * const { value, bystander } = await withBystander(url, 10, async () => {
 *   const t0 = epochMs();
 *   // … the transfer …
 *   return { value: 42, windows: [[t0, epochMs()]] };
 * });
 * ```
 */
export async function withBystander<T>(
  url: string,
  intervalMs: number,
  fn: () => Promise<{ value: T; windows: Window[] }>,
): Promise<{ value: T; bystander: BystanderResult; failures: string[] }> {
  const b = await Bystander.start(url, intervalMs);
  let out: { value: T; windows: Window[] };
  try {
    out = await fn();
  } catch (e) {
    await b.stop().catch(() => {});
    throw e;
  }
  const samples = await b.stop();
  return {
    value: out.value,
    bystander: bystanderStats(samples, out.windows, intervalMs),
    failures: samples.failures,
  };
}

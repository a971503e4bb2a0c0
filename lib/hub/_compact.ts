/**
 * Gives memory back to the system after a burst of traffic.
 *
 * Under load V8 lets its heap grow with short-lived garbage (tens of MiB
 * for a few thousand messages per second) and, once the load stops, keeps
 * those pages for about half a minute before its memory reducer returns
 * them. A hub that sits idle for hours between bursts should not hold them:
 * once the hub has been quiet for `quietMs` and the heap has grown by more
 * than `growthBytes` since the last compaction, this runs V8's most thorough
 * collection, which also releases the freed pages at once (measured: RSS
 * 196 → 93 MiB after a fan-out to 200 clients).
 *
 * That leaves the memory freed outside V8's heap: buffers of Deno's HTTP
 * stack, request bodies, compiler scratch space. glibc's allocator keeps
 * such pages for reuse and never returns the ones between live blocks
 * (over 20 MiB after the bench's load). Only `malloc_trim` does, and Deno
 * calls it after each worker thread ends (so that RSS falls back after
 * workers come and go). So on Linux a compaction then starts and ends a
 * worker that runs one line, which needs no permission and takes about
 * 15 ms ({@linkcode releaseFreedMemory}; measured with `deno task
 * bench:peers`: RSS after the load 82 → 69 MiB).
 *
 * It needs `gc`, which V8 exposes only with `--expose-gc`: `samp_hub` has it
 * (scripts/permissions.ts, HUB_RUNTIME_FLAGS). Without it this does nothing.
 *
 * @module
 */

/** V8's `gc()` as `--expose-gc` defines it. */
export type GcFunction = (options?: {
  type?: "major" | "minor";
  execution?: "sync" | "async";
  flavor?: "regular" | "last-resort";
}) => void;

/** Options of {@linkcode startCompactor}. */
export interface CompactorOptions {
  /** Whether to compact at all (false: a compactor that does nothing). Default true. */
  enabled?: boolean;
  /** When the hub last handled a request (ms, same clock as `now`). */
  lastActivity: () => number;
  /** Quiet time before compacting. Default 2000 ms. */
  quietMs?: number;
  /** Heap growth since the last compaction that makes one worth it. Default 8 MiB. */
  growthBytes?: number;
  /** How often to look. Default 1000 ms. */
  checkMs?: number;
  /** Default `Date.now`. */
  now?: () => number;
  /** Default `globalThis.gc`, when V8 exposes it. */
  gc?: GcFunction;
  /** Default the V8 heap's total size from `Deno.memoryUsage()`. */
  heapBytes?: () => number;
  /**
   * Gives freed memory outside the V8 heap back to the system. Default
   * {@linkcode releaseFreedMemory} on Linux, nothing elsewhere.
   */
  release?: (signal: AbortSignal) => Promise<void>;
  /** Told of each compaction: heap bytes before and after. */
  onCompact?: (before: number, after: number) => void;
}

/** A running compactor; see the module doc. */
export interface Compactor {
  /** Compactions so far. */
  readonly count: number;
  /** Stops its timer. */
  close(): void;
}

/**
 * Starts watching for quiet periods after heap growth; see the module doc.
 * Returns a compactor that does nothing when `gc` is not available.
 */
export function startCompactor(options: CompactorOptions): Compactor {
  const gc = options.gc ??
    (globalThis as { gc?: GcFunction }).gc;
  const quietMs = options.quietMs ?? 2000;
  const growth = options.growthBytes ?? 8 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const heapBytes = options.heapBytes ?? (() => Deno.memoryUsage().heapTotal);
  let count = 0;
  if (options.enabled === false || typeof gc !== "function") {
    return { count, close() {} };
  }
  const release = options.release ??
    (Deno.build.os === "linux" ? releaseFreedMemory : () => Promise.resolve());
  const stop = new AbortController();
  let releasing = false;
  let baseline = heapBytes();
  const timer = setInterval(() => {
    if (now() - options.lastActivity() < quietMs) return;
    const before = heapBytes();
    // V8 shrinks the heap by itself too: growth counts from the lowest seen.
    baseline = Math.min(baseline, before);
    if (before - baseline < growth) return;
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    baseline = heapBytes();
    count++;
    options.onCompact?.(before, baseline);
    if (!releasing) {
      releasing = true;
      release(stop.signal).catch(() => {}).finally(() => releasing = false);
    }
  }, options.checkMs ?? 1000);
  return {
    get count() {
      return count;
    },
    close() {
      clearInterval(timer);
      stop.abort();
    },
  };
}

/** The worker: it tells its host it has started, and the host ends it. */
const RELEASE_WORKER = "data:text/javascript,postMessage(0)";

/**
 * Starts a worker and ends it, after which Deno (on Linux with glibc) calls
 * `malloc_trim(0)`: every arena's free pages go back to the system. Resolves
 * when the worker has been ended; the trim follows on its thread within
 * milliseconds. Aborting `signal` ends the worker at once.
 *
 * @example
 * ```ts
 * import { releaseFreedMemory } from "./_compact.ts";
 * await releaseFreedMemory();
 * ```
 */
export function releaseFreedMemory(signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const worker = new Worker(RELEASE_WORKER, { type: "module" });
    const end = () => {
      signal?.removeEventListener("abort", end);
      worker.terminate();
      resolve();
    };
    worker.onmessage = end;
    worker.onerror = (e) => {
      e.preventDefault();
      end();
    };
    signal?.addEventListener("abort", end, { once: true });
  });
}

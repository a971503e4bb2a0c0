/**
 * Many coarse timeouts on one timer. Every request the hub handles or makes
 * has a timeout, almost none of which fires; a `setTimeout`/`clearTimeout`
 * pair for each cost about 5 % of the hub's CPU under load. Here a request
 * adds an entry to a set and removes it when done, and one interval, running
 * only while the set is not empty, fires what is due: late by at most
 * `tickMs`, which is nothing next to timeouts of seconds. The interval
 * stops at the first tick that finds nothing waiting (not at each cancel,
 * which for requests made one at a time would arm it again every time),
 * and it is unref'd: it never keeps a process alive by itself, unless made
 * with `keepAlive`, when it does so while a timeout waits (as a plain
 * `setTimeout` would), and not once none does.
 *
 * @module
 */

/** A set of timeouts sharing one timer; see the module doc. */
export interface Deadlines {
  /** Calls `fire` in about `ms` milliseconds (at most `tickMs` late) unless cancelled first. */
  add(ms: number, fire: () => void): () => void;
  /** Timeouts waiting. */
  readonly size: number;
}

interface Entry {
  at: number;
  fire: () => void;
}

/** Options of {@linkcode createDeadlines}. */
export interface DeadlinesOptions {
  /** Keep the process alive while a timeout waits. Default false. */
  keepAlive?: boolean;
}

/** Creates an empty set of deadlines checked every `tickMs` while any waits. */
export function createDeadlines(tickMs = 50, options: DeadlinesOptions = {}): Deadlines {
  const keepAlive = options.keepAlive ?? false;
  const entries = new Set<Entry>();
  /** Whether the timer keeps the process alive now (only with `keepAlive`). */
  let refd = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    if (entries.size === 0) {
      clearInterval(timer);
      timer = undefined;
      return;
    }
    const now = performance.now();
    for (const e of entries) {
      if (e.at > now) continue;
      entries.delete(e);
      e.fire();
    }
  };
  return {
    add(ms, fire) {
      const e: Entry = { at: performance.now() + ms, fire };
      entries.add(e);
      if (timer === undefined) {
        timer = setInterval(tick, Math.min(tickMs, Math.max(1, ms)));
        refd = true;
      }
      if (refd !== keepAlive) {
        refd = keepAlive;
        if (!refd) Deno.unrefTimer(timer as unknown as number);
        else Deno.refTimer(timer as unknown as number);
      }
      return () => {
        if (!entries.delete(e) || !refd || entries.size > 0) return;
        refd = false;
        Deno.unrefTimer(timer as unknown as number);
      };
    },
    get size() {
      return entries.size;
    },
  };
}

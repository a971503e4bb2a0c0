/**
 * Delivery accounting: every message carries a sequence number, and a
 * message completes when each of its recipients has it exactly once.
 *
 * @module
 */

interface Track {
  need: number;
  got: number;
  by?: Uint8Array;
  done: boolean;
  failed: boolean;
  resolve?: (ok: boolean) => void;
  t0: number;
}

/** How often open messages are checked against the timeout. */
const SWEEP_MS = 200;

/**
 * Counts receipts per sequence number; a message completes when all its
 * recipients have it, and counts as lost when it has not after `timeoutMs`.
 * Call {@linkcode Tracker.close} when done (it runs a timer).
 *
 * @example
 * ```ts
 * import { Tracker } from "./tracker.ts";
 * const tracker = new Tracker(1000);
 * const { seq, wait } = tracker.open(1);
 * tracker.receipt(String(seq));
 * console.log(await wait, tracker.lost); // true 0
 * tracker.close();
 * ```
 */
export class Tracker {
  #seq = 0;
  readonly #tracks = new Map<number, Track>();
  /** Deliveries expected (recipients of every message sent). */
  expected = 0;
  /** Deliveries received. */
  received = 0;
  /** Deliveries received twice. */
  duplicates = 0;
  /** Receipts for no open message (unknown or failed sequence numbers). */
  unexpected = 0;
  /** Messages not complete within the timeout. */
  timedOut = 0;
  /** Messages every recipient has. */
  completed = 0;
  #sweeper: ReturnType<typeof setInterval>;

  /** A tracker that gives a message up after `timeoutMs`. */
  constructor(readonly timeoutMs: number) {
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
  }

  /**
   * A new message for `need` recipients; `wait` resolves when all have it
   * (false: timed out or cancelled). With `perRecipient`, receipts name
   * their recipient, so a second delivery to one is a duplicate.
   */
  open(need: number, perRecipient = false): { seq: number; wait: Promise<boolean> } {
    const seq = ++this.#seq;
    const t: Track = {
      need,
      got: 0,
      by: perRecipient ? new Uint8Array(need) : undefined,
      done: false,
      failed: false,
      t0: performance.now(),
    };
    this.#tracks.set(seq, t);
    this.expected += need;
    const wait = new Promise<boolean>((resolve) => (t.resolve = resolve));
    return { seq, wait };
  }

  /** The send failed: nothing is expected for it. */
  cancel(seq: number): void {
    const t = this.#tracks.get(seq);
    if (!t || t.done) return;
    this.expected -= t.need;
    t.done = true;
    t.failed = true;
    t.resolve?.(false);
  }

  /** One recipient (number `recipient`, for per-recipient messages) has `seqText`. */
  receipt(seqText: string | undefined, recipient = 0): void {
    const seq = Number(seqText);
    const t = seqText === undefined ? undefined : this.#tracks.get(seq);
    if (!t || t.failed) {
      this.unexpected++;
      return;
    }
    if (t.by) {
      if (recipient >= t.need || t.by[recipient]) {
        this.duplicates++;
        return;
      }
      t.by[recipient] = 1;
    } else if (t.got >= t.need) {
      this.duplicates++;
      return;
    }
    t.got++;
    this.received++;
    if (t.got === t.need && !t.done) {
      t.done = true;
      t.by = undefined;
      this.completed++;
      t.resolve?.(true);
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const t of this.#tracks.values()) {
      if (!t.done && now - t.t0 > this.timeoutMs) {
        t.done = true;
        this.timedOut++;
        t.resolve?.(false);
      }
    }
  }

  /** Deliveries expected but not received. */
  get lost(): number {
    return this.expected - this.received;
  }

  /** Stops the timeout timer. */
  close(): void {
    clearInterval(this.#sweeper);
  }
}

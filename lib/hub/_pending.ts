/**
 * Calls awaiting a reply: their msg-ids, who made them and who must answer,
 * the time-to-live of asynchronous calls and the timers of synchronous
 * ones (`callAndWait`). Private to the hub core.
 *
 * @module
 */

import { SampFault } from "../errors.ts";
import { createDeadlines } from "../transport/_deadlines.ts";
import type { SampResponse } from "../types.ts";

/**
 * A client's part in calls, kept on its record so that leaving can end its
 * calls without a search.
 *
 * @example
 * ```ts
 * import type { CallParty } from "./_pending.ts";
 * const party: CallParty = { id: "c1", callsIn: new Set(), callsOut: new Set() };
 * ```
 */
export interface CallParty {
  /** The client's public id (part of the msg-ids of its calls). */
  readonly id: string;
  /** msg-ids of calls this client must answer. */
  readonly callsIn: Set<string>;
  /** msg-ids of calls this client made and awaits. */
  readonly callsOut: Set<string>;
}

/**
 * How a synchronous call's waiter is answered.
 *
 * @example
 * ```ts
 * import type { SyncWaiter } from "./_pending.ts";
 * const waiter: SyncWaiter = { resolve: (r) => console.log(r["samp.status"]), reject: console.error };
 * ```
 */
export interface SyncWaiter {
  /** Hands the waiter the response. */
  resolve(response: SampResponse): void;
  /** Fails the wait. */
  reject(error: Error): void;
}

/**
 * One call awaiting a reply.
 *
 * @example
 * ```ts
 * import type { CallParty, PendingCall } from "./_pending.ts";
 * function describe(call: PendingCall<CallParty>): string {
 *   return `${call.sender.id} → ${call.recipient.id}: ${call.mtype}`;
 * }
 * ```
 */
export interface PendingCall<C extends CallParty> {
  /** The id the hub gave the call. */
  readonly msgId: string;
  /** Who made it. */
  readonly sender: C;
  /** Who must answer it. */
  readonly recipient: C;
  /** The sender's msg-tag ("" for a synchronous call). */
  readonly tag: string;
  /** The message's MType. */
  readonly mtype: string;
  /** When it was made (ms since the epoch). */
  readonly startedAt: number;
  /** For `callAndWait`: who waits for the response. */
  readonly sync?: SyncWaiter;
}

/**
 * The calls awaiting a reply, by msg-id, and the timers of synchronous
 * waits.
 *
 * @example
 * ```ts
 * import { PendingCalls } from "./_pending.ts";
 * const calls = new PendingCalls(60_000);
 * const a = { id: "c1", callsIn: new Set<string>(), callsOut: new Set<string>() };
 * const b = { id: "c2", callsIn: new Set<string>(), callsOut: new Set<string>() };
 * const call = calls.open(a, b, "tag", "samp.app.ping", "call", Date.now());
 * console.log(call.msgId, calls.size); // "a1_c1" 1
 * calls.forget(call.msgId);
 * ```
 */
export class PendingCalls<C extends CallParty> {
  readonly #calls = new Map<string, PendingCall<C>>();
  /** The cancel of each synchronous wait's timeout, by msg-id. */
  readonly #timers = new Map<string, () => void>();
  /** One timer for every synchronous wait: a timeout of seconds may fire a tick late. */
  readonly #deadlines = createDeadlines(50, { keepAlive: true });
  readonly #ttlMs: number;
  #next = 1;

  /**
   * Makes an empty table; asynchronous calls unanswered for `ttlMs` are
   * dropped by {@linkcode PendingCalls.expire}.
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * const calls = new PendingCalls(12 * 3600 * 1000);
   * ```
   */
  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** Calls awaiting a reply (asynchronous and synchronous). */
  get size(): number {
    return this.#calls.size;
  }

  /** Synchronous waits with a timer running. */
  get syncWaits(): number {
    return this.#timers.size;
  }

  /**
   * Records a new call from `sender` to `recipient` and gives it a msg-id
   * (`a…` for asynchronous calls, `s…` for synchronous ones).
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * const calls = new PendingCalls(60_000);
   * const a = { id: "c1", callsIn: new Set<string>(), callsOut: new Set<string>() };
   * calls.open(a, a, "", "samp.app.ping", "callAndWait", 0).msgId; // "s1_c1"
   * ```
   */
  open(
    sender: C,
    recipient: C,
    tag: string,
    mtype: string,
    mode: "call" | "callAndWait",
    startedAt: number,
    sync?: SyncWaiter,
  ): PendingCall<C> {
    const msgId = `${mode === "call" ? "a" : "s"}${this.#next++}_${sender.id}`;
    const call: PendingCall<C> = { msgId, sender, recipient, tag, mtype, startedAt, sync };
    this.#calls.set(msgId, call);
    sender.callsOut.add(msgId);
    recipient.callsIn.add(msgId);
    return call;
  }

  /**
   * The call with `msgId`, or `undefined` once it is answered or forgotten.
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * new PendingCalls(60_000).get("a1_c1"); // undefined
   * ```
   */
  get(msgId: string): PendingCall<C> | undefined {
    return this.#calls.get(msgId);
  }

  /**
   * Whether the call with `msgId` still awaits a reply.
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * new PendingCalls(60_000).has("a1_c1"); // false
   * ```
   */
  has(msgId: string): boolean {
    return this.#calls.has(msgId);
  }

  /**
   * Drops a call (answered, abandoned or expired). A synchronous wait's
   * timer is left to {@linkcode PendingCalls.endWait}.
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * new PendingCalls(60_000).forget("a1_c1"); // nothing to forget
   * ```
   */
  forget(msgId: string): void {
    const call = this.#calls.get(msgId);
    if (!call) return;
    this.#calls.delete(msgId);
    call.sender.callsOut.delete(msgId);
    call.recipient.callsIn.delete(msgId);
  }

  /**
   * Runs `onTimeout` if the synchronous call `msgId` is still waiting after
   * `ms` (at most 50 ms late: the waits share one coarse timer).
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * const calls = new PendingCalls(60_000);
   * calls.startWait("s1_c1", 5000, () => console.log("too late"));
   * calls.endWait("s1_c1");
   * ```
   */
  startWait(msgId: string, ms: number, onTimeout: () => void): void {
    this.#timers.get(msgId)?.();
    this.#timers.set(msgId, this.#deadlines.add(ms, onTimeout));
  }

  /**
   * Stops the timer of a synchronous wait (answered, failed or abandoned).
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * new PendingCalls(60_000).endWait("s1_c1"); // no timer: nothing to stop
   * ```
   */
  endWait(msgId: string): void {
    this.#timers.get(msgId)?.();
    this.#timers.delete(msgId);
  }

  /**
   * Forgets asynchronous calls made more than the time-to-live before `now`.
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * new PendingCalls(60_000).expire(Date.now());
   * ```
   */
  expire(now: number): void {
    for (const call of [...this.#calls.values()]) {
      if (!call.sync && now - call.startedAt > this.#ttlMs) this.forget(call.msgId);
    }
  }

  /**
   * Forgets every call and fails every synchronous wait with `reason`.
   *
   * @example
   * ```ts
   * import { PendingCalls } from "./_pending.ts";
   * new PendingCalls(60_000).close("The hub is shutting down");
   * ```
   */
  close(reason: string): void {
    for (const call of [...this.#calls.values()]) {
      this.forget(call.msgId);
      call.sync?.reject(new SampFault(reason));
    }
  }
}

/**
 * What the scenarios drive: a SAMP hub (hub_target.ts) or the bare relay
 * (relay_target.ts), through the same bench clients and the same messages.
 *
 * @module
 */

import type { SampMap, SampValue } from "../../lib/types.ts";
import type { BenchClient } from "./client.ts";
import type { CallbackCounts } from "./callback.ts";

/** How long any one request to the target may take. */
export const RPC_TIMEOUT_MS = 60000;

/** How a bench client registers. */
export interface RegisterOptions {
  /** Runs a callback server (default true). */
  callable?: boolean;
  /** MType subscriptions to declare. */
  subscriptions?: SampMap;
  /** `samp.name` (default `bench-N`). */
  name?: string;
}

/** A registration without a callback server (the storm's cycles). */
export interface RawRegistration {
  id: string;
  key: string;
  hubId: string;
}

/**
 * A request encoded ahead of time (what a big-message scenario sends, so
 * that the bench's own encoding is not in the time it measures).
 */
export interface PreparedRequest {
  /** Where it goes, as its target reads it: the hub's URL, the relay's route. */
  to: string;
  /** The XML-RPC request body. */
  body: string;
}

/** What the scenarios drive: a SAMP hub, or the bare relay. */
export interface Target {
  readonly kind: "hub" | "relay";
  /** The target's URL (the relay's without trailing slashes). */
  readonly url: string;
  readonly description: string;
  /** Counts kept by every client's callback server. */
  readonly callbacks: CallbackCounts;
  register(opts?: RegisterOptions): Promise<BenchClient>;
  unregister(c: BenchClient): Promise<void>;
  notify(from: BenchClient, to: BenchClient, msg: SampMap): Promise<void>;
  /** Returns how many recipients the hub named. */
  notifyAll(from: BenchClient, msg: SampMap, recipients: BenchClient[]): Promise<number>;
  call(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): Promise<void>;
  callAndWait(from: BenchClient, to: BenchClient, msg: SampMap): Promise<SampMap>;
  reply(by: BenchClient, sender: string, msgId: string, response: SampMap): Promise<void>;
  /** The notify of `notify`, encoded now and sent later by `send`. */
  prepareNotify(from: BenchClient, to: BenchClient, msg: SampMap): PreparedRequest;
  /** The call of `call`, encoded now and sent later by `send`. */
  prepareCall(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): PreparedRequest;
  /** Sends a prepared request; rejects on an HTTP error or an XML-RPC fault. */
  send(req: PreparedRequest): Promise<void>;
  /**
   * One XML-RPC call to the hub, its response as raw text, not decoded
   * (hub only: the big metadata's fetchers read it their own way).
   */
  callText?(method: string, params: SampValue[]): Promise<string>;
  /** Registration storm steps (hub only). */
  rawRegister?(): Promise<RawRegistration>;
  rawCall?(method: string, params: SampValue[]): Promise<SampValue>;
  /** Closes the target's connections. */
  close(): void;
}

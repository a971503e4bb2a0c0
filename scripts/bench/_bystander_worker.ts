/**
 * The bystander's thread (a Worker started by bystander.ts): it calls the
 * target every `intervalMs` (`samp.hub.ping`, one call at a time over a
 * keep-alive connection of its own, as an idle tool would) and times each
 * round trip, so its figures are not skewed by the work of the bench's main
 * thread.
 *
 * Protocol: `{ type: "start", url, intervalMs, timeoutMs }` in; `{ type:
 * "ready" }` out after the first answer (or `{ type: "error", message }`);
 * `{ type: "stop" }` in; `{ type: "samples", … }` out once the call in
 * flight (if any) has ended, whatever its outcome.
 *
 * @module
 */

import { createHttpPool } from "../../lib/transport/http_pool.ts";
import { xmlrpcRequest } from "../../lib/transport/xmlrpc_client.ts";

/** What the bystander's thread is told to do. */
export type BystanderCommand =
  | { type: "start"; url: string; intervalMs: number; timeoutMs: number }
  | { type: "stop" };

/** What the bystander's thread reports. */
export type BystanderReport =
  | { type: "ready" }
  | { type: "error"; message: string }
  | {
    type: "samples";
    /** Start of each call, ms since the epoch (performance.timeOrigin based). */
    starts: Float64Array;
    /** Its round trip in ms (for a failed call: until it failed). */
    rtts: Float64Array;
    /** 1 for each call answered, 0 for each that failed. */
    oks: Uint8Array;
    /** The first few reasons of failed calls. */
    failures: string[];
  };

/** What this module uses of the worker's global scope (typed here: it is checked with Deno's window types). */
interface WorkerScope {
  postMessage(message: BystanderReport): void;
  onmessage: ((e: MessageEvent<BystanderCommand>) => void) | null;
}

/** The worker's global scope. */
const scope = globalThis as unknown as WorkerScope;

/** Milliseconds since the epoch, comparable across threads. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

async function run(
  url: string,
  intervalMs: number,
  timeoutMs: number,
  stopping: () => boolean,
): Promise<void> {
  const pool = createHttpPool({ maxIdlePerOrigin: 1 });
  const starts: number[] = [];
  const rtts: number[] = [];
  const oks: number[] = [];
  const failures: string[] = [];
  let ready = false;
  try {
    while (!stopping()) {
      const t0 = now();
      let ok = 1;
      try {
        await xmlrpcRequest(url, "samp.hub.ping", [], { pool, timeoutMs });
        if (!ready) {
          ready = true;
          scope.postMessage({ type: "ready" });
        }
      } catch (e) {
        if (!ready) {
          scope.postMessage({ type: "error", message: String(e) });
          return;
        }
        ok = 0;
        if (failures.length < 5) failures.push(String(e));
      }
      const rtt = now() - t0;
      starts.push(t0);
      rtts.push(rtt);
      oks.push(ok);
      const wait = intervalMs - rtt;
      if (wait > 0 && !stopping()) await new Promise((r) => setTimeout(r, wait));
    }
    const report: BystanderReport = {
      type: "samples",
      starts: Float64Array.from(starts),
      rtts: Float64Array.from(rtts),
      oks: Uint8Array.from(oks),
      failures,
    };
    // A few thousand numbers: copied, not transferred.
    scope.postMessage(report);
  } finally {
    pool.close();
  }
}

/** Takes the commands of bench's main thread. */
function listen(): void {
  let stopping = false;
  let loop: Promise<void> | undefined;
  scope.onmessage = (e: MessageEvent<BystanderCommand>) => {
    const cmd = e.data;
    if (cmd.type === "start" && !loop) {
      loop = run(cmd.url, cmd.intervalMs, cmd.timeoutMs, () => stopping);
    } else if (cmd.type === "stop") {
      stopping = true;
    }
  };
}

listen();

/**
 * Starting and stopping what bench:peers measures, and every child it runs,
 * so that an interrupted run stops them all: the relay (a child `deno run`
 * of the bench:peers entry with `--serve-relay PORT`), the hubs
 * (scripts/hubs.ts, each with a private lockfile), and bounded commands.
 *
 * @module
 */

import { xmlrpcRequest } from "../../../lib/transport/xmlrpc_client.ts";
import {
  type AnyHub,
  collectOutput,
  privateEnv,
  ROOT,
  runBounded,
  startAnyHub,
} from "../../hubs.ts";
import { sleep } from "../_async.ts";
import type { PeerTarget } from "./args.ts";

/** How long the relay may take to answer its first ping. */
const RELAY_START_MS = 30000;
/** How long the stopped relay may take to exit before SIGKILL. */
const RELAY_STOP_MS = 10000;
/** Keep this much of a hub's output (a storm logs every registration). */
const HUB_OUTPUT_TAIL = 64 * 1024;

/** What a bounded command returned. */
export type RunResult = Awaited<ReturnType<typeof runBounded>>;

/** A running target. */
export interface Running {
  pid: number;
  startToPingMs: number;
  /** For the relay: its URL; for a hub: the hub. */
  relayUrl?: string;
  hub?: AnyHub;
  /** Environment and working directory for a client of this target. */
  env: Record<string, string>;
  cwd: string;
  /** Stops the target and removes its temp dir. */
  stop(): Promise<void>;
}

/** A free loopback port (closed again at once). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts targets and runs commands, keeping track of each until it ends,
 * so that {@linkcode Launcher.stopAll} can stop what still runs.
 *
 * @example
 * ```ts ignore
 * import { Launcher } from "./launcher.ts";
 * const launcher = new Launcher("/path/to/scripts/bench_peers.ts");
 * const ours = await launcher.start("ours");
 * console.log(ours.startToPingMs);
 * await ours.stop();
 * ```
 */
export class Launcher {
  /** Children of run() still running. */
  readonly #children = new Set<Deno.ChildProcess>();
  /** Targets started and not yet stopped. */
  readonly #running = new Set<Running>();

  /** A launcher whose relay runs `entry --serve-relay PORT` (`entry`: bench:peers' script). */
  constructor(readonly entry: string) {}

  /** Runs a command to completion (SIGKILL after `timeoutMs`), stopped by stopAll. */
  run(
    cmd: string,
    args: string[],
    opts: { env?: Record<string, string>; cwd?: string; timeoutMs: number },
  ): Promise<RunResult> {
    return runBounded(cmd, args, { ...opts, running: this.#children });
  }

  /** Starts a target, timed from spawn to its first ping answer. */
  async start(target: PeerTarget): Promise<Running> {
    const r = await this.#startTarget(target);
    const stop = r.stop;
    r.stop = async () => {
      this.#running.delete(r);
      await stop();
    };
    this.#running.add(r);
    return r;
  }

  /** Kills every command still running and stops every target still started. */
  async stopAll(): Promise<void> {
    for (const c of this.#children) {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await Promise.all([...this.#running].map((r) => r.stop().catch(() => {})));
  }

  async #startTarget(target: PeerTarget): Promise<Running> {
    if (target === "ceiling") return await this.#startRelay();
    const hub = await startAnyHub(target, { outputTail: HUB_OUTPUT_TAIL });
    return {
      pid: hub.pid,
      startToPingMs: hub.startToPingMs,
      hub,
      env: hub.env(),
      cwd: hub.dir,
      stop: () => hub.stop(),
    };
  }

  /** Starts the relay as a child process and times it from spawn to its first answer. */
  async #startRelay(): Promise<Running> {
    const dir = await Deno.makeTempDir({ prefix: "samp-relay-" });
    const port = freePort();
    const url = `http://127.0.0.1:${port}/`;
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        `--config=${ROOT}deno.json`,
        "--allow-net",
        this.entry,
        "--serve-relay",
        String(port),
      ],
      env: privateEnv(dir, ""),
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = collectOutput(child);
    const stop = async (): Promise<void> => {
      if (out.code === undefined) {
        try {
          child.kill("SIGTERM");
        } catch { /* gone */ }
      }
      await out.wait(RELAY_STOP_MS).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    };
    try {
      while (true) {
        if (out.code !== undefined) throw new Error(`the relay exited: ${out.text()}`);
        if (performance.now() - started > RELAY_START_MS) {
          throw new Error("the relay did not answer");
        }
        try {
          await xmlrpcRequest(url, "samp.hub.ping", [], { timeoutMs: 2000 });
          break;
        } catch {
          await sleep(1);
        }
      }
      return {
        pid: child.pid,
        startToPingMs: performance.now() - started,
        relayUrl: url,
        env: privateEnv(dir, ""),
        cwd: dir,
        stop,
      };
    } catch (e) {
      await stop();
      throw e;
    }
  }
}

/**
 * Any of three SAMP hubs as a child process, each with a private lockfile in a
 * new temp dir: ours (`deno run hub.ts` with exactly the compiled
 * permissions), JSAMP's (`jsamp hub`) and astropy's (SAMPHubServer, via
 * tests/peers/astropy_hub.py). The tests (through tests/_hubs.ts) and the
 * benchmarks (scripts/bench/peers/, `deno task bench:peers`) both start hubs here.
 *
 * Every hub process gets HOME=<dir>: Java takes the home directory from
 * /etc/passwd, not $HOME, so `SAMP_HUB=std-lockurl:file://<lockfile>` is what
 * keeps JSAMP off the real ~/.samp; astropy's hub cleans dead lockfiles in
 * $HOME/.samp, so HOME must be private too.
 *
 * Addresses: ours and astropy's hub listen on 127.0.0.1 only. JSAMP (1.3.7)
 * binds its server sockets to the wildcard address (it has no property for
 * the bind address, only jsamp.localhost for the advertised one), so its hub
 * also listens on other interfaces while it runs; it advertises 127.0.0.1,
 * and {@linkcode startAnyHub} checks that every hub does.
 *
 * Start-up is timed from just before the spawn to the first `samp.hub.ping`
 * answer, polling the lockfile and the ping every millisecond.
 *
 * @module
 */

import { HUB_PERMISSIONS, HUB_RUNTIME_FLAGS } from "./permissions.ts";
import { parseLockfile } from "../lib/lockfile.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";

/** The hubs this module can start. */
export type HubKind = "ours" | "jsamp" | "astropy";

/** Every hub kind, ours first. */
export const HUB_KINDS: readonly HubKind[] = ["ours", "jsamp", "astropy"];

/** The Python that has astropy on Debian (the default `python3` may be another install). */
export const PYTHON = "/usr/bin/python3";

/** The repository root (with a trailing slash). */
export const ROOT: string = new URL("..", import.meta.url).pathname;

const HUB_ENTRY = `${ROOT}hub.ts`;

/**
 * `deno` arguments that run this checkout's `samp_hub` as the compiled
 * binary runs it: its runtime flags and exactly `permissions` (by default
 * the compiled ones), never prompting. The hub's own flags follow.
 *
 * @example
 * ```ts
 * import { hubRunArgs } from "./hubs.ts";
 * const command = new Deno.Command(Deno.execPath(), { args: [...hubRunArgs(), "--help"] });
 * ```
 */
export function hubRunArgs(permissions: readonly string[] = HUB_PERMISSIONS): string[] {
  return [
    "run",
    "--quiet",
    "--no-prompt",
    `--config=${ROOT}deno.json`,
    ...HUB_RUNTIME_FLAGS,
    ...permissions,
    HUB_ENTRY,
  ];
}
const ASTROPY_HUB = `${ROOT}tests/peers/astropy_hub.py`;

/** A running hub child process. */
export interface AnyHub {
  kind: HubKind;
  /** Absolute path of the private lockfile. */
  lockfile: string;
  /** The private temp dir (HOME of every child); stop() removes it. */
  dir: string;
  /** The hub's Standard Profile XML-RPC URL, from the lockfile. */
  url: string;
  /** The registration secret, from the lockfile. */
  secret: string;
  /** `std-lockurl:file://<lockfile>`, the SAMP_HUB value for children. */
  sampHub: string;
  /** The hub's process id (`jsamp` execs java, so that is the JVM's). */
  pid: number;
  /** Milliseconds from just before the spawn to the first ping answer. */
  startToPingMs: number;
  /** Environment for a child process that uses this hub (HOME and SAMP_HUB private). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** The hub process's stdout and stderr so far. */
  output(): string;
  /** The hub's exit code once stopped. */
  readonly exitCode: number | undefined;
  /** Stops the hub (SIGTERM, then SIGKILL if it hangs), waits for it and removes `dir`. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startAnyHub}. */
export interface StartOptions {
  /** Give up if the hub does not answer a ping within this many ms. Default 30000. */
  timeoutMs?: number;
  /** Extra samp_hub flags (ours only). */
  args?: string[];
  /**
   * Keep only the last this many characters of the hub's output (default:
   * all). The bench sets it: a hub logging every registration of a storm
   * must not make the harness hold, and re-copy, megabytes of text.
   */
  outputTail?: number;
}

/**
 * Runs a command to completion, bounded in time (SIGKILL after `timeoutMs`,
 * default 30 s); never throws: a command that cannot start gives code -1.
 * With `running`, the child is in that set while it runs (so a caller can
 * kill what runs when interrupted).
 */
export async function runBounded(
  cmd: string,
  args: string[],
  opts: {
    env?: Record<string, string>;
    cwd?: string;
    timeoutMs?: number;
    running?: Set<Deno.ChildProcess>;
  } = {},
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      env: opts.env,
      cwd: opts.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { code: -1, stdout: "", stderr: String(e), timedOut: false };
  }
  opts.running?.add(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs ?? 30000);
  try {
    const out = await child.output();
    const d = new TextDecoder();
    return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr), timedOut };
  } finally {
    clearTimeout(timer);
    opts.running?.delete(child);
  }
}

/** The Deno cache of this process, so children with another HOME reuse it. */
export function denoDir(): string {
  const env = Deno.env.toObject();
  if (env.DENO_DIR) return env.DENO_DIR;
  if (Deno.build.os === "windows") return `${env.LOCALAPPDATA}\\deno`;
  if (Deno.build.os === "darwin") return `${env.HOME}/Library/Caches/deno`;
  return `${env.XDG_CACHE_HOME ?? `${env.HOME}/.cache`}/deno`;
}

/** `std-lockurl:file://<lockfile>` for an absolute path. */
export function lockUrl(lockfile: string): string {
  if (!lockfile.startsWith("/")) throw new Error(`lockfile path is not absolute: ${lockfile}`);
  return `std-lockurl:file://${encodeURI(lockfile)}`;
}

/**
 * Environment for a child in the private dir `dir`: the parent's, with HOME
 * (and the XDG and temp dirs) moved there, SAMP_HUB as given and the Deno
 * cache kept.
 */
export function privateEnv(
  dir: string,
  sampHub: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DENO_DIR: denoDir(),
    HOME: dir,
    NO_COLOR: "1",
    SAMP_HUB: sampHub,
    XDG_CONFIG_HOME: dir,
    XDG_CACHE_HOME: dir,
    TMPDIR: dir,
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
    ...extra,
  };
}

/**
 * Collects a child's stdout+stderr (the last `tail` characters of it, when
 * given); `wait` resolves with its exit code (SIGKILL after `ms`).
 */
export function collectOutput(child: Deno.ChildProcess, tail = Infinity): {
  text(): string;
  readonly code: number | undefined;
  wait(ms: number): Promise<number>;
} {
  let text = "";
  const state = { code: undefined as number | undefined };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    for await (const chunk of stream) {
      text += d.decode(chunk, { stream: true });
      if (text.length > 2 * tail) text = text.slice(-tail);
    }
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr), child.status]).then(
    ([, , status]) => {
      state.code = status.code;
      return status.code;
    },
  );
  return {
    text: () => text,
    get code() {
      return state.code;
    },
    async wait(ms: number) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
          reject(new Error(`process ${child.pid} did not exit within ${ms} ms:\n${text}`));
        }, ms);
      });
      try {
        return await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
        await done.catch(() => {});
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a hub of the given kind with a private lockfile; resolves once it
 * answers a ping, with the time that took.
 */
export async function startAnyHub(kind: HubKind, options: StartOptions = {}): Promise<AnyHub> {
  const dir = await Deno.makeTempDir({ prefix: `samp-${kind}-hub-` });
  const lockfile = `${dir}/hub.samp`;
  const sampHub = lockUrl(lockfile);
  const env = (extra: Record<string, string> = {}) => privateEnv(dir, sampHub, extra);
  let command: Deno.Command;
  if (kind === "ours") {
    command = new Deno.Command(Deno.execPath(), {
      args: [
        ...hubRunArgs(),
        "--lockfile",
        lockfile,
        ...(options.args ?? []),
        "--no-web-profile",
      ],
      // The hub itself gets no SAMP_HUB: --lockfile says where.
      env: privateEnv(dir, ""),
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  } else if (kind === "jsamp") {
    command = new Deno.Command("jsamp", {
      args: ["hub", "-mode", "no-gui", "-profiles", "std"],
      env: env(),
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  } else {
    command = new Deno.Command(PYTHON, {
      args: [ASTROPY_HUB, lockfile],
      env: env({ ASTROPY_HUB_WATCHDOG: "900" }),
      cwd: dir,
      // astropy_hub.py also stops when its stdin closes, e.g. if this process dies.
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
  }
  const started = performance.now();
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
  const stdin = kind === "astropy" ? child.stdin.getWriter() : undefined;
  const out = collectOutput(child, options.outputTail);
  let exitCode: number | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await stdin?.close().catch(() => {});
      if (out.code === undefined) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      exitCode = await out.wait(20000);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };

  try {
    const timeoutMs = options.timeoutMs ?? 30000;
    const end = started + timeoutMs;
    let lock;
    while (true) {
      if (out.code !== undefined) {
        throw new Error(`the ${kind} hub exited with ${out.code} before starting:\n${out.text()}`);
      }
      if (performance.now() > end) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for the ${kind} hub's lockfile and a ping ` +
            `answer:\n${out.text()}`,
        );
      }
      if (!lock) {
        try {
          lock = parseLockfile(await Deno.readTextFile(lockfile));
        } catch {
          // not there yet, or still being written
        }
      }
      if (lock) {
        try {
          await xmlrpcRequest(lock.xmlrpcUrl, "samp.hub.ping", [], { timeoutMs: 2000 });
          break;
        } catch {
          // not listening yet
        }
      }
      await sleep(1);
    }
    const startToPingMs = performance.now() - started;
    const host = new URL(lock.xmlrpcUrl).hostname;
    if (host !== "127.0.0.1") {
      throw new Error(`the ${kind} hub advertises ${lock.xmlrpcUrl}, not a 127.0.0.1 URL`);
    }
    return {
      kind,
      lockfile,
      dir,
      url: lock.xmlrpcUrl,
      secret: lock.secret,
      sampHub,
      pid: child.pid,
      startToPingMs,
      env,
      output: out.text,
      get exitCode() {
        return exitCode;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

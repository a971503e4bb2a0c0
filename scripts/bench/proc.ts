/**
 * Measuring a process from outside: RSS and CPU time from /proc (Linux),
 * read with `cat` because Deno reads /proc/PID of another process only with
 * --allow-all (the bench has --allow-run=cat), and this process's own CPU.
 *
 * @module
 */

import process from "node:process";

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** How often {@linkcode RssSampler} reads the RSS. */
const SAMPLE_MS = 100;

/**
 * The text of a /proc file (via `cat`), or null when it cannot be read
 * (not Linux, process gone).
 *
 * @example
 * ```ts
 * import { readProcText } from "./proc.ts";
 * const load = await readProcText("/proc/loadavg");
 * console.log(load ?? "no /proc here");
 * ```
 */
export async function readProcText(path: string): Promise<string | null> {
  if (Deno.build.os !== "linux") return null;
  try {
    const out = await new Deno.Command("cat", {
      args: [path],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** /proc/<pid>/<file>, or null when unknown. */
function readProc(pid: number | undefined, file: string): Promise<string | null> {
  return pid === undefined ? Promise.resolve(null) : readProcText(`/proc/${pid}/${file}`);
}

/**
 * VmRSS of a process in KiB, or null when unknown (not Linux, no such
 * process, no pid).
 *
 * @example
 * ```ts
 * import { readRssKiB } from "./proc.ts";
 * console.log(await readRssKiB(Deno.pid));
 * ```
 */
export async function readRssKiB(pid: number | undefined): Promise<number | null> {
  const text = await readProc(pid, "status");
  const m = text === null ? null : /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * CPU seconds (user + system) a process has used, or its children it has
 * waited for, from /proc/<pid>/stat; null when unknown.
 *
 * @example
 * ```ts
 * import { readCpuSeconds } from "./proc.ts";
 * console.log(await readCpuSeconds(Deno.pid, "children"));
 * ```
 */
export async function readCpuSeconds(
  pid: number | undefined,
  of: "self" | "children" = "self",
): Promise<number | null> {
  const text = await readProc(pid, "stat");
  if (text === null) return null;
  // Fields after the parenthesised command name: utime and stime are the
  // 14th and 15th, cutime and cstime (children waited for) the 16th and 17th.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const i = of === "self" ? 11 : 13;
  return (Number(f[i]) + Number(f[i + 1])) / CLOCK_TICKS;
}

/**
 * CPU seconds (user + system) this process has used.
 *
 * @example
 * ```ts
 * import { ownCpuSeconds } from "./proc.ts";
 * console.log(ownCpuSeconds() >= 0); // true
 * ```
 */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Samples a process's RSS every 100 ms between `start` and `stop`, keeping
 * the peak (null: no pid, or nothing read).
 *
 * @example
 * ```ts
 * import { RssSampler } from "./proc.ts";
 * const sampler = new RssSampler(Deno.pid);
 * sampler.start();
 * await new Promise((r) => setTimeout(r, 300));
 * sampler.stop();
 * console.log(sampler.peak);
 * ```
 */
export class RssSampler {
  /** The highest RSS read so far, in KiB. */
  peak: number | null = null;
  #timer?: ReturnType<typeof setInterval>;

  /** A sampler of process `pid` (none: it reads nothing). */
  constructor(readonly pid: number | undefined) {}

  /** Starts sampling (again a no-op while running). */
  start(): void {
    if (this.pid === undefined || this.#timer !== undefined) return;
    let busy = false;
    this.#timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      const v = await readRssKiB(this.pid);
      busy = false;
      if (v !== null && (this.peak === null || v > this.peak)) this.peak = v;
    }, SAMPLE_MS);
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

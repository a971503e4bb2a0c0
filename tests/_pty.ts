// A real terminal for tests: runs a command on a pseudo-terminal made by
// util-linux `script`, so that the program's stdin is a tty (canonical mode,
// echo, the kernel's line buffer) and text written here reaches it as typing.

import { collectOutput } from "../scripts/hubs.ts";
import { waitFor } from "./_helpers.ts";

/** util-linux `script`, which gives a command a pty. */
export const SCRIPT = "/usr/bin/script";

/** Whether {@linkcode SCRIPT} is util-linux's (Linux only: close() also needs /proc). */
export const haveScript: boolean = Deno.build.os === "linux" &&
  await Deno.stat(SCRIPT).then(() => true, () => false);

/** A command running on a pseudo-terminal. */
export interface Terminal {
  /** `script`'s process id (the command runs as its child, on the pty). */
  pid: number;
  /** Everything the terminal showed so far (output and echoed typing), `\r` removed. */
  output(): string;
  /** Types `text` on the terminal: it goes through the tty's line discipline. */
  type(text: string): Promise<void>;
  /** Waits (at most `ms`) until the output matches `pattern`; the error shows the output. */
  waitFor(pattern: RegExp, ms: number, what: string): Promise<RegExpExecArray>;
  /**
   * Stops the command: SIGTERM to it by its PID (script's child, from /proc;
   * script's own handling of SIGTERM hangs the terminal up first), then waits
   * for `script` to exit with the command's code, which it resolves with;
   * SIGKILL to `script` (and so a hang-up for the command) after 10 s.
   */
  close(): Promise<number>;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Starts `argv` on a new pty; `env` is added to (and overrides) this process's environment. */
export function onTerminal(argv: string[], env: Record<string, string>): Terminal {
  const child = new Deno.Command(SCRIPT, {
    // -q: no banner; -e: exit with the command's code; -f: flush at once.
    // `exec`: the command replaces script's shell, so it gets the SIGTERM.
    args: ["-qef", "-c", `exec ${argv.map(quote).join(" ")}`, "/dev/null"],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const out = collectOutput(child);
  const output = () => out.text().replaceAll("\r", "");
  let closed: Promise<number> | undefined;
  return {
    pid: child.pid,
    output,
    type: (text) => writer.write(new TextEncoder().encode(text)),
    async waitFor(pattern, ms, what) {
      try {
        return await waitFor(() => pattern.exec(output()), ms, what);
      } catch (e) {
        throw new Error(`${(e as Error).message}; the terminal showed:\n${output()}`);
      }
    },
    close() {
      closed ??= (async () => {
        if (out.code === undefined) {
          const pid = await commandPid(child.pid);
          try {
            if (pid) Deno.kill(pid, "SIGTERM");
            else child.kill("SIGTERM");
          } catch { /* already gone */ }
        }
        try {
          return await out.wait(10000);
        } finally {
          await writer.close().catch(() => {});
        }
      })();
      return closed;
    },
  };
}

/** The PID of `script`'s child (the command, which replaced the shell), if it still runs. */
async function commandPid(scriptPid: number): Promise<number | undefined> {
  try {
    const children = await Deno.readTextFile(`/proc/${scriptPid}/task/${scriptPid}/children`);
    const pid = Number(children.trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // gone, or no /proc
  }
}

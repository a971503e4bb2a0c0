// Any of three SAMP hubs, each with a private lockfile in a new temp dir:
// ours (samp_hub), JSAMP's (`jsamp hub`) and astropy's (SAMPHubServer, via
// tests/peers/astropy_hub.py). Tests that need JSAMP or astropy register
// through peerTest (tests/_peers.ts), so a missing peer means "ignored".
//
// Every peer process gets HOME=<dir> and SAMP_HUB=std-lockurl:file://<lockfile>:
// Java takes the home directory from /etc/passwd, not $HOME, so SAMP_HUB is
// what keeps JSAMP off the real ~/.samp; astropy's hub cleans dead lockfiles
// in $HOME/.samp, so HOME must be private too.
//
// Addresses: ours and astropy's hub listen on 127.0.0.1 only. JSAMP (1.3.7)
// binds its server sockets to the wildcard address (`new ServerSocket(port)`;
// it has no property for the bind address, only jsamp.localhost for the
// advertised one), so its hub, like the JSAMP clients the older interop tests
// start, also listens on other interfaces while it runs; it advertises
// 127.0.0.1, and every test talks to it there (startAnyHub checks the URL).

import { childEnv, collect, spawnHub, waitFor } from "./_helpers.ts";
import { type PeerName, PYTHON } from "./_peers.ts";
import { parseLockfile } from "../lib/lockfile.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";

export type HubKind = "ours" | "jsamp" | "astropy";

export const HUB_KINDS: readonly HubKind[] = ["ours", "jsamp", "astropy"];

/** The interop peer a hub kind needs (none for ours). */
export const HUB_PEER: Record<HubKind, PeerName | undefined> = {
  ours: undefined,
  jsamp: "jsamp",
  astropy: "astropy",
};

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
  /** Environment for a child process that uses this hub (HOME and SAMP_HUB private). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** The hub process's stdout and stderr so far. */
  output(): string;
  /** The hub's exit code once stopped. */
  readonly exitCode: number | undefined;
  /** Stops the hub (SIGTERM, then SIGKILL if it hangs), waits for it and removes `dir`. */
  stop(): Promise<void>;
}

const ASTROPY_HUB = new URL("./peers/astropy_hub.py", import.meta.url).pathname;

function lockUrl(lockfile: string): string {
  if (!lockfile.startsWith("/")) throw new Error(`lockfile path is not absolute: ${lockfile}`);
  return `std-lockurl:file://${encodeURI(lockfile)}`;
}

function envFor(dir: string, sampHub: string) {
  return (extra: Record<string, string> = {}) =>
    childEnv(dir, {
      SAMP_HUB: sampHub,
      XDG_CONFIG_HOME: dir,
      XDG_CACHE_HOME: dir,
      TMPDIR: dir,
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
      ...extra,
    });
}

/** Starts a hub of the given kind with a private lockfile; resolves once it answers a ping. */
export async function startAnyHub(kind: HubKind): Promise<AnyHub> {
  if (kind === "ours") {
    const hub = await spawnHub(["--no-web-profile"]);
    const sampHub = lockUrl(hub.lockfile);
    let exitCode: number | undefined;
    return {
      kind,
      lockfile: hub.lockfile,
      dir: hub.dir,
      url: hub.url,
      secret: hub.secret,
      sampHub,
      env: envFor(hub.dir, sampHub),
      output: hub.output,
      get exitCode() {
        return exitCode;
      },
      async stop() {
        try {
          exitCode = await hub.stop();
        } finally {
          await Deno.remove(hub.dir, { recursive: true }).catch(() => {});
        }
      },
    };
  }

  const dir = await Deno.makeTempDir({ prefix: `samp-${kind}-hub-` });
  const lockfile = `${dir}/hub.samp`;
  const sampHub = lockUrl(lockfile);
  const env = envFor(dir, sampHub);
  const child = kind === "jsamp"
    ? new Deno.Command("jsamp", {
      args: ["hub", "-mode", "no-gui", "-profiles", "std"],
      env: env(),
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn()
    : new Deno.Command(PYTHON, {
      args: [ASTROPY_HUB, lockfile],
      env: env({ ASTROPY_HUB_WATCHDOG: "600" }),
      cwd: dir,
      // astropy_hub.py also stops when its stdin closes, e.g. if this process dies.
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  const stdin = kind === "astropy" ? child.stdin.getWriter() : undefined;
  const out = collect(child);
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
    const info = await waitFor(
      async () => {
        if (out.code !== undefined) {
          throw new Error(
            `the ${kind} hub exited with ${out.code} before starting:\n${out.text()}`,
          );
        }
        let text: string;
        try {
          text = await Deno.readTextFile(lockfile);
        } catch {
          return null;
        }
        let lock;
        try {
          lock = parseLockfile(text);
        } catch {
          return null; // still being written
        }
        try {
          await xmlrpcRequest(lock.xmlrpcUrl, "samp.hub.ping", [], { timeoutMs: 2000 });
        } catch {
          return null;
        }
        return lock;
      },
      30000,
      `the ${kind} hub's lockfile and a ping answer`,
    );
    const host = new URL(info.xmlrpcUrl).hostname;
    if (host !== "127.0.0.1") {
      throw new Error(`the ${kind} hub advertises ${info.xmlrpcUrl}, not a 127.0.0.1 URL`);
    }
    return {
      kind,
      lockfile,
      dir,
      url: info.xmlrpcUrl,
      secret: info.secret,
      sampHub,
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

/**
 * The real desktop SAMP tools in tests: TOPCAT, SAOImage DS9 and Aladin
 * (Debian packages `topcat`, `saods9`, `aladin`), each on a private Xvfb
 * display (package `xvfb`), registered with our hub run as a subprocess with
 * a private lockfile and its log kept.
 *
 * ```ts ignore
 * import { desktopTest, startDesktop } from "./_desktop.ts";
 *
 * await desktopTest("TOPCAT loads a table", ["topcat"], async (t) => {
 *   await using desk = await startDesktop(["topcat"]);
 *   // desk.tools.topcat.id is TOPCAT's public id; desk.env() and desk.data are
 *   // the environment and the data folder (outside the checkout) for running
 *   // `samp` or a script as a user would; desk.hub.url/secret reach the hub.
 *   assert.deepEqual(desk.failedDeliveries(), []);
 * });
 * ```
 *
 * - {@linkcode desktopTest} registers a test that needs some of the tools:
 *   it is ignored when one is missing, or fails saying what to install when
 *   SAMP_REQUIRE_PEERS=1 (as CI sets), like the interop peers of
 *   tests/_peers.ts.
 * - {@linkcode startDesktop} starts the hub, Xvfb and the tools (in
 *   parallel), waits until each has registered and declared its
 *   subscriptions, and stops everything again on `await using` disposal.
 *   Start it once per test file (or per group of `t.step`s): the tools take
 *   seconds each to start (here 2-5 s idle, 3-8 s with a second desktop
 *   running), and the bound ({@linkcode TOOL_START_MS}) allows for a much
 *   slower CI machine.
 * - {@linkcode Desktop.failedDeliveries} lists the hub log's failed callbacks
 *   to the real tools; tests assert that it is empty.
 *
 * How each tool is kept off the user's desktop and the real `~/.samp`: every
 * tool gets its own home directory under the desktop's temp dir. Java reads
 * the home directory from /etc/passwd, not $HOME, so the Java tools also get
 * `-Duser.home`. TOPCAT (`topcat -samp -nohub`) and DS9 (`ds9 -xpa no`) find
 * the hub through SAMP_HUB; Aladin ignores SAMP_HUB and reads only
 * `${user.home}/.samp`, which is a symlink to the hub's lockfile, and runs
 * `-nohub -local` so it never starts a hub of its own or looks for the
 * network. Xvfb runs `-nolisten tcp` and picks a free display (`-displayfd`).
 *
 * Processes: each one runs in a session and process group of its own under a
 * small `sh` wrapper (`/usr/bin/topcat` is a shell script that runs `java` as
 * a child; `/usr/bin/ds9` execs `wish`). Stopping signals the whole group, by
 * its id, and waits until no process of the group is left; the wrapper also
 * signals its group when its stdin closes, so the tools go away even if the
 * test process is killed.
 *
 * What the real tools do (Debian 12: TOPCAT 4.8.7, DS9 8.4.1, Aladin 12.001),
 * for tests that talk to them:
 * - They register as `topcat`, `SAOImageDS9` and `Aladin` ({@linkcode SAMP_NAMES}).
 * - DS9 answers XML-RPC callbacks with bare LF line endings, and advertises
 *   its callback URL with the machine's host name (`http://HOSTNAME:PORT`).
 * - DS9 answers `ds9.get` with `samp.result: { value }`, e.g. `cmd=file` gives
 *   the loaded file's path and `cmd=pan wcs fk5 degrees` gives "RA DEC"; an
 *   empty `samp.result` otherwise. Told `samp send image NAME` by `ds9.set`, it
 *   notifies `image.load.fits` with a `file://localhost//tmp…` URL (two
 *   slashes) of a copy it saved in its TMPDIR.
 * - Aladin registers and subscribes before it is ready: a call in the next
 *   second or so may get an XML-RPC fault instead of a reply (the harness
 *   waits for its `Command>` prompt).
 * - Aladin never replies to an `image.load.fits` call for a FITS file whose
 *   header says `EXTEND = T` (as astropy writes by default): it opens it as a
 *   multi-extension file (plane `name[0]`) and keeps the call open. Without
 *   EXTEND it replies `samp.ok` once the image is loaded; tests/_desktop_files.ts
 *   writes no EXTEND. `script.aladin.send` with `script=status` replies with
 *   the loaded planes (`samp.result: { "script.result": "PlaneID …\nUrl
 *   file:/…" }`). Run `-local`, it answered an `image.load.fits` call for an
 *   `http://127.0.0.1:…` URL with `samp.error` "Could not load image !"
 *   (whether `-local` is the cause was not checked).
 * - TOPCAT replies to `table.load.votable` once the table is loaded.
 *
 * @module
 */

import { hubRunArgs, lockUrl, privateEnv } from "../scripts/hubs.ts";
import { parseLockfile } from "../lib/lockfile.ts";
import { TestClient } from "./_helpers.ts";
import { peersRequired, type PeerStatus } from "./_peers.ts";
import type { SampMap } from "../lib/types.ts";

/** The desktop tools this harness runs, by everyday name. */
export type DesktopToolName = "topcat" | "ds9" | "aladin";

/** Every desktop tool. */
export const DESKTOP_TOOLS: readonly DesktopToolName[] = ["topcat", "ds9", "aladin"];

/** The `samp.name` each tool registers with (what `--to ds9` has to find). */
export const SAMP_NAMES: Readonly<Record<DesktopToolName, string>> = {
  topcat: "topcat",
  ds9: "SAOImageDS9",
  aladin: "Aladin",
};

/** How to install what the desktop tests need, on Debian. */
export const DESKTOP_INSTALL_HINT = "apt-get install topcat saods9 aladin xvfb";

/** The X server and the tools' programs (Debian's paths). */
export const XVFB = "/usr/bin/Xvfb";
export const TOPCAT = "/usr/bin/topcat";
export const DS9 = "/usr/bin/ds9";
export const ALADIN_JAR = "/usr/share/java/aladin.jar";

/** Default bound on one tool's start, spawn to subscriptions declared. */
export const TOOL_START_MS = 120_000;

const REQUIREMENTS: Record<DesktopToolName | "xvfb", { files: string[]; what: string }> = {
  xvfb: { files: [XVFB], what: `${XVFB} (Debian package xvfb)` },
  topcat: { files: [TOPCAT], what: `${TOPCAT} and java (Debian package topcat)` },
  ds9: { files: [DS9, "/usr/bin/wish"], what: `${DS9} (Debian package saods9)` },
  aladin: { files: [ALADIN_JAR], what: `${ALADIN_JAR} and java (Debian package aladin)` },
};

/** Whether Xvfb and `tools` are installed (files only: no tool is started). */
export async function desktopStatus(tools: readonly DesktopToolName[]): Promise<PeerStatus> {
  const missing: string[] = [];
  for (const name of ["xvfb", ...tools] as const) {
    const req = REQUIREMENTS[name];
    const absent = [];
    for (const f of req.files) if (!await isFile(f)) absent.push(f);
    if ((name === "topcat" || name === "aladin") && !await findJava()) absent.push("java on PATH");
    if (absent.length > 0) missing.push(`${req.what}: no ${absent.join(", no ")}`);
  }
  return missing.length === 0
    ? { available: true, detail: `Xvfb and ${tools.join(", ")} installed` }
    : { available: false, detail: missing.join("; ") };
}

/**
 * Registers a Deno test that needs Xvfb and `tools`. When one is missing the
 * test is ignored, or, with SAMP_REQUIRE_PEERS=1, fails saying what to
 * install. Await it at the top level of the test module.
 */
export async function desktopTest(
  testName: string,
  tools: readonly DesktopToolName[],
  fn: (t: Deno.TestContext) => void | Promise<void>,
): Promise<void> {
  const status = await desktopStatus(tools);
  if (status.available) {
    Deno.test({ name: testName, fn });
  } else if (peersRequired()) {
    Deno.test({
      name: testName,
      fn() {
        throw new Error(
          `desktop tools missing: ${status.detail}. Install them with: ${DESKTOP_INSTALL_HINT} ` +
            `(or unset SAMP_REQUIRE_PEERS to ignore these tests)`,
        );
      },
    });
  } else {
    Deno.test({ name: testName, ignore: true, fn });
  }
}

// ---------------------------------------------------------------------------
// Processes in a group of their own

/**
 * Runs `"$@"` with stdin from /dev/null (and fd 3 on our stdout pipe, for
 * Xvfb's -displayfd), and signals the whole process group when the wrapper's
 * own stdin closes: when we stop it, or when the test process dies.
 */
const WRAPPER = `exec 4<&0
"$@" </dev/null 3>&1 &
child=$!
{ cat <&4 >/dev/null; kill -TERM 0; } &
exec 4<&-
wait "$child"`;

/** A process started in a session and group of its own, output collected. */
export interface GroupProcess extends AsyncDisposable {
  /** The wrapper's pid, also the process group id. */
  readonly pid: number;
  /** stdout and stderr so far, interleaved (the last `keep` characters, default 256 Ki). */
  output(): string;
  /** stdout alone so far (as much). */
  stdout(): string;
  /** The wrapper's exit code once it has exited (the group may live on). */
  readonly code: number | undefined;
  /** Signals the group (TERM, then KILL after `graceMs`) and waits until none of it is left. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP = 256 * 1024;

/** Starts `command args…` in a new process group; see {@linkcode GroupProcess}. */
export function spawnGroup(
  command: string,
  args: string[],
  opts: { env: Record<string, string>; cwd?: string; keep?: number },
): GroupProcess {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", WRAPPER, "desktop-wrapper", command, ...args],
    env: opts.env,
    cwd: opts.cwd,
    detached: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pid = child.pid;
  const stdin = child.stdin.getWriter();
  const text = { all: "", stdout: "" };
  const limit = opts.keep ?? KEEP;
  const keep = (s: string) => s.length > 2 * limit ? s.slice(-limit) : s;
  const pump = async (stream: ReadableStream<Uint8Array>, isStdout: boolean) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const piece = decoder.decode(chunk, { stream: true });
      text.all = keep(text.all + piece);
      if (isStdout) text.stdout = keep(text.stdout + piece);
    }
  };
  const state = { code: undefined as number | undefined };
  // Both pipes close only when every process of the group holding them has exited.
  const done = Promise.all([
    pump(child.stdout, true),
    pump(child.stderr, false),
    child.status.then((s) => state.code = s.code),
  ]);
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      await stdin.close().catch(() => {});
      signalGroup(pid, "SIGTERM");
      if (!await settles(done, graceMs)) {
        signalGroup(pid, "SIGKILL");
        if (!await settles(done, 10_000)) {
          throw new Error(`process group ${pid} (${command}) survived SIGKILL for 10 s`);
        }
      }
      // The wrapper exited and the pipes closed: wait for the rest of the group.
      let alive = await liveMembers(pid);
      for (const end = Date.now() + 10_000; alive.length > 0 && Date.now() < end;) {
        signalGroup(pid, "SIGKILL");
        await sleep(100);
        alive = await liveMembers(pid);
      }
      if (alive.length > 0) {
        throw new Error(`process group ${pid} (${command}) still runs: ${alive.join(", ")}`);
      }
    })();
    return stopping;
  };
  return {
    pid,
    output: () => text.all,
    stdout: () => text.stdout,
    get code() {
      return state.code;
    },
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

function signalGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e; // ESRCH: nobody left
  }
}

/**
 * The processes of group `pgid` that are not zombies, as "pid (comm)", read
 * from /proc (Linux); elsewhere, whether the group still exists at all.
 */
async function liveMembers(pgid: number): Promise<string[]> {
  if (Deno.build.os !== "linux") {
    try {
      Deno.kill(-pgid, 0);
      return [`group ${pgid}`];
    } catch {
      return [];
    }
  }
  const found: string[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const [state, , pgrp] = stat.slice(close + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") {
      found.push(`${entry.name} ${stat.slice(stat.indexOf("("), close + 1)}`);
    }
  }
  return found;
}

async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Xvfb

/** A private X display. */
export interface XDisplay extends AsyncDisposable {
  /** The DISPLAY value, e.g. ":1". */
  display: string;
  process: GroupProcess;
}

/** Starts `Xvfb -displayfd 3 -nolisten tcp` and waits for its display number. */
export async function startXvfb(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<XDisplay> {
  const process = spawnGroup(XVFB, ["-displayfd", "3", "-nolisten", "tcp"], { env });
  try {
    const end = Date.now() + timeoutMs;
    while (true) {
      // Xvfb writes the number to fd 3 (our stdout) once it accepts clients.
      const m = /^(\d+)\n/.exec(process.stdout());
      if (m) {
        return { display: `:${m[1]}`, process, [Symbol.asyncDispose]: () => process.stop() };
      }
      if (process.code !== undefined || Date.now() > end) {
        throw new Error(
          `Xvfb ${
            process.code === undefined ? `gave no display within ${timeoutMs} ms` : "exited"
          }:` +
            `\n${tail(process.output())}`,
        );
      }
      await sleep(50);
    }
  } catch (e) {
    await process.stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// The tools

/** A desktop tool started against a hub. */
export interface DesktopTool extends AsyncDisposable {
  name: DesktopToolName;
  /** The `samp.name` it registers with. */
  sampName: string;
  /** Its private home directory (also its TMPDIR). */
  home: string;
  process: GroupProcess;
  /** Its public id, once registered (set by {@linkcode waitForTools}). */
  id: string;
  /** Milliseconds from the spawn to its subscriptions being declared. */
  startMs: number;
  /** Its stdout and stderr so far. */
  output(): string;
}

/**
 * Starts one tool on `display`, with `home` as its private home and the hub
 * of `lockfile`. Returns at once; {@linkcode waitForTools} waits for it.
 */
export async function spawnTool(
  name: DesktopToolName,
  opts: { display: string; lockfile: string; home: string },
): Promise<DesktopTool> {
  const { display, lockfile, home } = opts;
  await Deno.mkdir(home, { recursive: true });
  const env = privateEnv(home, lockUrl(lockfile), { DISPLAY: display, TMP: home });
  let command: string, args: string[];
  if (name === "topcat") {
    command = TOPCAT;
    args = [`-Duser.home=${home}`, "-samp", "-nohub"];
  } else if (name === "ds9") {
    command = DS9;
    args = ["-xpa", "no"];
  } else {
    // Aladin reads ${user.home}/.samp only (never SAMP_HUB).
    await Deno.symlink(lockfile, `${home}/.samp`);
    command = await findJava() ?? "java";
    args = [`-Duser.home=${home}`, "-jar", ALADIN_JAR, "-nohub", "-local"];
  }
  const process = spawnGroup(command, args, { env, cwd: home });
  return {
    name,
    sampName: SAMP_NAMES[name],
    home,
    process,
    id: "",
    startMs: NaN,
    output: process.output,
    [Symbol.asyncDispose]: () => process.stop(),
  };
}

/**
 * Whether a tool that has declared its subscriptions is ready for messages,
 * from its output. Aladin registers before its windows exist: a call that
 * comes then gets an XML-RPC fault (`NullPointerException: Cannot read field
 * "localServer" because "this.aladin.dialog" is null`); its console prompt
 * `Command>` shows that it is done.
 */
const READY: Record<DesktopToolName, (output: string) => boolean> = {
  topcat: () => true,
  ds9: () => true,
  aladin: (output) => /^Command> /m.test(output),
};

/**
 * Waits until every tool has registered with the hub under its `samp.name`,
 * declared subscriptions and is ready; sets their `id` and `startMs`. Fails naming a
 * tool that exits first or is not there within `timeoutMs`, with the end of
 * its output.
 */
export async function waitForTools(
  hub: { url: string; secret: string },
  tools: readonly DesktopTool[],
  opts: { startedAt: number; timeoutMs?: number },
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? TOOL_START_MS;
  const watcher = await TestClient.register(hub.url, hub.secret, false);
  try {
    await watcher.hub("declareMetadata", { "samp.name": "desktop-harness" });
    const names = new Map<string, string>(); // public id -> samp.name
    const end = opts.startedAt + timeoutMs;
    while (true) {
      const ids = await watcher.hub("getRegisteredClients") as string[];
      for (const id of ids) {
        if (names.has(id)) continue;
        const meta = await watcher.hub("getMetadata", id) as SampMap;
        if (typeof meta["samp.name"] === "string") names.set(id, meta["samp.name"]);
      }
      for (const tool of tools) {
        if (tool.id) continue;
        const id = [...names].find(([i, n]) => n === tool.sampName && ids.includes(i))?.[0];
        if (id) {
          const subs = await watcher.hub("getSubscriptions", id) as SampMap;
          if (Object.keys(subs).length > 0 && READY[tool.name](tool.output())) {
            tool.id = id;
            tool.startMs = performance.now() - opts.startedAt;
          }
        }
        if (!tool.id && tool.process.code !== undefined) {
          throw new Error(
            `${tool.name} exited (code ${tool.process.code}) before registering as ` +
              `"${tool.sampName}":\n${tail(tool.output())}`,
          );
        }
      }
      if (tools.every((t) => t.id)) return;
      if (performance.now() > end) {
        const late = tools.filter((t) => !t.id);
        throw new Error(
          `not registered with the hub within ${timeoutMs} ms: ` +
            late.map((t) => `${t.name} (as "${t.sampName}")`).join(", ") +
            `; registered: ${[...names.values()].join(", ") || "nobody"}\n` +
            late.map((t) => `--- ${t.name} output:\n${tail(t.output())}`).join("\n"),
        );
      }
      await sleep(500);
    }
  } finally {
    await watcher.close();
  }
}

/**
 * Waits until a client named `sampName` is registered (and subscribed to
 * `mtype`, when given); returns its public id. For scripts a test starts in
 * the background, e.g. a `samp snoop` that must be listening before a tool
 * is told to send.
 */
export async function waitForClient(
  hub: { url: string; secret: string },
  sampName: string,
  opts: { mtype?: string; timeoutMs?: number; exited?: () => boolean } = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const end = performance.now() + timeoutMs;
  const watcher = await TestClient.register(hub.url, hub.secret, false);
  try {
    while (true) {
      const ids = opts.mtype
        ? Object.keys(await watcher.hub("getSubscribedClients", opts.mtype) as SampMap)
        : await watcher.hub("getRegisteredClients") as string[];
      for (const id of ids) {
        const meta = await watcher.hub("getMetadata", id) as SampMap;
        if (meta["samp.name"] === sampName) return id;
      }
      if (opts.exited?.()) throw new Error(`"${sampName}" exited before registering`);
      if (performance.now() > end) {
        throw new Error(
          `no client "${sampName}"${opts.mtype ? ` subscribed to ${opts.mtype}` : ""} ` +
            `within ${timeoutMs} ms`,
        );
      }
      await sleep(200);
    }
  } finally {
    await watcher.close();
  }
}

// ---------------------------------------------------------------------------
// The hub

/** Our hub as a subprocess, its log kept. */
export interface LoggedHub extends AsyncDisposable {
  url: string;
  secret: string;
  lockfile: string;
  process: GroupProcess;
  /** The hub's stdout and log (stderr) so far. */
  log(): string;
}

/** How to run `samp_hub`: a command and the arguments before the hub's own. */
export interface HubCommand {
  command: string;
  args: string[];
}

/** `samp_hub` from this checkout, with exactly the compiled permissions. */
export function hubFromSource(): HubCommand {
  return { command: Deno.execPath(), args: hubRunArgs() };
}

/**
 * Starts `samp_hub --lockfile LOCKFILE -L DEBUG --no-web-profile` (HOME=`dir`)
 * and waits for its lockfile.
 */
export async function startLoggedHub(
  dir: string,
  hub: HubCommand = hubFromSource(),
  env: Record<string, string> = {},
): Promise<LoggedHub> {
  const lockfile = `${dir}/hub.samp`;
  const process = spawnGroup(
    hub.command,
    [...hub.args, "--lockfile", lockfile, "-L", "DEBUG", "--no-web-profile"],
    // The whole log: a failed delivery early on must not scroll away.
    { env: privateEnv(dir, "", env), cwd: dir, keep: Infinity },
  );
  try {
    const end = Date.now() + 60_000;
    while (true) {
      if (process.code !== undefined) {
        throw new Error(`samp_hub exited with ${process.code}:\n${tail(process.output())}`);
      }
      // "lockfile: PATH" is printed once the lockfile is written.
      if (/^lockfile: /m.test(process.output())) {
        const info = parseLockfile(await Deno.readTextFile(lockfile));
        return {
          url: info.xmlrpcUrl,
          secret: info.secret,
          lockfile,
          process,
          log: process.output,
          [Symbol.asyncDispose]: () => process.stop(),
        };
      }
      if (Date.now() > end) {
        throw new Error(`samp_hub did not start within 60 s:\n${tail(process.output())}`);
      }
      await sleep(50);
    }
  } catch (e) {
    await process.stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Everything together

/** A hub, an X display and the real tools, registered; see {@linkcode startDesktop}. */
export interface Desktop extends AsyncDisposable {
  /** The temp dir holding everything below; removed on disposal. */
  dir: string;
  /** An empty data folder outside the checkout, the cwd for commands a user types. */
  data: string;
  /** A private HOME for those commands. */
  userHome: string;
  hub: LoggedHub;
  display: XDisplay;
  /** The tools asked for, registered. */
  tools: Partial<Record<DesktopToolName, DesktopTool>>;
  /** `std-lockurl:file://…` of the hub's lockfile. */
  sampHub: string;
  /** Environment for a user's command: HOME=userHome, SAMP_HUB set, Deno's cache kept. */
  env(extra?: Record<string, string>): Record<string, string>;
  /**
   * The hub log's WARNING and ERROR lines about one of the tools (a failed
   * delivery: "could not deliver receiveCall to c2: …"; a call to it that
   * timed out), each followed by the tool's name in brackets.
   */
  failedDeliveries(): string[];
  /** A report of how long each tool took to start, e.g. "ds9 12.3 s, topcat 20.1 s". */
  startTimes(): string;
  /** The end of every process's output, for a failure message. */
  diagnostics(): string;
}

/** Options of {@linkcode startDesktop}. */
export interface DesktopOptions {
  /** How to run the hub (default: from this checkout). */
  hub?: HubCommand;
  /** Bound on the tools' start (default {@linkcode TOOL_START_MS}). */
  timeoutMs?: number;
  /** Extra environment for the hub (e.g. PATH to `deno` for an installed `samp_hub`). */
  extraEnv?: Record<string, string>;
}

/**
 * Starts our hub (log at DEBUG), Xvfb and `tools` in a new temp dir, and
 * waits until every tool has registered. Disposal stops the tools, then
 * Xvfb, then the hub, each by its process group, and removes the dir.
 */
export async function startDesktop(
  tools: readonly DesktopToolName[] = DESKTOP_TOOLS,
  options: DesktopOptions = {},
): Promise<Desktop> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "samp-desktop-" }));
  const data = `${dir}/data`;
  const userHome = `${dir}/user`;
  await Deno.mkdir(data);
  await Deno.mkdir(userHome);
  const started: DesktopTool[] = [];
  let hub: LoggedHub | undefined;
  let display: XDisplay | undefined;
  const teardown = async () => {
    const errors: unknown[] = [];
    const collect = (p: Promise<unknown>) => p.catch((e) => errors.push(e));
    await Promise.all(started.map((t) => collect(t.process.stop())));
    if (display) await collect(display.process.stop());
    if (hub) await collect(hub.process.stop());
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (errors.length > 0) throw new AggregateError(errors, "stopping the desktop failed");
  };
  try {
    hub = await startLoggedHub(dir, options.hub, options.extraEnv);
    display = await startXvfb(privateEnv(dir, ""));
    const startedAt = performance.now();
    for (const name of tools) {
      started.push(
        await spawnTool(name, {
          display: display.display,
          lockfile: hub.lockfile,
          home: `${dir}/${name}`,
        }),
      );
    }
    await waitForTools(hub, started, { startedAt, timeoutMs: options.timeoutMs });
  } catch (e) {
    await teardown().catch(() => {});
    throw e;
  }
  const sampHub = lockUrl(hub.lockfile);
  const theHub = hub, theDisplay = display;
  return {
    dir,
    data,
    userHome,
    hub: theHub,
    display: theDisplay,
    tools: Object.fromEntries(started.map((t) => [t.name, t])),
    sampHub,
    env: (extra = {}) => privateEnv(userHome, sampHub, extra),
    failedDeliveries() {
      // Every WARNING or ERROR line naming a tool's id, not only today's
      // "could not deliver … to cN:" wording, so a reworded log cannot hide one.
      const tools = started.map((t) => ({ t, re: new RegExp(`\\b${t.id}\\b`) }));
      const lines = theHub.log().split("\n");
      if (!lines.some((l) => /^\S+ (INFO|DEBUG) register /.test(l))) {
        throw new Error(
          `the hub's log is not "TIME LEVEL message" any more:\n${tail(theHub.log())}`,
        );
      }
      return lines.flatMap((line) => {
        if (!/^\S+ (WARNING|ERROR) /.test(line)) return [];
        const about = tools.filter(({ re }) => re.test(line)).map(({ t }) => t.name);
        return about.length > 0 ? [`${line} [${about.join(", ")}]`] : [];
      });
    },
    startTimes: () => started.map((t) => `${t.name} ${(t.startMs / 1000).toFixed(1)} s`).join(", "),
    diagnostics: () =>
      [
        `--- hub log (end):\n${tail(theHub.log(), 6000)}`,
        ...started.map((t) => `--- ${t.name} output (end):\n${tail(t.output())}`),
      ].join("\n"),
    [Symbol.asyncDispose]: teardown,
  };
}

/** The last `chars` characters of a text, for messages. */
export function tail(text: string, chars = 3000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** `java` on PATH (what /usr/bin/topcat runs), or undefined. */
async function findJava(): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin").split(":")) {
    if (dir && await isFile(`${dir}/java`)) return `${dir}/java`;
  }
  return undefined;
}

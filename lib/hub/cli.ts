/**
 * The `samp_hub` command line: flags compatible with astropy's `samp_hub`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LOG_LEVELS, type LogLevel, openLogger } from "../log.ts";
import { displayText, hasUnsafeText } from "../_display.ts";
import { VERSION } from "../version.ts";
import { type Hub, type HubOptions, startHub } from "./server.ts";
import {
  acceptAll,
  type Authorizer,
  pageConsent,
  rejectAll,
  terminalPrompt,
  withAllowList,
} from "./consent.ts";
import { isMTypePattern } from "../mtype.ts";

/**
 * What `samp_hub`'s arguments ask for.
 *
 * @example
 * ```ts
 * import { parseHubArgs } from "./cli.ts";
 * const parsed = parseHubArgs(["--port", "21000"]);
 * if (parsed.kind === "run") console.log(parsed.options.port); // 21000
 * ```
 */
export type HubCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "error"; message: string }
  | {
    kind: "run";
    options: HubOptions;
    logLevel: LogLevel;
    logOutput?: string;
    webProfile: boolean;
    webPort: number;
    /**
     * How web registrations are decided; `undefined`: prompt on a terminal,
     * else ask on the hub page (refusing after 120 s), else reject.
     */
    webAuth?: "prompt" | "accept" | "reject";
    webAllowOrigins: string[];
    webMTypes?: string[];
    /** Serve the live status page (not `--no-page`). */
    page: boolean;
    /** Open the status page in the browser at start (`--open`). */
    open: boolean;
  };

/**
 * The `samp_hub --help` text.
 *
 * @example
 * ```ts
 * import { HUB_USAGE } from "./cli.ts";
 * console.log(HUB_USAGE);
 * ```
 */
export const HUB_USAGE = `samp_hub ${VERSION}: a SAMP 1.3 hub (Standard and Web Profiles)

Usage: samp_hub [options]

  -k, --secret CODE          registration secret (default: 128 random bits)
  -d, --addr ADDR            listening address (default 127.0.0.1, loopback only)
  -p, --port PORT            Standard Profile port (default: any free port)
  -f, --lockfile FILE        lockfile to write (default: $SAMP_HUB's file, else ~/.samp)
  -m, --multi                astropy multi-instance mode: lockfile under ~/.samp-1/
  -l, --label LABEL          a label for this hub (lockfile hub.label)
  -w, --no-web-profile       do not run the Web Profile
      --web-port PORT        Web Profile port (default 21012)
      --web-auth MODE        how web pages get consent to register: prompt (ask
                             on this terminal; the default when there is one),
                             accept (everyone: for tests only) or reject;
                             pending requests also show on the hub page, where
                             they can be answered (without a terminal: only
                             there, refused after 120 s)
      --web-allow-origin ORIGIN
                             accept pages from ORIGIN without asking (repeatable),
                             e.g. https://aladin.cds.unistra.fr
      --web-mtypes LIST      MType patterns web pages may send, comma-separated
                             (default: samp.app.*,table.*,image.*,coord.*,...;
                             * lifts the restriction)
      --open                 open the hub page (live status, consent) in the browser
      --no-page              do not serve the hub page
  -t, --timeout SECONDS      stop after SECONDS without activity (default 0: never)
  -c, --client-timeout SECONDS
                             disconnect clients silent for SECONDS (default 0: never)
      --max-body BYTES       largest request accepted (default 64 MiB; Web Profile:
                             at most 8 MiB); K, M and G suffixes allowed
      --body-timeout SECONDS time allowed for a request body to arrive (default 30)
  -L, --log-level LEVEL      OFF, ERROR, WARNING, INFO or DEBUG (default INFO)
  -O, --log-output FILE      append the log to FILE instead of stderr
  -h, --help                 show this help
  -V, --version              show the version

Clients find the hub through its lockfile. For a lockfile other than ~/.samp,
point them at it with SAMP_HUB=std-lockurl:file:///absolute/path.
Web pages (Aladin Lite, archive portals) reach the hub through the Web Profile
on localhost:21012, each only after the user accepts it.
The hub page (printed at start as "hub page: URL") shows the clients, live
message traffic and pending web consent requests; its URL holds a secret
token, so keep it private.
Stop the hub with Ctrl-C (SIGINT) or SIGTERM: it tells its clients, removes
its lockfile and exits 0.
`;

/** The flags of `samp_hub`, as `node:util` `parseArgs` options. */
const OPTIONS = {
  secret: { type: "string", short: "k" },
  addr: { type: "string", short: "d" },
  port: { type: "string", short: "p" },
  lockfile: { type: "string", short: "f" },
  multi: { type: "boolean", short: "m" },
  label: { type: "string", short: "l" },
  "no-web-profile": { type: "boolean", short: "w" },
  "web-port": { type: "string" },
  "web-auth": { type: "string" },
  "web-allow-origin": { type: "string", multiple: true },
  "web-mtypes": { type: "string" },
  open: { type: "boolean" },
  "no-page": { type: "boolean" },
  "max-body": { type: "string" },
  "body-timeout": { type: "string" },
  timeout: { type: "string", short: "t" },
  "client-timeout": { type: "string", short: "c" },
  "log-level": { type: "string", short: "L" },
  "log-output": { type: "string", short: "O" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const satisfies Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/**
 * Parses `samp_hub` arguments. Never throws: bad input gives `kind: "error"`
 * with a one-line message naming the flag.
 *
 * @example
 * ```ts
 * import { parseHubArgs } from "./cli.ts";
 * parseHubArgs(["--bogus"]); // { kind: "error", message: "unknown flag --bogus …" }
 * ```
 */
export function parseHubArgs(args: string[]): HubCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args),
      strict: true,
      allowPositionals: false,
      options: OPTIONS,
    });
  } catch (e) {
    return { kind: "error", message: explainParseError(e as Error) };
  }
  const v = parsed.values;
  if (v.help) return { kind: "help" };
  if (v.version) return { kind: "version" };
  try {
    const level = (v["log-level"] ?? "INFO").toUpperCase();
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new Error(
        `--log-level must be one of OFF, ERROR, WARNING, INFO, DEBUG, not "${v["log-level"]}"`,
      );
    }
    if (v.secret !== undefined && !/^[\x21-\x3c\x3e-\x7e]+$/.test(v.secret)) {
      throw new Error("--secret must be printable ASCII with no spaces or '='");
    }
    if (v.lockfile !== undefined && v.multi) {
      throw new Error("--lockfile and --multi cannot be used together: choose one");
    }
    if (v.lockfile === "") throw new Error("--lockfile needs a file path");
    if (v.open && v["no-page"]) throw new Error("--open and --no-page cannot be used together");
    const webAuth = v["web-auth"];
    if (webAuth !== undefined && !["prompt", "accept", "reject"].includes(webAuth)) {
      throw new Error(`--web-auth must be prompt, accept or reject, not "${webAuth}"`);
    }
    const origins = (v["web-allow-origin"] ?? []) as string[];
    for (const o of origins) {
      try {
        withAllowList([o], rejectAll());
      } catch {
        throw new Error(
          `--web-allow-origin takes an origin like https://example.org (scheme and host, no path), not "${o}"`,
        );
      }
    }
    const webMTypes = v["web-mtypes"]?.split(",").map((m) => m.trim()).filter((m) => m);
    for (const m of webMTypes ?? []) {
      if (!isMTypePattern(m)) {
        throw new Error(`--web-mtypes: "${m}" is not an MType pattern (a.b.c, a.b.* or *)`);
      }
    }
    return {
      kind: "run",
      options: {
        secret: v.secret,
        addr: v.addr,
        port: v.port === undefined ? undefined : port(v.port, "--port"),
        lockfile: v.lockfile,
        multi: v.multi ?? false,
        label: v.label,
        timeout: v.timeout === undefined ? 0 : seconds(v.timeout, "--timeout"),
        clientTimeout: v["client-timeout"] === undefined
          ? 0
          : seconds(v["client-timeout"], "--client-timeout"),
        limits: {
          maxBodyBytes: v["max-body"] === undefined
            ? undefined
            : bytes(v["max-body"], "--max-body"),
          bodyTimeoutMs: v["body-timeout"] === undefined
            ? undefined
            : positiveSeconds(v["body-timeout"], "--body-timeout") * 1000,
        },
      },
      logLevel: level as LogLevel,
      logOutput: v["log-output"],
      webProfile: !v["no-web-profile"],
      webPort: v["web-port"] === undefined ? 21012 : port(v["web-port"], "--web-port"),
      webAuth: webAuth as "prompt" | "accept" | "reject" | undefined,
      webAllowOrigins: origins,
      webMTypes,
      page: !v["no-page"],
      open: v.open ?? false,
    };
  } catch (e) {
    return { kind: "error", message: (e as Error).message };
  }
}

/**
 * Runs `samp_hub` with the given arguments until the hub stops; returns the
 * exit status (0 on a clean stop, 1 if the hub could not start, 2 for bad
 * arguments).
 *
 * @example
 * ```ts ignore
 * import { runHubCli } from "./cli.ts";
 * Deno.exit(await runHubCli(Deno.args));
 * ```
 */
export async function runHubCli(args: string[]): Promise<number> {
  const command = parseHubArgs(args);
  if (command.kind === "help") {
    console.log(HUB_USAGE);
    return 0;
  }
  if (command.kind === "version") {
    console.log(`samp_hub ${VERSION}`);
    return 0;
  }
  if (command.kind === "error") {
    console.error(`samp_hub: ${command.message}`);
    return 2;
  }
  let output;
  try {
    output = openLogger(command.logLevel, command.logOutput);
  } catch (e) {
    console.error(
      `samp_hub: cannot open the log file ${command.logOutput}: ${(e as Error).message}`,
    );
    return 1;
  }
  if (command.open && !canOpen()) {
    console.error(
      `samp_hub: --open needs to run ${opener()[0]}: grant --allow-run=${opener()[0]}, ` +
        "or leave out --open and open the hub page's URL yourself",
    );
    output.close();
    return 1;
  }
  const { logger, close: closeLog } = output;
  const consent = command.page && command.webProfile ? webPageConsent(command) : undefined;
  let hub: Hub;
  try {
    hub = await startHub({
      ...command.options,
      logger,
      // The samp_hub program gives memory back after bursts (with --expose-gc).
      compact: true,
      page: command.page ? { consent } : false,
      web: command.webProfile
        ? {
          port: command.webPort,
          authorizer: webAuthorizer(command, consent),
          safeMTypes: command.webMTypes,
          limits: {
            maxBodyBytes: Math.min(
              command.options.limits?.maxBodyBytes ?? Infinity,
              8 * 1024 * 1024,
            ),
            bodyTimeoutMs: command.options.limits?.bodyTimeoutMs,
          },
        }
        : undefined,
    });
  } catch (e) {
    // The message may quote another hub's lockfile (its URL, hub.impl): one
    // with a control character is shown escaped (paths stay readable otherwise).
    const message = String((e as Error)?.message ?? e);
    console.error(`samp_hub: ${hasUnsafeText(message) ? displayText(message, 1000) : message}`);
    closeLog();
    return 1;
  }
  console.log(`SAMP hub running at ${hub.url}`);
  if (hub.webUrl) console.log(`Web Profile at ${hub.webUrl}`);
  console.log(`lockfile: ${hub.lockfile}`);
  if (hub.pageUrl) console.log(`hub page: ${hub.pageUrl}`);
  if (command.open && hub.pageUrl) openInBrowser(hub.pageUrl, logger);
  const stop = (signal: string) => () => void hub.close(`received ${signal}`);
  const signals: [Deno.Signal, () => void][] = Deno.build.os === "windows"
    ? [["SIGINT", stop("SIGINT")], ["SIGBREAK", stop("SIGBREAK")]]
    : [["SIGINT", stop("SIGINT")], ["SIGTERM", stop("SIGTERM")]];
  for (const [s, f] of signals) Deno.addSignalListener(s, f);
  await hub.finished;
  for (const [s, f] of signals) Deno.removeSignalListener(s, f);
  console.log("SAMP hub stopped");
  closeLog();
  return 0;
}

type RunCommand = Extract<HubCommand, { kind: "run" }>;

/**
 * The consent rule for web pages that the flags ask for; with the hub page
 * on, `consent` (which wraps it) shows each request on the page too.
 */
function webAuthorizer(command: RunCommand, consent?: Authorizer): Authorizer {
  const base = consent ?? baseAuthorizer(command) ?? rejectAll();
  return command.webAllowOrigins.length > 0 ? withAllowList(command.webAllowOrigins, base) : base;
}

/** The flags' own rule: prompt, accept or reject (undefined: ask only on the page). */
function baseAuthorizer(command: RunCommand, page = false): Authorizer | undefined {
  const mode = command.webAuth ??
    (Deno.stdin.isTerminal() ? "prompt" : page ? "page" : "reject");
  if (mode === "page") return undefined;
  if (mode === "accept") return acceptAll();
  if (mode === "reject") return rejectAll();
  const encoder = new TextEncoder();
  return terminalPrompt({
    input: Deno.stdin.readable,
    write: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
    flushInput: releaseHeldLine,
  });
}

/**
 * Makes a line typed on the terminal without Enter readable now, so the
 * prompt throws it away as typed ahead: leaving canonical mode and coming back
 * does that on Linux and the BSDs (the tty settings are restored as they were).
 * Not on Windows, where the console may behave otherwise.
 */
function releaseHeldLine(): void {
  if (Deno.build.os === "windows" || !Deno.stdin.isTerminal()) return;
  Deno.stdin.setRaw(true, { cbreak: true });
  Deno.stdin.setRaw(false);
}

/** Shows each request on the hub page, where it can be answered too. */
function webPageConsent(command: RunCommand) {
  return pageConsent(baseAuthorizer(command, true), { timeoutMs: 120_000 });
}

/** The command that opens a URL in the user's browser on this system. */
function opener(): [string, ...string[]] {
  if (Deno.build.os === "windows") return ["cmd", "/c", "start", '""'];
  if (Deno.build.os === "darwin") return ["open"];
  return ["xdg-open"];
}

/**
 * Whether the opener may run: granted already (the compiled binary), or
 * granted now by the user at Deno's prompt (`deno task hub --open`, or an
 * installed `samp_hub`, which leave `--allow-run` out).
 */
function canOpen(): boolean {
  const descriptor = { name: "run", command: opener()[0] } as const;
  try {
    if (Deno.permissions.querySync(descriptor).state === "granted") return true;
    return Deno.permissions.requestSync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** Opens `url` in the browser; a failure is logged, never fatal. */
function openInBrowser(url: string, logger: { warn(m: string): void }): void {
  const [cmd, ...args] = opener();
  try {
    const child = new Deno.Command(cmd, {
      // cmd's start would read & as a command separator: quote the URL.
      args: [...args, Deno.build.os === "windows" ? `"${url}"` : url],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      windowsRawArguments: Deno.build.os === "windows",
    }).spawn();
    child.status.then((s) => {
      if (!s.success) logger.warn(`--open: ${cmd} exited with ${s.code}; open ${url} yourself`);
    }, () => {});
    child.unref();
  } catch (e) {
    logger.warn(`--open: could not run ${cmd} (${(e as Error).message}); open ${url} yourself`);
  }
}

function bytes(s: string, flag: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(s.trim());
  const unit = m?.[2]?.[0]?.toUpperCase();
  const n = m
    ? Number(m[1]) * (unit === "K" ? 1024 : unit === "M" ? 1024 ** 2 : unit === "G" ? 1024 ** 3 : 1)
    : NaN;
  if (!(n >= 1024)) {
    throw new Error(`${flag} must be a size of at least 1024 bytes, like 16M, not "${s}"`);
  }
  return n;
}

function positiveSeconds(s: string, flag: string): number {
  const n = seconds(s, flag);
  if (n === 0) throw new Error(`${flag} must be more than 0 seconds, not "${s}"`);
  return n;
}

function port(s: string, flag: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) {
    throw new Error(`${flag} must be a port number from 0 to 65535, not "${s}"`);
  }
  return n;
}

function seconds(s: string, flag: string): number {
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new Error(`${flag} must be a number of seconds (0 or more), not "${s}"`);
  }
  return n;
}

/**
 * Rewrites `--flag -1` (and `-f -1`) as `--flag=-1` for flags that take a
 * value, so a negative number is read as that flag's value, as astropy's
 * argparse reads it, and then rejected by the flag's own check with a message
 * that names the value. `parseArgs` alone calls it an ambiguous flag.
 */
function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") return [...out, ...args.slice(i)];
    const name = longName(args[i]);
    const next = args[i + 1];
    if (
      name !== undefined && OPTIONS[name].type === "string" && next !== undefined &&
      /^-(\d|\.\d)/.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/** The option name of a flag as written (`--port`, `-p`), if it is one of ours. */
function longName(flag: string): keyof typeof OPTIONS | undefined {
  const names = Object.keys(OPTIONS) as (keyof typeof OPTIONS)[];
  if (flag.startsWith("--")) return names.find((n) => `--${n}` === flag);
  if (/^-[^-]$/.test(flag)) {
    return names.find((n) => (OPTIONS[n] as { short?: string }).short === flag[1]);
  }
  return undefined;
}

/** Turns a `parseArgs` error into one line that names the flag (as `--long`). */
function explainParseError(e: Error): string {
  const code = (e as { code?: string }).code;
  const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? "";
  const written = /--[a-z-]+/.exec(quoted)?.[0] ?? quoted.split(/[ ,]/)[0];
  const name = longName(written);
  const flag = name ? `--${name}` : written || "a flag";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${quoted} (see samp_hub --help)`.replace("  ", " ");
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/does not take an argument/.test(e.message)) {
        return `${flag} takes no value (see samp_hub --help)`;
      }
      if (/ambiguous/.test(e.message)) {
        return `${flag} needs a value, but a flag follows it ` +
          `(for a value starting with '-', write ${flag}=VALUE)`;
      }
      return `${flag} needs a value (see samp_hub --help)`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${quoted}: samp_hub takes only flags (see samp_hub --help)`;
    default:
      return `${e.message.split("\n")[0]} (see samp_hub --help)`;
  }
}

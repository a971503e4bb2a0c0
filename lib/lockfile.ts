/**
 * The SAMP Standard Profile lockfile: where it lives, how to read and write
 * it, and how to create, replace and remove it safely.
 *
 * The lockfile is a text file of `name=value` lines, `#` comments and blank
 * lines. It holds at least `samp.secret` and `samp.hub.xmlrpc.url`. By default
 * it is `.samp` in the user's home directory; the `SAMP_HUB` environment
 * variable (`std-lockurl:<url>`) can point at another file or at an HTTP URL.
 *
 * Reading is liberal (any line ending, unknown lines skipped). Writing is
 * strict, because astropy's reader splits every non-comment line on `=` and
 * demands exactly two parts: no blank lines, no `=` in values, ASCII only.
 *
 * @module
 */

/**
 * Something that reads environment variables, such as `Deno.env`. Tests pass
 * a plain object instead.
 *
 * @example
 * ```ts
 * import type { LockfileEnv } from "./lockfile.ts";
 * const env: LockfileEnv = { get: (name) => (name === "HOME" ? "/home/ada" : undefined) };
 * ```
 */
export interface LockfileEnv {
  /** Returns the value of the variable `name`, or `undefined` when unset. */
  get(name: string): string | undefined;
}

/**
 * The contents of a parsed lockfile.
 *
 * @example
 * ```ts
 * import { type LockInfo, parseLockfile } from "./lockfile.ts";
 * const info: LockInfo = parseLockfile(
 *   "samp.secret=abc\nsamp.hub.xmlrpc.url=http://127.0.0.1:4000/xmlrpc\n",
 * );
 * console.log(info.xmlrpcUrl); // "http://127.0.0.1:4000/xmlrpc"
 * ```
 */
export interface LockInfo {
  /** `samp.secret`: the secret a client passes to `samp.hub.register`. */
  secret: string;
  /** `samp.hub.xmlrpc.url`: the hub's XML-RPC endpoint. */
  xmlrpcUrl: string;
  /** `samp.profile.version`, or `""` when the lockfile does not give one. */
  profileVersion: string;
  /** Every `key=value` line, including the three keys above. Later lines win. */
  entries: Record<string, string>;
}

/**
 * Where a lockfile lives: a local file or an HTTP(S) URL.
 *
 * @example
 * ```ts
 * import type { LockLocation } from "./lockfile.ts";
 * const here: LockLocation = { kind: "file", path: "/home/ada/.samp" };
 * const there: LockLocation = { kind: "http", url: "http://example.org/samplock" };
 * ```
 */
export type LockLocation = { kind: "file"; path: string } | { kind: "http"; url: string };

/**
 * Any failure to locate, read, parse, write or remove a lockfile. The message
 * names the file or variable involved and what to do about it; `cause` holds
 * the underlying error, if any.
 *
 * @example
 * ```ts
 * import { LockfileError, parseLockfile } from "./lockfile.ts";
 * try {
 *   parseLockfile("# empty\n");
 * } catch (e) {
 *   console.log(e instanceof LockfileError); // true
 * }
 * ```
 */
export class LockfileError extends Error {
  /**
   * Makes an error whose message says what failed and how to fix it.
   *
   * @example
   * ```ts
   * import { LockfileError } from "./lockfile.ts";
   * const e = new LockfileError("Cannot read /x/.samp: ...", { cause: new Error("EIO") });
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LockfileError";
  }
}

const KEY_RE = /^[a-zA-Z0-9._-]+$/;
const ASSIGNMENT_RE = /^([a-zA-Z0-9._-]+)=(.*)$/s;
const LINE_BREAK_RE = /\r\n|\r|\n/;
const STD_LOCKURL_PREFIX = "std-lockurl:";
const SECRET_KEY = "samp.secret";
const URL_KEY = "samp.hub.xmlrpc.url";
const VERSION_KEY = "samp.profile.version";
/**
 * Read when needed, not at load: SampClient reaches this module, and pages
 * bundle SampClient, so it must load where there is no `Deno` (nor node:path).
 */
const isWindowsHost = (): boolean => globalThis.Deno?.build.os === "windows";

/** Joins path segments with the host's separator. */
function join(...parts: string[]): string {
  return joinFor(isWindowsHost(), parts);
}

function joinFor(windows: boolean, parts: string[]): string {
  const sep = windows ? "\\" : "/";
  const trailing = windows ? /[\\/]+$/ : /\/+$/;
  return parts.map((p, i) => (i < parts.length - 1 ? p.replace(trailing, "") : p)).join(sep);
}

/** The directory part of a path (for messages and sibling temporary files). */
function dirname(path: string): string {
  const m = (isWindowsHost() ? /^(.*)[\\/][^\\/]*$/ : /^(.*)\/[^/]*$/).exec(path);
  return m ? (m[1] === "" ? path[0] : m[1]) : ".";
}

/** The last segment of a path. */
function basename(path: string): string {
  return path.split(isWindowsHost() ? /[\\/]/ : "/").pop() ?? path;
}

/** Parses every well-formed `key=value` line; never throws. */
function parseEntries(text: string): Record<string, string> {
  const entries = new Map<string, string>();
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  for (const line of body.split(LINE_BREAK_RE)) {
    if (line.startsWith("#")) continue;
    const m = ASSIGNMENT_RE.exec(line);
    if (m) entries.set(m[1], m[2]);
  }
  // Object.fromEntries defines own properties, so a "__proto__" key is stored
  // as data rather than changing the prototype.
  return Object.fromEntries(entries);
}

function own(entries: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(entries, key) ? entries[key] : undefined;
}

/**
 * Parses lockfile text liberally, as JSAMP does: `#` comment lines, blank
 * lines and lines that are not `key=value` (key matching `[a-zA-Z0-9._-]+`,
 * no space before `=`) are skipped. Lines may end in LF, CRLF or CR. The value
 * is the rest of the line, kept verbatim. A leading byte-order mark is ignored.
 *
 * @param text The lockfile contents.
 * @returns The secret, XML-RPC URL, profile version and all entries.
 * @throws {LockfileError} If `samp.secret` or `samp.hub.xmlrpc.url` is
 * missing or empty.
 *
 * @example
 * ```ts
 * import { parseLockfile } from "./lockfile.ts";
 * const info = parseLockfile(
 *   "# SAMP Standard Profile lockfile\r\n" +
 *     "samp.secret=9c2e41d07ab35f16\r\n" +
 *     "samp.hub.xmlrpc.url=http://127.0.0.1:40217/xmlrpc\r\n" +
 *     "samp.profile.version=1.3\r\n",
 * );
 * console.log(info.secret, info.profileVersion); // "9c2e41d07ab35f16" "1.3"
 * ```
 */
export function parseLockfile(text: string): LockInfo {
  return toLockInfo(text, "");
}

/** Parses `text`; `where` (if non-empty) names the lockfile in errors. */
function toLockInfo(text: string, where: string): LockInfo {
  const entries = parseEntries(text);
  const secret = own(entries, SECRET_KEY);
  const xmlrpcUrl = own(entries, URL_KEY);
  if (!secret || !xmlrpcUrl) {
    const missing = [...(secret ? [] : [SECRET_KEY]), ...(xmlrpcUrl ? [] : [URL_KEY])];
    const subject = where === ""
      ? "Not a valid SAMP lockfile"
      : `${where} is not a valid SAMP lockfile`;
    throw new LockfileError(
      `${subject}: ${missing.join(" and ")} ${
        missing.length > 1 ? "are" : "is"
      } missing or empty. A lockfile needs the lines "${SECRET_KEY}=<secret>" and ` +
        `"${URL_KEY}=<url>". If no hub is running, delete the file and start a hub.`,
    );
  }
  return {
    secret,
    xmlrpcUrl,
    profileVersion: own(entries, VERSION_KEY) ?? "",
    entries,
  };
}

/** Returns the first character outside printable ASCII, or undefined. */
function firstNonPrintable(s: string): string | undefined {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c > 0x7e) return ch;
  }
  return undefined;
}

function describeChar(ch: string): string {
  const hex = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return `U+${hex}`;
}

/**
 * Formats lockfile text that both JSAMP and astropy can read: the comment
 * lines first (each prefixed with `# ` unless it already starts with `#`),
 * then one `key=value` line per entry, in insertion order, each ending in LF.
 * No blank line is ever written (an empty comment line becomes `#`).
 *
 * @param entries The keys and values to write, e.g. `samp.secret`,
 * `samp.hub.xmlrpc.url` and `samp.profile.version`.
 * @param comment Optional comment text; may span several lines.
 * @returns The lockfile text.
 * @throws {LockfileError} If a key does not match `[a-zA-Z0-9._-]+`, or a
 * value contains `=`, a line break or a character outside ASCII 0x20–0x7E, or
 * starts or ends with a space; or if the comment has such characters.
 *
 * @example
 * ```ts
 * import { formatLockfile } from "./lockfile.ts";
 * const text = formatLockfile({
 *   "samp.secret": "9c2e41d07ab35f16",
 *   "samp.hub.xmlrpc.url": "http://127.0.0.1:40217/xmlrpc",
 *   "samp.profile.version": "1.3",
 * }, "SAMP Standard Profile lockfile");
 * console.log(text.split("\n")[0]); // "# SAMP Standard Profile lockfile"
 * ```
 */
export function formatLockfile(entries: Record<string, string>, comment?: string): string {
  const lines: string[] = [];
  if (comment !== undefined && comment !== "") {
    for (const line of comment.split(LINE_BREAK_RE)) {
      const bad = firstNonPrintable(line);
      if (bad !== undefined) {
        throw new LockfileError(
          `Cannot write lockfile comment ${JSON.stringify(line)}: it contains ${
            describeChar(bad)
          }, but lockfile lines must be printable ASCII (0x20-0x7E). Remove or replace that ` +
            `character.`,
        );
      }
      lines.push(line.startsWith("#") ? line : line === "" ? "#" : `# ${line}`);
    }
  }
  for (const [key, value] of Object.entries(entries)) {
    if (!KEY_RE.test(key)) {
      throw new LockfileError(
        `Cannot write lockfile key ${JSON.stringify(key)}: keys must match [a-zA-Z0-9._-]+ ` +
          `(letters, digits, '.', '_', '-'). Rename the key.`,
      );
    }
    if (typeof value !== "string") {
      throw new LockfileError(
        `Cannot write lockfile key "${key}": its value is a ${typeof value}, not a string. ` +
          `Convert it to a string first.`,
      );
    }
    if (value.includes("=")) {
      throw new LockfileError(
        `Cannot write lockfile key "${key}": its value ${JSON.stringify(value)} contains '=', ` +
          `which astropy's lockfile reader cannot parse (it splits each line on '='). Choose a ` +
          `value without '=' (e.g. a hex secret, a URL without a query string).`,
      );
    }
    const bad = firstNonPrintable(value);
    if (bad !== undefined) {
      throw new LockfileError(
        `Cannot write lockfile key "${key}": its value ${JSON.stringify(value)} contains ${
          describeChar(bad)
        }, but lockfile values must be printable ASCII (0x20-0x7E) on a single line. Remove or ` +
          `percent-encode that character.`,
      );
    }
    if (value !== value.trim()) {
      throw new LockfileError(
        `Cannot write lockfile key "${key}": its value ${
          JSON.stringify(value)
        } starts or ends with a space, which astropy strips and JSAMP keeps, so the two would ` +
          `disagree. Trim the value.`,
      );
    }
    lines.push(`${key}=${value}`);
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

function readEnv(env: LockfileEnv, name: string): string | undefined {
  try {
    return env.get(name);
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new LockfileError(
        `Cannot read the environment variable ${name}: permission denied. Run Deno with ` +
          `--allow-env=HOME,USERPROFILE,SAMP_HUB (or --allow-env).`,
        { cause: err },
      );
    }
    throw new LockfileError(
      `Cannot read the environment variable ${name}: ${errorMessage(err)}.`,
      { cause: err },
    );
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Returns the home directory that holds the default lockfile: `HOME` on Unix;
 * `USERPROFILE` on Windows, falling back to `HOME`. Empty values count as
 * unset.
 *
 * @param env Where to read variables; defaults to `Deno.env`.
 * @param os The operating system whose rules apply; defaults to `Deno.build.os`.
 * @returns The home directory path, as given by the environment.
 * @throws {LockfileError} If no home directory is set, or the environment
 * cannot be read.
 *
 * @example
 * ```ts
 * import { homeDir } from "./lockfile.ts";
 * const env = { get: (n: string) => (n === "USERPROFILE" ? "C:\\Users\\ada" : undefined) };
 * console.log(homeDir(env, "windows")); // "C:\\Users\\ada"
 * ```
 */
export function homeDir(
  env: LockfileEnv = Deno.env,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  const names = os === "windows" ? ["USERPROFILE", "HOME"] : ["HOME"];
  for (const name of names) {
    const value = readEnv(env, name);
    if (value !== undefined && value !== "") return value;
  }
  throw new LockfileError(
    `Cannot find the home directory for the SAMP lockfile: ${names.join(" and ")} ${
      names.length > 1 ? "are" : "is"
    } not set. Set ${names[0]} to your home directory, or ` +
      `set SAMP_HUB=std-lockurl:file:///path/to/lockfile to name the lockfile directly.`,
  );
}

/**
 * Returns the default lockfile path: `.samp` in the home directory (see
 * {@linkcode homeDir}), joined with the separator of `os`.
 *
 * @param env Where to read variables; defaults to `Deno.env`.
 * @param os The operating system whose rules apply; defaults to `Deno.build.os`.
 * @returns The path of the default lockfile.
 * @throws {LockfileError} If no home directory can be found.
 *
 * @example
 * ```ts
 * import { defaultLockfilePath } from "./lockfile.ts";
 * const env = { get: (n: string) => (n === "HOME" ? "/home/ada" : undefined) };
 * console.log(defaultLockfilePath(env, "linux")); // "/home/ada/.samp"
 * ```
 */
export function defaultLockfilePath(
  env: LockfileEnv = Deno.env,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  const home = homeDir(env, os);
  return joinFor(os === "windows", [home, ".samp"]);
}

/** Converts a parsed `file:` URL to a local path under the rules of `os`. */
function fileUrlToPath(url: URL, raw: string, os: typeof Deno.build.os): string {
  const unsupported = (why: string): LockfileError =>
    new LockfileError(
      `SAMP_HUB=${raw} is not a usable file URL: ${why}. Use a form such as ` +
        `std-lockurl:file:///home/user/lockfile (percent-encode spaces as %20).`,
    );
  if (url.search !== "" || url.hash !== "") {
    throw unsupported("it has a query ('?') or fragment ('#'); encode those as %3F or %23");
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.pathname);
  } catch (err) {
    throw new LockfileError(
      `SAMP_HUB=${raw} has a malformed percent-escape in its path (${errorMessage(err)}). ` +
        `Encode '%' itself as %25.`,
      { cause: err },
    );
  }
  if (decoded.includes("\0")) throw unsupported("its path contains a NUL character");
  const host = url.hostname === "localhost" ? "" : url.hostname;
  if (os === "windows") {
    const winPath = decoded.replaceAll("/", "\\");
    if (host !== "") return `\\\\${host}${winPath}`;
    // "/C:/Users/x" -> "C:\Users\x"
    return /^\\[A-Za-z]:/.test(winPath) ? winPath.slice(1) : winPath;
  }
  if (host !== "") {
    throw unsupported(`it names the remote host "${url.hostname}", and only local files work`);
  }
  return decoded;
}

/**
 * Works out where the lockfile is, from `SAMP_HUB`.
 *
 * - Unset or empty: the default file (see {@linkcode defaultLockfilePath}).
 * - `std-lockurl:file:…` (`file:///x`, `file://localhost/x`, `file:/x`;
 *   percent-escapes decoded): that file.
 * - `std-lockurl:http://…` or `std-lockurl:https://…`: that URL.
 *
 * @param env Where to read variables; defaults to `Deno.env`.
 * @param os The operating system whose rules apply; defaults to `Deno.build.os`.
 * @returns The lockfile location.
 * @throws {LockfileError} For any other `SAMP_HUB` value (such as
 * `web-appname:…`, `jsamp-class:…` or an `ftp:` lockurl), naming the value and
 * the supported forms; or if no home directory can be found.
 *
 * @example
 * ```ts
 * import { resolveLockLocation } from "./lockfile.ts";
 * const env = {
 *   get: (n: string) => (n === "SAMP_HUB" ? "std-lockurl:file:///tmp/my%20hub.samp" : undefined),
 * };
 * console.log(resolveLockLocation(env, "linux")); // { kind: "file", path: "/tmp/my hub.samp" }
 * ```
 */
export function resolveLockLocation(
  env: LockfileEnv = Deno.env,
  os: typeof Deno.build.os = Deno.build.os,
): LockLocation {
  const raw = (readEnv(env, "SAMP_HUB") ?? "").trim();
  if (raw === "") return { kind: "file", path: defaultLockfilePath(env, os) };
  const supported = "Supported forms are std-lockurl:file:///path/to/lockfile and " +
    "std-lockurl:http(s)://host/path; unset SAMP_HUB to use the default lockfile (~/.samp).";
  if (!raw.startsWith(STD_LOCKURL_PREFIX)) {
    throw new LockfileError(
      `SAMP_HUB=${raw} is not supported: this library only understands the Standard Profile ` +
        `prefix "std-lockurl:". ${supported}`,
    );
  }
  const urlText = raw.slice(STD_LOCKURL_PREFIX.length);
  let url: URL;
  try {
    url = new URL(urlText);
  } catch (err) {
    throw new LockfileError(
      `SAMP_HUB=${raw} does not contain a valid URL after "std-lockurl:". ${supported}`,
      { cause: err },
    );
  }
  switch (url.protocol) {
    case "file:":
      return { kind: "file", path: fileUrlToPath(url, raw, os) };
    case "http:":
    case "https:":
      return { kind: "http", url: url.href };
    default:
      throw new LockfileError(
        `SAMP_HUB=${raw} uses the unsupported URL scheme "${url.protocol}". ${supported}`,
      );
  }
}

/** Wraps a filesystem error in a LockfileError that says what to do. */
function fsError(
  action: string,
  path: string,
  err: unknown,
  flag: "--allow-read" | "--allow-write",
): LockfileError {
  let hint: string;
  if (err instanceof Deno.errors.NotCapable) {
    hint = `Deno was not given access: run with ${flag} (e.g. ${flag}=${dirname(path)}).`;
  } else if (err instanceof Deno.errors.PermissionDenied) {
    hint = `The operating system refused access: check the owner and permissions of ${path} ` +
      `and of ${dirname(path)}, or point SAMP_HUB=std-lockurl:file:///… at a lockfile you own.`;
  } else if (err instanceof Deno.errors.NotFound) {
    hint = `The directory ${dirname(path)} does not exist: create it, or point ` +
      `SAMP_HUB=std-lockurl:file:///… at a lockfile in an existing directory.`;
  } else if (err instanceof Deno.errors.IsADirectory) {
    hint = `${path} is a directory, not a lockfile: rename or remove it.`;
  } else if (err instanceof Deno.errors.NotADirectory) {
    hint = `Part of ${path} is a file where a directory is needed: fix the path.`;
  } else {
    hint = `Check that the path is correct and the filesystem is readable and writable.`;
  }
  return new LockfileError(`Cannot ${action} ${path}: ${errorMessage(err)}. ${hint}`, {
    cause: err,
  });
}

/**
 * Reads and parses the lockfile at `location`: a local file, or an HTTP(S)
 * GET.
 *
 * @param location Where the lockfile is, e.g. from {@linkcode resolveLockLocation}.
 * @param options `signal` aborts the read; the abort reason is rethrown as is.
 * @returns The parsed lockfile, or `null` when there is none (the file does
 * not exist, or the server answers 404), which means no hub is running.
 * @throws {LockfileError} If the file cannot be read, the server fails or
 * answers another error status, or the contents are not a valid lockfile.
 *
 * @example
 * ```ts
 * import { readLockfile } from "./lockfile.ts";
 * const dir = await Deno.makeTempDir();
 * const info = await readLockfile({ kind: "file", path: `${dir}/.samp` });
 * console.log(info); // null: no hub
 * await Deno.remove(dir);
 * ```
 */
export async function readLockfile(
  location: LockLocation,
  options?: { signal?: AbortSignal },
): Promise<LockInfo | null> {
  const signal = options?.signal;
  let text: string;
  let where: string;
  if (location.kind === "file") {
    where = location.path;
    try {
      text = await Deno.readTextFile(location.path, { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof Deno.errors.NotFound) return null;
      throw fsError("read the SAMP lockfile", location.path, err, "--allow-read");
    }
  } else {
    where = location.url;
    let res: Response;
    try {
      res = await fetch(location.url, { signal, headers: { accept: "text/plain" } });
    } catch (err) {
      if (signal?.aborted) throw err;
      const hint = err instanceof Deno.errors.NotCapable
        ? `Run Deno with --allow-net (e.g. --allow-net=${new URL(location.url).host}).`
        : `Check that the hub publishing it is running and reachable, or unset SAMP_HUB to ` +
          `use the default lockfile.`;
      throw new LockfileError(
        `Cannot fetch the SAMP lockfile from ${location.url}: ${errorMessage(err)}. ${hint}`,
        { cause: err },
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status === 404) return null;
      throw new LockfileError(
        `Cannot fetch the SAMP lockfile from ${location.url}: the server answered HTTP ` +
          `${res.status} ${res.statusText}. Check the URL in SAMP_HUB and that the hub serving ` +
          `it is running.`,
      );
    }
    try {
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new LockfileError(
        `Cannot read the SAMP lockfile body from ${location.url}: ${errorMessage(err)}. ` +
          `Check that the hub serving it is running, then retry.`,
        { cause: err },
      );
    }
  }
  return toLockInfo(text, where);
}

/**
 * Creates `path` (failing if it exists) with mode 0600, writes `text` and
 * closes it. On a write failure the half-written file is removed.
 * Returns false if the file already existed.
 */
async function createNewFile(path: string, text: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw fsError("create the SAMP lockfile", path, err, "--allow-write");
  }
  try {
    if (!isWindowsHost()) await Deno.chmod(path, 0o600);
    const data = new TextEncoder().encode(text);
    let written = 0;
    while (written < data.length) written += await file.write(data.subarray(written));
  } catch (err) {
    file.close();
    await Deno.remove(path).catch(() => {});
    throw fsError("write the SAMP lockfile", path, err, "--allow-write");
  }
  file.close();
  return true;
}

/**
 * Creates the lockfile only if it does not exist yet (an atomic
 * create-exclusive), with mode 0600 so only its owner can read the secret.
 * The mode is also set with `chmod`, except on Windows.
 *
 * @param path The lockfile path.
 * @param text The lockfile text, e.g. from {@linkcode formatLockfile}.
 * @returns `true` if this call created the file, `false` if it already existed.
 * @throws {LockfileError} If the file cannot be created or written.
 *
 * @example
 * ```ts
 * import { writeLockfileExclusive } from "./lockfile.ts";
 * const dir = await Deno.makeTempDir();
 * console.log(await writeLockfileExclusive(`${dir}/.samp`, "samp.secret=a\n")); // true
 * console.log(await writeLockfileExclusive(`${dir}/.samp`, "samp.secret=b\n")); // false
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeLockfileExclusive(path: string, text: string): Promise<boolean> {
  return await createNewFile(path, text);
}

/**
 * Writes the lockfile, replacing any existing one atomically: the text goes
 * to a temporary file (mode 0600) in the same directory, which is then renamed
 * over `path`. Readers see either the old file or the new one, never a mix.
 *
 * @param path The lockfile path.
 * @param text The lockfile text, e.g. from {@linkcode formatLockfile}.
 * @throws {LockfileError} If the temporary file cannot be written or renamed;
 * the temporary file is removed in that case.
 *
 * @example
 * ```ts
 * import { writeLockfile } from "./lockfile.ts";
 * const dir = await Deno.makeTempDir();
 * await writeLockfile(`${dir}/.samp`, "samp.secret=old\n");
 * await writeLockfile(`${dir}/.samp`, "samp.secret=new\n");
 * console.log(await Deno.readTextFile(`${dir}/.samp`)); // "samp.secret=new\n"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeLockfile(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  if (!await createNewFile(tmp, text)) {
    throw new LockfileError(
      `Cannot write the SAMP lockfile ${path}: the temporary file ${tmp} already exists. ` +
        `Remove it and retry.`,
    );
  }
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw fsError("replace the SAMP lockfile", path, err, "--allow-write");
  }
  if (!isWindowsHost()) {
    try {
      await Deno.chmod(path, 0o600);
    } catch (err) {
      throw fsError("set mode 0600 on the SAMP lockfile", path, err, "--allow-write");
    }
  }
}

/**
 * Deletes the lockfile, but only if its `samp.secret` still equals `secret`,
 * so a lockfile written since by another hub survives. A hub calls this on
 * shutdown. (Another hub could replace the file between the check and the
 * delete; JSAMP and astropy accept the same small window.)
 *
 * @param path The lockfile path.
 * @param secret The secret this hub wrote.
 * @returns `true` if the file was deleted; `false` if it does not exist or
 * holds another (or no) secret.
 * @throws {LockfileError} If `secret` is empty, or the file cannot be read or
 * deleted.
 *
 * @example
 * ```ts
 * import { removeLockfileIfOurs } from "./lockfile.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/.samp`, "samp.secret=theirs\n");
 * console.log(await removeLockfileIfOurs(`${dir}/.samp`, "ours")); // false
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function removeLockfileIfOurs(path: string, secret: string): Promise<boolean> {
  if (secret === "") {
    throw new LockfileError(
      `Refusing to remove ${path}: the secret to compare is empty. Pass the samp.secret ` +
        `this hub wrote.`,
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw fsError("read the SAMP lockfile", path, err, "--allow-read");
  }
  if (own(parseEntries(text), SECRET_KEY) !== secret) return false;
  try {
    await Deno.remove(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw fsError("remove the SAMP lockfile", path, err, "--allow-write");
  }
  return true;
}

/**
 * Returns the lockfile path of an astropy "multiple" mode hub:
 * `<home>/.samp-1/samp-hub-<id>`.
 *
 * @param home The home directory (see {@linkcode homeDir}).
 * @param id The hub's id (astropy uses a uuid1).
 * @returns The lockfile path.
 * @throws {LockfileError} If `id` is empty or has characters other than
 * `[a-zA-Z0-9._-]` (which could escape the directory).
 *
 * @example
 * ```ts
 * import { multiLockfilePath } from "./lockfile.ts";
 * console.log(multiLockfilePath("/home/ada", "1234")); // "/home/ada/.samp-1/samp-hub-1234"
 * ```
 */
export function multiLockfilePath(home: string, id: string): string {
  if (!KEY_RE.test(id)) {
    throw new LockfileError(
      `Invalid multi-hub id ${JSON.stringify(id)}: it must be non-empty and use only ` +
        `letters, digits, '.', '_' and '-'. Use a UUID such as crypto.randomUUID().`,
    );
  }
  return join(home, ".samp-1", `samp-hub-${id}`);
}

/**
 * Creates `<home>/.samp-1`, the directory of astropy "multiple" mode
 * lockfiles, with mode 0700 (also applied with `chmod`, even if it already
 * existed, except on Windows).
 *
 * @param home The home directory (see {@linkcode homeDir}).
 * @returns The directory path.
 * @throws {LockfileError} If it cannot be created, is not a directory, or its
 * mode cannot be set.
 *
 * @example
 * ```ts
 * import { ensureMultiDir } from "./lockfile.ts";
 * const home = await Deno.makeTempDir();
 * console.log(await ensureMultiDir(home)); // `${home}/.samp-1`
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function ensureMultiDir(home: string): Promise<string> {
  const dir = join(home, ".samp-1");
  try {
    await Deno.mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) {
      throw fsError("create the SAMP multi-hub directory", dir, err, "--allow-write");
    }
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(dir);
    } catch (statErr) {
      throw fsError("inspect the SAMP multi-hub directory", dir, statErr, "--allow-read");
    }
    if (!info.isDirectory) {
      throw new LockfileError(
        `Cannot use ${dir} as the SAMP multi-hub directory: it exists but is not a directory. ` +
          `Rename or remove it.`,
      );
    }
  }
  if (!isWindowsHost()) {
    try {
      await Deno.chmod(dir, 0o700);
    } catch (err) {
      throw fsError("set mode 0700 on the SAMP multi-hub directory", dir, err, "--allow-write");
    }
  }
  return dir;
}

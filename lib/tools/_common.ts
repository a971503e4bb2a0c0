// Shared pieces of the `samp` subcommands: connecting, choosing targets,
// exit codes, output, and a progress line for anything slow.

import { HubNotFoundError } from "../client/discovery.ts";
import { ClientNameError } from "../client/names.ts";
import { SampClient } from "../client/client.ts";
import { SampErrorResponse, SampFault, SampTimeoutError, TransportError } from "../errors.ts";
import type { SampMap, SampValue } from "../types.ts";
import { displayText, hasUnsafeText } from "../_display.ts";

// What other clients (and the hub) say is shown to people through
// displayText: no control character, bidi override or line separator of
// theirs reaches the terminal. --json output is left as it is.

/** Most code points of a client's name shown. */
export const NAME_MAX = 80;
/** Most code points of a string value (a parameter, a metadata value) shown. */
const VALUE_MAX = 2000;

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The hub or a recipient said no: a fault, an error response, nobody to send to. */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** No hub could be reached. */
  noHub: 3,
  /** A reply did not come in time. */
  timeout: 4,
} as const;

/** A usage error: printed as one line, exit 2. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Options every subcommand takes. */
export interface CommonOptions {
  lockfile?: string;
  name?: string;
}

/** The common flags, for `node:util` parseArgs. */
export const COMMON_FLAGS = {
  lockfile: { type: "string" },
  name: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const COMMON_HELP = `
Common options:
  --lockfile PATH   the hub's lockfile (default: $SAMP_HUB, else ~/.samp)
  --name NAME       the samp.name this tool registers with
  -h, --help        show this help

Exit status: 0 done, 1 refused or failed (fault, error response, no recipient),
2 bad command line, 3 no hub running, 4 no reply in time.`;

/** Connects a client for a subcommand. */
export function connect(
  options: CommonOptions,
  defaults: { name: string; description: string; callable?: boolean },
): Promise<SampClient> {
  return SampClient.connect({
    lockfile: options.lockfile,
    name: options.name ?? defaults.name,
    description: defaults.description,
    callable: defaults.callable,
  });
}

/**
 * Turns targets given by public id or by name into public ids, the way
 * `client.clients.resolve` reads names (names.ts): id, `samp.name` ignoring
 * case, an everyday name (`ds9` for `SAOImageDS9`), then the start or a part
 * of one tool's name. A name several clients share exactly (two TOPCATs)
 * gives all of them. Throws a UsageError naming the unknown target and who
 * is registered, or the tools an ambiguous one could be.
 */
export function resolveTargets(client: SampClient, targets: string[]): string[] {
  const ids: string[] = [];
  for (const t of targets) {
    try {
      ids.push(...client.clients.resolve(t).map((c) => c.id));
    } catch (e) {
      if (e instanceof ClientNameError) throw new UsageError(e.message, { cause: e });
      throw e;
    }
  }
  return [...new Set(ids)];
}

/** A label for a client id: "c3 (topcat)", escaped (displayText). */
export function label(client: SampClient, id: string): string {
  const name = client.clients.get(id)?.name;
  return name ? `${displayText(id)} (${displayText(name, NAME_MAX)})` : displayText(id);
}

/**
 * A message for a person, on one line. It may quote a client (an error text)
 * or the hub: one holding a control character is shown escaped
 * (displayText), others as they are, so that paths stay readable.
 */
export function safeLine(message: string): string {
  return hasUnsafeText(message) ? displayText(message, 1000) : message;
}

/** An error's message for a person, on one line (see {@linkcode safeLine}). */
export function errorLine(e: unknown): string {
  return safeLine(String((e as Error)?.message ?? e));
}

/** Maps an error to an exit code and a one-line message. */
export function explain(e: unknown): { code: number; message: string } {
  if (e instanceof UsageError) return { code: EXIT.usage, message: e.message };
  if (e instanceof HubNotFoundError) return { code: EXIT.noHub, message: e.message };
  if (e instanceof SampTimeoutError) return { code: EXIT.timeout, message: e.message };
  if (e instanceof SampFault) {
    return { code: EXIT.failed, message: `the hub refused: ${e.message}` };
  }
  if (e instanceof SampErrorResponse) return { code: EXIT.failed, message: e.message };
  if (e instanceof TransportError) {
    return { code: e.refused ? EXIT.noHub : EXIT.failed, message: e.message };
  }
  return { code: EXIT.failed, message: (e as Error)?.message ?? String(e) };
}

/**
 * Shows "message…" with a spinner on stderr (when it is a terminal) if the
 * work takes more than a second; returns a function that clears it.
 */
export function progress(message: string): () => void {
  if (!Deno.stderr.isTerminal()) return () => {};
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  const encoder = new TextEncoder();
  let i = 0;
  let shown = false;
  const draw = () => {
    shown = true;
    Deno.stderr.writeSync(encoder.encode(`\r${frames[i++ % frames.length]} ${message}`));
  };
  const start = setTimeout(() => {
    draw();
    timer = setInterval(draw, 100);
  }, 1000);
  let timer: ReturnType<typeof setInterval> | undefined;
  return () => {
    clearTimeout(start);
    clearInterval(timer);
    if (shown) Deno.stderr.writeSync(encoder.encode(`\r\x1b[K`));
  };
}

/**
 * Parses `key=value` words and/or a JSON object into SAMP params. JSON
 * numbers and booleans become SAMP strings ("1.5", "1"/"0").
 */
export function parseParams(words: string[], json?: string): SampMap {
  const params: SampMap = {};
  if (json !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new UsageError(`--params is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError('--params must be a JSON object, e.g. \'{"url": "file:///x.vot"}\'');
    }
    Object.assign(params, toSamp(value, "--params") as SampMap);
  }
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new UsageError(`parameter "${w}" is not key=value`);
    params[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return params;
}

/** JSON to SAMP: numbers and booleans as strings; null refused. */
export function toSamp(value: unknown, where: string): SampValue {
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new UsageError(`${where}: ${value} is not a SAMP number`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "1" : "0";
  if (Array.isArray(value)) return value.map((v, i) => toSamp(v, `${where}[${i}]`));
  if (typeof value === "object" && value !== null) {
    const out: SampMap = {};
    for (const [k, v] of Object.entries(value)) out[k] = toSamp(v, `${where}.${k}`);
    return out;
  }
  throw new UsageError(`${where}: null has no SAMP form (use "" or leave the key out)`);
}

/**
 * Pretty-prints a SAMP value as indented YAML-like text for people: strings
 * in double quotes and keys escaped (displayText; a `"` as `\"`), long
 * strings cut.
 */
export function pretty(value: SampValue, indent = ""): string {
  // displayText escapes every backslash, so \" cannot be forged.
  if (typeof value === "string") return `"${displayText(value, VALUE_MAX).replaceAll('"', '\\"')}"`;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return value.map((v) => `\n${indent}- ${pretty(v, indent + "  ").trimStart()}`).join("");
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return "{}";
  return keys.map((k) => {
    const v = value[k];
    const inner = pretty(v, indent + "  ");
    return `\n${indent}${displayText(k)}:${
      typeof v === "string" || inner === "{}" || inner === "[]" ? " " : ""
    }${inner}`;
  }).join("");
}

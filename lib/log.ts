/**
 * A small line logger: one line per event, with a level filter, written to
 * stderr or a file. Nothing global: each hub has its own.
 *
 * Client-supplied parts of a message go through `displayText` (see
 * `_display.ts`) where the message is made; as a last guard, a message that
 * still holds a control, bidi control, line separator or lone surrogate is
 * written escaped as a whole, so a line can never be forged or clear the
 * screen.
 *
 * @module
 */

import { displayText, hasUnsafeText } from "./_display.ts";

/**
 * Log levels, least to most severe; `OFF` writes nothing.
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "./log.ts";
 * LOG_LEVELS.includes("INFO"); // true
 * ```
 */
export const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR", "OFF"];

/**
 * One of {@linkcode LOG_LEVELS}.
 *
 * @example
 * ```ts
 * import type { LogLevel } from "./log.ts";
 * const level: LogLevel = "WARNING";
 * ```
 */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "OFF";

/**
 * Writes log lines at or above its level.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const log = createLogger("INFO", (line) => console.error(line));
 * log.info("hub started");
 * log.debug("not shown at INFO");
 * ```
 */
export interface Logger {
  /** The lowest level written. */
  readonly level: LogLevel;
  /** Logs detail useful when debugging. */
  debug(message: string): void;
  /** Logs a normal event. */
  info(message: string): void;
  /** Logs something that went wrong but did not stop anything. */
  warn(message: string): void;
  /** Logs a failure. */
  error(message: string): void;
}

/**
 * Makes a logger that passes each formatted line to `write`. A message is
 * one line: one holding a control character, bidi control, line separator or
 * lone surrogate is written escaped as a whole (with `displayText`).
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger("DEBUG", (l) => lines.push(l));
 * log.warn("client c3 did not answer");
 * ```
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void,
  now: () => Date = () => new Date(),
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (name: LogLevel) => {
    if (LOG_LEVELS.indexOf(name) < threshold) return () => {};
    return (message: string) => {
      const text = hasUnsafeText(message) ? displayText(message, Infinity) : message;
      write(`${now().toISOString()} ${name} ${text}`);
    };
  };
  return { level, debug: at("DEBUG"), info: at("INFO"), warn: at("WARNING"), error: at("ERROR") };
}

/**
 * A logger that writes nothing.
 *
 * @example
 * ```ts
 * import { silentLogger } from "./log.ts";
 * silentLogger.info("dropped");
 * ```
 */
export const silentLogger: Logger = createLogger("OFF", () => {});

/**
 * Makes a logger writing lines to a file (appended) or, with no path, to
 * stderr. Returns the logger and a function that closes the file.
 *
 * @example
 * ```ts
 * import { openLogger } from "./log.ts";
 * const { logger, close } = openLogger("INFO");
 * logger.info("to stderr");
 * close();
 * ```
 */
export function openLogger(level: LogLevel, path?: string): { logger: Logger; close(): void } {
  const encoder = new TextEncoder();
  if (!path || level === "OFF") {
    return {
      logger: createLogger(level, (line) => Deno.stderr.writeSync(encoder.encode(line + "\n"))),
      close: () => {},
    };
  }
  const file = Deno.openSync(path, { append: true, create: true });
  let open = true;
  return {
    logger: createLogger(level, (line) => {
      if (open) file.writeSync(encoder.encode(line + "\n"));
    }),
    close: () => {
      if (open) file.close();
      open = false;
    },
  };
}

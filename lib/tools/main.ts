/**
 * `samp`: everyday SAMP tools from the command line (send, snoop, clients,
 * monitor, load, hubtest). Run it from source with `deno task samp …`.
 *
 * @module
 */

import { clients, CLIENTS_HELP, monitor, MONITOR_HELP } from "./clients.ts";
import { EXIT, explain, safeLine } from "./_common.ts";
import { hubtest, HUBTEST_HELP } from "./hubtest.ts";
import { load, LOAD_HELP } from "./load.ts";
import { send, SEND_HELP } from "./send.ts";
import { snoop, SNOOP_HELP } from "./snoop.ts";
import { VERSION } from "../version.ts";

const COMMANDS: Record<string, [(args: string[]) => Promise<number>, string]> = {
  send: [send, SEND_HELP],
  snoop: [snoop, SNOOP_HELP],
  clients: [clients, CLIENTS_HELP],
  monitor: [monitor, MONITOR_HELP],
  load: [load, LOAD_HELP],
  hubtest: [hubtest, HUBTEST_HELP],
};

/**
 * The `samp --help` text.
 *
 * @example
 * ```ts
 * import { SAMP_USAGE } from "./main.ts";
 * console.log(SAMP_USAGE);
 * ```
 */
export const SAMP_USAGE = `samp ${VERSION}: everyday SAMP tools

Usage: samp COMMAND [options]     (samp COMMAND --help for each)

  send MTYPE [K=V ...]   send one message (sync, async or notify) and show the replies
  snoop [PATTERN ...]    print the messages this client receives
  clients                list the registered clients
  monitor                the client list, kept live from hub events
  load FILE|URL          send a VOTable or FITS file to the tools that show it
  hubtest                check a hub against the SAMP 1.3 hub API, check by check

Options before COMMAND:
  -C DIR                 run as if started in DIR (relative paths are read from there)

The hub is found through $SAMP_HUB or ~/.samp (or --lockfile PATH).`;

/**
 * Runs `samp` with `args`; returns the exit status.
 *
 * @example
 * ```ts ignore
 * import { runSampCli } from "./main.ts";
 * Deno.exit(await runSampCli(["clients"]));
 * ```
 */
export async function runSampCli(args: string[]): Promise<number> {
  if (args[0] === "-C") {
    // `deno task samp` runs in the checkout: its task passes the folder the
    // user ran it from, so that `samp load table.vot` reads their file.
    if (args[1] === undefined) {
      console.error("samp: -C needs a folder (see samp --help)");
      return EXIT.usage;
    }
    try {
      Deno.chdir(args[1]);
    } catch (e) {
      console.error(`samp: cannot change to folder ${args[1]}: ${(e as Error).message}`);
      return EXIT.usage;
    }
    args = args.slice(2);
  }
  const [name, ...rest] = args;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(SAMP_USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === "--version" || name === "-V") {
    console.log(`samp ${VERSION}`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!Object.hasOwn(COMMANDS, name) || !command) {
    console.error(`samp: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}`);
    return EXIT.usage;
  }
  try {
    return await command[0](rest);
  } catch (e) {
    const errorCode = (e as { code?: unknown }).code;
    const parseError = typeof errorCode === "string" && errorCode.startsWith("ERR_PARSE_ARGS");
    const { code, message } = parseError
      ? { code: EXIT.usage, message: `${(e as Error).message} (see samp ${name} --help)` }
      : explain(e);
    console.error(`samp ${name}: ${safeLine(message)}`);
    return code;
  }
}

if (import.meta.main) {
  Deno.exit(await runSampCli(Deno.args));
}

// `samp send`: one message from the command line.

import { parseArgs } from "node:util";
import { isMType, isMTypePattern } from "../mtype.ts";
import type { SampMap, SampResponse } from "../types.ts";
import { displayText } from "../_display.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  connect,
  errorLine,
  EXIT,
  label,
  parseParams,
  pretty,
  progress,
  resolveTargets,
  UsageError,
} from "./_common.ts";

export const SEND_HELP = `samp send: send one SAMP message

Usage: samp send MTYPE [KEY=VALUE ...] [options]

  MTYPE                 e.g. table.load.votable, coord.pointAt.sky, samp.app.ping
  KEY=VALUE             a parameter (a string); repeat for more
  --params JSON         parameters as a JSON object (numbers and booleans become
                        SAMP strings; lists and objects are kept)
  --to CLIENT           recipient by public id (c3), samp.name, everyday name
                        (ds9, aladin, topcat) or a part of one tool's samp.name;
                        repeatable; default: every client subscribed to MTYPE
  --mode MODE           sync (callAndWait, the default), async (call, then wait
                        for the replies) or notify (no reply)
  --timeout SECONDS     how long to wait for replies (default 30; 0: forever)
  --json                print one JSON object per recipient instead of text
${COMMON_HELP}

Examples:
  samp send samp.app.ping --to hub
  samp send coord.pointAt.sky ra=83.63 dec=22.01 --to ds9 --mode notify
  samp send table.load.votable url=file:///data/m31.vot name=M31`;

/** Runs `samp send`; returns the exit code. */
export async function send(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...COMMON_FLAGS,
      params: { type: "string" },
      to: { type: "string", multiple: true },
      mode: { type: "string", default: "sync" },
      timeout: { type: "string", default: "30" },
      json: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(SEND_HELP);
    return EXIT.ok;
  }
  const [mtype, ...words] = positionals;
  if (!mtype) throw new UsageError("samp send needs an MTYPE (see samp send --help)");
  if (!isMType(mtype)) throw new UsageError(notAnMType(mtype));
  const mode = values.mode;
  if (mode !== "sync" && mode !== "async" && mode !== "notify") {
    throw new UsageError(`--mode must be sync, async or notify, not "${mode}"`);
  }
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new UsageError(`--timeout must be a number of seconds, not "${values.timeout}"`);
  }
  const params = parseParams(words, values.params);
  const message = { "samp.mtype": mtype, "samp.params": params };

  await using client = await connect(values, {
    name: "samp-send",
    description: "samp send (sampkit command line)",
    callable: mode === "async",
  });
  const targets = values.to ? resolveTargets(client, values.to) : undefined;
  const print = (id: string, response?: SampResponse) => {
    if (values.json) {
      console.log(JSON.stringify({ recipient: id, name: client.clients.get(id)?.name, response }));
    } else if (!response) {
      console.log(`${label(client, id)}: sent`);
    } else {
      const { "samp.status": status, ...rest } = response;
      console.log(
        `${label(client, id)}: ${displayText(String(status))}${pretty(rest as SampMap, "  ")}`,
      );
    }
  };

  if (mode === "notify") {
    const ids = targets
      ? await Promise.all(targets.map((id) => client.notify(id, message).then(() => id)))
      : await client.notifyAll(message);
    if (ids.length === 0) {
      console.error(`samp send: no client is subscribed to ${mtype}`);
      return EXIT.failed;
    }
    for (const id of ids) print(id);
    return EXIT.ok;
  }

  const recipients = targets ??
    Object.keys(await client.connection.getSubscribedClients(mtype));
  if (recipients.length === 0) {
    console.error(`samp send: no client is subscribed to ${mtype}`);
    return EXIT.failed;
  }
  const done = progress(
    `waiting for ${recipients.length} repl${recipients.length === 1 ? "y" : "ies"}…`,
  );
  let code: number = EXIT.ok;
  try {
    await Promise.all(recipients.map(async (id) => {
      try {
        const response = mode === "sync"
          ? await client.callAndWait(id, message, { timeout })
          : await client.call(id, message, { timeout: timeout || undefined });
        if (response["samp.status"] === "samp.error") code = EXIT.failed;
        print(id, response);
      } catch (e) {
        const timedOut = /timeout|did not reply/i.test((e as Error).message);
        if (code === EXIT.ok || timedOut) code = timedOut ? EXIT.timeout : EXIT.failed;
        if (values.json) {
          console.log(JSON.stringify({ recipient: id, error: (e as Error).message }));
        } else console.log(`${label(client, id)}: ${errorLine(e)}`);
      }
    }));
  } finally {
    done();
  }
  return code;
}

/** Why `text` cannot be sent as an MType, and what one looks like. */
function notAnMType(text: string): string {
  const rule = "an MType is words of letters, digits, '-' and '_' joined by dots, " +
    "like table.load.votable";
  return isMTypePattern(text)
    ? `"${text}" is a subscription pattern, not an MType: a message has one exact MType (${rule})`
    : `"${text}" is not an MType: ${rule}`;
}

// `samp snoop`: print every message received.

import { parseArgs } from "node:util";
import { isMTypePattern, matchScore } from "../mtype.ts";
import type { IncomingMessage } from "../client/client.ts";
import type { SampValue } from "../types.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  connect,
  EXIT,
  NAME_MAX,
  pretty,
  UsageError,
} from "./_common.ts";
import { displayText } from "../_display.ts";

export const SNOOP_HELP = `samp snoop: print the messages this client receives

Usage: samp snoop [PATTERN ...] [options]

  PATTERN           MTypes to subscribe to: a.b.c, a.b.* or * (the default);
                    hub events (samp.hub.event.*) are shown when a pattern covers them
  --count N         stop after N messages
  --json            one JSON object per line: {time, sender, name, msgId?, message}
${COMMON_HELP}

Calls are answered with samp.warning ("samp snoop only prints messages").
Stop with Ctrl-C.`;

// The hub events the client library handles itself; named exactly here so
// a snooper sees them too.
const HUB_MTYPES = [
  "samp.hub.event.register",
  "samp.hub.event.unregister",
  "samp.hub.event.metadata",
  "samp.hub.event.subscriptions",
  "samp.hub.event.shutdown",
  "samp.hub.disconnect",
];

/** Runs `samp snoop`; returns the exit code. */
export async function snoop(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMMON_FLAGS, count: { type: "string" }, json: { type: "boolean" } },
  });
  if (values.help) {
    console.log(SNOOP_HELP);
    return EXIT.ok;
  }
  const patterns = positionals.length > 0 ? positionals : ["*"];
  for (const p of patterns) {
    if (!isMTypePattern(p)) {
      throw new UsageError(`"${p}" is not an MType pattern (a.b.c, a.b.* or *)`);
    }
  }
  const limit = values.count === undefined ? Infinity : Number(values.count);
  if (!(limit > 0)) {
    throw new UsageError(`--count must be a positive number, not "${values.count}"`);
  }

  await using client = await connect(values, {
    name: "samp-snoop",
    description: "samp snoop (sampkit command line): prints what it receives",
  });
  const stop = new AbortController();
  let seen = 0;
  // Setting up declares subscriptions more than once, and the hub announces
  // each declaration: of those about this tool, show only the one with its
  // final subscriptions, once.
  let final: string | undefined = undefined;
  let held: IncomingMessage | undefined;
  let shownOwn = false;
  const show = (m: IncomingMessage) => {
    if (m.mtype === "samp.hub.event.subscriptions" && m.params.id === client.id) {
      if (final === undefined) {
        held = m;
        return;
      }
      if (shownOwn || canonical(m.params.subscriptions ?? {}) !== final) return;
      shownOwn = true;
    }
    if (values.json) {
      console.log(JSON.stringify({
        time: new Date().toISOString(),
        sender: m.senderId,
        name: m.senderName,
        ...(m.msgId ? { msgId: m.msgId } : {}),
        message: m.message,
      }));
    } else {
      // What the sender and the hub say is shown escaped (displayText).
      const id = displayText(m.senderId);
      const from = m.senderName ? `${id} (${displayText(m.senderName, NAME_MAX)})` : id;
      const kind = m.msgId ? `call ${displayText(m.msgId)}` : "notify";
      console.log(
        `${new Date().toISOString()} ${from} ${kind} ${displayText(m.mtype)}` +
          pretty(m.params, "  "),
      );
    }
    if (++seen >= limit) stop.abort();
    if (m.msgId) {
      return {
        "samp.status": "samp.warning",
        "samp.result": {},
        "samp.error": { "samp.errortxt": "samp snoop only prints messages" },
      };
    }
  };
  // Registered together, the handlers make one or two declarations, not one each.
  const hubEvents = HUB_MTYPES.filter((m) =>
    patterns.some((p) => matchScore(p, m) >= 0) && !patterns.includes(m)
  );
  await Promise.all([...patterns, ...hubEvents].map((p) => client.on(p, show)));
  final = canonical(await client.connection.getSubscriptions(client.id));
  if (held) show(held);
  if (!values.json) {
    console.error(`snooping on ${patterns.join(", ")} as ${client.id} (Ctrl-C to stop)`);
  }
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  const lost = new Promise<void>((resolve) =>
    client.onConnectionChange((c) => {
      if (!c.connected) {
        console.error(`samp snoop: ${displayText(c.reason, 1000)}`);
        resolve();
      }
    })
  );
  try {
    await Promise.race([
      new Promise<void>((r) => stop.signal.addEventListener("abort", () => r(), { once: true })),
      lost,
    ]);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  return client.connected ? EXIT.ok : EXIT.noHub;
}

/** A SAMP value as text with map keys sorted, to compare two declarations. */
function canonical(value: SampValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  return `{${
    Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")
  }}`;
}

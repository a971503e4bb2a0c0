// `samp clients` and `samp monitor`: who is on the hub.

import { parseArgs } from "node:util";
import type { SampClient } from "../client/client.ts";
import type { TrackedClient } from "../client/tracker.ts";
import { COMMON_FLAGS, COMMON_HELP, connect, EXIT, NAME_MAX } from "./_common.ts";
import { displayText } from "../_display.ts";

export const CLIENTS_HELP = `samp clients: list the clients registered with the hub

Usage: samp clients [--json] [--subscriptions] [options]

  --json            one JSON array: [{id, name, metadata, subscriptions}]
  --subscriptions   also list each client's subscriptions
${COMMON_HELP}`;

export const MONITOR_HELP = `samp monitor: show the hub's clients, kept live from hub events

Usage: samp monitor [--json] [options]

  --json            one JSON object per change: {time, change, id, client}
${COMMON_HELP}

Stop with Ctrl-C.`;

/** A client for people: what it says of itself is escaped (displayText). */
function describe(c: TrackedClient, self: string, subscriptions: boolean): string {
  const text = c.metadata["samp.description.text"];
  const name = c.name === undefined ? "(no samp.name)" : displayText(c.name, NAME_MAX);
  const lines = [
    `${displayText(c.id)}${c.id === self ? " (this command)" : ""}  ${name}` +
    (typeof text === "string" ? `  ${displayText(text)}` : ""),
  ];
  const patterns = Object.keys(c.subscriptions);
  if (subscriptions) {
    for (const p of patterns) lines.push(`    ${displayText(p)}`);
  } else if (patterns.length > 0) {
    lines.push(
      `    subscribes to ${patterns.length} MType pattern${patterns.length === 1 ? "" : "s"}`,
    );
  }
  return lines.join("\n");
}

function others(client: SampClient): TrackedClient[] {
  return [...client.clients].filter((c) => c.id !== client.id);
}

/** Runs `samp clients`; returns the exit code. */
export async function clients(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...COMMON_FLAGS, json: { type: "boolean" }, subscriptions: { type: "boolean" } },
  });
  if (values.help) {
    console.log(CLIENTS_HELP);
    return EXIT.ok;
  }
  await using client = await connect(values, {
    name: "samp-clients",
    description: "samp clients (sampkit command line)",
  });
  const list = others(client);
  if (values.json) {
    console.log(JSON.stringify(
      list.map(({ id, name, metadata, subscriptions }) => ({
        id,
        name,
        metadata,
        subscriptions,
      })),
      null,
      2,
    ));
  } else {
    for (const c of list) console.log(describe(c, client.id, values.subscriptions ?? false));
  }
  return EXIT.ok;
}

/** Runs `samp monitor`; returns the exit code. */
export async function monitor(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...COMMON_FLAGS, json: { type: "boolean" } } });
  if (values.help) {
    console.log(MONITOR_HELP);
    return EXIT.ok;
  }
  await using client = await connect(values, {
    name: "samp-monitor",
    description: "samp monitor (sampkit command line)",
  });
  const tty = !values.json && Deno.stdout.isTerminal();
  const draw = () => {
    const list = others(client);
    const head = `SAMP hub: ${list.length} client${list.length === 1 ? "" : "s"} ` +
      `(${new Date().toLocaleTimeString()}; Ctrl-C to stop)`;
    console.log(
      `${tty ? "\x1b[H\x1b[2J" : ""}${head}\n${
        list.map((c) => describe(c, client.id, false)).join("\n")
      }`,
    );
  };
  if (values.json) {
    for (const c of others(client)) {
      console.log(
        JSON.stringify({ time: new Date().toISOString(), change: "present", id: c.id, client: c }),
      );
    }
  } else draw();
  const stop = client.clients.onChange((change) => {
    if (values.json) {
      console.log(JSON.stringify({
        time: new Date().toISOString(),
        change: change.kind,
        id: change.id,
        client: client.clients.get(change.id),
      }));
    } else if (tty) draw();
    else {
      const name = client.clients.get(change.id)?.name;
      console.log(
        `${new Date().toISOString()} ${change.kind} ${displayText(change.id)} ${
          name === undefined ? "" : displayText(name, NAME_MAX)
        }`.trimEnd(),
      );
    }
  });
  const done = new AbortController();
  const onSignal = () => done.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  client.onConnectionChange((c) => {
    if (!c.connected) {
      console.error(`samp monitor: ${displayText(c.reason, 1000)}`);
      done.abort();
    }
  });
  try {
    await new Promise<void>((r) =>
      done.signal.addEventListener("abort", () => r(), { once: true })
    );
  } finally {
    stop();
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  return client.connected ? EXIT.ok : EXIT.noHub;
}

/**
 * Prints the rows a user highlights in TOPCAT (or any table tool), until
 * Ctrl-C, or after `--count N` rows.
 *
 *   deno run -A examples/watch_highlight.ts [--count N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { SampClient } from "../client.ts";

const { values } = parseArgs({ args: Deno.args, options: { count: { type: "string" } } });
const limit = values.count === undefined ? Infinity : Number(values.count);

await using client = await SampClient.connect({
  name: "row-watcher",
  description: "sampkit example: prints highlighted rows",
  reconnect: true,
});
const stop = new AbortController();
const onInterrupt = () => stop.abort();
Deno.addSignalListener("SIGINT", onInterrupt);
console.log(`watching for table.highlight.row as ${client.id} (Ctrl-C to stop)`);

let seen = 0;
try {
  for await (const m of client.messages("table.highlight.row", { signal: stop.signal })) {
    const table = m.params["table-id"] ?? m.params.url ?? "?";
    console.log(`${m.senderName ?? m.senderId} highlighted row ${m.params.row} of ${table}`);
    if (++seen >= limit) break;
  }
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
}

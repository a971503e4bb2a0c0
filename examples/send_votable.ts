/**
 * Sends a VOTable to TOPCAT (or to every table viewer) over SAMP.
 *
 *   deno run -A examples/send_votable.ts [FILE.vot] [--to NAME] [--name LABEL]
 *
 * With no FILE it writes a small demo table to a temporary file first.
 * `--to` picks the recipient by name (default "topcat"; "ds9", "aladin" or
 * any samp.name work too; use `--to all` to send to every client that loads
 * VOTables).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { ClientNameError, fileUrl, SampClient, type TrackedClient } from "../client.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    to: { type: "string", default: "topcat" },
    name: { type: "string" },
    timeout: { type: "string", default: "30" },
  },
});

let path = positionals[0] ? resolve(positionals[0]) : undefined;
if (!path) {
  path = await Deno.makeTempFile({ prefix: "sampkit-demo-", suffix: ".vot" });
  await Deno.writeTextFile(path, DEMO_VOTABLE());
  console.log(`wrote a demo table to ${path}`);
}
const params = { url: fileUrl(path), name: values.name ?? path.split(/[\\/]/).pop()! };

await using client = await SampClient.connect({
  name: "send-votable",
  description: "sampkit example: sends a VOTable",
});

if (values.to === "all") {
  const { replies, missing } = await client.callAll("table.load.votable", params, {
    timeout: Number(values.timeout),
  });
  for (const [id, r] of replies) {
    console.log(`${client.clients.get(id)?.name ?? id}: ${r["samp.status"]}`);
  }
  if (replies.size === 0 && missing.length === 0) {
    console.error("no client that loads VOTables is registered with the hub");
    Deno.exit(1);
  }
  for (const id of missing) console.error(`${id}: no reply`);
} else {
  let target: TrackedClient;
  try {
    [target] = client.clients.resolve(values.to);
  } catch (e) {
    if (!(e instanceof ClientNameError)) throw e;
    console.error(e.message); // who is registered, or which tools the name could mean
    Deno.exit(1);
  }
  await client.request(target.id, "table.load.votable", params, {
    timeout: Number(values.timeout),
  });
  console.log(`${target.name} loaded ${params.url}`);
}

function DEMO_VOTABLE(): string {
  const rows = [
    ["M31", "10.6847", "41.2690", "3.44"],
    ["M33", "23.4621", "30.6602", "5.72"],
    ["M81", "148.8882", "69.0653", "6.94"],
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
 <RESOURCE><TABLE name="galaxies">
  <FIELD name="name" datatype="char" arraysize="*"/>
  <FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"/>
  <FIELD name="dec" datatype="double" unit="deg" ucd="pos.eq.dec;meta.main"/>
  <FIELD name="vmag" datatype="float" unit="mag"/>
  <DATA><TABLEDATA>
${rows.map((r) => `   <TR>${r.map((c) => `<TD>${c}</TD>`).join("")}</TR>`).join("\n")}
  </TABLEDATA></DATA>
 </TABLE></RESOURCE>
</VOTABLE>
`;
}

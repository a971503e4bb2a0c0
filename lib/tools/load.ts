// `samp load`: send a file or URL to the tools that can show it, choosing
// the MType from the content (as JSAMP's SampLoad does).

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { fileUrl } from "../client/mtypes.ts";
import type { SampResponse } from "../types.ts";
import { displayText } from "../_display.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  connect,
  errorLine,
  EXIT,
  label,
  progress,
  resolveTargets,
  UsageError,
} from "./_common.ts";

export const LOAD_HELP = `samp load: send a table or image to the tools that can show it

Usage: samp load FILE|URL [options]

  FILE|URL          a local file, or an http(s)/file URL; its content decides:
                      VOTable       -> table.load.votable
                      FITS table    -> table.load.fits
                      FITS image    -> image.load.fits
  --to CLIENT       recipient by public id (c3), samp.name, everyday name (ds9,
                    aladin, topcat) or a part of one tool's samp.name;
                    repeatable; default: every client that loads that kind
  --label NAME      the name shown for it (default: the file name)
  --timeout SECONDS how long to wait for each tool (default 60)
${COMMON_HELP}`;

/** What a file's first bytes say it is. */
export type Kind = "votable" | "fits-table" | "fits-image";

const MTYPE: Record<Kind, string> = {
  "votable": "table.load.votable",
  "fits-table": "table.load.fits",
  "fits-image": "image.load.fits",
};

/** Detects VOTable, FITS table or FITS image from the start of a file. */
export function detectKind(head: Uint8Array): Kind | undefined {
  const text = new TextDecoder("latin1").decode(head);
  if (/^SIMPLE {2}=\s+T/.test(text)) {
    const card = (i: number, name: string) => {
      const c = text.slice(i * 80, i * 80 + 80);
      return c.startsWith(name.padEnd(8)) ? c.slice(10).split("/")[0].trim() : undefined;
    };
    let naxis = 0;
    let primaryHasData = false;
    const dims: number[] = [];
    for (let i = 0; i < 36 * 100 && i * 80 < text.length; i++) {
      const key = text.slice(i * 80, i * 80 + 8).trim();
      if (key === "NAXIS") naxis = Number(card(i, "NAXIS"));
      const m = /^NAXIS(\d+)$/.exec(key);
      if (m) dims.push(Number(card(i, key)));
      if (key === "END") break;
    }
    primaryHasData = naxis > 0 && dims.length === naxis && dims.every((d) => d > 0);
    if (primaryHasData) return "fits-image";
    const ext = /XTENSION= *'([A-Z]+) *'/.exec(text);
    if (ext?.[1] === "BINTABLE" || ext?.[1] === "TABLE") return "fits-table";
    if (ext?.[1] === "IMAGE") return "fits-image";
    return "fits-table"; // an empty primary with extensions beyond the first block: usually a table
  }
  const start = text.replace(/^\uFEFF/, "").trimStart();
  if (start.startsWith("<") && /<VOTABLE[\s>]/i.test(text)) return "votable";
  return undefined;
}

async function readHead(target: string): Promise<Uint8Array> {
  if (/^https?:/i.test(target)) {
    const r = await fetch(target, { headers: { range: "bytes=0-28799" } });
    if (!r.ok) throw new UsageError(`cannot read ${target}: HTTP ${r.status}`);
    const reader = r.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    return value ?? new Uint8Array();
  }
  const path = /^file:/i.test(target) ? decodeURIComponent(new URL(target).pathname) : target;
  let file;
  try {
    file = await Deno.open(path);
  } catch (e) {
    // The full path: it shows which folder a relative name was read from.
    throw new UsageError(`cannot read ${resolve(path)}: ${(e as Error).message}`);
  }
  try {
    const buf = new Uint8Array(28800);
    const n = await file.read(buf);
    return buf.subarray(0, n ?? 0);
  } finally {
    file.close();
  }
}

/** Runs `samp load`; returns the exit code. */
export async function load(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...COMMON_FLAGS,
      to: { type: "string", multiple: true },
      label: { type: "string" },
      timeout: { type: "string", default: "60" },
    },
  });
  if (values.help) {
    console.log(LOAD_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw new UsageError("samp load takes one FILE or URL (see --help)");
  }
  const target = positionals[0];
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) {
    throw new UsageError(`--timeout must be a positive number, not "${values.timeout}"`);
  }
  const kind = detectKind(await readHead(target));
  if (!kind) {
    throw new UsageError(`${target} is neither a VOTable nor a FITS file: cannot choose an MType`);
  }
  const url = /^(https?|file):/i.test(target) ? target : fileUrl(resolve(target));
  const mtype = MTYPE[kind];
  const name = values.label ?? target.split(/[\\/]/).pop()!;
  await using client = await connect(values, {
    name: "samp-load",
    description: "samp load (sampkit command line)",
  });
  const recipients = values.to
    ? resolveTargets(client, values.to)
    : Object.keys(await client.connection.getSubscribedClients(mtype));
  if (recipients.length === 0) {
    console.error(
      `samp load: no client loads ${
        kind.replace("-", " ")
      }s (${mtype}): start TOPCAT, DS9 or Aladin`,
    );
    return EXIT.failed;
  }
  const done = progress(`sending ${name} to ${recipients.length} client(s)…`);
  let code: number = EXIT.ok;
  try {
    await Promise.all(recipients.map(async (id) => {
      try {
        const r: SampResponse = await client.call(id, mtype, { url, name }, { timeout });
        const ok = r["samp.status"] !== "samp.error";
        if (!ok) code = EXIT.failed;
        const err = r["samp.error"];
        const why = typeof err === "object" && !Array.isArray(err)
          ? err["samp.errortxt"]
          : undefined;
        console.log(
          `${label(client, id)}: ${
            ok
              ? `loaded ${name} (${mtype})`
              : `failed: ${typeof why === "string" ? displayText(why, 1000) : "no reason given"}`
          }`,
        );
      } catch (e) {
        code = /did not reply/.test((e as Error).message) ? EXIT.timeout : EXIT.failed;
        console.log(`${label(client, id)}: ${errorLine(e)}`);
      }
    }));
  } finally {
    done();
  }
  return code;
}

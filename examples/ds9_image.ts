/**
 * Loads a FITS image into SAOImage DS9 and centres it on a sky position.
 *
 *   deno run -A examples/ds9_image.ts IMAGE.fits RA DEC [--to NAME]
 *
 * RA and DEC are in degrees. `--to` picks the viewer by name (default "ds9",
 * which finds DS9's samp.name "SAOImageDS9"; `--to aladin` works too).
 *
 * @module
 */

import { resolve } from "node:path";
import { ClientNameError, fileUrl, SampClient, sampFloat, type TrackedClient } from "../client.ts";

// Parsed by hand: a southern Dec such as -29.0 is a position, not a flag.
const values = { to: "ds9", timeout: "60" };
const positionals: string[] = [];
for (let i = 0; i < Deno.args.length; i++) {
  const arg = Deno.args[i];
  const flag = /^--(to|timeout)(?:=(.*))?$/.exec(arg);
  if (flag) {
    values[flag[1] as "to" | "timeout"] = flag[2] ?? Deno.args[++i] ?? "";
  } else if (arg.startsWith("--")) {
    console.error(`unknown option ${arg}: usage: ds9_image.ts IMAGE.fits RA DEC [--to NAME]`);
    Deno.exit(2);
  } else {
    positionals.push(arg);
  }
}
if (positionals.length !== 3) {
  console.error("usage: ds9_image.ts IMAGE.fits RA DEC [--to NAME]   (RA, DEC in degrees)");
  Deno.exit(2);
}
const [file, raText, decText] = positionals;
const ra = Number(raText), dec = Number(decText);
if (!Number.isFinite(ra) || !Number.isFinite(dec) || Math.abs(dec) > 90) {
  console.error(`RA and DEC must be numbers of degrees (DEC within ±90), not ${raText} ${decText}`);
  Deno.exit(2);
}

await using client = await SampClient.connect({
  name: "ds9-image",
  description: "sampkit example: shows an image and points at a position",
});
let viewer: TrackedClient;
try {
  // "ds9" finds SAOImageDS9; an unknown or ambiguous name says who is there.
  [viewer] = client.clients.resolve(values.to);
} catch (e) {
  if (!(e instanceof ClientNameError)) throw e;
  console.error(e.message);
  Deno.exit(1);
}
const timeout = Number(values.timeout);
const url = fileUrl(resolve(file));
await client.request(viewer.id, "image.load.fits", { url, name: file }, { timeout });
console.log(`${viewer.name} loaded ${url}`);
await client.request(viewer.id, "coord.pointAt.sky", { ra: sampFloat(ra), dec: sampFloat(dec) }, {
  timeout,
});
console.log(`${viewer.name} is centred on RA ${ra}, Dec ${dec}`);

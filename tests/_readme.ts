// The README's TypeScript blocks, and a project of the user's own in which
// they run: a folder outside the checkout whose deno.json maps the package's
// names to this checkout, as `deno add jsr:@sampkit/samp` maps them to JSR.

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";
import { packageInfo } from "./_install.ts";

/** One TypeScript block of the README. */
export interface Block {
  line: number;
  code: string;
  run: boolean;
}

export async function readmeBlocks(): Promise<Block[]> {
  const lines = (await Deno.readTextFile(`${ROOT}README.md`)).split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i]);
    if (!m) continue;
    const end = lines.indexOf("```", i + 1);
    assert.ok(end > i, `README.md:${i + 1}: unclosed code block`);
    blocks.push({
      line: i + 1,
      code: lines.slice(i + 1, end).join("\n") + "\n",
      run: !(m[2] ?? "").split(/\s+/).includes("no-run"),
    });
    i = end;
  }
  return blocks;
}

/** A folder of the user's, with the import map `deno add jsr:@sampkit/samp` gives (to this checkout). */
export async function userProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "samp-readme-" });
  const { name, exports } = await packageInfo();
  const imports: Record<string, string> = {};
  for (const [key, file] of Object.entries(exports)) {
    imports[`${name}${key.slice(1)}`] = new URL(file, `file://${ROOT}`).href;
  }
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ imports }, null, 2));
  return dir;
}

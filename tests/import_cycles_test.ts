// The package's modules form no import cycle (type-only imports included):
// each module can be read, tested and moved knowing only what it imports.
// `deno info --json` gives the graph of every entry point; Tarjan's algorithm
// finds any strongly connected group of more than one module.

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

const ENTRIES = ["mod.ts", "hub.ts", "client.ts", "lib/tools/main.ts"];

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

async function importGraph(entry: string): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "info",
      "--json",
      "--quiet",
      `--config=${ROOT}deno.json`,
      `--lock=${ROOT}tests/deno.lock`,
      "--frozen",
      `${ROOT}${entry}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, `deno info ${entry}: ${new TextDecoder().decode(out.stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  const graph = new Map<string, string[]>();
  for (const m of info.modules) {
    const deps = new Set<string>();
    for (const d of m.dependencies ?? []) {
      if (d.code?.specifier) deps.add(d.code.specifier);
      if (d.type?.specifier) deps.add(d.type.specifier);
    }
    graph.set(m.specifier, [...deps]);
  }
  return graph;
}

/** The groups of two or more modules that import each other, directly or not. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w.replace(`file://${ROOT}`, ""));
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

Deno.test("cycles() finds a cycle through type imports and none in a tree", () => {
  const loop = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(cycles(loop), [["a", "b", "c"]]);
  assert.deepEqual(cycles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), []);
});

for (const entry of ENTRIES) {
  Deno.test(`no module reachable from ${entry} imports itself through others`, async () => {
    const graph = await importGraph(entry);
    assert.ok(graph.size > 1, `deno info found ${graph.size} modules for ${entry}`);
    assert.deepEqual(cycles(graph), [], `import cycles among the modules of ${entry}`);
  });
}

// What a script author matches by type is exported from the package's
// client door, beside the client itself.

import assert from "node:assert/strict";
import * as client from "../client.ts";

Deno.test("every error a client script may catch is exported from ./client", () => {
  for (
    const name of [
      "AmbiguousClientError",
      "ClientNameError",
      "HubNotFoundError",
      "LockfileError",
      "SampErrorResponse",
      "SampFault",
      "SampTimeoutError",
      "TransportError",
      "UnknownClientError",
    ]
  ) {
    const value = (client as Record<string, unknown>)[name];
    assert.equal(typeof value, "function", `${name} is exported`);
    assert.ok((value as { prototype: unknown }).prototype instanceof Error, `${name} is an Error`);
  }
});

Deno.test("a malformed lockfile rejects SampClient.connect with a LockfileError from ./client", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-api-" });
  try {
    await Deno.writeTextFile(`${dir}/bad.samp`, "# a lockfile with no hub in it\nnonsense\n");
    await assert.rejects(
      client.SampClient.connect({ lockfile: `${dir}/bad.samp`, name: "script" }),
      (e) => e instanceof client.LockfileError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The names a module exports, as `deno doc` (and so JSR) lists them. */
async function exportedNames(file: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", new URL(`../${file}`, import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  const names = new Set<string>();
  for (const module of Object.values(doc.nodes) as { symbols: { name: string }[] }[]) {
    for (const symbol of module.symbols) names.add(symbol.name);
  }
  return names;
}

Deno.test("the package roots stay narrow: at most 80 names from the root, no hub parts, the counts README states", async () => {
  const root = await exportedNames("mod.ts");
  const client = await exportedNames("client.ts");
  const hub = await exportedNames("hub.ts");
  assert.ok(root.size <= 80, `the root exports ${root.size} names`);
  assert.deepEqual([...root].sort(), [...client].sort(), "the root is the client door");
  for (
    const part of [
      "HubCore",
      "createStandardProfile",
      "createWebProfile",
      "createWebHandler",
      "createHubPage",
      "runHubCli",
      "parseHubArgs",
      "HUB_USAGE",
      "errorResponse",
      "createLogger",
      "isLoopbackHost",
      "encodeCall",
      "connectStandard",
      "webConnector",
      "connectWeb",
    ]
  ) {
    assert.ok(!root.has(part) && !hub.has(part), `${part} is not exported`);
  }
  for (const name of ["startHub", "Hub", "HubOptions", "ClientInfo", "HubActivity", "HubStats"]) {
    assert.ok(hub.has(name), `./hub exports ${name}`);
  }
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  assert.match(
    readme.replace(/\s+/g, " "),
    new RegExp(`exports ${hub.size} names; the package root, .*?, ${root.size}\\.`),
  );
});

Deno.test("a running hub is watched read-only: clients, one client, stats and every activity", async () => {
  const { startHub } = await import("../hub.ts");
  const dir = await Deno.makeTempDir({ prefix: "samp-api-" });
  try {
    await using hub = await startHub({ lockfile: `${dir}/hub.samp`, page: false });
    const seen: string[] = [];
    const stop = hub.watch((a) => seen.push(a.kind));
    await using c = await client.SampClient.connect({ lockfile: hub.lockfile, name: "watched" });
    assert.equal(hub.client(c.id)?.metadata["samp.name"], "watched");
    assert.deepEqual(hub.clients().map((x) => x.id), [hub.clients()[0].id, c.id]);
    assert.equal(hub.stats().clients, 2);
    assert.ok(seen.includes("register") && seen.includes("metadata"), seen.join());
    stop();
    const before = seen.length;
    await c.notifyAll("samp.app.ping", {});
    assert.equal(seen.length, before, "no activity after the watcher stopped");
    assert.ok(!("core" in hub), "the core is not reachable from the API");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

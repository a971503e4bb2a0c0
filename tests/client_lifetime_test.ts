// How long a client lives: `client.closed` settles when the script should
// stop (close(), the hub shutting down or disconnecting it, or the hub dying
// without a word), so a listening script can await it instead of exiting at
// once or spinning.

import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import { SampClient } from "../client.ts";
import { spawnHub } from "./_helpers.ts";

/** Settles with the promise's value, or with "pending" after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<"pending">((r) => timer = setTimeout(() => r("pending"), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("client.closed stays pending while connected and settles when close() is called", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-lifetime-" });
  const hub = await startHub({ lockfile: `${dir}/hub.samp`, page: false });
  try {
    const client = await SampClient.connect({ lockfile: `${dir}/hub.samp`, name: "listener" });
    assert.equal(await within(client.closed, 300), "pending");
    await client.close();
    assert.equal(await within(client.closed, 5000), "the client was closed");
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client.closed settles with the reason when the hub shuts down", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-lifetime-" });
  const hub = await startHub({ lockfile: `${dir}/hub.samp`, page: false });
  try {
    await using client = await SampClient.connect({
      lockfile: `${dir}/hub.samp`,
      name: "listener",
    });
    const closed = client.closed;
    await hub.close();
    assert.match(String(await within(closed, 20_000)), /hub shut down/);
    assert.equal(client.connected, false);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client.closed settles when the hub is killed without a word", async () => {
  const hub = await spawnHub();
  try {
    await using client = await SampClient.connect({ lockfile: hub.lockfile, name: "listener" });
    const closed = client.closed;
    assert.equal(await within(closed, 300), "pending");
    await hub.stop("SIGKILL");
    assert.match(String(await within(closed, 30_000)), /hub stopped answering/);
  } finally {
    await hub.stop();
    await Deno.remove(hub.dir, { recursive: true });
  }
});

Deno.test("with reconnect on, client.closed waits for the hub to come back instead of settling", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-lifetime-" });
  const lockfile = `${dir}/hub.samp`;
  const hub = await startHub({ lockfile, page: false });
  try {
    await using client = await SampClient.connect({
      lockfile,
      name: "listener",
      reconnect: { intervalMs: 100 },
    });
    const closed = client.closed;
    await hub.close();
    assert.equal(await within(closed, 1000), "pending");
    await client.close();
    assert.equal(await within(closed, 5000), "the client was closed");
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("for await over client.messages() ends when the hub shuts down", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-lifetime-" });
  const hub = await startHub({ lockfile: `${dir}/hub.samp`, page: false });
  try {
    await using client = await SampClient.connect({
      lockfile: `${dir}/hub.samp`,
      name: "listener",
    });
    const loop = (async () => {
      let n = 0;
      for await (const _ of client.messages("table.highlight.row")) n++;
      return n;
    })();
    await hub.close();
    assert.equal(await within(loop, 20_000), 0);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

// How long a client lives: `client.closed` settles when the script should
// stop (close(), the hub shutting down or disconnecting it, or the hub dying
// without a word), so a listening script can await it instead of exiting at
// once or spinning.

import assert from "node:assert/strict";
import { type Hub, startHub } from "../lib/hub/server.ts";
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

/** Runs `fn` with an in-process hub and its lockfile; closes the hub after. */
async function withHub(fn: (lockfile: string, hub: Hub) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-lifetime-" });
  const lockfile = `${dir}/hub.samp`;
  const hub = await startHub({ lockfile, page: false });
  try {
    await fn(lockfile, hub);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("client.closed stays pending while connected and settles when close() is called", () =>
  withHub(async (lockfile) => {
    const client = await SampClient.connect({ lockfile, name: "listener" });
    assert.equal(await within(client.closed, 300), "pending");
    await client.close();
    assert.equal(await within(client.closed, 5000), "the client was closed");
  }));

Deno.test("client.closed settles with the reason when the hub shuts down", () =>
  withHub(async (lockfile, hub) => {
    await using client = await SampClient.connect({
      lockfile,
      name: "listener",
    });
    const closed = client.closed;
    await hub.close();
    assert.match(String(await within(closed, 20_000)), /hub shut down/);
    assert.equal(client.connected, false);
  }));

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

Deno.test("with reconnect on, client.closed waits for the hub to come back instead of settling", () =>
  withHub(async (lockfile, hub) => {
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
  }));

Deno.test("for await over client.messages() ends when the hub shuts down", () =>
  withHub(async (lockfile, hub) => {
    await using client = await SampClient.connect({
      lockfile,
      name: "listener",
    });
    const loop = (async () => {
      let n = 0;
      for await (const _ of client.messages("table.highlight.row")) n++;
      return n;
    })();
    await hub.close();
    assert.equal(await within(loop, 20_000), 0);
  }));

// Hub faults seen from a client: `samp_hub` stopped (SIGTERM) or killed
// (SIGKILL) and started again on the same lockfile. A client with automatic
// reconnection must rejoin the new hub with its metadata and subscriptions
// declared again, so that others see it as before and can message it.
// (Takeover of the stale lockfile and the SIGTERM shutdown sequence are in
// tests/hub_cli_test.ts; reconnection to an in-process hub in
// tests/client_test.ts.)

import assert from "node:assert/strict";
import { SampClient } from "../client.ts";
import type { SampMap } from "../lib/types.ts";
import { type HubProcess, spawnHub, TestClient, waitFor } from "./_helpers.ts";

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  Deno.test(`after samp_hub is stopped with ${signal} and started again, a reconnecting client rejoins with its metadata and subscriptions`, async () => {
    const first = await spawnHub();
    const client = await SampClient.connect({
      lockfile: first.lockfile,
      name: "faithful",
      description: "rejoins after a restart",
      metadata: { "author.name": "Ada" },
      reconnect: { intervalMs: 100 },
    });
    const got: string[] = [];
    await client.on("test.again", (m) => {
      got.push(String(m.params.n));
      return { seen: String(m.params.n) };
    });
    await client.on("table.*", () => {});
    const before = await subscriptionsSeen(first, client.id);
    const states: boolean[] = [];
    client.onConnectionChange((c) => states.push(c.connected));
    let second: HubProcess | undefined;
    try {
      const code = await first.stop(signal);
      assert.equal(code === 0, signal === "SIGTERM", `exit code ${code} after ${signal}`);
      await waitFor(() => !client.connected, 5000, "the client to notice the hub has gone");
      second = await spawnHub([], { dir: first.dir, lockfile: first.lockfile });
      await waitFor(() => states.length === 2, 10_000, "the client to rejoin");
      assert.deepEqual(states, [false, true]);
      assert.ok(client.connected);

      const other = await TestClient.register(second.url, second.secret);
      const meta = await other.hub("getMetadata", client.id) as SampMap;
      assert.equal(meta["samp.name"], "faithful");
      assert.equal(meta["samp.description.text"], "rejoins after a restart");
      assert.equal(meta["author.name"], "Ada");
      assert.deepEqual(await subscriptionsSeen(second, client.id), before);
      assert.ok(before.includes("test.again") && before.includes("table.*"), before.join());
      const r = await other.hub("callAndWait", client.id, {
        "samp.mtype": "test.again",
        "samp.params": { n: "7" },
      }, "10") as SampMap;
      assert.equal(r["samp.status"], "samp.ok");
      assert.deepEqual(r["samp.result"], { seen: "7" });
      assert.deepEqual(got, ["7"]);
      await other.close();
    } finally {
      await client.close();
      await second?.stop();
      await first.stop();
      await Deno.remove(first.dir, { recursive: true });
    }
  });
}

/** The subscription patterns another client sees for `id`, sorted. */
async function subscriptionsSeen(hub: HubProcess, id: string): Promise<string[]> {
  const other = await TestClient.register(hub.url, hub.secret, false);
  try {
    return Object.keys(await other.hub("getSubscriptions", id) as SampMap).sort();
  } finally {
    await other.close();
  }
}

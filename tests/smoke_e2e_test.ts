import assert from "node:assert/strict";
import { spawnHub, TestClient, waitFor } from "./_helpers.ts";

Deno.test("a hub subprocess registers two clients and relays a notification", async () => {
  const hub = await spawnHub();
  try {
    const a = await TestClient.register(hub.url, hub.secret);
    const b = await TestClient.register(hub.url, hub.secret);
    await b.hub("declareSubscriptions", { "test.*": {} });
    await a.hub("notify", b.id, { "samp.mtype": "test.hello", "samp.params": { x: "1" } });
    await waitFor(() => b.got("receiveNotification", "test.hello").length === 1);
    await a.close();
    await b.close();
  } finally {
    assert.equal(await hub.stop(), 0);
    await Deno.remove(hub.dir, { recursive: true });
  }
});

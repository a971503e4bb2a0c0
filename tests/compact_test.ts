// The hub gives memory back once a burst is over: the compactor's rules with
// a fake clock and heap, and a real samp_hub (run with HUB_RUNTIME_FLAGS)
// compacting after a burst of notifications.

import assert from "node:assert/strict";
import { type GcFunction, startCompactor } from "../lib/hub/_compact.ts";
import { spawnHub, TestClient, waitFor } from "./_helpers.ts";

const MiB = 1024 * 1024;

function fakes(heap: number) {
  const calls: Parameters<GcFunction>[0][] = [];
  const state = { now: 0, last: 0, heap, calls };
  const gc: GcFunction = (o) => {
    calls.push(o);
    state.heap = 10 * MiB;
  };
  return { state, gc };
}

Deno.test("the compactor runs the thorough gc only when quiet and the heap has grown", async () => {
  const { state, gc } = fakes(10 * MiB);
  const c = startCompactor({
    lastActivity: () => state.last,
    now: () => state.now,
    heapBytes: () => state.heap,
    gc,
    checkMs: 5,
    quietMs: 2000,
    growthBytes: 8 * MiB,
  });
  try {
    const tick = () => new Promise((r) => setTimeout(r, 30));
    // Busy (activity 1 s ago) with a grown heap: no compaction.
    state.heap = 60 * MiB;
    state.now = 10_000;
    state.last = 9_000;
    await tick();
    assert.equal(c.count, 0);
    // Quiet for 2 s: compacted once, with V8's last-resort flavour.
    state.last = 8_000;
    await tick();
    assert.equal(c.count, 1);
    assert.deepEqual(state.calls[0], { type: "major", execution: "sync", flavor: "last-resort" });
    // Still quiet, heap unchanged since: nothing more to do.
    await tick();
    assert.equal(c.count, 1);
    // Quiet, but grown by less than the threshold: left alone.
    state.heap = 15 * MiB;
    await tick();
    assert.equal(c.count, 1);
  } finally {
    c.close();
  }
});

Deno.test("without gc exposed the compactor does nothing and starts no timer", () => {
  const c = startCompactor({ lastActivity: () => 0, gc: undefined as unknown as GcFunction });
  assert.equal(c.count, 0);
  c.close();
});

Deno.test("samp_hub compacts its heap once a burst of traffic is over", async () => {
  const hub = await spawnHub(["--log-level", "debug"]);
  const a = await TestClient.register(hub.url, hub.secret);
  const b = await TestClient.register(hub.url, hub.secret);
  await b.hub("declareSubscriptions", { "test.burst": {} });
  try {
    const big = "x".repeat(2000);
    for (let i = 0; i < 40; i++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          a.hub("notify", b.id, {
            "samp.mtype": "test.burst",
            "samp.params": { n: String(i * 100 + j), pad: big },
          })),
      );
    }
    const line = await waitFor(
      () => /V8 heap compacted from [\d.]+ MiB to [\d.]+ MiB/.exec(hub.output()),
      10_000,
      "the compaction log line",
    );
    const [, before, after] = /from ([\d.]+) MiB to ([\d.]+) MiB/.exec(line[0])!;
    assert.ok(Number(after) < Number(before), line[0]);
  } finally {
    await a.close();
    await b.close();
    await hub.stop();
  }
});

// The hub gives memory back once a burst is over: the compactor's rules with
// a fake clock and heap, and a real samp_hub (run with HUB_RUNTIME_FLAGS)
// compacting after a burst of notifications.

import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { type GcFunction, releaseFreedMemory, startCompactor } from "../lib/hub/_compact.ts";
import { spawnHub, TestClient, waitFor } from "./_helpers.ts";

const MiB = 1024 * 1024;

function fakes(heap: number) {
  const calls: Parameters<GcFunction>[0][] = [];
  const state = { now: 0, last: 0, heap, calls, releases: 0, aborted: 0, checks: 0 };
  const gc: GcFunction = (o) => {
    calls.push(o);
    state.heap = 10 * MiB;
  };
  const release = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      state.releases++;
      signal.addEventListener("abort", () => {
        state.aborted++;
        resolve();
      });
    });
  return { state, gc, release };
}

Deno.test("the compactor runs the thorough gc and the release only when quiet and the heap has grown", async () => {
  const { state, gc, release } = fakes(10 * MiB);
  const c = startCompactor({
    lastActivity: () => state.last,
    now: () => (state.checks++, state.now),
    heapBytes: () => state.heap,
    gc,
    release,
    checkMs: 5,
    quietMs: 2000,
    growthBytes: 8 * MiB,
  });
  try {
    // Waits until the compactor has checked twice more, however loaded the
    // machine: an assertion after it sees the state those checks left.
    const tick = async () => {
      const target = state.checks + 2;
      const deadline = Date.now() + 10_000;
      while (state.checks < target) {
        assert.ok(Date.now() < deadline, "the compactor stopped checking");
        await new Promise((r) => setTimeout(r, 5));
      }
    };
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
    assert.equal(state.releases, 1);
    // Still quiet, heap unchanged since: nothing more to do.
    await tick();
    assert.equal(c.count, 1);
    // Quiet, but grown by less than the threshold: left alone.
    state.heap = 15 * MiB;
    await tick();
    assert.equal(c.count, 1);
    // Grown again while the first release is still running: gc, but no second release.
    state.heap = 60 * MiB;
    await tick();
    assert.equal(c.count, 2);
    assert.equal(state.releases, 1);
  } finally {
    c.close();
  }
  // Closing ends the release in progress.
  assert.equal(state.aborted, 1);
});

Deno.test({
  name: "ending a worker gives the allocator's free pages between live blocks back to the system",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as GcFunction;
    const rss = () => Deno.memoryUsage().rss;
    // 100 MiB of small buffers (their memory comes from malloc), then all
    // but one in 64 dropped: the free pages lie between live blocks, where
    // glibc never returns them by itself.
    let buffers: Uint8Array[] = Array.from({ length: 50_000 }, () => new Uint8Array(2048).fill(1));
    buffers = buffers.filter((_, i) => i % 64 === 0);
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    await new Promise((r) => setTimeout(r, 100));
    const before = rss();
    await releaseFreedMemory();
    await waitFor(() => rss() < before - 40 * MiB, 3000, "RSS to fall by 40 MiB");
    assert.equal(buffers.length, 782); // still alive, untouched
    assert.ok(buffers.every((b) => b[2047] === 1));
  },
});

Deno.test("an aborted release ends its worker at once", async () => {
  const stop = new AbortController();
  const releasing = releaseFreedMemory(stop.signal);
  stop.abort();
  await releasing;
  await releaseFreedMemory(stop.signal); // already aborted: nothing started
});

Deno.test("without gc exposed the compactor does nothing and starts no timer", () => {
  const c = startCompactor({
    lastActivity: () => 0,
    gc: undefined as unknown as GcFunction,
    release: () => Promise.reject(new Error("must not be called")),
  });
  assert.equal(c.count, 0);
  c.close();
});

Deno.test("a hub embedded with startHub does not compact unless asked (compact: true); samp_hub asks", async () => {
  // With gc available and the heap grown, a disabled compactor never calls it.
  const { state, gc, release } = fakes(60 * MiB);
  const c = startCompactor({
    enabled: false,
    lastActivity: () => 0,
    now: () => (state.checks++, 10_000),
    heapBytes: () => state.heap,
    gc,
    release,
    checkMs: 1,
  });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(state.checks, 0, "a disabled compactor checks nothing (no timer)");
  assert.equal(c.count, 0);
  c.close();
  // startHub's default, and the samp_hub program's choice.
  const server = await Deno.readTextFile(new URL("../lib/hub/server.ts", import.meta.url));
  assert.match(server, /enabled: options\.compact === true/);
  const cli = await Deno.readTextFile(new URL("../lib/hub/cli.ts", import.meta.url));
  assert.match(cli, /compact: true,/);
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

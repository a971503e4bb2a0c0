// The delivery scheduler under load: at most 64 callbacks started in the
// last 100 ms are in flight at once; the others wait and start, once each
// and in order, as those finish. Callbacks that take longer (a client that
// hangs) stop counting, so they never hold up deliveries to anyone else.

import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { type Recipient, Scheduler } from "../lib/hub/_scheduler.ts";
import type { Delivery } from "../lib/hub/core_types.ts";

function recipient(id: string, delivery: Delivery): Recipient {
  return {
    id,
    registered: true,
    callable: true,
    events: [],
    eventsBusy: new Set(),
    active: 0,
    backlog: [],
    delivery,
  };
}

/** A delivery whose notifications finish only when the test says so. */
function heldDelivery(): { delivery: Delivery; started: string[]; finish: (() => void)[] } {
  const started: string[] = [];
  const finish: (() => void)[] = [];
  const delivery: Delivery = {
    notification: (_sender, message) => {
      started.push(message["samp.mtype"]);
      return new Promise<void>((resolve) => finish.push(resolve));
    },
    call: () => Promise.resolve(),
    response: () => Promise.resolve(),
  };
  return { delivery, started, finish };
}

function schedulerFor(clients: Recipient[]): Scheduler<Recipient> {
  return new Scheduler({
    hubId: "hub",
    maxCallbacksPerClient: 8,
    maxQueuedCallbacks: 100,
    eventQueueLimit: 100,
    clients: () => clients,
    eventFailed: () => {},
  });
}

function broadcast(scheduler: Scheduler<Recipient>, clients: Recipient[], tag: string): void {
  for (const [i, c] of clients.entries()) {
    scheduler.deliver(
      c,
      (d) => d.notification("s", { "samp.mtype": `${tag}.${i}`, "samp.params": {} }),
      (e) => assert.fail(String(e)),
    );
  }
}

Deno.test("a broadcast to 2,000 clients keeps 64 callbacks in flight: the rest start as those finish, all once, in order", async () => {
  const { delivery, started, finish } = heldDelivery();
  const clients = Array.from({ length: 2000 }, (_, i) => recipient(`c${i}`, delivery));
  const scheduler = schedulerFor(clients);
  try {
    broadcast(scheduler, clients, "m");
    assert.equal(started.length, 64, "the window's worth starts at once");
    assert.equal(scheduler.inFlight, 64);
    // Each one that finishes lets one more start, in order.
    let finished = 0;
    while (finished < finish.length && finished < 5000) {
      finish[finished++]();
      await Promise.resolve();
      await Promise.resolve();
      assert.ok(scheduler.inFlight <= 64, `${scheduler.inFlight} in flight`);
    }
    await scheduler.waitIdle(5000);
    assert.equal(started.length, 2000, "every callback started");
    assert.deepEqual(started, clients.map((_, i) => `m.${i}`), "in order, each once");
    assert.equal(scheduler.inFlight, 0);
  } finally {
    scheduler.close();
  }
});

Deno.test("callbacks to clients that hang stop counting after 100 ms: deliveries to the others go on at full pace", async () => {
  const hung = heldDelivery(); // never answers until the end of the test
  const hungClients = Array.from({ length: 16 }, (_, i) => recipient(`h${i}`, hung.delivery));
  const quick: string[] = [];
  const quickDelivery: Delivery = {
    notification: (_sender, message) => {
      quick.push(message["samp.mtype"]);
      return new Promise<void>((resolve) => setTimeout(resolve, 1));
    },
    call: () => Promise.resolve(),
    response: () => Promise.resolve(),
  };
  const quickClients = Array.from({ length: 100 }, (_, i) => recipient(`q${i}`, quickDelivery));
  const scheduler = schedulerFor([...hungClients, ...quickClients]);
  try {
    // Sixteen hung clients take eight callbacks each: 128, twice the window.
    for (let round = 0; round < 8; round++) broadcast(scheduler, hungClients, `h${round}`);
    assert.equal(hung.started.length, 64);
    // Once they are 100 ms old they no longer count: the rest of theirs
    // start, and so does a broadcast to the others, without waiting for them.
    const aged = performance.now() + 2000;
    while (hung.started.length < 128 && performance.now() < aged) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(hung.started.length, 128);
    const t0 = performance.now();
    for (let round = 0; round < 20; round++) broadcast(scheduler, quickClients, `q${round}`);
    const deadline = t0 + 5000;
    while (quick.length < 2000 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(quick.length, 2000, "every delivery to the quick clients started");
    // 2,000 one-millisecond callbacks, 64 at a time: well under the 100 ms
    // per window's worth they would take if the hung ones still counted.
    const ms = performance.now() - t0;
    assert.ok(ms < (2000 / 64) * 100, `took ${ms.toFixed(0)} ms`);
  } finally {
    for (const f of hung.finish) f();
    await scheduler.waitIdle(5000);
    scheduler.close();
  }
});

Deno.test("the scheduler keeps nothing of callbacks once they are done: 200,000 of them leave the heap as it was", async () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const delivery: Delivery = {
    notification: () => Promise.resolve(),
    call: () => Promise.resolve(),
    response: () => Promise.resolve(),
  };
  const client = recipient("c1", delivery);
  const scheduler = schedulerFor([client]);
  const heap = () => {
    gc();
    return Deno.memoryUsage().heapUsed;
  };
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      scheduler.deliver(
        client,
        (d) => d.notification("s", { "samp.mtype": "m", "samp.params": {} }),
        (e) => assert.fail(String(e)),
      );
      if (i % 8 === 7) await scheduler.waitIdle(5000);
    }
    await scheduler.waitIdle(5000);
  };
  try {
    await run(10_000); // warm up
    const before = heap();
    await run(200_000);
    const grown = heap() - before;
    assert.ok(grown < 1024 * 1024, `the heap grew by ${(grown / 1024).toFixed(0)} KiB`);
  } finally {
    scheduler.close();
  }
});

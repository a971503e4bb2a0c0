// The delivery scheduler under load: past 1,024 callbacks in flight it
// starts them a chunk per turn of the event loop, so others get a turn, and
// still starts every one, once, in order.

import assert from "node:assert/strict";
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

Deno.test("past 1,024 callbacks in flight, more start a chunk per turn: all once, in order, with turns between", async () => {
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
  // 2,000 recipients, one callback each: as a broadcast to 2,000 clients.
  const clients = Array.from({ length: 2000 }, (_, i) => recipient(`c${i}`, delivery));
  const scheduler = new Scheduler({
    hubId: "hub",
    maxCallbacksPerClient: 8,
    maxQueuedCallbacks: 100,
    eventQueueLimit: 100,
    clients: () => clients,
    eventFailed: () => {},
  });
  try {
    for (const [i, c] of clients.entries()) {
      scheduler.deliver(
        c,
        (d) => d.notification("s", { "samp.mtype": `m.${i}`, "samp.params": {} }),
        (e) => assert.fail(String(e)),
      );
    }
    // The first 1,024 go at once, then one chunk; the rest wait for later turns.
    const atOnce = started.length;
    assert.ok(atOnce >= 1024 && atOnce < 2000, `${atOnce} started at once`);
    let turns = 0;
    while (started.length < 2000 && turns < 1000) {
      await new Promise((r) => setTimeout(r, 0));
      turns++;
    }
    assert.equal(started.length, 2000, "every callback started");
    assert.ok(turns > 1, `the rest came over ${turns} turns`);
    assert.deepEqual(started, clients.map((_, i) => `m.${i}`), "in order, each once");
    for (const f of finish) f();
    await scheduler.waitIdle(5000);
    assert.equal(scheduler.inFlight, 0);
  } finally {
    scheduler.close();
  }
});

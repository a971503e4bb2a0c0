/**
 * Micro-benchmarks for the hub core's routing (lib/hub/core.ts): 200
 * in-memory clients whose Delivery objects resolve at once, with a mix of
 * exact, prefix (`a.b.*`) and `*` subscriptions, 50 of them matching
 * `table.load.votable`.
 *
 * Run with `deno bench tests/core_bench.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Delivery, HubCore } from "../lib/hub/core.ts";
import type { SampMap } from "../lib/types.ts";

const CLIENTS = 200;
const MTYPE = "table.load.votable";

/** Patterns every client has, none matching MTYPE. */
const COMMON = [
  "samp.app.ping",
  "samp.hub.event.shutdown",
  "image.load.fits",
  "spectrum.load.ssa-generic",
  "coord.pointAt.sky",
  "table.highlight.row",
  "table.select.rowList",
  "voresource.loadlist.*",
  "table.load.fits",
];

/** Client i's subscriptions: every 4th client matches MTYPE, exactly, by a prefix or by `*`. */
function subscriptionsOf(i: number, generation = 0): SampMap {
  const subs: SampMap = {};
  for (const p of COMMON) subs[p] = {};
  subs[`x-app${i}.private.*`] = {};
  subs[`x-app${i}.gen${generation}`] = {};
  if (i % 4 === 0) {
    const kind = (i / 4) % 4;
    const match = kind === 0 ? MTYPE : kind === 1 ? "table.load.*" : kind === 2 ? "table.*" : "*";
    subs[match] = { "x-samp.mostly-harmless": "1" };
  }
  return subs;
}

let deliveries = 0;
const delivery: Delivery = {
  notification: () => {
    deliveries++;
    return Promise.resolve();
  },
  call: () => Promise.resolve(),
  response: () => Promise.resolve(),
};

const core = new HubCore();
const keys: string[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const reg = core.register("standard");
  const key = reg["samp.private-key"];
  core.setDelivery(key, delivery);
  core.declareSubscriptions(key, subscriptionsOf(i));
  keys.push(key);
}
const sender = core.register("standard")["samp.private-key"];
const message = { "samp.mtype": MTYPE, "samp.params": { url: "file:///tmp/t.vot" } };

// The set-up is what it claims to be.
assert.equal(Object.keys(core.getSubscribedClients(sender, MTYPE)).length, CLIENTS / 4);
assert.equal(core.notifyAll(sender, message).length, CLIENTS / 4);

let fresh = 0;
let generation = 0;

Deno.bench("getSubscribedClients, cached MType", { group: "match", baseline: true }, () => {
  core.getSubscribedClients(sender, MTYPE);
});

Deno.bench("getSubscribedClients, new MType (cache miss)", { group: "match" }, () => {
  // table.load.votable.vN matches the clients of table.load.*, table.* and *, not the exact ones.
  core.getSubscribedClients(sender, `${MTYPE}.v${fresh++}`);
});

Deno.bench("notifyAll to 50 of 200 clients", { group: "route" }, async (b) => {
  b.start();
  core.notifyAll(sender, message);
  b.end();
  // Deliveries settle (microtasks) before the next iteration, outside the timing.
  await Promise.resolve();
});

Deno.bench(
  "declareSubscriptions, then getSubscribedClients (cache rebuilt)",
  { group: "invalidate" },
  async (b) => {
    const i = generation % CLIENTS;
    const subs = subscriptionsOf(i, ++generation);
    b.start();
    core.declareSubscriptions(keys[i], subs);
    core.getSubscribedClients(sender, MTYPE);
    b.end();
    // The samp.hub.event.subscriptions deliveries settle outside the timing.
    await Promise.resolve();
  },
);

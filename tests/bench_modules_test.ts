// The bench's pure parts (scripts/bench/): its command lines, its order
// statistics, its fast callback scanner (which must read what the full
// XML-RPC decoder reads), its delivery accounting and its table. The whole
// program against a real hub is tests/bench_smoke_test.ts.

import assert from "node:assert/strict";
import { parseBenchArgs, UsageError } from "../scripts/bench/args.ts";
import { parsePeersArgs } from "../scripts/bench/peers/args.ts";
import { medianCalc } from "../scripts/bench/peers/calcstorm.ts";
import { type Callback, parseCallback } from "../scripts/bench/callback.ts";
import { percentile, quantileIndex } from "../scripts/bench/stats.ts";
import { Tracker } from "../scripts/bench/tracker.ts";
import { type BenchReport, formatReport } from "../scripts/bench/report.ts";
import { sizesFor } from "../scripts/bench/plan.ts";
import { encodeCall } from "../lib/xmlrpc.ts";

Deno.test("bench flags: defaults, --flag=value, --help and bad flags as UsageError", () => {
  assert.equal(parseBenchArgs([]).duration, 5);
  const o = parseBenchArgs([
    "--quick",
    "--rounds=2.7",
    "--only",
    "notify, storm",
    "--hub-pid",
    "9",
  ]);
  assert.deepEqual(
    [o.quick, o.duration, o.rounds, o.only, o.hubPid],
    [true, 0.4, 2, ["notify", "storm"], 9],
  );
  for (const bad of [["--only", "nope"], ["--duration"], ["--duration", "0"], ["--what"]]) {
    assert.throws(
      () => parseBenchArgs(bad),
      (e: unknown) => e instanceof UsageError && e.message !== "",
      bad.join(" "),
    );
  }
  assert.throws(
    () => parseBenchArgs(["-h"]),
    (e: unknown) => e instanceof UsageError && !e.message,
  );
});

Deno.test("bench:peers flags: defaults, and bad flags as UsageError naming the flag", () => {
  const o = parsePeersArgs([]);
  assert.deepEqual([o.duration, o.rounds, o.calcstorm, o.quick], [3, 5, true, false]);
  assert.deepEqual(o.only, ["ceiling", "ours", "jsamp", "astropy"]);
  assert.equal(parsePeersArgs(["--quick"]).duration, 0.4);
  assert.deepEqual(parsePeersArgs(["--only", "jsamp,ours"]).only, ["jsamp", "ours"]);
  for (const [args, flag] of [[["--rounds", "0"], "--rounds"], [["--only", "x"], "--only"]]) {
    assert.throws(
      () => parsePeersArgs(args as string[]),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(flag as string),
    );
  }
});

Deno.test("percentile is the nearest rank, and its median is calcstorm's lower median", () => {
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual([percentile(xs, 0.5), percentile(xs, 0.99), percentile(xs, 1)], [50, 99, 100]);
  for (let n = 1; n <= 50; n++) assert.equal(quantileIndex(n, 0.5), Math.floor((n - 1) / 2));
  const runs = [5, 1, 4, 2].map((us) => ({ usPerMessage: us, elapsedMs: us, hubCpuS: 1 }));
  assert.deepEqual(
    [medianCalc(runs).usPerMessage, medianCalc(runs).hubCpuS],
    [2, 4],
    "the lower median, the CPU summed",
  );
});

Deno.test("the callback scanner reads ids, seq, id, MType and status; what it cannot read goes to the full decoder and is counted", () => {
  const bodies = [
    encodeCall("samp.client.receiveNotification", ["k", "c1", {
      "samp.mtype": "bench.x",
      "samp.params": { seq: "7", id: "a<&>b" },
    }]),
    encodeCall("samp.client.receiveCall", ["k", "c2", "m1", {
      "samp.mtype": "bench.y",
      "samp.params": { seq: "8" },
    }]),
    encodeCall("samp.client.receiveResponse", ["k", "c3", "t9", {
      "samp.status": "samp.ok",
      "samp.result": { seq: "9" },
    }]),
  ];
  const counts = { slowParses: 0 };
  const fast = bodies.map((b) => parseCallback(b, counts));
  assert.equal(counts.slowParses, 0);
  // Without samp.mtype where the scanner looks, the full decoder takes over.
  const pick = (cb: Callback) => [cb.method, cb.args, cb.seq, cb.mtype ?? null, cb.ok ?? null];
  assert.deepEqual(pick(fast[0]), [
    "samp.client.receiveNotification",
    ["k", "c1"],
    "7",
    "bench.x",
    null,
  ]);
  assert.equal(fast[0].id, "a<&>b");
  assert.deepEqual(pick(fast[1]), [
    "samp.client.receiveCall",
    ["k", "c2", "m1"],
    "8",
    "bench.y",
    null,
  ]);
  assert.deepEqual(pick(fast[2]), [
    "samp.client.receiveResponse",
    ["k", "c3", "t9"],
    "9",
    null,
    true,
  ]);
  // JSAMP's bare strings (no <string> element) are read by the scanner too.
  const bare = bodies[0].replaceAll(/<string>([^<]*)<\/string>/g, "$1");
  assert.equal(parseCallback(bare, counts).seq, "7");
  assert.equal(counts.slowParses, 0);
  const odd = encodeCall("samp.client.receiveNotification", ["k", "c1", { "samp.params": {} }]);
  const slow = parseCallback(odd, counts);
  assert.deepEqual(pick(slow), [
    "samp.client.receiveNotification",
    ["k", "c1"],
    undefined,
    null,
    null,
  ]);
  assert.equal(counts.slowParses, 1, "a message without samp.mtype went to the full decoder");
});

Deno.test("the tracker counts each delivery once: duplicates, strays and cancelled sends", async () => {
  const tracker = new Tracker(60000);
  try {
    const a = tracker.open(2, true);
    tracker.receipt(String(a.seq), 0);
    tracker.receipt(String(a.seq), 0); // the same recipient again
    tracker.receipt(String(a.seq), 1);
    assert.equal(await a.wait, true);
    const b = tracker.open(1);
    tracker.cancel(b.seq);
    assert.equal(await b.wait, false);
    tracker.receipt(String(b.seq)); // for a cancelled send
    tracker.receipt("999"); // for nothing sent
    tracker.open(1); // never delivered
    assert.deepEqual(
      [tracker.expected, tracker.received, tracker.lost, tracker.duplicates, tracker.unexpected],
      [3, 2, 1, 1, 2],
    );
  } finally {
    tracker.close();
  }
});

Deno.test("the bench's table names the target, each scenario's figures, RSS and the verdict", () => {
  const scenario = {
    name: "callAndWait" as const,
    label: "callAndWait (1 caller, 1 in flight)",
    rate: 4045.2,
    unit: "calls/s",
    seconds: 0.3,
    sent: 1,
    expected: 1,
    received: 1,
    lost: 0,
    duplicates: 0,
    errors: 0,
    errorSamples: [],
    p50Ms: 0.2,
    p99Ms: 1.234,
    cpu: { hubPct: 69.4, benchPct: 48 },
    rssPeakKiB: 94822,
  };
  const report: BenchReport = {
    target: { kind: "hub", url: "http://127.0.0.1:1/xmlrpc", name: "Hub", pid: 42 },
    settings: { quick: true, durationS: 0.3, rounds: 1, sizes: sizesFor(true) },
    scenarios: [scenario],
    rounds: [[scenario]],
    rss: { idleKiB: 55706, loadKiB: 94822, afterKiB: 94822, afterRoundsKiB: [94822] },
    slowParses: 0,
    lost: 0,
    errors: 0,
    ok: true,
  };
  const lines = formatReport(report).split("\n");
  assert.equal(
    lines[0],
    "SAMP bench: Hub at http://127.0.0.1:1/xmlrpc (pid 42); 0.3 s per scenario",
  );
  assert.match(lines[2], /^scenario +result +lost +errors +hub CPU +bench CPU +hub RSS peak$/);
  assert.match(
    lines[4],
    /^callAndWait \(1 caller, 1 in flight\) +4,045 calls\/s, p50 0\.20 ms, p99 1\.23 ms +0 +0 +69% +48% +92\.6 MiB$/,
  );
  assert.equal(lines[6], "hub RSS: idle 54.4 MiB, under load (peak) 92.6 MiB, after 92.6 MiB");
  assert.equal(lines.at(-1), "every message arrived: 0 lost");
  const failed = formatReport({ ...report, ok: false, lost: 2, errors: 1 });
  assert.match(failed, /FAILED: 2 lost, 1 errors over 1 round\(s\)$/);
});

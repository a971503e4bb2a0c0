// The bench's pure parts (scripts/bench/): its command lines, its order
// statistics, its fast callback scanner (which must read what the full
// XML-RPC decoder reads), its delivery accounting, the checks of its big
// payloads (which must catch every lost, repeated, misplaced or altered
// item), its bystander's windows and its table. The whole
// program against a real hub is tests/bench_smoke_test.ts.

import assert from "node:assert/strict";
import { parseBenchArgs, UsageError } from "../scripts/bench/args.ts";
import { parsePeersArgs } from "../scripts/bench/peers/args.ts";
import { medianCalc } from "../scripts/bench/peers/calcstorm.ts";
import { type Callback, parseCallback } from "../scripts/bench/callback.ts";
import { percentile, quantileIndex } from "../scripts/bench/stats.ts";
import { Tracker } from "../scripts/bench/tracker.ts";
import { type BenchReport, formatReport } from "../scripts/bench/report.ts";
import { BIG_SCENARIO_NAMES, selectScenarios, sizesFor } from "../scripts/bench/plan.ts";
import {
  checkMetadata,
  checkRowList,
  metadataText,
  rowIndices,
  rowListMessage,
} from "../scripts/bench/big_payloads.ts";
import { bystanderStats } from "../scripts/bench/bystander.ts";
import { encodeCall, encodeResponse } from "../lib/xmlrpc.ts";

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
  // A big scenario adds its transfer to the result and a bystander column.
  const big = {
    ...scenario,
    name: "rowListNotify" as const,
    label: "table.select.rowList of 1,000 rows by notify",
    rate: 50000,
    unit: "rows/s",
    p50Ms: undefined,
    p99Ms: undefined,
    transfer: {
      measure: "send→received",
      items: 1000,
      itemUnit: "rows",
      bytes: 38000,
      runsMs: [20, 21, 19],
      medianMs: 20,
      lostItems: 0,
      corruptedItems: 0,
    },
    bystander: { calls: 9, p50Ms: 0.5, p99Ms: 12.34, maxMs: 15, failed: 0, intervalMs: 10 },
  };
  const bigLines = formatReport({ ...report, scenarios: [scenario, big] }).split("\n");
  assert.match(bigLines[2], /hub RSS peak +bystander p50 \/ p99 \/ max$/);
  assert.match(bigLines[4], / +- *$/, "no bystander: a dash");
  assert.match(
    bigLines[5],
    /50,000 rows\/s; send→received 20 ms \(median of 3\), 0 lost \/ 0 corrupted rows .* 0\.5 \/ 12\.3 \/ 15\.0 ms$/,
  );
});

Deno.test("bench flags of the big scenarios: --big, --only big, the sizes; quick sizes are small", () => {
  const o = parseBenchArgs(["--big", "--rows", "10", "--metadata-mb=0.5", "--clients", "7"]);
  assert.equal(o.big, true);
  assert.deepEqual(o.bigSizes, { rows: 10, metadataBytes: 500000, clients: 7 });
  const z = sizesFor(false, o.bigSizes).big;
  assert.deepEqual([z.rows, z.metadataBytes, z.fetchers, z.clients, z.repeats], [
    10,
    500000,
    20,
    7,
    3,
  ]);
  assert.deepEqual(
    [sizesFor(false).big.rows, sizesFor(false).big.metadataBytes, sizesFor(false).big.clients],
    [1_000_000, 5_000_000, 500],
    "the full sizes are issue 15's",
  );
  assert.ok(sizesFor(true).big.rows < 100_000 && sizesFor(true).big.clients < 100);
  assert.deepEqual(parseBenchArgs(["--only", "big"]).only, [...BIG_SCENARIO_NAMES]);
  assert.deepEqual(parseBenchArgs(["--only", "storm,standard"]).only?.length, 6);
  assert.equal(selectScenarios(false).length, 6, "the default run has no big scenario");
  assert.deepEqual(selectScenarios(true).slice(6), [...BIG_SCENARIO_NAMES]);
  for (const bad of [["--rows", "0"], ["--fetchers", "x"], ["--metadata-mb"]]) {
    assert.throws(() => parseBenchArgs(bad), (e: unknown) => e instanceof UsageError, bad[0]);
  }
  const p = parsePeersArgs(["--no-big", "--rows", "5"]);
  assert.deepEqual([p.big, p.bigArgs], [false, ["--rows", "5"]]);
  assert.equal(parsePeersArgs([]).big, true);
  assert.throws(() => parsePeersArgs(["--clients", "0"]), (e: unknown) => e instanceof UsageError);
});

Deno.test("the row-list check counts every lost, repeated, misplaced and altered row", () => {
  const n = 6;
  const body = (rows: string[]) =>
    encodeCall("samp.client.receiveNotification", ["k", "c1", rowListMessage(rows, 1, "t")]);
  const check = (rows: string[]) => {
    const { received, lost, corrupted } = checkRowList(body(rows), n);
    return [received, lost, corrupted];
  };
  assert.deepEqual(check(rowIndices(n)), [6, 0, 0]);
  assert.deepEqual(check(["0", "1", "2", "4", "5"]), [5, 1, 0], "one lost");
  assert.deepEqual(check(["0", "1", "2", "2", "3", "4", "5"]), [7, 0, 1], "one twice");
  assert.deepEqual(check(["0", "2", "1", "3", "4", "5"]), [6, 0, 1], "one out of order");
  assert.deepEqual(check(["0", "1", "x2", "3", "4", "5"]), [6, 1, 1], "one altered");
  assert.deepEqual(check(["0", "1", "2", "3", "4", "5", "6"]), [7, 0, 1], "one too many");
  assert.deepEqual(check(["0", "01", "2", "3", "4", "5"]), [6, 1, 1], "not canonical");
  // JSAMP's shape: bare <value>s, line breaks between elements; read by the scanner too.
  const bare = body(rowIndices(n)).replaceAll(/<string>([^<]*)<\/string>/g, "$1")
    .replaceAll("><", ">\n<");
  assert.deepEqual(checkRowList(bare, n), { received: 6, lost: 0, corrupted: 0 });
  const gone = checkRowList("<methodCall>cut", n);
  assert.deepEqual([gone.received, gone.lost], [0, 6]);
  assert.ok(gone.unreadable);
});

Deno.test("the metadata check compares every line, escapes included", () => {
  const text = metadataText(1000);
  assert.equal(text.length, 1000);
  assert.ok(text.includes('<row & "column">'), "the text has characters XML must escape");
  const lines = text.split("\n").length;
  const body = (t: string) => encodeResponse({ "samp.name": "x", "samp.description.text": t });
  assert.deepEqual(checkMetadata(body(text), text), { received: lines, lost: 0, corrupted: 0 });
  const altered = text.replace("&", "&amp;");
  assert.deepEqual(checkMetadata(body(altered), text), { received: lines, lost: 0, corrupted: 1 });
  const cut = text.slice(0, text.lastIndexOf("\n"));
  assert.deepEqual(checkMetadata(body(cut), text), { received: lines - 1, lost: 1, corrupted: 0 });
  const short = text.slice(0, -5);
  assert.deepEqual(checkMetadata(body(short), text), { received: lines, lost: 0, corrupted: 1 });
  const none = checkMetadata(encodeResponse({ "samp.name": "x" }), text);
  assert.deepEqual([none.lost, none.corrupted], [lines, 0]);
});

Deno.test("the bystander's figures count the calls that overlap a window, whole", () => {
  const samples = {
    starts: Float64Array.of(0, 10, 20, 30, 400),
    rtts: Float64Array.of(1, 300, 2, 1, 1),
    oks: Uint8Array.of(1, 1, 0, 1, 1),
    failures: ["boom"],
  };
  // Window [100, 200]: only the call held from 10 to 310 overlaps it.
  const one = bystanderStats(samples, [[100, 200]], 10);
  assert.deepEqual([one.calls, one.p50Ms, one.maxMs, one.failed], [1, 300, 300, 0]);
  const two = bystanderStats(samples, [[15, 25], [399, 401]], 10);
  assert.deepEqual([two.calls, two.p50Ms, two.maxMs, two.failed], [3, 2, 300, 1]);
  assert.ok(Number.isNaN(bystanderStats(samples, [[1000, 2000]], 10).p99Ms));
});

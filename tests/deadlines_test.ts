// Many timeouts on one timer: due ones fire (a little late at most),
// cancelled ones never do, and the timer stops when nothing waits.

import assert from "node:assert/strict";
import { createDeadlines } from "../lib/transport/_deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("deadlines fire when due, at most one tick late, and cancelled ones never", async () => {
  const d = createDeadlines(10);
  const fired: string[] = [];
  const t0 = performance.now();
  let lateBy = 0;
  d.add(30, () => {
    fired.push("a");
    lateBy = performance.now() - t0 - 30;
  });
  const cancelB = d.add(30, () => fired.push("b"));
  d.add(200, () => fired.push("c"));
  cancelB();
  assert.equal(d.size, 2);
  await sleep(80);
  assert.deepEqual(fired, ["a"]);
  assert.ok(lateBy >= 0 && lateBy < 40, `fired ${lateBy} ms late`);
  await sleep(200);
  assert.deepEqual(fired, ["a", "c"]);
  // Nothing waits: the interval is gone (the test's timer sanitizer checks it).
  assert.equal(d.size, 0);
});

Deno.test("cancelling the last deadline stops the timer at once", () => {
  const d = createDeadlines();
  const cancel = d.add(60_000, () => assert.fail("must not fire"));
  cancel();
  cancel(); // twice is harmless
  assert.equal(d.size, 0);
});

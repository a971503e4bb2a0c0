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
  assert.equal(d.size, 0);
});

Deno.test("a cancelled deadline never fires, and cancelling twice is harmless", async () => {
  const d = createDeadlines(5);
  const cancel = d.add(10, () => assert.fail("must not fire"));
  cancel();
  cancel();
  assert.equal(d.size, 0);
  await sleep(40);
});

Deno.test("the shared timer does not keep a process alive", async () => {
  // A child that only waits on a one-minute deadline exits at once.
  const code = `import { createDeadlines } from ${
    JSON.stringify(
      new URL("../lib/transport/_deadlines.ts", import.meta.url).href,
    )
  }; createDeadlines().add(60_000, () => {}); console.log("done");`;
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "done");
  assert.ok(performance.now() - t0 < 20_000);
});

// Many timeouts on one timer: due ones fire (a little late at most),
// cancelled ones never do, and the timer stops when nothing waits.

import assert from "node:assert/strict";
import { createDeadlines } from "../lib/transport/_deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(ok: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !ok();) {
    assert.ok(Date.now() < deadline, "timers never fired");
    await sleep(5);
  }
}

Deno.test("deadlines fire when due, at most one tick late, and cancelled ones never", async () => {
  const d = createDeadlines(10);
  const fired: string[] = [];
  const t0 = performance.now();
  let lateBy = 0;
  d.add(30, () => {
    fired.push("a");
    lateBy = performance.now() - t0 - 30;
  });
  // The control: a plain 30 ms timer started together, to see how late this
  // machine's event loop runs right now.
  let controlLateBy = NaN;
  setTimeout(() => controlLateBy = performance.now() - t0 - 30, 30);
  const cancelB = d.add(30, () => fired.push("b"));
  d.add(200, () => fired.push("c"));
  cancelB();
  assert.equal(d.size, 2);
  await sleep(80);
  await waitUntil(() => fired.length > 0 && !Number.isNaN(controlLateBy));
  assert.deepEqual(fired, ["a"]);
  // One tick (10 ms) later than a plain timer at most, with 20 ms to spare.
  console.log(`fired ${lateBy.toFixed(1)} ms late; a plain timer ${controlLateBy.toFixed(1)} ms`);
  assert.ok(lateBy >= 0 && lateBy < controlLateBy + 30, `fired ${lateBy} ms late`);
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

Deno.test("with keepAlive the shared timer keeps a process alive while a timeout waits, and not after", async () => {
  const url = JSON.stringify(new URL("../lib/transport/_deadlines.ts", import.meta.url).href);
  const run = async (body: string): Promise<{ out: string; ms: number }> => {
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", `import { createDeadlines } from ${url}; ${body}`],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    return { out: new TextDecoder().decode(out.stdout).trim(), ms: performance.now() - t0 };
  };
  // A timeout that is the process's only work still fires.
  const waited = await run(
    `createDeadlines(50, { keepAlive: true }).add(300, () => console.log("fired"));`,
  );
  assert.equal(waited.out, "fired");
  // Once cancelled, a one-minute timeout holds nothing up.
  const cancelled = await run(
    `const d = createDeadlines(50, { keepAlive: true }); const c = d.add(60_000, () => {}); ` +
      `setTimeout(() => { c(); console.log("cancelled"); }, 100);`,
  );
  assert.equal(cancelled.out, "cancelled");
  assert.ok(cancelled.ms < 20_000, `exited after ${cancelled.ms} ms`);
});

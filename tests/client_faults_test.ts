// Client faults against an in-process hub (startHub), with the hub core's
// counts checked at the end of every test: a recipient killed mid-call, one
// that never replies, one whose callback endpoint accepts connections and
// never answers, a callback URL on a closed port, and 200 clients (in another
// process, tests/_churn.ts) registering and unregistering at once while others
// exchange messages. Callers must get
// error responses or timeouts (never a hang), others' latency must stay within
// a stated bound, and afterwards no pending call (msg-id), sync-wait timer,
// delivery in flight, queued event or socket may be left behind.

import assert from "node:assert/strict";
import { SampClient } from "../lib/client/client.ts";
import { acceptAll } from "../lib/hub/consent.ts";
import { type Hub, type HubOptions, startHub } from "../lib/hub/server.ts";
import type { HubStats } from "../lib/hub/core.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { ROOT, TestClient, waitFor } from "./_helpers.ts";

/** Longest wait for one callback in these tests (the hub's default is 120 s). */
const CALLBACK_TIMEOUT_MS = 500;
/**
 * p99 of the steady clients' callAndWait round trips while 200 others churn
 * (2-core machine), plus four times the p99 measured just before the churn.
 */
const CHURN_P99_BOUND_MS = 250;
/** Time within which a caller must learn that its recipient is gone. */
const PROMPT_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` with an in-process hub; when it is closed, checks that this
 * process has no more sockets open than before the hub started.
 */
async function withHub(fn: (hub: Hub) => Promise<void>, options: HubOptions = {}): Promise<void> {
  const sockets = await openSockets();
  const dir = await Deno.makeTempDir({ prefix: "samp-faults-" });
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    callbackTimeoutMs: CALLBACK_TIMEOUT_MS,
    ...options,
  });
  try {
    await fn(hub);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
  await waitFor(
    async () => await openSockets() <= sockets,
    5000,
    `sockets to be released (${sockets} before the hub started)`,
  ).catch(async (e) => {
    const out = await new Deno.Command("ls", { args: ["-l", `/proc/${Deno.pid}/fd`] }).output();
    throw new Error(`${e.message}:\n${new TextDecoder().decode(out.stdout)}`);
  });
}

/** Waits until the core holds exactly `clients` clients and nothing else in progress. */
async function settled(hub: Hub, clients: number, ms = 5000): Promise<HubStats> {
  const want = {
    clients,
    pendingCalls: 0,
    syncWaits: 0,
    deliveriesInFlight: 0,
    queuedEvents: 0,
  };
  const ok = (s: HubStats) => Object.entries(want).every(([k, v]) => s[k as keyof HubStats] === v);
  await waitFor(
    () => ok(hub.stats()),
    ms,
    `the hub to settle at ${JSON.stringify(want)}; now ${JSON.stringify(hub.stats())}`,
  );
  return hub.stats();
}

/** Open sockets of this process (the hub runs in it), from /proc via `ls`; 0 off Linux. */
async function openSockets(): Promise<number> {
  if (Deno.build.os !== "linux") return 0;
  const out = await new Deno.Command("ls", { args: ["-l", `/proc/${Deno.pid}/fd`] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => /socket:/.test(l)).length;
}

/** A port nothing listens on now. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/**
 * A callback endpoint that accepts connections, reads each request and never
 * answers. `kill()` closes every connection and the port at once, as a
 * process killed with SIGKILL does.
 */
class SilentEndpoint {
  readonly conns: Deno.Conn[] = [];
  /** Per connection: resolves when the hub closed it (read returned EOF or failed). */
  readonly closedByPeer: Promise<void>[] = [];
  requests = 0;
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #accepting: Promise<void>;
  readonly url = `http://127.0.0.1:${this.#listener.addr.port}/xmlrpc`;

  constructor() {
    this.#accepting = (async () => {
      for await (const conn of this.#listener) {
        this.conns.push(conn);
        this.closedByPeer.push(this.#drain(conn));
      }
    })().catch(() => {});
  }

  async #drain(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(65_536);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return;
        if (/^POST /.test(new TextDecoder().decode(buf.subarray(0, 5)))) this.requests++;
      }
    } catch {
      // closed by kill() or reset by the hub
    }
  }

  /** Closes every connection and the listening port. */
  async kill(): Promise<void> {
    this.#listener.close();
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await this.#accepting;
    await Promise.all(this.closedByPeer);
  }
}

/** The n-th receiveResponse a client got, as [responder, tag, response]. */
function responses(c: TestClient): [string, string, SampMap][] {
  return c.got("receiveResponse").map((r) => r.args as [string, string, SampMap]);
}

const msg = (mtype: string, params: SampMap = {}) => ({
  "samp.mtype": mtype,
  "samp.params": params,
});

Deno.test("a recipient killed mid-call: callAndWait and call get an error response at once, and nothing is left behind", () =>
  withHub(async (hub) => {
    const s = await TestClient.register(hub.url, hub.secret);
    await s.hub("declareSubscriptions", { "samp.hub.event.unregister": {} });
    const victim = await TestClient.register(hub.url, hub.secret, false);
    const endpoint = new SilentEndpoint();
    await victim.hub("setXmlrpcCallback", endpoint.url);
    await victim.hub("declareSubscriptions", { "test.slow": {} });

    const sync = s.hub("callAndWait", victim.id, msg("test.slow"), "30") as Promise<SampMap>;
    await s.hub("call", victim.id, "tag-async", msg("test.slow"));
    await waitFor(() => endpoint.requests === 2, 3000, "both calls to reach the recipient");
    assert.equal(hub.stats().pendingCalls, 2);

    const killed = performance.now();
    await endpoint.kill();
    // The connections closed without an answer and the port now refuses
    // connections: the recipient is gone, so the hub drops it at once.
    const response = await sync;
    assert.ok(performance.now() - killed < PROMPT_MS, "callAndWait answered promptly");
    assert.equal(response["samp.status"], "samp.error");
    assert.match(
      String((response["samp.error"] as SampMap)["samp.errortxt"]),
      new RegExp(`${victim.id} left the hub .*refuses connections.* before replying to test.slow`),
    );
    await waitFor(() => responses(s).length === 1, PROMPT_MS, "the async call's error response");
    const [responder, tag, r] = responses(s)[0];
    assert.deepEqual([responder, tag, r["samp.status"]], [victim.id, "tag-async", "samp.error"]);
    await waitFor(
      () => s.got("receiveNotification", "samp.hub.event.unregister").length === 1,
      PROMPT_MS,
      "the dead client to be dropped",
    );
    assert.equal(hub.client(victim.id), undefined);
    await s.close();
    await settled(hub, 1);
  }));

Deno.test("a recipient that never replies: callAndWait times out with a fault, and an async call is cleaned up when either side leaves", () =>
  withHub(async (hub) => {
    const s = await TestClient.register(hub.url, hub.secret);
    const mute = await TestClient.register(hub.url, hub.secret);
    mute.onCall = () => null; // accepts every call, answers none
    await mute.hub("declareSubscriptions", { "test.*": {} });

    const started = performance.now();
    await assert.rejects(
      s.hub("callAndWait", mute.id, msg("test.ask"), "1"),
      /Synchronous call timeout after 1\/1 sec/,
    );
    const waited = performance.now() - started;
    assert.ok(waited > 950 && waited < 1000 + PROMPT_MS, `timed out after ${waited} ms`);
    await settled(hub, 3); // the timer and the msg-id are gone

    // Unanswered async call; the recipient leaves: the caller gets an error response.
    await s.hub("call", mute.id, "t1", msg("test.ask"));
    assert.equal(hub.stats().pendingCalls, 1);
    await mute.close();
    await waitFor(() => responses(s).length === 1, PROMPT_MS, "the error response");
    const [, tag, r] = responses(s)[0];
    assert.equal(tag, "t1");
    assert.equal(r["samp.status"], "samp.error");
    assert.match(String((r["samp.error"] as SampMap)["samp.errortxt"]), /left the hub/);
    await settled(hub, 2);

    // Unanswered async call; the caller leaves: the call is forgotten, a late reply faults.
    const late = await TestClient.register(hub.url, hub.secret);
    late.onCall = () => null;
    await late.hub("declareSubscriptions", { "test.*": {} });
    await s.hub("call", late.id, "t2", msg("test.ask"));
    await waitFor(() => late.got("receiveCall").length === 1);
    const msgId = late.got("receiveCall")[0].args[1] as string;
    await s.close();
    await settled(hub, 2);
    await assert.rejects(
      late.hub("reply", msgId, { "samp.status": "samp.ok", "samp.result": {} }),
      /No pending call with msg-id/,
    );
    await late.close();
    await settled(hub, 1);
  }));

Deno.test("a callback endpoint that accepts and never answers: the hub gives up after the callback timeout, closes its connections and leaks nothing", () =>
  withHub(async (hub) => {
    const s = await TestClient.register(hub.url, hub.secret);
    const hung = await TestClient.register(hub.url, hub.secret, false);
    const endpoint = new SilentEndpoint();
    await hung.hub("setXmlrpcCallback", endpoint.url);
    await hung.hub("declareSubscriptions", { "test.*": {} });

    // The call may have arrived, so the hub does not answer for the recipient:
    // callAndWait ends at its own timeout, with a fault.
    const started = performance.now();
    await assert.rejects(
      s.hub("callAndWait", hung.id, msg("test.ask"), "2"),
      /Synchronous call timeout after 2\/2 sec/,
    );
    const waited = performance.now() - started;
    assert.ok(waited > 1950 && waited < 2000 + PROMPT_MS, `timed out after ${waited} ms`);
    // Notifications and an async call pile up nowhere: each gives up after the callback timeout.
    for (let i = 0; i < 20; i++) await s.hub("notify", hung.id, msg("test.note"));
    await s.hub("call", hung.id, "t-async", msg("test.ask"));
    await waitFor(() => endpoint.requests >= 22, 3000, "the callbacks to reach the endpoint");
    await waitFor(
      () => hub.stats().deliveriesInFlight === 0,
      CALLBACK_TIMEOUT_MS + PROMPT_MS,
      "the hub to give up on the hung endpoint",
    );
    // …and it closed every connection it had opened to it.
    await Promise.race([
      Promise.all(endpoint.closedByPeer),
      sleep(PROMPT_MS).then(() => {
        throw new Error("the hub left connections to the hung endpoint open");
      }),
    ]);
    assert.equal(hub.stats().pendingCalls, 1, "the async call waits for its recipient");
    await hung.close();
    await waitFor(() => responses(s).length === 1, PROMPT_MS, "the async call's error response");
    assert.equal(responses(s)[0][2]["samp.status"], "samp.error");
    await s.close();
    await endpoint.kill();
    await settled(hub, 1);
  }));

Deno.test("a callback URL on a closed port: call and callAll get error responses at once, the client is dropped, nothing is left", () =>
  withHub(async (hub) => {
    const s = await TestClient.register(hub.url, hub.secret);
    const good = await TestClient.register(hub.url, hub.secret);
    await good.hub("declareSubscriptions", { "test.*": {} });
    const dead = await TestClient.register(hub.url, hub.secret, false);
    await dead.hub("setXmlrpcCallback", `http://127.0.0.1:${closedPort()}/xmlrpc`);
    await dead.hub("declareSubscriptions", { "test.*": {} });

    const started = performance.now();
    const ids = await s.hub("callAll", "all", msg("test.ask")) as SampMap;
    assert.deepEqual(Object.keys(ids).sort(), [good.id, dead.id].sort());
    await waitFor(() => responses(s).length === 2, PROMPT_MS, "both responses");
    assert.ok(performance.now() - started < PROMPT_MS);
    const byResponder = Object.fromEntries(responses(s).map(([id, , r]) => [id, r]));
    assert.equal(byResponder[good.id]["samp.status"], "samp.ok");
    assert.equal(byResponder[dead.id]["samp.status"], "samp.error");
    assert.match(
      String((byResponder[dead.id]["samp.error"] as SampMap)["samp.errortxt"]),
      /refused/,
    );
    await waitFor(() => hub.client(dead.id) === undefined, PROMPT_MS, "the client dropped");
    await assert.rejects(s.hub("call", dead.id, "late", msg("test.ask")), /No registered client/);
    await assert.rejects(dead.hub("getRegisteredClients"), /Unknown private key/);
    await s.close();
    await good.close();
    await settled(hub, 1);
  }));

/** The `q` quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

Deno.test(`200 clients registering and unregistering at once while others exchange messages: p99 < ${CHURN_P99_BOUND_MS} ms (plus the load's own cost), and nothing is left behind`, () =>
  withHub(async (hub) => {
    // Steady clients, subscribed to hub events as desktop tools are.
    const steady = await Promise.all(
      Array.from({ length: 4 }, () => TestClient.register(hub.url, hub.secret)),
    );
    for (const c of steady) {
      await c.hub("declareSubscriptions", { "samp.hub.event.*": {}, "test.echo": {} });
    }
    const latencies: number[] = [];
    const failures: string[] = [];
    let churning = true;
    const exchange = async (from: TestClient, to: TestClient) => {
      for (let i = 0; churning; i++) {
        const t = performance.now();
        try {
          const r = await from.hub("callAndWait", to.id, msg("test.echo", { i: String(i) }), "10");
          if ((r as SampMap)["samp.status"] !== "samp.ok") failures.push(JSON.stringify(r));
        } catch (e) {
          failures.push((e as Error).message);
        }
        latencies.push(performance.now() - t);
        await sleep(2);
      }
    };
    const exchanges = [exchange(steady[0], steady[1]), exchange(steady[2], steady[3])];
    // Broadcasts reach churning clients too, some of them while they leave.
    const broadcasts = (async () => {
      while (churning) {
        await steady[0].hub("notifyAll", msg("test.churn"));
        await sleep(20);
      }
    })();

    // The control: the same exchange for a second before the churn, to see
    // what this machine's load costs anyway.
    await sleep(1000);
    const before = latencies.length;
    const control = quantile([...latencies].sort((a, b) => a - b), 0.99);
    const bound = CHURN_P99_BOUND_MS + 4 * control;
    const started = performance.now();
    const churn = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        `--config=${ROOT}deno.json`,
        `${ROOT}tests/_churn.ts`,
        hub.url,
        hub.secret,
        "200",
        "5",
      ],
      env: { NO_COLOR: "1" },
    }).output();
    const out = new TextDecoder().decode(churn.stdout);
    assert.ok(
      churn.success,
      `the churning process failed: ${new TextDecoder().decode(churn.stderr)}`,
    );
    assert.deepEqual(JSON.parse(out), { registrations: 1000 });
    const seconds = (performance.now() - started) / 1000;
    await sleep(200);
    churning = false;
    await Promise.all([...exchanges, broadcasts]);

    const sorted = latencies.slice(before).sort((a, b) => a - b);
    const p = (q: number) => quantile(sorted, q);
    console.log(
      `churn: 1000 registrations by 200 clients (another process) in ${seconds.toFixed(1)} s; ` +
        `${sorted.length} steady round trips: p50 ${p(0.5).toFixed(1)} ms, ` +
        `p99 ${p(0.99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms ` +
        `(before it: p99 ${control.toFixed(1)} ms); ` +
        `stats ${JSON.stringify(hub.stats())}`,
    );
    assert.deepEqual(failures, []);
    assert.ok(sorted.length >= 50, `only ${sorted.length} round trips`);
    assert.ok(p(0.99) < bound, `p99 ${p(0.99).toFixed(0)} ms ≥ ${bound.toFixed(0)} ms`);

    // The vanished clients are dropped at their next (refused) callback.
    await steady[0].hub("notifyAll", msg("test.churn"));
    await settled(hub, 1 + steady.length);
    for (const c of steady) await c.close();
    await settled(hub, 1);
  }));

/** Peak resident memory of this process so far, in MiB (Linux /proc, read by `cat`; 0 elsewhere). */
async function peakMiB(): Promise<number> {
  if (Deno.build.os !== "linux") return 0;
  const out = await new Deno.Command("cat", { args: [`/proc/${Deno.pid}/status`] }).output();
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(new TextDecoder().decode(out.stdout))![1]) / 1024;
}

Deno.test("a callback endpoint that answers with an endless body: the hub stops reading early and keeps its memory", () =>
  withHub(async (hub) => {
    let served = 0;
    let cancelled = false;
    const chunk = new Uint8Array(1 << 20).fill(0x20);
    const endless = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      await req.body?.cancel();
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          // Stops by itself at 1 GB, so that a hub that reads it all cannot take the machine down.
          if (served >= 1024 * chunk.length) return c.close();
          served += chunk.length;
          c.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      });
      return new Response(body, { headers: { "content-type": "text/xml" } });
    });
    try {
      const s = await TestClient.register(hub.url, hub.secret, false);
      const greedy = await TestClient.register(hub.url, hub.secret, false);
      await greedy.hub("setXmlrpcCallback", `http://127.0.0.1:${endless.addr.port}/`);
      await greedy.hub("declareSubscriptions", { "test.*": {} });
      const before = await peakMiB();
      await s.hub("notify", greedy.id, msg("test.note"));
      await waitFor(() => hub.stats().deliveriesInFlight === 0, 5000, "the delivery to end");
      const grown = await peakMiB() - before;
      console.log(
        `endless callback body: the hub read ${(served / 1048576).toFixed(0)} MiB; ` +
          `peak memory +${grown.toFixed(0)} MiB`,
      );
      assert.ok(cancelled, "the hub did not stop reading the endless answer");
      assert.ok(served < 128 * chunk.length, `the hub read ${served >> 20} MiB of it`);
      assert.ok(grown < 128, `peak memory grew by ${grown.toFixed(0)} MiB`);
      // A call answered that way (200 OK, then too much) may have arrived:
      // it waits for the recipient's own reply, or its leaving.
      await s.hub("call", greedy.id, "t", msg("test.ask"));
      await waitFor(() => hub.stats().deliveriesInFlight === 0, 5000, "the call's delivery");
      assert.equal(hub.stats().pendingCalls, 1);
      assert.ok(hub.client(greedy.id), "the recipient stays registered");
      await greedy.close();
      await s.close();
      await settled(hub, 1);
    } finally {
      await endless.shutdown();
    }
  }, { callbackTimeoutMs: 2000 }));

Deno.test("a deeply nested message to a web client costs it no callback, that one or the next", () =>
  withHub(async (hub) => {
    await using page = await SampClient.connect({
      name: "page",
      web: { url: hub.webUrl!, pullSeconds: 1 },
    });
    const got: string[] = [];
    await page.on("table.*", (m) => void got.push(m.mtype));
    const std = await TestClient.register(hub.url, hub.secret, false);
    // As deep as the hub accepts: the message map is at depth 1, samp.params at 2, then 62 lists.
    let deep: SampValue = "x";
    for (let i = 0; i < 62; i++) deep = [deep];
    await std.hub("notify", page.id, msg("table.deep", { deep }));
    await std.hub("notify", page.id, msg("table.after"));
    await waitFor(() => got.length === 2, 5000, `both notifications (got ${got})`);
    assert.deepEqual(got, ["table.deep", "table.after"]);
    await std.close();
  }, { web: { port: 0, authorizer: acceptAll() } }));

// Fuzzing the hub's XML-RPC endpoints, both profiles: property-based cases
// from tests/_fuzz.ts (valid SAMP calls, wild methods and arities, and
// mutations of both), posted to the hub. For every case the hub must answer
// HTTP 200 with a well-formed methodResponse (result or fault) or a 4xx:
// never a 5xx, an internal error, an unhandled rejection or a hang. After the
// run the hub must still serve a normal client, hold no pending call, sync
// wait, delivery or queued event once everyone has left, and its memory must
// not have grown beyond a bound.
//
// FUZZ_CASES sets the number of hub cases (default 10,000: the CI smoke run;
// `deno task fuzz` runs 200,000); a tenth of them (at least 2,000) go over
// real HTTP to a startHub hub, the rest to the same handlers called in
// process. FUZZ_SEED replays a run (the seed is printed). With
// --v8-flags=--expose-gc (as `deno task fuzz` runs) memory is measured after
// a full GC and the bounds are tighter.
//
// The hub calls back only this test's own loopback servers: while the fuzz
// runs, fetch refuses every other host and port (as "connection refused"), so
// a mutated callback URL can reach nothing else.

import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import {
  describeCase,
  fc,
  type FuzzCase,
  fuzzCase,
  mustBeXmlRpc,
  render,
  substitute,
  substituteValue,
  type TokenValues,
} from "./_fuzz.ts";
import { assertPlainCallAgrees, recordXml, waitFor } from "./_helpers.ts";
import { acceptAll } from "../lib/hub/consent.ts";
import { HubCore, type HubStats } from "../lib/hub/core.ts";
import { launchHub } from "../lib/hub/server.ts";
import { createStandardProfile } from "../lib/hub/standard_profile.ts";
import { createWebProfile } from "../lib/hub/web_profile.ts";
import { createWebHandler } from "../lib/hub/web_server.ts";
import { webMTypePolicy } from "../lib/hub/web_restrictions.ts";
import { createLogger } from "../lib/log.ts";
import { createXmlRpcHandler } from "../lib/transport/xmlrpc_server.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { decodeCall, decodeResponse, encodeCall, XmlRpcDecodeError } from "../lib/xmlrpc.ts";
import { parseXml, parseXmlWithSaxes, scanPlainXml } from "../lib/_sax.ts";

const TOTAL = Number(Deno.env.get("FUZZ_CASES") ?? 10_000);
const SEED = Deno.env.get("FUZZ_SEED") !== undefined
  ? Number(Deno.env.get("FUZZ_SEED"))
  : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const HTTP_CASES = Math.min(Math.ceil(TOTAL / 2), Math.max(2000, Math.round(TOTAL / 10)));
const DIRECT_CASES = TOTAL - HTTP_CASES;
/** Cases posted at once. */
const BATCH = 16;
/** The test hangs up on a case after this long (only callAndWait and pullCallbacks wait). */
const DEADLINE_MS = 4000;
/** …and the hub must have answered (in process: after the hang-up) by this. */
const HANG_MS = DEADLINE_MS + 2000;
/** Any other method must be answered within this. */
const SLOW_MS = 2000;
/** A full GC: `gc` with --expose-gc (as `deno task fuzz` runs), else exposed through node:v8. */
const gc = (globalThis as { gc?: () => void }).gc ?? exposeGc();
/**
 * Growth bounds after a full GC (looser if none is available). The JS heap
 * plus external buffers is what a leak of clients, msg-ids, closures or
 * bodies would grow. RSS is bounded loosely: the allocator keeps freed pages,
 * so the test process's RSS climbs to a plateau (~550 MiB here) over the
 * first ~8,000 cases and then stays flat to 200,000.
 */
const MAX_HEAP_GROWTH = (gc ? 16 : 128) * 1024 * 1024;
const MAX_RSS_GROWTH = (gc ? 512 : 768) * 1024 * 1024;

function exposeGc(): (() => void) | undefined {
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc");
  } catch {
    return undefined;
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");
const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

interface Answer {
  status: number;
  type: string;
  text: string;
}
type Post = (body: Uint8Array<ArrayBuffer>, signal: AbortSignal) => Promise<Answer>;

/** A hub to fuzz: its core, its secret and a way to post to each profile's endpoint. */
interface Target {
  name: string;
  core: HubCore;
  secret: string;
  standard: Post;
  web: Post;
  /** Loopback ports this test serves or calls: the only ones fetch may reach. */
  ports: Set<string>;
  /** Internal errors the hub reported (they must stay empty). */
  errors: string[];
  close(): Promise<void>;
}

async function answer(response: Response): Promise<Answer> {
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text: await response.text(),
  };
}

/** The hub's own handlers, wired as startHub wires them, called without HTTP. */
function directTarget(): Target {
  const errors: string[] = [];
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16))
    .join("");
  const core = new HubCore({ policy: webMTypePolicy() });
  const standard = createStandardProfile({ core, secret, callbackTimeoutMs: 2000 });
  const stdHandler = createXmlRpcHandler(
    standard.dispatch,
    {},
    (e, method) => errors.push(`internal error in ${method}: ${(e as Error)?.stack ?? e}`),
  );
  const web = createWebProfile({
    core,
    authorizer: acceptAll(),
    translatorBase: "http://localhost:21012/proxied/",
  });
  const webHandler = createWebHandler(web, {
    limits: { maxBodyBytes: 8 * 1024 * 1024 },
    onError: (e, what) => errors.push(`Web Profile internal error in ${what}: ${e}`),
  });
  const info = {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50_000 },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  // Deno 2.9 keeps ~0.7 KB per `new Request(…, { signal })` alive after GC, so
  // only requests that may wait by design get the hang-up signal; if another
  // ever waited, the test would report it as a hang.
  const mayWait = (body: Uint8Array) => /AndWait|pullCallbacks/.test(latin1.decode(body));
  const request = (url: string, body: Uint8Array<ArrayBuffer>, signal: AbortSignal) =>
    new Request(url, {
      method: "POST",
      body,
      signal: mayWait(body) ? signal : undefined,
      headers: { "content-type": "text/xml", host: "localhost:21012" },
    });
  return {
    name: "in process",
    core,
    secret,
    standard: async (body, signal) =>
      answer(await stdHandler(request("http://127.0.0.1/xmlrpc", body, signal))),
    web: async (body, signal) =>
      answer(await webHandler(request("http://localhost:21012/", body, signal), info)),
    ports: new Set(),
    errors,
    async close() {
      standard.close();
      web.close();
      await core.close(500);
    },
  };
}

/** A hub from startHub with the Web Profile, reached over loopback HTTP. */
async function httpTarget(): Promise<Target> {
  const dir = await Deno.makeTempDir({ prefix: "samp-fuzz-" });
  const errors: string[] = [];
  const { hub, core } = await launchHub({
    lockfile: `${dir}/hub.samp`,
    callbackTimeoutMs: 2000,
    web: { port: 0, authorizer: acceptAll() },
    logger: createLogger("ERROR", (line) => errors.push(line)),
  });
  const post = (url: string): Post => async (body, signal) =>
    answer(
      await fetch(url, {
        method: "POST",
        body,
        signal,
        headers: { "content-type": "text/xml" },
      }),
    );
  return {
    name: "over HTTP",
    core,
    secret: hub.secret,
    standard: post(hub.url),
    web: post(hub.webUrl!),
    ports: new Set([new URL(hub.url).port, new URL(hub.webUrl!).port]),
    errors,
    async close() {
      await hub.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** While the fuzz runs, fetch reaches only this test's loopback servers. */
function guardFetch(ports: Set<string>): () => void {
  const real = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    let url: URL;
    try {
      url = new URL(input instanceof Request ? input.url : String(input));
    } catch (e) {
      return Promise.reject(e);
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!["127.0.0.1", "localhost", "::1"].includes(host) || !ports.has(url.port)) {
      return Promise.reject(
        new Deno.errors.ConnectionRefused(
          `connection refused: the fuzz test lets the hub reach only its own servers, not ${url.host}`,
        ),
      );
    }
    return real(input, init);
  };
  return () => void (globalThis.fetch = real);
}

async function rpc(post: Post, method: string, params: SampValue[]): Promise<SampValue> {
  const r = await post(
    new TextEncoder().encode(encodeCall(method, params)),
    AbortSignal.timeout(10_000),
  );
  assert.equal(r.status, 200, `${method}: HTTP ${r.status} ${r.text}`);
  const result = decodeResponse(r.text, { maxDepth: 1024 });
  if (!result.ok) throw new Error(`${method} faulted: ${result.message}`);
  return result.value;
}

const OK = { "samp.status": "samp.ok", "samp.result": {} };

/**
 * The clients the cases name: a callable Standard client whose callback server
 * answers every callback and replies to every call, and a callable web client
 * that polls and replies likewise. Cases may unregister them, change their
 * callbacks or stop the web one's callbacks: `ensure` restores them.
 */
class Context {
  values: TokenValues;
  readonly #target: Target;
  readonly #sink: Deno.HttpServer<Deno.NetAddr>;
  readonly #inFlight = new Set<Promise<unknown>>();
  #running = true;
  #responder: Promise<void> = Promise.resolve();
  callbacks = 0;

  constructor(target: Target) {
    this.#target = target;
    const handler = createXmlRpcHandler((method, params) => {
      this.callbacks++;
      if (method === "samp.client.receiveCall") {
        const [key, , msgId] = params;
        this.#track(rpc(target.standard, "samp.hub.reply", [key, msgId, OK]));
      }
      return "";
    });
    this.#sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
    target.ports.add(String(this.#sink.addr.port));
    this.values = {
      secret: target.secret,
      stdKey: "k:none",
      webKey: "wk:none",
      stdId: "c0",
      webId: "c0",
      callback: `http://127.0.0.1:${this.#sink.addr.port}/xmlrpc`,
    };
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch(() => {}).finally(() => this.#inFlight.delete(q));
    this.#inFlight.add(q);
  }

  /**
   * Registers or repairs the two clients. A callback that a case pointed at a
   * closed port may unregister a client meanwhile: then try again.
   */
  async ensure(): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#ensureOnce();
      } catch (e) {
        if (attempt === 5) throw e;
      }
    }
  }

  async #ensureOnce(): Promise<void> {
    const { core, standard, web } = this.#target;
    const v = this.values;
    if (!core.clientByKey(v.stdKey)) {
      const reg = await rpc(standard, "samp.hub.register", [v.secret]) as SampMap;
      v.stdKey = reg["samp.private-key"] as string;
      v.stdId = reg["samp.self-id"] as string;
      await rpc(standard, "samp.hub.declareMetadata", [v.stdKey, { "samp.name": "fuzz-std" }]);
      await rpc(standard, "samp.hub.declareSubscriptions", [v.stdKey, { "*": {} }]);
    }
    await rpc(standard, "samp.hub.setXmlrpcCallback", [v.stdKey, v.callback]);
    if (!core.clientByKey(v.webKey)) {
      const reg = await rpc(web, "samp.webhub.register", [{ "samp.name": "fuzz-web" }]) as SampMap;
      v.webKey = reg["samp.private-key"] as string;
      v.webId = reg["samp.self-id"] as string;
      await rpc(web, "samp.webhub.declareSubscriptions", [v.webKey, { "*": {} }]);
    }
    if (!core.client(v.webId)?.callable) {
      await rpc(web, "samp.webhub.allowReverseCallbacks", [v.webKey, "1"]);
    }
  }

  /** Starts the web client's poll-and-reply loop. */
  startResponder(): void {
    this.#responder = (async () => {
      while (this.#running) {
        const key = this.values.webKey;
        try {
          const items = await rpc(this.#target.web, "samp.webhub.pullCallbacks", [key, "1"]);
          for (const item of items as SampMap[]) {
            if (item["samp.methodName"] !== "receiveCall") continue;
            const [, msgId] = item["samp.params"] as SampValue[];
            this.#track(rpc(this.#target.web, "samp.webhub.reply", [key, msgId, OK]));
          }
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
  }

  /** Disconnects the clients that cases registered (they are legitimate, but pile up). */
  prune(limit: number): void {
    const { core } = this.#target;
    if (core.stats().clients <= limit) return;
    const keep = new Set([core.hubId, this.values.stdId, this.values.webId]);
    for (const c of core.clients()) if (!keep.has(c.id)) core.disconnect(c.id, "fuzz: pruned");
  }

  /** Unregisters both clients and stops everything this context started. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#responder;
    const { core, standard, web } = this.#target;
    if (core.clientByKey(this.values.stdKey)) {
      await rpc(standard, "samp.hub.unregister", [this.values.stdKey]);
    }
    if (core.clientByKey(this.values.webKey)) {
      await rpc(web, "samp.webhub.unregister", [this.values.webKey]);
    }
    for (const c of core.clients()) if (c.id !== core.hubId) core.disconnect(c.id, "fuzz: done");
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    await this.#sink.shutdown();
  }
}

/** Whether a body is a call that waits by design (callAndWait, pullCallbacks). */
function waits(body: Uint8Array): boolean {
  try {
    return /^samp\.(web)?hub\.(callAndWait|pullCallbacks)$/.test(
      decodeCall(decoder.decode(body), { maxDepth: 100_000 }).method,
    );
  } catch {
    return false;
  }
}

interface Tally {
  cases: number;
  results: number;
  faults: number;
  status: Record<number, number>;
  /** Cases the test hung up on because the hub was waiting by design. */
  hungUp: number;
  /** Slowest answer to a call that does not wait by design, in ms. */
  slowest: number;
  /** Fault messages by kind (digits and quoted text blanked), for FUZZ_VERBOSE. */
  kinds: Map<string, number>;
}

function newTally(): Tally {
  return { cases: 0, results: 0, faults: 0, status: {}, hungUp: 0, slowest: 0, kinds: new Map() };
}

/** Posts one case and checks the answer; throws with the case on any violation. */
async function runCase(target: Target, ctx: Context, c: FuzzCase, tally: Tally): Promise<void> {
  const body = render(c, ctx.values);
  const post = c.profile === "standard" ? target.standard : target.web;
  const fail = (what: string) => {
    throw new Error(`${target.name}: ${what}\ncase: ${describeCase(c, body)}`);
  };
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), DEADLINE_MS);
  let hangTimer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<"hang">((r) => hangTimer = setTimeout(() => r("hang"), HANG_MS));
  const started = performance.now();
  let got: Answer | Error | "hang";
  try {
    got = await Promise.race([
      post(body, controller.signal).catch((e) => e instanceof Error ? e : new Error(String(e))),
      hang,
    ]);
  } finally {
    clearTimeout(deadline);
    clearTimeout(hangTimer);
  }
  const elapsed = performance.now() - started;
  tally.cases++;
  if (got === "hang") return fail(`no answer within ${HANG_MS} ms`);
  if (got instanceof Error) {
    // Over HTTP, hanging up is the only way to end a wait the hub keeps by design.
    if (controller.signal.aborted && waits(body)) {
      tally.hungUp++;
      return;
    }
    return fail(`the request failed after ${elapsed.toFixed(0)} ms: ${got.message}`);
  }
  if (!waits(body)) {
    tally.slowest = Math.max(tally.slowest, elapsed);
    if (elapsed > SLOW_MS) fail(`answered after ${elapsed.toFixed(0)} ms (limit ${SLOW_MS} ms)`);
  }
  tally.status[got.status] = (tally.status[got.status] ?? 0) + 1;
  if (got.status === 200) {
    if (!/^text\/xml/.test(got.type)) fail(`200 with content-type ${got.type}`);
    let result;
    try {
      result = decodeResponse(got.text, { maxDepth: 1024 });
    } catch (e) {
      return fail(
        `200 but not a well-formed methodResponse (${(e as Error).message}):\n${got.text}`,
      );
    }
    if (result.ok) tally.results++;
    else {
      tally.faults++;
      const kind = result.message.replace(/"[^"]*"|\d+/g, "_").slice(0, 60);
      tally.kinds.set(kind, (tally.kinds.get(kind) ?? 0) + 1);
      if (/internal hub error/i.test(result.message)) fail(`internal error: ${result.message}`);
    }
    return;
  }
  if (got.status >= 400 && got.status < 500) {
    if (mustBeXmlRpc(c)) fail(`a well-formed XML-RPC call got HTTP ${got.status}: ${got.text}`);
    return;
  }
  fail(`HTTP ${got.status}: ${got.text}`);
}

/** JS heap plus external buffers, and RSS, after a full GC. */
function memory(): { heap: number; rss: number } {
  gc?.();
  gc?.();
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

/** Checks that a normal client still registers and gets its ping answered, on both profiles. */
async function stillServes(target: Target): Promise<void> {
  const reg = await rpc(target.standard, "samp.hub.register", [target.secret]) as SampMap;
  const key = reg["samp.private-key"] as string;
  const r = await rpc(target.standard, "samp.hub.callAndWait", [
    key,
    "hub",
    { "samp.mtype": "samp.app.ping", "samp.params": {} },
    "5",
  ]) as SampMap;
  assert.equal(r["samp.status"], "samp.ok");
  await rpc(target.standard, "samp.hub.unregister", [key]);
  const web = await rpc(target.web, "samp.webhub.register", [{ "samp.name": "after" }]) as SampMap;
  const wkey = web["samp.private-key"] as string;
  const others = await rpc(target.web, "samp.webhub.getRegisteredClients", [wkey]) as string[];
  assert.ok(others.includes("hub"));
  await rpc(target.web, "samp.webhub.unregister", [wkey]);
}

/** Fuzzes one target with `cases` cases; checks answers, leaks and memory. */
async function fuzzHub(target: Target, cases: number): Promise<void> {
  const unhandled: string[] = [];
  const onUnhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    unhandled.push(String(e.reason?.stack ?? e.reason));
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const ctx = new Context(target);
  const restoreFetch = guardFetch(target.ports);
  const tally = newTally();
  const batch = fc.array(fuzzCase(), { minLength: BATCH, maxLength: BATCH });
  const verbose = Deno.env.get("FUZZ_VERBOSE") !== undefined;
  let batches = 0;
  const property = fc.asyncProperty(batch, async (cs) => {
    await ctx.ensure();
    const settled = await Promise.allSettled(cs.map((c) => runCase(target, ctx, c, tally)));
    ctx.prune(32);
    if (verbose && ++batches % 500 === 0) {
      const m = memory();
      console.log(`  after ${batches} batches: heap ${MiB(m.heap)}, RSS ${MiB(m.rss)}`);
    }
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  });
  let before = { heap: 0, rss: 0 };
  let after = before;
  const started = performance.now();
  try {
    await ctx.ensure();
    ctx.startResponder();
    // Warm up (JIT, connection pools) before the first measurement.
    await fc.assert(property, { numRuns: 20, seed: SEED ^ 1, endOnFailure: true });
    before = memory();
    await fc.assert(property, {
      numRuns: Math.ceil(cases / BATCH),
      seed: SEED,
      endOnFailure: true,
    });
    await stillServes(target);
  } finally {
    await ctx.stop();
    restoreFetch();
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats: HubStats = await waitFor(
    () => {
      const s = target.core.stats();
      return s.pendingCalls === 0 && s.syncWaits === 0 && s.deliveriesInFlight === 0 &&
          s.queuedEvents === 0 && s.clients === 1
        ? s
        : null;
    },
    10_000,
    `the hub to settle (${JSON.stringify(target.core.stats())})`,
  );
  after = memory();
  console.log(
    `fuzz ${target.name}: ${tally.cases} cases (seed ${SEED}) in ${seconds.toFixed(1)} s: ` +
      `${tally.results} results, ${tally.faults} faults, HTTP ${JSON.stringify(tally.status)}, ` +
      `${tally.hungUp} waits hung up on, slowest ${tally.slowest.toFixed(0)} ms, ` +
      `${ctx.callbacks} callbacks; heap+external ${MiB(before.heap)} -> ${MiB(after.heap)}, ` +
      `RSS ${MiB(before.rss)} -> ${MiB(after.rss)}${gc ? " (after GC)" : ""}; ` +
      `stats ${JSON.stringify(stats)}`,
  );
  if (verbose) {
    const top = [...tally.kinds].sort((a, b) => b[1] - a[1]).slice(0, 25);
    console.log(top.map(([k, n]) => `${String(n).padStart(7)} ${k}`).join("\n"));
  }
  assert.deepEqual(unhandled, [], "unhandled promise rejections");
  assert.deepEqual(target.errors, [], "internal errors reported by the hub");
  assert.ok(tally.cases >= cases, `ran ${tally.cases} cases, wanted ${cases}`);
  assert.ok(tally.status[200] > tally.cases / 2, "most cases reached the methods");
  assert.ok(
    after.heap - before.heap < MAX_HEAP_GROWTH,
    `heap+external grew by ${MiB(after.heap - before.heap)} (bound ${MiB(MAX_HEAP_GROWTH)})`,
  );
  assert.ok(
    after.rss - before.rss < MAX_RSS_GROWTH,
    `RSS grew by ${MiB(after.rss - before.rss)} (bound ${MiB(MAX_RSS_GROWTH)})`,
  );
}

/** Live values for the codec-only properties (no hub behind them). */
const CODEC_VALUES: TokenValues = {
  secret: "0123456789abcdef",
  stdKey: "k:0a",
  webKey: "wk:0b",
  stdId: "c1",
  webId: "c2",
  callback: "http://127.0.0.1:1/",
};

Deno.test("fuzz: every generated or mutated document decodes to its call or to an XmlRpcDecodeError", () => {
  const values = CODEC_VALUES;
  const trim = (s: string) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
  fc.assert(
    fc.property(fuzzCase(), (c) => {
      const body = render(c, values);
      let text: string;
      try {
        text = decoder.decode(body);
      } catch {
        return; // not UTF-8: the HTTP layer refuses it before the codec
      }
      try {
        const call = decodeCall(text);
        if (c.mutations.length === 0) {
          assert.equal(call.method, trim(substitute(c.call.method, values)));
          assert.deepEqual(call.params, c.call.params.map((p) => substituteValue(p, values)));
        }
      } catch (e) {
        if (!(e instanceof XmlRpcDecodeError)) throw e;
        assert.ok(c.mutations.length > 0, `a valid call was refused: ${e.message}`);
        if (mustBeXmlRpc(c)) {
          assert.ok(e.xmlRpc, `well-formed, yet not flagged XML-RPC: ${e.message}`);
        }
      }
    }),
    { numRuns: Math.max(1000, Math.round(TOTAL / 2)), seed: SEED },
  );
});

/**
 * Runs `check` on every generated or mutated document that is UTF-8; `check`
 * returns whether the fast path under test took the document, and enough
 * must have taken it to hold that path to the general one.
 */
function fastPathAgrees(path: string, check: (text: string) => boolean): void {
  const runs = Math.max(1000, Math.round(TOTAL / 2));
  let taken = 0;
  fc.assert(
    fc.property(fuzzCase(), (c) => {
      let text: string;
      try {
        text = decoder.decode(render(c, CODEC_VALUES));
      } catch {
        return;
      }
      if (check(text)) taken++;
    }),
    { numRuns: runs, seed: SEED },
  );
  // About one case in seven to ten is plain: enough to hold the fast path to the general one.
  assert.ok(taken > runs / 20, `only ${taken} of ${runs} documents took ${path}`);
}

Deno.test("fuzz: on every generated or mutated document the plain-XML scanner and saxes report the same", () => {
  fastPathAgrees("the scanner's path", (text) => {
    if (scanPlainXml(text) === null) return false;
    assert.deepEqual(
      recordXml(parseXml, text),
      recordXml(parseXmlWithSaxes, text),
      `on ${JSON.stringify(text.slice(0, 300))}`,
    );
    return true;
  });
});

Deno.test("fuzz: on every generated or mutated document the direct call reader and the general decoder give the same", () => {
  fastPathAgrees("the direct reader's path", assertPlainCallAgrees);
});

Deno.test(`fuzz: ${DIRECT_CASES} cases against both profiles' handlers in process: a methodResponse or a 4xx, never a 5xx, a hang or a leak`, async () => {
  const target = directTarget();
  try {
    await fuzzHub(target, DIRECT_CASES);
  } finally {
    await target.close();
  }
});

Deno.test(`fuzz: ${HTTP_CASES} cases over HTTP to a hub's Standard and Web Profile ports: the same, and the hub still serves`, async () => {
  const target = await httpTarget();
  try {
    await fuzzHub(target, HTTP_CASES);
  } finally {
    await target.close();
  }
});

Deno.test("fuzz regression: method names that are Object.prototype members are unknown methods, not internal errors", async () => {
  const target = directTarget();
  try {
    const names = [
      "constructor",
      "__proto__",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "isPrototypeOf",
    ];
    for (
      const [post, prefix] of [[target.standard, "samp.hub."], [
        target.web,
        "samp.webhub.",
      ]] as const
    ) {
      for (const name of [...names, ...names.map((n) => prefix + n)]) {
        for (const params of [[], ["k:x"], ["k:x", "y"]]) {
          const r = await post(
            new TextEncoder().encode(encodeCall(name, params)),
            AbortSignal.timeout(5000),
          );
          assert.equal(r.status, 200);
          const result = decodeResponse(r.text);
          assert.ok(!result.ok, `${name} answered a result`);
          assert.match(result.message, /^Unknown XML-RPC method/, name);
        }
      }
    }
    assert.deepEqual(target.errors, []);
  } finally {
    await target.close();
  }
});

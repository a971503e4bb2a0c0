/**
 * Load generator for any SAMP hub: `deno task bench [--quick] [--json] [--duration S]`.
 *
 * It finds the hub through `SAMP_HUB` (else `~/.samp`, or `--lockfile FILE`)
 * and drives it with lean clients built directly on the XML-RPC transport
 * (not SampClient): each client that receives is a `Deno.serve` callback
 * server on 127.0.0.1 that answers at once and counts what it got. Every
 * message carries a sequence number, so each scenario checks that every
 * message arrived exactly once; `lost = expected − received` must be 0.
 *
 * Scenarios (each runs for `--duration` seconds, closed loop: a sender keeps
 * a fixed number of messages in flight, a message being in flight until its
 * recipients have it, so no hub queue grows without bound):
 *
 * - notify: several senders, several in flight each, several receivers
 *   (`samp.hub.notify`, round robin over the receivers);
 * - call→reply: `samp.hub.call`, the receiver replies with `samp.hub.reply`,
 *   complete when `receiveResponse` reaches the sender;
 * - callAndWait: one caller, one in flight: latency p50/p99;
 * - notifyAll fan-out to 50 and to 200 subscribed clients (deliveries/s);
 * - registration storm: register, declareMetadata, unregister in a loop,
 *   with an observer that must see every register and unregister event.
 *
 * Hub RSS (`--hub-pid PID`; Linux: VmRSS of /proc/PID/status, read with
 * `cat` because Deno reads /proc/PID only with --allow-all): idle before the
 * load, the peak under load, and after it (`--rounds N` repeats the load and
 * records RSS after each round); with it, each scenario also reports the
 * hub's CPU use next to the bench's own, which shows which side is the
 * bottleneck. Start-to-ping needs the hub's spawn time, so only
 * `deno task bench:peers`, which starts the hubs, measures it.
 *
 * `--relay URL` drives the bare relay of scripts/bench_peers.ts instead of a
 * hub (the ceiling: one POST in, one POST out, no XML parsed), with the
 * same clients and the same messages, pre-encoded as the hub would deliver
 * them. Routing travels in the query string:
 *
 * - `POST /fwd?to=URL`: answered at once, the body forwarded to URL;
 * - `POST /group?id=G` (body: URLs, one per line), then `POST /fan?group=G`:
 *   answered at once, the body forwarded to every URL of the group;
 * - `POST /wait?to=URL&id=N`: the body forwarded to URL, the answer held
 *   until `POST /done?id=N`, whose body becomes the answer.
 *
 * Exit status: 0 when every scenario ran with nothing lost and no errors,
 * 1 otherwise, 2 for bad flags.
 *
 * @module
 */

import process from "node:process";
import { findHub } from "../lib/client/discovery.ts";
import { SampFault } from "../lib/errors.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { createHttpPool, type HttpPool } from "../lib/transport/http_pool.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import { decodeCall, decodeResponse, encodeCall, encodeResponse } from "../lib/xmlrpc.ts";

// ---------------------------------------------------------------- options

/** Settings of one bench run. */
export interface BenchOptions {
  /** A few seconds in all, small client counts (CI smoke run). */
  quick: boolean;
  /** Print JSON instead of a table. */
  json: boolean;
  /** Seconds per scenario. */
  duration: number;
  /** The hub's process id, for RSS. */
  hubPid?: number;
  /** Drive the bare relay at this URL instead of a hub. */
  relay?: string;
  /** Lockfile path or URL instead of SAMP_HUB. */
  lockfile?: string;
  /** Repeat the whole load this many times (RSS after each round). */
  rounds: number;
  /** Run only these scenarios. */
  only?: string[];
}

const SCENARIOS = ["notify", "call", "callAndWait", "fanout50", "fanout200", "storm"] as const;
type ScenarioName = typeof SCENARIOS[number];

const USAGE = `usage: deno task bench [--quick] [--json] [--duration S] [--hub-pid PID]
                       [--rounds N] [--only a,b] [--lockfile FILE] [--relay URL]

Drives the SAMP hub found through SAMP_HUB (std-lockurl:file:///path) or ~/.samp.
Scenarios: ${SCENARIOS.join(", ")}.`;

class UsageError extends Error {}

/** Parses the command line. */
export function parseArgs(args: string[]): BenchOptions {
  const o: BenchOptions = { quick: false, json: false, duration: NaN, rounds: 1 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.startsWith("--") && a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const num = (min: number) => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag}: bad number ${v}`);
      return n;
    };
    switch (flag) {
      case "--quick":
        o.quick = true;
        break;
      case "--json":
        o.json = true;
        break;
      case "--duration":
        o.duration = num(0.1);
        break;
      case "--hub-pid":
        o.hubPid = num(1);
        break;
      case "--rounds":
        o.rounds = Math.floor(num(1));
        break;
      case "--relay":
        o.relay = value();
        break;
      case "--lockfile":
        o.lockfile = value();
        break;
      case "--only": {
        const names = value().split(",").map((s) => s.trim()).filter(Boolean);
        for (const n of names) {
          if (!(SCENARIOS as readonly string[]).includes(n)) {
            throw new UsageError(`--only: unknown scenario ${n} (${SCENARIOS.join(", ")})`);
          }
        }
        o.only = names;
        break;
      }
      case "-h":
      case "--help":
        throw new UsageError("");
      default:
        throw new UsageError(`unknown argument ${a}`);
    }
  }
  if (Number.isNaN(o.duration)) o.duration = o.quick ? 0.4 : 5;
  return o;
}

/** Client counts and windows per scenario. */
function sizes(quick: boolean) {
  return quick
    ? {
      notify: { senders: 2, window: 4, receivers: 2 },
      call: { senders: 2, window: 4, receivers: 2 },
      fanWindow: 2,
      stormWorkers: 4,
      msgTimeoutMs: 5000,
    }
    : {
      notify: { senders: 4, window: 8, receivers: 4 },
      call: { senders: 4, window: 8, receivers: 4 },
      fanWindow: 4,
      stormWorkers: 8,
      msgTimeoutMs: 30000,
    };
}

// ---------------------------------------------------------------- fast callback parsing

const EMPTY_RESPONSE = encodeResponse("");
const XML_HEADERS = { "content-type": "text/xml" };
const RPC_TIMEOUT_MS = 60000;
/** Quiet time after each round before reading the hub's RSS "after". */
export const SETTLE_MS = 5000;

/** The timeout a callAndWait asks the hub for. */
const SYNC_TIMEOUT_MS = 20000;

/** What a receiver needs from a client callback. */
interface Callback {
  method: string;
  /** Leading scalar params (private-key, sender/responder id, msg-id/msg-tag). */
  args: string[];
  /** `seq` from the message params (or the response result). */
  seq?: string;
  /** `id` from a hub event's params. */
  id?: string;
  /** The MType of a message. */
  mtype?: string;
  /** For receiveResponse: whether samp.status is samp.ok. */
  ok?: boolean;
}

/** How many callbacks needed the full decoder (the fast scanner gave up). */
let slowParses = 0;

function unxml(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] === "#") {
      return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    }
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e as "lt"];
  });
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Reads the string held by the `<value>` at `pos`: `<value><string>x</string></value>`,
 * `<value>x</value>` (JSAMP's bare strings) or an empty value. Returns the
 * string and the position after it, or null for anything else.
 */
function scalarAt(xml: string, pos: number): [string, number] | null {
  if (xml.startsWith("<value/>", pos)) return ["", pos + 8];
  if (!xml.startsWith("<value>", pos)) return null;
  const p = pos + 7;
  let q = p;
  while (isSpace(xml.charCodeAt(q))) q++;
  if (xml.startsWith("<string>", q)) {
    const e = xml.indexOf("</string>", q + 8);
    if (e < 0) return null;
    return [unxml(xml.slice(q + 8, e)), e + 9];
  }
  if (xml.startsWith("<string/>", q)) return ["", q + 9];
  const e = xml.indexOf("</value>", p);
  if (e < 0) return null;
  const text = xml.slice(p, e);
  if (text.indexOf("<") >= 0) return null;
  return [unxml(text), e + 8];
}

/** The string value of the struct member `name`, searched from `from`. */
function memberAt(xml: string, name: string, from = 0): string | undefined {
  const i = xml.indexOf(`<name>${name}</name>`, from);
  if (i < 0) return undefined;
  const v = xml.indexOf("<value", i);
  if (v < 0) return undefined;
  return scalarAt(xml, v)?.[0];
}

/** Scans a callback without building it (only the parts the bench reads). */
function fastParse(xml: string, nargs: number): Callback | null {
  const m0 = xml.indexOf("<methodName>");
  const m1 = xml.indexOf("</methodName>", m0);
  if (m0 < 0 || m1 < 0) return null;
  const method = xml.slice(m0 + 12, m1).trim();
  let pos = xml.indexOf("<params>", m1);
  if (pos < 0) return null;
  const args: string[] = [];
  for (let i = 0; i < nargs; i++) {
    pos = xml.indexOf("<param>", pos);
    if (pos < 0) return null;
    pos = xml.indexOf("<value", pos);
    if (pos < 0) return null;
    const v = scalarAt(xml, pos);
    if (!v) return null;
    args.push(v[0]);
    pos = v[1];
  }
  const cb: Callback = { method, args };
  cb.mtype = memberAt(xml, "samp.mtype", pos);
  cb.seq = memberAt(xml, "seq", pos);
  cb.id = memberAt(xml, "id", pos);
  if (method === "samp.client.receiveResponse") {
    cb.ok = memberAt(xml, "samp.status", pos) === "samp.ok";
  }
  // A message without the members the bench needs goes to the full decoder.
  if (method !== "samp.client.receiveResponse" && cb.mtype === undefined) return null;
  return cb;
}

function str(v: SampValue | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function map(v: SampValue | undefined): SampMap {
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}

/** The same, with the full XML-RPC decoder. */
function slowParse(xml: string): Callback {
  slowParses++;
  const call = decodeCall(xml);
  const p = call.params;
  const cb: Callback = { method: call.method, args: [] };
  const nargs = call.method === "samp.client.receiveNotification" ? 2 : 3;
  for (let i = 0; i < nargs; i++) cb.args.push(str(p[i]) ?? "");
  const body = map(p[nargs]);
  if (call.method === "samp.client.receiveResponse") {
    cb.ok = body["samp.status"] === "samp.ok";
    cb.seq = str(map(body["samp.result"]).seq);
  } else {
    cb.mtype = str(body["samp.mtype"]);
    const params = map(body["samp.params"]);
    cb.seq = str(params.seq);
    cb.id = str(params.id);
  }
  return cb;
}

function parseCallback(xml: string): Callback {
  const nargs = xml.indexOf("samp.client.receiveNotification") >= 0 ? 2 : 3;
  return fastParse(xml, nargs) ?? slowParse(xml);
}

// ---------------------------------------------------------------- clients and targets

/** A bench client: its ids, and (when callable) a callback server with handlers. */
class BenchClient {
  id = "";
  key = "";
  url = "";
  index: number;
  server?: Deno.HttpServer<Deno.NetAddr>;
  onNotification?: (sender: string, cb: Callback) => void;
  onCall?: (sender: string, msgId: string, cb: Callback) => void;
  onResponse?: (responder: string, tag: string, cb: Callback) => void;
  /** Callbacks that could not be handled (parse failures, unknown methods). */
  bad = 0;

  constructor(index: number) {
    this.index = index;
  }

  listen(): string {
    this.server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        const body = await req.text();
        try {
          const cb = parseCallback(body);
          switch (cb.method) {
            case "samp.client.receiveNotification":
              this.onNotification?.(cb.args[1], cb);
              break;
            case "samp.client.receiveCall":
              this.onCall?.(cb.args[1], cb.args[2], cb);
              break;
            case "samp.client.receiveResponse":
              this.onResponse?.(cb.args[1], cb.args[2], cb);
              break;
            default:
              this.bad++;
          }
        } catch {
          this.bad++;
        }
        return new Response(EMPTY_RESPONSE, { headers: XML_HEADERS });
      },
    );
    this.url = `http://127.0.0.1:${this.server.addr.port}/xmlrpc`;
    return this.url;
  }

  async shutdown(): Promise<void> {
    await this.server?.shutdown();
    this.server = undefined;
  }
}

interface RegisterOptions {
  callable?: boolean;
  subscriptions?: SampMap;
  name?: string;
}

/** What the scenarios drive: a SAMP hub, or the bare relay. */
interface Target {
  readonly kind: "hub" | "relay";
  readonly description: string;
  register(opts?: RegisterOptions): Promise<BenchClient>;
  unregister(c: BenchClient): Promise<void>;
  notify(from: BenchClient, to: BenchClient, msg: SampMap): Promise<void>;
  /** Returns how many recipients the hub named. */
  notifyAll(from: BenchClient, msg: SampMap, recipients: BenchClient[]): Promise<number>;
  call(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): Promise<void>;
  callAndWait(from: BenchClient, to: BenchClient, msg: SampMap): Promise<SampMap>;
  reply(by: BenchClient, sender: string, msgId: string, response: SampMap): Promise<void>;
  /** Registration storm steps (hub only). */
  rawRegister?(): Promise<{ id: string; key: string }>;
  rawCall?(method: string, params: SampValue[]): Promise<SampValue>;
  /** Closes the target's connections. */
  close(): void;
}

class HubTarget implements Target {
  readonly kind = "hub";
  description: string;
  #n = 0;

  /** The bench's clients call the hub through keep-alive connections of their own. */
  readonly #pool: HttpPool = createHttpPool({ maxIdlePerOrigin: 256 });

  constructor(readonly url: string, readonly secret: string, description: string) {
    this.description = description;
  }

  close(): void {
    this.#pool.close();
  }

  rawCall(method: string, params: SampValue[]): Promise<SampValue> {
    return xmlrpcRequest(this.url, method, params, {
      timeoutMs: RPC_TIMEOUT_MS,
      pool: this.#pool,
    });
  }

  async rawRegister(): Promise<{ id: string; key: string; hubId: string }> {
    const info = map(await this.rawCall("samp.hub.register", [this.secret]));
    const id = str(info["samp.self-id"]);
    const key = str(info["samp.private-key"]);
    if (!id || !key) throw new Error(`samp.hub.register answered ${JSON.stringify(info)}`);
    return { id, key, hubId: str(info["samp.hub-id"]) ?? "hub" };
  }

  async register(opts: RegisterOptions = {}): Promise<BenchClient> {
    const c = new BenchClient(this.#n++);
    const { id, key } = await this.rawRegister();
    c.id = id;
    c.key = key;
    try {
      await this.rawCall("samp.hub.declareMetadata", [key, {
        "samp.name": opts.name ?? `bench-${c.index}`,
      }]);
      if (opts.callable ?? true) {
        await this.rawCall("samp.hub.setXmlrpcCallback", [key, c.listen()]);
      }
      if (opts.subscriptions) {
        await this.rawCall("samp.hub.declareSubscriptions", [key, opts.subscriptions]);
      }
    } catch (e) {
      await this.unregister(c).catch(() => {});
      throw e;
    }
    return c;
  }

  async unregister(c: BenchClient): Promise<void> {
    try {
      await this.rawCall("samp.hub.unregister", [c.key]);
    } finally {
      await c.shutdown();
    }
  }

  async notify(from: BenchClient, to: BenchClient, msg: SampMap): Promise<void> {
    await this.rawCall("samp.hub.notify", [from.key, to.id, msg]);
  }

  async notifyAll(from: BenchClient, msg: SampMap): Promise<number> {
    const ids = await this.rawCall("samp.hub.notifyAll", [from.key, msg]);
    return Array.isArray(ids) ? ids.length : -1;
  }

  async call(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): Promise<void> {
    await this.rawCall("samp.hub.call", [from.key, to.id, tag, msg]);
  }

  async callAndWait(from: BenchClient, to: BenchClient, msg: SampMap): Promise<SampMap> {
    const timeout = String(Math.ceil(SYNC_TIMEOUT_MS / 1000));
    return map(await this.rawCall("samp.hub.callAndWait", [from.key, to.id, msg, timeout]));
  }

  async reply(by: BenchClient, _sender: string, msgId: string, response: SampMap): Promise<void> {
    await this.rawCall("samp.hub.reply", [by.key, msgId, response]);
  }
}

/** The bare relay: same clients, messages pre-encoded as a hub would deliver them. */
class RelayTarget implements Target {
  readonly kind = "relay";
  readonly description: string;
  #n = 0;
  #clients = new Map<string, BenchClient>();
  #groups = new Map<BenchClient[], string>();
  #wait = 0;

  constructor(readonly url: string) {
    this.url = url.replace(/\/+$/, "");
    this.description = `bare relay at ${this.url}`;
  }

  readonly #pool: HttpPool = createHttpPool({ maxIdlePerOrigin: 256 });

  close(): void {
    this.#pool.close();
  }

  async #post(path: string, body: string): Promise<string> {
    const res = await this.#pool.post(this.url + path, body, {
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    if (res.status !== 200) throw new Error(`relay ${path}: HTTP ${res.status} ${res.body.trim()}`);
    return res.body;
  }

  register(opts: RegisterOptions = {}): Promise<BenchClient> {
    const c = new BenchClient(this.#n++);
    c.id = `r${c.index}`;
    c.key = `rk${c.index}`;
    if (opts.callable ?? true) c.listen();
    this.#clients.set(c.id, c);
    return Promise.resolve(c);
  }

  async unregister(c: BenchClient): Promise<void> {
    this.#clients.delete(c.id);
    await c.shutdown();
  }

  async notify(from: BenchClient, to: BenchClient, msg: SampMap): Promise<void> {
    const body = encodeCall("samp.client.receiveNotification", [to.key, from.id, msg]);
    await this.#post(`/fwd?to=${encodeURIComponent(to.url)}`, body);
  }

  async notifyAll(from: BenchClient, msg: SampMap, recipients: BenchClient[]): Promise<number> {
    let group = this.#groups.get(recipients);
    if (!group) {
      group = `g${this.#groups.size}`;
      await this.#post(`/group?id=${group}`, recipients.map((r) => r.url).join("\n"));
      this.#groups.set(recipients, group);
    }
    const body = encodeCall("samp.client.receiveNotification", ["rk", from.id, msg]);
    await this.#post(`/fan?group=${group}`, body);
    return recipients.length;
  }

  async call(from: BenchClient, to: BenchClient, tag: string, msg: SampMap): Promise<void> {
    const body = encodeCall("samp.client.receiveCall", [to.key, from.id, `a${tag}`, msg]);
    await this.#post(`/fwd?to=${encodeURIComponent(to.url)}`, body);
  }

  async callAndWait(from: BenchClient, to: BenchClient, msg: SampMap): Promise<SampMap> {
    const n = this.#wait++;
    const body = encodeCall("samp.client.receiveCall", [to.key, from.id, `w${n}`, msg]);
    const text = await this.#post(`/wait?to=${encodeURIComponent(to.url)}&id=${n}`, body);
    const r = decodeResponse(text);
    if (!r.ok) throw new SampFault(r.message, r.code);
    return map(r.value);
  }

  async reply(_by: BenchClient, sender: string, msgId: string, response: SampMap): Promise<void> {
    if (msgId.startsWith("w")) {
      await this.#post(`/done?id=${msgId.slice(1)}`, encodeResponse(response));
      return;
    }
    const to = this.#clients.get(sender);
    if (!to) throw new Error(`relay reply: unknown sender ${sender}`);
    const body = encodeCall("samp.client.receiveResponse", [to.key, _by.id, msgId.slice(1), {
      ...response,
    }]);
    await this.#post(`/fwd?to=${encodeURIComponent(to.url)}`, body);
  }
}

// ---------------------------------------------------------------- tracking

interface Track {
  need: number;
  got: number;
  by?: Uint8Array;
  done: boolean;
  failed: boolean;
  resolve?: (ok: boolean) => void;
  t0: number;
}

/** Counts receipts per sequence number; a message completes when all its recipients have it. */
class Tracker {
  #seq = 0;
  readonly #tracks = new Map<number, Track>();
  expected = 0;
  received = 0;
  duplicates = 0;
  unexpected = 0;
  timedOut = 0;
  completed = 0;
  #sweeper: ReturnType<typeof setInterval>;

  constructor(readonly timeoutMs: number) {
    this.#sweeper = setInterval(() => this.#sweep(), 200);
  }

  /** A new message for `need` recipients; `wait` resolves when all have it (false: timed out). */
  open(need: number, perRecipient = false): { seq: number; wait: Promise<boolean> } {
    const seq = ++this.#seq;
    const t: Track = {
      need,
      got: 0,
      by: perRecipient ? new Uint8Array(need) : undefined,
      done: false,
      failed: false,
      t0: performance.now(),
    };
    this.#tracks.set(seq, t);
    this.expected += need;
    const wait = new Promise<boolean>((resolve) => (t.resolve = resolve));
    return { seq, wait };
  }

  /** The send failed: nothing is expected for it. */
  cancel(seq: number): void {
    const t = this.#tracks.get(seq);
    if (!t || t.done) return;
    this.expected -= t.need;
    t.done = true;
    t.failed = true;
    t.resolve?.(false);
  }

  receipt(seqText: string | undefined, recipient = 0): void {
    const seq = Number(seqText);
    const t = seqText === undefined ? undefined : this.#tracks.get(seq);
    if (!t || t.failed) {
      this.unexpected++;
      return;
    }
    if (t.by) {
      if (recipient >= t.need || t.by[recipient]) {
        this.duplicates++;
        return;
      }
      t.by[recipient] = 1;
    } else if (t.got >= t.need) {
      this.duplicates++;
      return;
    }
    t.got++;
    this.received++;
    if (t.got === t.need && !t.done) {
      t.done = true;
      t.by = undefined;
      this.completed++;
      t.resolve?.(true);
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const t of this.#tracks.values()) {
      if (!t.done && now - t.t0 > this.timeoutMs) {
        t.done = true;
        this.timedOut++;
        t.resolve?.(false);
      }
    }
  }

  get lost(): number {
    return this.expected - this.received;
  }

  close(): void {
    clearInterval(this.#sweeper);
  }
}

// ---------------------------------------------------------------- results

/** One scenario's outcome. */
export interface ScenarioResult {
  name: ScenarioName;
  label: string;
  /** The headline rate and its unit. */
  rate: number;
  unit: string;
  seconds: number;
  /** Messages (or storm cycles) the hub accepted. */
  sent: number;
  /** Deliveries expected, received, lost (expected − received), duplicated. */
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Hub faults and transport failures. */
  errors: number;
  errorSamples: string[];
  p50Ms?: number;
  p99Ms?: number;
  /** Further figures (e.g. msg/s of a fan-out). */
  extra?: Record<string, number>;
  /** Why the scenario did not run. */
  skipped?: string;
  /** Peak hub RSS during the scenario, in KiB. */
  rssPeakKiB?: number | null;
  /** CPU use over the scenario (set-up included), in % of one core: the hub's and the bench's. */
  cpu?: { hubPct: number | null; benchPct: number };
}

/** RSS figures in KiB (null: unknown). */
export interface RssResult {
  idleKiB: number | null;
  loadKiB: number | null;
  afterKiB: number | null;
  afterRoundsKiB: (number | null)[];
}

/** The whole report (`--json`). */
export interface BenchReport {
  target: { kind: "hub" | "relay"; url: string; name?: string; pid?: number };
  settings: {
    quick: boolean;
    durationS: number;
    rounds: number;
    sizes: ReturnType<typeof sizes>;
  };
  /** Results of the first round. */
  scenarios: ScenarioResult[];
  /** Results of every round. */
  rounds: ScenarioResult[][];
  rss: RssResult;
  /** Callbacks the fast scanner handed to the full decoder. */
  slowParses: number;
  lost: number;
  errors: number;
  ok: boolean;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

class Errors {
  count = 0;
  samples: string[] = [];
  add(e: unknown): void {
    this.count++;
    if (this.samples.length < 5) {
      this.samples.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  }
}

// ---------------------------------------------------------------- RSS

/**
 * VmRSS of a process in KiB, or null when unknown (not Linux, no such
 * process). Deno refuses to read /proc/<pid> without --allow-all, so this
 * runs `cat /proc/<pid>/status` (--allow-run=cat).
 */
export async function readRssKiB(pid: number | undefined): Promise<number | null> {
  const text = await readProc(pid, "status");
  const m = text === null ? null : /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** The text of /proc/<pid>/<file>, or null when it cannot be read (not Linux, process gone). */
async function readProc(pid: number | undefined, file: string): Promise<string | null> {
  if (pid === undefined || Deno.build.os !== "linux") return null;
  try {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${pid}/${file}`],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) a process has used, or its children it has
 * waited for, from /proc/<pid>/stat; null when unknown.
 */
export async function readCpuSeconds(
  pid: number | undefined,
  of: "self" | "children" = "self",
): Promise<number | null> {
  const text = await readProc(pid, "stat");
  if (text === null) return null;
  // Fields after the parenthesised command name: utime and stime are the
  // 14th and 15th, cutime and cstime (children waited for) the 16th and 17th.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const i = of === "self" ? 11 : 13;
  return (Number(f[i]) + Number(f[i + 1])) / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** CPU seconds this process has used. */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

class RssSampler {
  peak: number | null = null;
  #timer?: ReturnType<typeof setInterval>;
  constructor(readonly pid: number | undefined) {}
  start(): void {
    if (this.pid === undefined || this.#timer !== undefined) return;
    let busy = false;
    this.#timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      const v = await readRssKiB(this.pid);
      busy = false;
      if (v !== null && (this.peak === null || v > this.peak)) this.peak = v;
    }, 100);
  }
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

// ---------------------------------------------------------------- scenarios

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `n` at a time. */
async function inParallel<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

interface Ctx {
  target: Target;
  opts: BenchOptions;
  sizes: ReturnType<typeof sizes>;
  run: string;
}

function message(mtype: string, seq: number): SampMap {
  return { "samp.mtype": mtype, "samp.params": { seq: String(seq) } };
}

async function withClients<T>(
  ctx: Ctx,
  specs: RegisterOptions[],
  fn: (clients: BenchClient[]) => Promise<T>,
): Promise<T> {
  // In the order of `specs`, whatever order the registrations finish in.
  const clients: (BenchClient | undefined)[] = new Array(specs.length);
  try {
    await inParallel(specs.map((s, i) => [s, i] as const), 8, async ([s, i]) => {
      clients[i] = await ctx.target.register(s);
    });
    return await fn(clients as BenchClient[]);
  } finally {
    const registered = clients.filter((c): c is BenchClient => c !== undefined);
    await inParallel(registered, 8, (c) => ctx.target.unregister(c).catch(() => {}));
  }
}

/** Keeps `window` messages in flight until the deadline; each `send` is awaited, then its delivery. */
async function closedLoop(
  tracker: Tracker,
  errors: Errors,
  deadline: number,
  window: number,
  need: number,
  perRecipient: boolean,
  send: (seq: number) => Promise<void>,
): Promise<number> {
  let sent = 0;
  const lane = async () => {
    while (performance.now() < deadline) {
      const { seq, wait } = tracker.open(need, perRecipient);
      try {
        await send(seq);
        sent++;
      } catch (e) {
        tracker.cancel(seq);
        errors.add(e);
        await sleep(10);
        continue;
      }
      await wait;
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return sent;
}

function result(
  name: ScenarioName,
  label: string,
  tracker: Tracker,
  errors: Errors,
  sent: number,
  seconds: number,
  rate: number,
  unit: string,
  extra?: Record<string, number>,
): ScenarioResult {
  const errs = errors.count + tracker.unexpected + tracker.duplicates;
  if (tracker.unexpected) errors.samples.push(`${tracker.unexpected} unexpected callbacks`);
  if (tracker.duplicates) errors.samples.push(`${tracker.duplicates} duplicate deliveries`);
  return {
    name,
    label,
    rate,
    unit,
    seconds,
    sent,
    expected: tracker.expected,
    received: tracker.received,
    lost: tracker.lost,
    duplicates: tracker.duplicates,
    errors: errs,
    errorSamples: errors.samples,
    extra,
  };
}

async function notifyScenario(ctx: Ctx): Promise<ScenarioResult> {
  const { senders, window, receivers } = ctx.sizes.notify;
  const mtype = `bench.${ctx.run}.notify`;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new Errors();
  try {
    return await withClients(
      ctx,
      [
        ...Array.from({ length: senders }, () => ({ callable: false })),
        ...Array.from({ length: receivers }, () => ({ subscriptions: { [mtype]: {} } })),
      ],
      async (clients) => {
        const from = clients.filter((c) => !c.server);
        const to = clients.filter((c) => c.server);
        for (const r of to) r.onNotification = (_s, cb) => tracker.receipt(cb.seq);
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        let rr = 0;
        const sent = (await Promise.all(from.map((s) =>
          closedLoop(tracker, errors, deadline, window, 1, false, (seq) => {
            const r = to[rr++ % to.length];
            return ctx.target.notify(s, r, message(mtype, seq));
          })
        ))).reduce((a, b) =>
          a + b, 0);
        const seconds = (performance.now() - t0) / 1000;
        return result(
          "notify",
          `notify (${senders} senders × ${window} in flight → ${receivers} receivers)`,
          tracker,
          errors,
          sent,
          seconds,
          tracker.completed / seconds,
          "msg/s",
        );
      },
    );
  } finally {
    tracker.close();
  }
}

async function callScenario(ctx: Ctx): Promise<ScenarioResult> {
  const { senders, window, receivers } = ctx.sizes.call;
  const mtype = `bench.${ctx.run}.call`;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new Errors();
  let callsIn = 0;
  try {
    return await withClients(
      ctx,
      [
        ...Array.from({ length: senders }, () => ({ name: "sender" })),
        ...Array.from({ length: receivers }, () => ({ subscriptions: { [mtype]: {} } })),
      ],
      async (clients) => {
        const from = clients.slice(0, senders);
        const to = clients.slice(senders);
        for (const s of from) {
          s.onResponse = (_r, tag, cb) => {
            if (!cb.ok || (cb.seq !== undefined && cb.seq !== tag)) {
              errors.add(new Error(`bad response for tag ${tag}: ok=${cb.ok} seq=${cb.seq}`));
            }
            tracker.receipt(tag);
          };
        }
        for (const r of to) {
          r.onCall = (sender, msgId, cb) => {
            callsIn++;
            ctx.target.reply(r, sender, msgId, {
              "samp.status": "samp.ok",
              "samp.result": { seq: cb.seq ?? "" },
            }).catch((e) => errors.add(e));
          };
        }
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        let rr = 0;
        const sent = (await Promise.all(from.map((s) =>
          closedLoop(tracker, errors, deadline, window, 1, false, (seq) => {
            const r = to[rr++ % to.length];
            return ctx.target.call(s, r, String(seq), message(mtype, seq));
          })
        ))).reduce((a, b) =>
          a + b, 0);
        const seconds = (performance.now() - t0) / 1000;
        return result(
          "call",
          `call→reply (${senders} callers × ${window} in flight → ${receivers} responders)`,
          tracker,
          errors,
          sent,
          seconds,
          tracker.completed / seconds,
          "calls/s",
          { callsDelivered: callsIn },
        );
      },
    );
  } finally {
    tracker.close();
  }
}

async function callAndWaitScenario(ctx: Ctx): Promise<ScenarioResult> {
  const mtype = `bench.${ctx.run}.sync`;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new Errors();
  try {
    return await withClients(
      ctx,
      [{ callable: false, name: "caller" }, { subscriptions: { [mtype]: {} } }],
      async ([from, to]) => {
        to.onCall = (sender, msgId, cb) => {
          ctx.target.reply(to, sender, msgId, {
            "samp.status": "samp.ok",
            "samp.result": { seq: cb.seq ?? "" },
          }).catch((e) => errors.add(e));
        };
        const latencies: number[] = [];
        let sent = 0;
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        while (performance.now() < deadline) {
          const { seq } = tracker.open(1);
          const start = performance.now();
          try {
            const r = await ctx.target.callAndWait(from, to, message(mtype, seq));
            latencies.push(performance.now() - start);
            sent++;
            const got = str(map(r["samp.result"]).seq);
            if (r["samp.status"] !== "samp.ok") {
              errors.add(new Error(`callAndWait answered ${JSON.stringify(r)}`));
            } else {
              tracker.receipt(got);
            }
          } catch (e) {
            // No response (a hub timeout, a transport failure): the message is lost.
            errors.add(e);
          }
        }
        const seconds = (performance.now() - t0) / 1000;
        latencies.sort((a, b) => a - b);
        const res = result(
          "callAndWait",
          "callAndWait (1 caller, 1 in flight)",
          tracker,
          errors,
          sent,
          seconds,
          tracker.completed / seconds,
          "calls/s",
        );
        res.p50Ms = percentile(latencies, 0.5);
        res.p99Ms = percentile(latencies, 0.99);
        return res;
      },
    );
  } finally {
    tracker.close();
  }
}

async function fanoutScenario(ctx: Ctx, n: 50 | 200): Promise<ScenarioResult> {
  const mtype = `bench.${ctx.run}.fan${n}`;
  const window = ctx.sizes.fanWindow;
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  const errors = new Errors();
  try {
    return await withClients(
      ctx,
      [
        { callable: false, name: "broadcaster" },
        ...Array.from({ length: n }, () => ({ subscriptions: { [mtype]: {} } })),
      ],
      async (clients) => {
        const from = clients.find((c) => !c.server)!;
        const to = clients.filter((c) => c.server);
        to.forEach((r, i) => r.onNotification = (_s, cb) => tracker.receipt(cb.seq, i));
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        const sent = await closedLoop(tracker, errors, deadline, window, n, true, async (seq) => {
          const count = await ctx.target.notifyAll(from, message(mtype, seq), to);
          if (count !== n) {
            throw new Error(`notifyAll named ${count} recipients, not the ${n} subscribed`);
          }
        });
        const seconds = (performance.now() - t0) / 1000;
        return result(
          n === 50 ? "fanout50" : "fanout200",
          `notifyAll fan-out to ${n} (${window} in flight)`,
          tracker,
          errors,
          sent,
          seconds,
          tracker.received / seconds,
          "deliveries/s",
          { messagesPerSecond: tracker.completed / seconds },
        );
      },
    );
  } finally {
    tracker.close();
  }
}

async function stormScenario(ctx: Ctx): Promise<ScenarioResult> {
  const label = `registration storm (${ctx.sizes.stormWorkers} concurrent: register, ` +
    "declareMetadata, unregister)";
  const target = ctx.target;
  const errors = new Errors();
  const tracker = new Tracker(ctx.sizes.msgTimeoutMs);
  if (!target.rawRegister || !target.rawCall) {
    tracker.close();
    return {
      ...result("storm", label, tracker, errors, 0, 0, NaN, "cycles/s"),
      skipped: "not applicable to the relay",
    };
  }
  const rawRegister = target.rawRegister.bind(target);
  const rawCall = target.rawCall.bind(target);
  // The observer must see one register and one unregister event per cycle.
  const events = new Map<string, { reg?: () => void; unreg?: () => void; early: string[] }>();
  const note = (id: string | undefined, kind: "register" | "unregister") => {
    if (id === undefined) return tracker.receipt(undefined);
    let e = events.get(id);
    if (!e) events.set(id, e = { early: [] });
    const fire = kind === "register" ? e.reg : e.unreg;
    if (fire) fire();
    else e.early.push(kind);
  };
  try {
    return await withClients(
      ctx,
      [{
        name: "observer",
        subscriptions: { "samp.hub.event.register": {}, "samp.hub.event.unregister": {} },
      }],
      async ([observer]) => {
        observer.onNotification = (_s, cb) => {
          if (cb.mtype === "samp.hub.event.register") note(cb.id, "register");
          else if (cb.mtype === "samp.hub.event.unregister") note(cb.id, "unregister");
        };
        const cycles: number[] = [];
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.duration * 1000;
        const worker = async (w: number) => {
          while (performance.now() < deadline) {
            const start = performance.now();
            let id: string | undefined;
            try {
              const r = await rawRegister();
              id = r.id;
              // Tie this client's two events to one tracked message of 2 receipts.
              const { seq, wait } = tracker.open(2);
              let e = events.get(id);
              if (!e) events.set(id, e = { early: [] });
              e.reg = () => tracker.receipt(String(seq));
              e.unreg = () => tracker.receipt(String(seq));
              for (const k of e.early.splice(0)) (k === "register" ? e.reg : e.unreg)();
              await rawCall("samp.hub.declareMetadata", [r.key, {
                "samp.name": `storm-${w}`,
                "samp.description.text": "registration storm",
              }]);
              await rawCall("samp.hub.unregister", [r.key]);
              // Closed loop, as elsewhere: the cycle ends when the observer has both events.
              await wait;
              cycles.push(performance.now() - start);
            } catch (e) {
              errors.add(e);
              await sleep(10);
            }
          }
        };
        await Promise.all(Array.from({ length: ctx.sizes.stormWorkers }, (_, w) => worker(w)));
        const seconds = (performance.now() - t0) / 1000;
        cycles.sort((a, b) => a - b);
        const res = result(
          "storm",
          label,
          tracker,
          errors,
          cycles.length,
          seconds,
          cycles.length / seconds,
          "cycles/s",
          { eventsExpected: tracker.expected, eventsReceived: tracker.received },
        );
        res.p50Ms = percentile(cycles, 0.5);
        res.p99Ms = percentile(cycles, 0.99);
        return res;
      },
    );
  } finally {
    tracker.close();
  }
}

const RUNNERS: Record<ScenarioName, (ctx: Ctx) => Promise<ScenarioResult>> = {
  notify: notifyScenario,
  call: callScenario,
  callAndWait: callAndWaitScenario,
  fanout50: (ctx) => fanoutScenario(ctx, 50),
  fanout200: (ctx) => fanoutScenario(ctx, 200),
  storm: stormScenario,
};

// ---------------------------------------------------------------- the run

async function connect(opts: BenchOptions): Promise<{ target: Target; name?: string }> {
  if (opts.relay) return { target: new RelayTarget(opts.relay) };
  const { lock, location } = await findHub({ lockfile: opts.lockfile });
  const target = new HubTarget(lock.xmlrpcUrl, lock.secret, `hub at ${lock.xmlrpcUrl}`);
  // The hub's name, for the report (optional).
  let name: string | undefined;
  try {
    const { key, hubId } = await target.rawRegister();
    try {
      name = str(map(await target.rawCall("samp.hub.getMetadata", [key, hubId]))["samp.name"]);
    } finally {
      await target.rawCall("samp.hub.unregister", [key]);
    }
  } catch { /* unnamed */ }
  target.description = `${name ?? "SAMP hub"} at ${lock.xmlrpcUrl} (lockfile ${location})`;
  return { target, name };
}

/** Runs every scenario `opts.rounds` times against the target and returns the report. */
export async function runBench(
  opts: BenchOptions,
  log: (line: string) => void = () => {},
): Promise<BenchReport> {
  const { target, name } = await connect(opts);
  const sz = sizes(opts.quick);
  const names = (opts.only ?? SCENARIOS) as ScenarioName[];
  const rss: RssResult = {
    idleKiB: await readRssKiB(opts.hubPid),
    loadKiB: null,
    afterKiB: null,
    afterRoundsKiB: [],
  };
  let peak: number | null = null;
  const rounds: ScenarioResult[][] = [];
  const runId = Math.random().toString(36).slice(2, 8).replace(/[^a-z0-9]/g, "x");
  try {
    for (let round = 0; round < opts.rounds; round++) {
      const results: ScenarioResult[] = [];
      for (const n of names) {
        log(`round ${round + 1}/${opts.rounds}: ${n}…`);
        const sampler = new RssSampler(opts.hubPid);
        sampler.start();
        const hubCpu0 = await readCpuSeconds(opts.hubPid);
        const ownCpu0 = ownCpuSeconds();
        const t0 = performance.now();
        const ctx: Ctx = { target, opts, sizes: sz, run: `r${runId}${round}` };
        let r: ScenarioResult;
        try {
          r = await RUNNERS[n](ctx);
        } catch (e) {
          r = {
            name: n,
            label: n,
            rate: NaN,
            unit: "",
            seconds: 0,
            sent: 0,
            expected: 0,
            received: 0,
            lost: 0,
            duplicates: 0,
            errors: 1,
            errorSamples: [`the scenario failed: ${(e as Error).message}`],
          };
        } finally {
          sampler.stop();
        }
        const wall = (performance.now() - t0) / 1000;
        const hubCpu1 = await readCpuSeconds(opts.hubPid);
        if (!r.skipped) {
          r.cpu = {
            hubPct: hubCpu0 === null || hubCpu1 === null ? null : 100 * (hubCpu1 - hubCpu0) / wall,
            benchPct: 100 * (ownCpuSeconds() - ownCpu0) / wall,
          };
          r.rssPeakKiB = sampler.peak;
        }
        if (sampler.peak !== null && (peak === null || sampler.peak > peak)) peak = sampler.peak;
        results.push(r);
      }
      rounds.push(results);
      // Let the hub settle (pending callbacks, GC; ours compacts its heap
      // 2-3 s after the last request) before the "after" reading.
      await sleep(opts.quick ? 200 : SETTLE_MS);
      rss.afterRoundsKiB.push(await readRssKiB(opts.hubPid));
    }
  } finally {
    target.close();
  }
  rss.loadKiB = peak;
  rss.afterKiB = rss.afterRoundsKiB.at(-1) ?? null;
  const all = rounds.flat();
  const lost = all.reduce((a, r) => a + r.lost, 0);
  const errors = all.reduce((a, r) => a + r.errors, 0);
  return {
    target: {
      kind: target.kind,
      url: opts.relay ?? (target as HubTarget).url,
      name,
      pid: opts.hubPid,
    },
    settings: { quick: opts.quick, durationS: opts.duration, rounds: opts.rounds, sizes: sz },
    scenarios: rounds[0],
    rounds,
    rss,
    slowParses,
    lost,
    errors,
    ok: lost === 0 && errors === 0,
  };
}

// ---------------------------------------------------------------- output

function fmt(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return "n/a";
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** KiB as MiB text. */
export function mib(kib: number | null | undefined): string {
  return kib === null || kib === undefined ? "n/a" : `${fmt(kib / 1024, 1)} MiB`;
}

/** The report as a plain-text table. */
export function formatReport(r: BenchReport): string {
  const rows: string[][] = [[
    "scenario",
    "result",
    "lost",
    "errors",
    "hub CPU",
    "bench CPU",
    "hub RSS peak",
  ]];
  for (const s of r.scenarios) {
    let res = s.skipped ? `skipped: ${s.skipped}` : `${fmt(s.rate)} ${s.unit}`;
    if (!s.skipped && s.p50Ms !== undefined) {
      res += `, p50 ${fmt(s.p50Ms, 2)} ms, p99 ${fmt(s.p99Ms, 2)} ms`;
    }
    if (!s.skipped && s.extra?.messagesPerSecond !== undefined) {
      res += ` (${fmt(s.extra.messagesPerSecond)} msg/s)`;
    }
    rows.push([
      s.label,
      res,
      s.skipped ? "-" : String(s.lost),
      String(s.errors),
      s.cpu?.hubPct != null ? `${fmt(s.cpu.hubPct)}%` : "n/a",
      s.cpu ? `${fmt(s.cpu.benchPct)}%` : "n/a",
      mib(s.rssPeakKiB),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const out = [
    `SAMP bench: ${
      r.target.kind === "relay" ? "bare relay" : r.target.name ?? "hub"
    } at ${r.target.url}` +
    `${r.target.pid ? ` (pid ${r.target.pid})` : ""}; ${r.settings.durationS} s per scenario` +
    (r.settings.rounds > 1 ? `, round 1 of ${r.settings.rounds}` : ""),
    "",
    line(rows[0]),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
    "",
  ];
  const rss = r.rss;
  out.push(
    r.target.pid
      ? `hub RSS: idle ${mib(rss.idleKiB)}, under load (peak) ${mib(rss.loadKiB)}, after ${
        mib(rss.afterKiB)
      }` +
        (rss.afterRoundsKiB.length > 1
          ? `; after each round: ${rss.afterRoundsKiB.map(mib).join(", ")}`
          : "")
      : "hub RSS: n/a (pass --hub-pid PID, Linux)",
  );
  out.push(
    "start → ping: n/a here (the hub was already running; `deno task bench:peers` times it)",
  );
  for (const s of r.rounds.flat()) {
    for (const e of s.errorSamples) out.push(`error in ${s.name}: ${e}`);
  }
  out.push(
    r.ok
      ? "every message arrived: 0 lost"
      : `FAILED: ${r.lost} lost, ${r.errors} errors over ${r.settings.rounds} round(s)`,
  );
  return out.join("\n");
}

if (import.meta.main) {
  let opts: BenchOptions;
  try {
    opts = parseArgs(Deno.args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(`bench: ${e.message}`);
    console.error(USAGE);
    Deno.exit(e.message ? 2 : 0);
  }
  let report: BenchReport;
  try {
    report = await runBench(opts, opts.json ? () => {} : (l) => console.error(l));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    Deno.exit(1);
  }
  console.log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  Deno.exit(report.ok ? 0 : 1);
}

// Test helpers: run samp_hub as a subprocess with a private lockfile, and a
// minimal SAMP client (XML-RPC calls plus a callback server) to drive it.

import assert from "node:assert/strict";
import { SAMP_PERMISSIONS } from "../scripts/permissions.ts";
import { collectOutput, denoDir, hubRunArgs } from "../scripts/hubs.ts";
import { parseLockfile } from "../lib/lockfile.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import { createXmlRpcHandler } from "../lib/transport/xmlrpc_server.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import type { parseXml } from "../lib/_sax.ts";
import { readPlainCall } from "../lib/_xmlrpc_plain.ts";
import { decodeCallByEvents } from "../lib/xmlrpc.ts";

/** The Deno cache of this process (shared with the bench). */
export { denoDir };

export const ROOT = new URL("..", import.meta.url).pathname;
export const HUB_ENTRY = new URL("../hub.ts", import.meta.url).pathname;

/** `deno run` arguments for the `samp` command with exactly its baked permissions. */
export function sampRunArgs(args: string[]): string[] {
  return [
    "run",
    "--quiet",
    "--no-prompt",
    `--config=${ROOT}deno.json`,
    ...SAMP_PERMISSIONS,
    `${ROOT}lib/tools/main.ts`,
    ...args,
  ];
}

/** Waits until `check` returns a truthy value, polling; fails after `ms`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  ms = 5000,
  what = "condition",
): Promise<NonNullable<Awaited<T>>> {
  const end = Date.now() + ms;
  while (true) {
    const v = await check();
    if (v) return v as NonNullable<Awaited<T>>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface HubProcess {
  url: string;
  secret: string;
  lockfile: string;
  dir: string;
  child: Deno.ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for exit; returns the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** Waits for exit (bounded) and returns the code. */
  exited(ms?: number): Promise<number>;
}

/** Runs `deno run <HUB_PERMISSIONS> hub.ts …` with a private lockfile in a new temp dir. */
export async function spawnHub(
  args: string[] = [],
  opts: {
    dir?: string;
    lockfile?: string;
    env?: Record<string, string>;
    permissions?: readonly string[];
  } = {},
): Promise<HubProcess> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "samp-test-" });
  const lockfile = opts.lockfile ?? `${dir}/hub.samp`;
  const child = startHubProcess([...args, "--lockfile", lockfile], { ...opts, dir });
  const out = collect(child);
  const info = await waitFor(
    async () => {
      if (out.code !== undefined) {
        throw new Error(`samp_hub exited with ${out.code} before starting:\n${out.text()}`);
      }
      // The hub prints "lockfile: PATH" only after writing it, so an old
      // (stale) lockfile at the same path is never mistaken for the new one.
      if (!/^lockfile: /m.test(out.text())) return null;
      return parseLockfile(await Deno.readTextFile(lockfile));
    },
    15000,
    "the hub's lockfile",
  );
  return {
    url: info.xmlrpcUrl,
    secret: info.secret,
    lockfile,
    dir,
    child,
    output: out.text,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (out.code === undefined) {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      }
      return await out.wait(10000);
    },
    exited: (ms = 10000) => out.wait(ms),
  };
}

/**
 * Environment for a child process: the parent's, with HOME moved to `home`
 * (so nothing can touch the real ~/.samp), SAMP_HUB cleared and the Deno
 * cache kept.
 */
export function childEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DENO_DIR: denoDir(), HOME: home, SAMP_HUB: "", NO_COLOR: "1", ...extra };
}

/** Starts the hub entry with exactly the compiled permissions; the caller collects output. */
export function startHubProcess(
  args: string[],
  opts: { dir?: string; env?: Record<string, string>; permissions?: readonly string[] } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      ...hubRunArgs(opts.permissions),
      ...args,
      // Hubs in tests run side by side: only those that ask for the Web
      // Profile get one (on the port they name).
      ...(args.some((a) => a.startsWith("--web-port") || a === "--no-web-profile" || a === "-w")
        ? []
        : ["--no-web-profile"]),
    ],
    env: childEnv(opts.dir ?? "/nonexistent", opts.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Collects a child's stdout+stderr; `wait` resolves with its exit code (SIGKILL after `ms`). */
export const collect = collectOutput;

export interface Received {
  method: string;
  args: SampValue[];
}

/**
 * A bare SAMP test client: calls the hub by XML-RPC and records callbacks.
 * `onCall` decides the reply to receiveCall (default: echo params, ok).
 */
export class TestClient {
  received: Received[] = [];
  id = "";
  key = "";
  hubId = "";
  #server?: Deno.HttpServer<Deno.NetAddr>;
  #url: string;
  onCall?: (
    sender: string,
    msgId: string,
    message: SampMap,
  ) => SampMap | null | Promise<SampMap | null>;

  constructor(url: string) {
    this.#url = url;
  }

  static async register(hubUrl: string, secret: string, callable = true): Promise<TestClient> {
    const c = new TestClient(hubUrl);
    const info = await c.raw("samp.hub.register", [secret]) as SampMap;
    c.id = info["samp.self-id"] as string;
    c.key = info["samp.private-key"] as string;
    c.hubId = info["samp.hub-id"] as string;
    if (callable) await c.listen();
    return c;
  }

  raw(method: string, params: SampValue[]): Promise<SampValue> {
    return xmlrpcRequest(this.#url, method, params, { timeoutMs: 30000 });
  }

  hub(method: string, ...params: SampValue[]): Promise<SampValue> {
    return this.raw(`samp.hub.${method}`, [this.key, ...params]);
  }

  async listen(): Promise<void> {
    const handler = createXmlRpcHandler((method, params) => {
      const [, ...args] = params;
      this.received.push({ method: method.replace("samp.client.", ""), args });
      if (method === "samp.client.receiveCall") {
        const [sender, msgId, message] = args as [string, string, SampMap];
        queueMicrotask(async () => {
          const response = this.onCall
            ? await this.onCall(sender, msgId, message)
            : { "samp.status": "samp.ok", "samp.result": message["samp.params"] };
          if (response) await this.hub("reply", msgId, response).catch(() => {});
        });
      }
      return "";
    });
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
    await this.hub("setXmlrpcCallback", `http://127.0.0.1:${this.#server.addr.port}/xmlrpc`);
  }

  /** Messages received with the given callback and MType. */
  got(method: string, mtype?: string): Received[] {
    return this.received.filter((r) => {
      if (r.method !== method) return false;
      if (!mtype) return true;
      const msg = (method === "receiveCall" ? r.args[2] : r.args[1]) as SampMap;
      return msg?.["samp.mtype"] === mtype;
    });
  }

  async close(unregister = true): Promise<void> {
    if (unregister) await this.hub("unregister").catch(() => {});
    await this.#server?.shutdown();
    this.#server = undefined;
  }
}

/**
 * Sends a raw HTTP/1.1 request to the port of `url` on 127.0.0.1 and returns
 * the first chunk of the answer (fetch will not let a test forge or drop Host).
 */
export async function rawHttp(url: string, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  try {
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(8192);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

/** Whether a path exists (without following a final symlink). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * What an XML parse reported, for comparing the reader's two paths: events
 * as `+name`, `-name` and JSON text (adjacent pieces joined, empty ones
 * dropped, as handlers may see text split), then `error: message` if any.
 */
export function recordXml(parse: typeof parseXml, text: string): string[] {
  const out: string[] = [];
  const onText = (t: string) => {
    if (t === "") return;
    const last = out.length - 1;
    if (last >= 0 && out[last].startsWith('"')) {
      out[last] = JSON.stringify(JSON.parse(out[last]) + t);
    } else out.push(JSON.stringify(t));
  };
  try {
    parse(text, { onOpen: (n) => out.push(`+${n}`), onClose: (n) => out.push(`-${n}`), onText });
  } catch (e) {
    out.push(`error: ${(e as Error).message}`);
  }
  return out;
}

/**
 * Holds the direct call reader to the general decoder on `xml`: if the
 * reader reads it, it must give the general decoder's call, and each
 * parameter's span (passed on to recipients as the sender wrote it) must
 * decode, alone, to that parameter. Returns whether the reader read it.
 */
export function assertPlainCallAgrees(xml: string): boolean {
  const plain = readPlainCall(xml, 64);
  if (plain === null) return false;
  const where = `on ${JSON.stringify(xml.slice(0, 300))}`;
  assert.deepEqual({ method: plain.method, params: plain.params }, decodeCallByEvents(xml), where);
  plain.params.forEach((p, i) => {
    const span = xml.slice(plain.spans[2 * i], plain.spans[2 * i + 1]);
    const alone = decodeCallByEvents(
      `<methodCall><methodName>m</methodName><params><param>${span}</param></params></methodCall>`,
    ).params[0];
    assert.deepEqual(alone, p, `span ${i} ${where}`);
  });
  return true;
}

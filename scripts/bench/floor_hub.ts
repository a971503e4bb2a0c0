/**
 * A measuring stick, not a hub: the least a Deno hub must do to carry JSAMP's
 * CalcStorm (register, callbacks, metadata, subscriptions, notify, call,
 * callAndWait, reply, unregister), with raw `Deno.listen` and `Deno.connect`,
 * a one-pass XML-RPC reader and no checks, limits, timeouts, events or
 * logging. Its CPU under CalcStorm is the floor our hub's is compared with
 * (README, Performance): what the runtime and the kernel cost by themselves.
 * Never use it for anything else: it trusts every byte it is sent.
 *
 * `deno run -A scripts/bench/floor_hub.ts LOCKFILE` writes a lockfile there
 * and serves until killed.
 *
 * @module
 */

/** A value as CalcStorm sends it: strings, lists and maps. */
type Value = string | Value[] | { [key: string]: Value };

interface Client {
  id: string;
  key: string;
  callback?: { host: string; port: number; path: string };
  /** Callbacks in flight; at most 8, as our hub does, the rest queued. */
  active: number;
  queue: (() => Promise<void>)[];
}

/** A running floor hub. */
export interface FloorHub {
  /** Its XML-RPC URL. */
  readonly url: string;
  /** Stops listening, closes its connections, and resolves once they are all done. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.indexOf("&") < 0 ? s : s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e) => ENTITIES[e]);
}

function escapeXml(s: string): string {
  return s.replace(/[&<>]/g, (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;");
}

/** Reads the XML-RPC that JSAMP writes, tag by tag, trusting it. */
class Reader {
  i = 0;
  constructor(readonly s: string) {}
  tag(): string {
    const a = this.s.indexOf("<", this.i);
    const b = this.s.indexOf(">", a);
    this.i = b + 1;
    return this.s.slice(a + 1, b);
  }
  peek(): string {
    const a = this.s.indexOf("<", this.i);
    return this.s.slice(a + 1, this.s.indexOf(">", a));
  }
  text(): string {
    const a = this.s.indexOf("<", this.i);
    const t = this.s.slice(this.i, a);
    this.i = a;
    return unescapeXml(t);
  }
  /** A value, just after its `<value>`, through its `</value>`. */
  value(): Value {
    const t = this.peek();
    if (t === "/value") {
      const x = this.text();
      this.tag();
      return x;
    }
    if (t === "string/") {
      this.tag();
      this.tag();
      return "";
    }
    if (t === "struct") {
      this.tag();
      const map: Record<string, Value> = {};
      while (this.peek() === "member") {
        this.tag();
        this.tag();
        const name = this.text();
        this.tag();
        this.tag();
        map[name] = this.value();
        this.tag();
      }
      this.tag();
      this.tag();
      return map;
    }
    if (t === "array") {
      this.tag();
      this.tag();
      const list: Value[] = [];
      while (this.peek() === "value") {
        this.tag();
        list.push(this.value());
      }
      this.tag();
      this.tag();
      this.tag();
      return list;
    }
    // <string>, <int>, <i4>
    this.tag();
    const x = this.text();
    this.tag();
    this.tag();
    return x;
  }
}

function readCall(s: string): [string, Value[]] {
  const r = new Reader(s);
  while (r.tag() !== "methodName");
  const name = r.text();
  r.tag();
  const params: Value[] = [];
  for (;;) {
    const t = r.tag();
    if (t === "value") params.push(r.value());
    else if (t === "/params" || t === "params/" || t === "/methodCall") return [name, params];
  }
}

function valueXml(v: Value): string {
  if (typeof v === "string") return `<value>${escapeXml(v)}</value>`;
  if (Array.isArray(v)) {
    return `<value><array><data>${v.map(valueXml).join("")}</data></array></value>`;
  }
  let s = "<value><struct>";
  for (const k in v) s += `<member><name>${escapeXml(k)}</name>${valueXml(v[k])}</member>`;
  return s + "</struct></value>";
}

const answerXml = (v: Value): string =>
  `<?xml version="1.0"?><methodResponse><params><param>${
    valueXml(v)
  }</param></params></methodResponse>`;

const faultXml = (message: string): string =>
  `<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name>` +
  `<value><int>1</int></value></member><member><name>faultString</name>${
    valueXml(message)
  }</member></struct></value></fault></methodResponse>`;

/**
 * Starts a floor hub and writes its lockfile at `lockfile`.
 *
 * @example
 * ```ts ignore
 * import { serveFloorHub } from "./floor_hub.ts";
 * const hub = serveFloorHub("/tmp/floor.samp");
 * await hub.close();
 * ```
 */
export function serveFloorHub(lockfile: string): FloorHub {
  const secret = crypto.randomUUID();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}/xmlrpc`;
  Deno.writeTextFileSync(
    lockfile,
    `samp.secret=${secret}\nsamp.hub.xmlrpc.url=${url}\nsamp.profile.version=1.3\n`,
  );
  const byKey = new Map<string, Client>();
  const byId = new Map<string, Client>();
  const pending = new Map<string, { sender: Client; tag: string; wait?: (r: Value) => void }>();
  const conns = new Set<Deno.Conn>();
  const loops = new Set<Promise<void>>();
  let nextClient = 1;
  let nextMessage = 1;

  async function callback(c: Client, method: string, params: Value[]): Promise<void> {
    if (!c.callback) return;
    const { host, port, path } = c.callback;
    const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${
      params.map((p) => `<param>${valueXml(p)}</param>`).join("")
    }</params></methodCall>`;
    const bytes = encoder.encode(body);
    const conn = await Deno.connect({ hostname: host, port });
    try {
      await conn.write(encoder.encode(
        `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: text/xml\r\n` +
          `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`,
      ));
      const buf = new Uint8Array(4096);
      let n = 0;
      for (;;) {
        const r = await conn.read(buf.subarray(n));
        if (r === null) break;
        n += r;
        const t = decoder.decode(buf.subarray(0, n));
        const h = t.indexOf("\r\n\r\n");
        const m = h >= 0 ? /content-length:\s*(\d+)/i.exec(t.slice(0, h)) : null;
        if ((m && n >= h + 4 + Number(m[1])) || n === buf.length) break;
      }
    } finally {
      conn.close();
    }
  }

  function deliver(c: Client, job: () => Promise<void>): void {
    if (c.active >= 8) {
      c.queue.push(job);
      return;
    }
    c.active++;
    const run = (j: () => Promise<void>): void => {
      j().catch(() => {}).finally(() => {
        const next = c.queue.shift();
        if (next) run(next);
        else c.active--;
      });
    };
    run(job);
  }

  function caller(key: Value): Client {
    const c = byKey.get(key as string);
    if (!c) throw new Error("unknown private key");
    return c;
  }

  function recipient(id: Value): Client {
    const c = byId.get(id as string);
    if (!c) throw new Error("unknown client");
    return c;
  }

  function sendCall(s: Client, r: Client, tag: string, msg: Value, wait?: (v: Value) => void) {
    const id = `m${nextMessage++}`;
    pending.set(id, { sender: s, tag, wait });
    deliver(r, () => callback(r, "samp.client.receiveCall", [r.key, s.id, id, msg]));
    return id;
  }

  function dispatch(method: string, p: Value[]): Value | Promise<Value> {
    switch (method) {
      case "samp.hub.ping":
        return "";
      case "samp.hub.register": {
        if (p[0] !== secret) throw new Error("bad secret");
        const c: Client = {
          id: `c${nextClient++}`,
          key: crypto.randomUUID(),
          active: 0,
          queue: [],
        };
        byKey.set(c.key, c);
        byId.set(c.id, c);
        return { "samp.private-key": c.key, "samp.hub-id": "hub", "samp.self-id": c.id };
      }
      case "samp.hub.unregister": {
        const c = caller(p[0]);
        byKey.delete(c.key);
        byId.delete(c.id);
        return "";
      }
      case "samp.hub.setXmlrpcCallback": {
        const u = new URL(p[1] as string);
        caller(p[0]).callback = {
          host: u.hostname,
          port: Number(u.port || 80),
          path: u.pathname + u.search,
        };
        return "";
      }
      case "samp.hub.declareMetadata":
      case "samp.hub.declareSubscriptions":
        caller(p[0]);
        return "";
      case "samp.hub.getRegisteredClients": {
        const c = caller(p[0]);
        return ["hub", ...[...byId.keys()].filter((id) => id !== c.id)];
      }
      case "samp.hub.notify": {
        const s = caller(p[0]);
        const r = recipient(p[1]);
        deliver(r, () => callback(r, "samp.client.receiveNotification", [r.key, s.id, p[2]]));
        return "";
      }
      case "samp.hub.call":
        return sendCall(caller(p[0]), recipient(p[1]), p[2] as string, p[3]);
      case "samp.hub.callAndWait": {
        const s = caller(p[0]);
        const r = recipient(p[1]);
        return new Promise((resolve) => sendCall(s, r, "", p[2], resolve));
      }
      case "samp.hub.reply": {
        caller(p[0]);
        const call = pending.get(p[1] as string);
        if (!call) throw new Error("no such call");
        pending.delete(p[1] as string);
        if (call.wait) call.wait(p[2]);
        else {
          const s = call.sender;
          deliver(
            s,
            () => callback(s, "samp.client.receiveResponse", [s.key, "?", call.tag, p[2]]),
          );
        }
        return "";
      }
    }
    throw new Error(`no method ${method}`);
  }

  async function serve(conn: Deno.Conn): Promise<void> {
    conns.add(conn);
    let buf = new Uint8Array(8192);
    let start = 0;
    let end = 0;
    try {
      for (;;) {
        let h: number;
        for (;;) {
          h = decoder.decode(buf.subarray(start, end)).indexOf("\r\n\r\n");
          if (h >= 0) break;
          if (start > 0) {
            buf.copyWithin(0, start, end);
            end -= start;
            start = 0;
          }
          const r = await conn.read(buf.subarray(end));
          if (r === null) return;
          end += r;
        }
        const m = /content-length:\s*(\d+)/i.exec(decoder.decode(buf.subarray(start, start + h)));
        const length = m ? Number(m[1]) : 0;
        const bodyAt = start + h + 4;
        if (bodyAt + length > buf.length) {
          const grown = new Uint8Array(bodyAt + length);
          grown.set(buf.subarray(0, end));
          buf = grown;
        }
        while (end < bodyAt + length) {
          const r = await conn.read(buf.subarray(end));
          if (r === null) return;
          end += r;
        }
        const body = decoder.decode(buf.subarray(bodyAt, bodyAt + length));
        start = bodyAt + length;
        if (start === end) start = end = 0;
        let out: string;
        try {
          const [method, params] = readCall(body);
          out = answerXml(await dispatch(method, params));
        } catch (e) {
          out = faultXml((e as Error).message);
        }
        const bytes = encoder.encode(out);
        await conn.write(encoder.encode(
          `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${bytes.length}\r\n\r\n${out}`,
        ));
      }
    } catch {
      // the client is gone
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // closed at shutdown
      }
    }
  }

  const track = (p: Promise<void>): void => {
    loops.add(p);
    p.finally(() => loops.delete(p));
  };
  track((async () => {
    try {
      for await (const conn of listener) track(serve(conn));
    } catch {
      // closed
    }
  })());

  return {
    url,
    close() {
      try {
        listener.close();
      } catch {
        // closed already
      }
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
      conns.clear();
      return Promise.all([...loops]).then(() => {});
    },
  };
}

if (import.meta.main) {
  const [lockfile] = Deno.args;
  if (!lockfile) {
    console.error("usage: deno run -A scripts/bench/floor_hub.ts LOCKFILE");
    Deno.exit(2);
  }
  serveFloorHub(lockfile);
}

// What a web page says cannot drive the terminal of the person running
// samp_hub, forge lines of its log, or reorder what its hub page shows: a real
// samp_hub, driven over HTTP by raw XML-RPC POSTs (with raw header bytes) to
// its Web Profile port, the way a hostile page or local process would.
//
// The page's name and metadata carry a C1 CSI (U+009B, "clear screen" on
// terminals that take 8-bit controls), a right-to-left override (U+202E), a
// NEL (U+0085), a line separator (U+2028), carriage returns and newlines
// followed by a forged "... web registration accepted", and its Origin and
// Referer headers carry raw bytes 0x80-0xFF (which a server reads as
// U+0080-U+00FF: C1 controls). An ESC (U+001B) cannot travel in XML 1.0: the
// hub must refuse it without echoing it. The `samp` commands show what other
// clients say (names, descriptions, MTypes, parameters) escaped too, except
// with --json, which is for programs.

import assert from "node:assert/strict";
import { decodeResponse, encodeCall } from "../lib/xmlrpc.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { SampClient } from "../client.ts";
import { childEnv, collect, type HubProcess, sampRunArgs, spawnHub, waitFor } from "./_helpers.ts";

/** A name a page might give to clear the screen and forge a line of the log. */
const EVIL_NAME = "Aladin\x9b2J\x9b1;1H\u202eevil\r\n" +
  '2025-01-01T00:00:00.000Z INFO web registration of "Aladin" from https://aladin.cds.unistra.fr: accepted\u2028\x85' +
  "\\x1b[31m";

/** Bytes 0x9B (CSI), 0x85 (NEL) and the UTF-8 of U+202E in an Origin header. */
const EVIL_ORIGIN = [
  ...new TextEncoder().encode("https://evil.example"),
  0x9b,
  0x32,
  0x4a,
  0x85,
  0xe2,
  0x80,
  0xae,
];
const EVIL_REFERER = [...new TextEncoder().encode("https://evil.example/"), 0x9b, 0x32, 0x4a];

/** A line the hub prints: its log prefix, or one of its own stdout lines. */
const HUB_LINE = new RegExp(
  String.raw`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) ` +
    String.raw`|SAMP hub running at |Web Profile at |lockfile: |hub page: |SAMP hub stopped$)`,
);

/** Characters that must never reach the terminal (a lone surrogate cannot come from UTF-8). */
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Checks that the hub's output has only its own lines, with nothing unsafe in them. */
function assertSafeOutput(output: string): void {
  const bad = UNSAFE.exec(output);
  assert.equal(
    bad,
    null,
    `the hub printed U+${bad?.[0].charCodeAt(0).toString(16).padStart(4, "0")}:\n${output}`,
  );
  for (const line of output.split("\n")) {
    if (line === "") continue;
    assert.match(line, HUB_LINE, `a line the hub did not write:\n${line}\nin:\n${output}`);
  }
}

/** The hub's log lines that mention `what`. */
function logLines(hub: HubProcess, what: RegExp): string[] {
  return hub.output().split("\n").filter((l) => what.test(l));
}

/** Reads a whole HTTP/1.1 answer (the request asked for Connection: close), bounded in time. */
async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => conn.close(), 15_000);
  try {
    const buf = new Uint8Array(16384);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch {
    // closed by the timer: return what came
  } finally {
    clearTimeout(timer);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * POSTs `xml` to the Web Profile at `web` over a raw connection, with
 * `headers` written as raw bytes; returns the HTTP status and body.
 */
async function rawPost(
  web: string,
  xml: Uint8Array,
  headers: Record<string, number[]> = {},
): Promise<{ status: number; body: string }> {
  const port = Number(new URL(web).port);
  const ascii = (s: string) => [...new TextEncoder().encode(s)];
  const head = [
    ...ascii(
      `POST / HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: text/xml\r\n` +
        `Content-Length: ${xml.length}\r\nConnection: close\r\n`,
    ),
    ...Object.entries(headers).flatMap(([k, v]) => [...ascii(`${k}: `), ...v, 13, 10]),
    13,
    10,
  ];
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new Uint8Array([...head, ...xml]));
    const answer = new TextDecoder().decode(await readAll(conn));
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1]);
    return { status, body: answer.slice(answer.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}

/** Calls `samp.webhub.<method>` with raw Origin and Referer bytes; returns the value or throws the fault. */
async function webCall(
  web: string,
  method: string,
  params: SampValue[],
): Promise<SampValue> {
  const xml = new TextEncoder().encode(encodeCall(`samp.webhub.${method}`, params));
  const { status, body } = await rawPost(web, xml, { Origin: EVIL_ORIGIN, Referer: EVIL_REFERER });
  assert.equal(status, 200, body);
  const result = decodeResponse(body);
  if (!result.ok) throw new Error(`fault: ${result.message}`);
  return result.value;
}

/** Starts samp_hub with a Web Profile; returns it with its Web Profile URL. */
async function startWebHub(args: string[]): Promise<{ hub: HubProcess; web: string }> {
  const hub = await spawnHub(["--web-port", "0", ...args]);
  const web = /^Web Profile at (\S+)$/m.exec(hub.output())?.[1];
  assert.ok(web, hub.output());
  return { hub, web };
}

async function stop(hub: HubProcess): Promise<void> {
  assert.equal(await hub.stop(), 0);
  await Deno.remove(hub.dir, { recursive: true });
}

/** Every string anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  }
  return [];
}

Deno.test("a web page's name, metadata, Origin and Referer reach the hub's log and page escaped: no control, no forged line", async () => {
  const { hub, web } = await startWebHub(["--web-auth", "accept", "-L", "DEBUG"]);
  try {
    const page = await waitFor(() => /^hub page: (\S+)$/m.exec(hub.output())?.[1]);
    const reg = await webCall(web, "register", [{ "samp.name": EVIL_NAME }]) as SampMap;
    const key = reg["samp.private-key"] as string;
    const id = reg["samp.self-id"] as string;
    await webCall(web, "declareMetadata", [key, {
      "samp.name": EVIL_NAME,
      "samp.description.text": "line one\nline two\u202e",
      "x.evil\x9b2J\nkey": ["in a list\x85", { "in\u2066a": "map\u2069" }],
    }]);

    // The hub page shows the client escaped, in its snapshot and its state.
    const state = await (await fetch(`${page}state`)).json();
    const client = state.clients.find((c: { id: string }) => c.id === id);
    assert.ok(client, JSON.stringify(state));
    for (const s of strings(state)) assert.doesNotMatch(s, UNSAFE, JSON.stringify(s));
    assert.match(client.name, /^Aladin\\x9b2J\\x9b1;1H\\u202eevil\\r\\n2025/);
    assert.match(client.metadata["samp.description.text"], /^line one\\nline two\\u202e$/);

    await webCall(web, "unregister", [key]);
    await waitFor(() => logLines(hub, /unregister /).length > 0, 10_000, "the unregister line");

    const out = hub.output();
    assertSafeOutput(out);
    // The attack is visible, escaped, on the hub's own lines.
    const consent = logLines(hub, /web registration of /);
    assert.equal(consent.length, 1, out);
    assert.match(consent[0], /of "Aladin\\x9b2J\\x9b1;1H\\u202eevil\\r\\n2025-01-01T/);
    // Cut at 80 code points, with a marker.
    assert.match(
      consent[0],
      /\\r\\n2025-01-01T00:00:00\.000Z INFO web registration…\(\+\d+ chars\)" /,
    );
    assert.match(consent[0], /from https:\/\/evil\.example\\x9b2J\\x85.*: accepted \(/);
    assert.match(logLines(hub, / metadata /)[0], /\\x9b2J.*\\u202eevil\\r\\n2025/);
    assert.match(logLines(hub, / unregister /)[0], /\\x9b2J.*\\u202eevil\\r\\n2025/);
  } finally {
    await stop(hub);
  }
  assertSafeOutput(hub.output());
});

Deno.test("a refused web registration (--web-auth reject) logs the page's name and Origin escaped", async () => {
  const { hub, web } = await startWebHub(["--web-auth", "reject", "--no-page"]);
  try {
    await assert.rejects(
      webCall(web, "register", [{ "samp.name": EVIL_NAME }]),
      /Registration refused/,
    );
    // A bare name (the pre-1.3 form) takes the same way.
    await assert.rejects(
      webCall(web, "register", ['bare\u202e\x9b2J\n"x"\u2028\x85\\x1b\r']),
      /refused/,
    );
    await waitFor(() => logLines(hub, /web registration of /).length === 2, 10_000);
    const out = hub.output();
    assertSafeOutput(out);
    const [first, second] = logLines(hub, /web registration of /);
    assert.match(first, /of "Aladin\\x9b2J\\x9b1;1H\\u202eevil\\r\\n2025-01-01T.*: refused \(/);
    assert.match(first, /from https:\/\/evil\.example\\x9b2J\\x85/);
    assert.ok(
      second.includes(String.raw`of "bare\u202e\x9b2J\n\"x\"\u2028\x85\\x1b\r" from https://evil`),
      second,
    );
  } finally {
    await stop(hub);
  }
  assertSafeOutput(hub.output());
});

Deno.test("a web registration waiting on the hub page shows there escaped, and its refusal is logged escaped", async () => {
  // No terminal and no --web-auth: the request waits on the hub page.
  const { hub, web } = await startWebHub([]);
  try {
    const page = await waitFor(() => /^hub page: (\S+)$/m.exec(hub.output())?.[1]);
    const asking = webCall(web, "register", [{ "samp.name": EVIL_NAME }]);
    asking.catch(() => {});
    const state = await waitFor(async () => {
      const s = await (await fetch(`${page}state`)).json();
      return s.consent.length > 0 ? s : undefined;
    });
    for (const s of strings(state)) assert.doesNotMatch(s, UNSAFE, JSON.stringify(s));
    const pending = state.consent[0];
    assert.match(pending.name, /^Aladin\\x9b2J\\x9b1;1H\\u202eevil\\r\\n2025/);
    assert.match(pending.origin, /^https:\/\/evil\.example\\x9b2J\\x85/);
    assert.match(pending.referer, /^https:\/\/evil\.example\/\\x9b2J$/);
    const r = await fetch(`${page}consent/${pending.id}`, { method: "POST", body: "reject" });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    await assert.rejects(asking, /Registration refused: rejected on the hub page/);
    await waitFor(() => logLines(hub, /web registration of /).length === 1, 10_000);
    assertSafeOutput(hub.output());
  } finally {
    await stop(hub);
  }
  assertSafeOutput(hub.output());
});

Deno.test("an ESC that a page puts in its XML is refused, and not echoed to the terminal", async () => {
  const { hub, web } = await startWebHub(["--web-auth", "accept", "-L", "DEBUG"]);
  try {
    for (const esc of ["\x1b", "&#27;", "&#x1B;"]) {
      const xml = new TextEncoder().encode(
        `<?xml version="1.0"?><methodCall><methodName>samp.webhub.register</methodName>` +
          `<params><param><value><struct><member><name>samp.name</name>` +
          `<value><string>x${esc}[2J\n${esc}]0;title${esc}\\</string></value>` +
          `</member></struct></value></param></params></methodCall>`,
      );
      const { status, body } = await rawPost(web, xml, { Origin: EVIL_ORIGIN });
      assert.ok(status === 200 || status === 400, `${status} ${body}`);
      if (status === 200) assert.equal(decodeResponse(body).ok, false, body);
    }
    // A method name is client text too.
    const call = new TextEncoder().encode(
      `<?xml version="1.0"?><methodCall><methodName>samp.webhub.\u202e\x85x</methodName>` +
        `<params/></methodCall>`,
    );
    await rawPost(web, call, { Origin: EVIL_ORIGIN });
  } finally {
    await stop(hub);
  }
  assertSafeOutput(hub.output());
  assert.doesNotMatch(hub.output(), /web registration of /);
});

/** Runs `samp ARGS` against `hub`; the caller waits on `out`. */
function samp(hub: HubProcess, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: sampRunArgs(args),
    env: childEnv(hub.dir, { SAMP_HUB: `std-lockurl:file://${hub.lockfile}` }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, out: collect(child) };
}

/** No unsafe character in a command's output (its own newlines apart). */
function assertNoUnsafe(text: string): void {
  const bad = UNSAFE.exec(text);
  assert.equal(bad, null, `U+${bad?.[0].charCodeAt(0).toString(16).padStart(4, "0")} in:\n${text}`);
}

Deno.test("samp clients, monitor and snoop show other clients' names, descriptions and parameters escaped (--json keeps them)", async () => {
  const hub = await spawnHub();
  try {
    const { child: monitor, out: monitorOut } = samp(hub, ["monitor"]);
    const snoop = samp(hub, ["snoop", "test.*", "--count", "1"]);
    await using evil = await SampClient.connect({
      lockfile: hub.lockfile,
      name: EVIL_NAME,
      description: "tool\x9b2J\u202eevil\nforged line",
    });
    const snooper = await waitFor(
      () => {
        const c = evil.clients.byName("samp-snoop");
        return c && "test.*" in c.subscriptions ? c : undefined;
      },
      15000,
      "the snooper and its subscriptions",
    );
    await waitFor(() => monitorOut.text().includes(evil.id), 15000, "the monitor's line");

    await evil.on("test.echo", () => ({
      "samp.status": "samp.error\u202e",
      "samp.error": { "samp.errortxt": "cannot\x9b2J\nforged" },
    }));
    const sent = samp(hub, ["send", "test.echo", "--to", evil.id]);
    await sent.out.wait(30000);
    const listed = samp(hub, ["clients", "--subscriptions"]);
    assert.equal(await listed.out.wait(30000), 0, listed.out.text());
    const json = samp(hub, ["clients", "--json"]);
    assert.equal(await json.out.wait(30000), 0, json.out.text());

    await evil.notify(snooper.id, "test.evil", {
      "key\u202e\x9b": 'value "quoted"\x9b2J\r\nforged\u2028line\\x1b',
    });
    assert.equal(await snoop.out.wait(30000), 0, snoop.out.text());
    monitor.kill("SIGINT");
    assert.equal(await monitorOut.wait(10000), 0, monitorOut.text());

    for (const text of [listed.out.text(), monitorOut.text(), snoop.out.text(), sent.out.text()]) {
      assertNoUnsafe(text);
      assert.match(text, /Aladin\\x9b2J\\x9b1;1H\\u202eevil\\r\\n2025/);
    }
    assert.match(sent.out.text(), /: samp\.error\\u202e\n/);
    assert.match(sent.out.text(), /samp\.errortxt: "cannot\\x9b2J\\nforged"/);
    assert.match(listed.out.text(), /tool\\x9b2J\\u202eevil\\nforged line/);
    assert.ok(
      snoop.out.text().includes(
        String.raw`key\u202e\x9b: "value \"quoted\"\x9b2J\r\nforged\u2028line\\x1b"`,
      ),
      snoop.out.text(),
    );
    // --json is for programs: it keeps the text as it is (JSON escapes what it must).
    const clients = JSON.parse(json.out.text());
    assert.ok(clients.some((c: { name?: string }) => c.name === EVIL_NAME), json.out.text());
  } finally {
    await stop(hub);
  }
  assertSafeOutput(hub.output());
});

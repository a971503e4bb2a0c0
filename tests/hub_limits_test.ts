// samp_hub's request limits are configurable from the command line:
// --max-body (both profiles; the Web Profile never above 8 MiB) and
// --body-timeout.

import assert from "node:assert/strict";
import { collect, spawnHub, startHubProcess } from "./_helpers.ts";

async function post(url: string, body: string): Promise<number> {
  const r = await fetch(url, { method: "POST", body, headers: { "content-type": "text/xml" } });
  await r.body?.cancel();
  return r.status;
}

/** Sends headers promising a body and never sends it; returns the status line and the wait. */
async function slowBody(url: string): Promise<[string, number]> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(u.port) });
  const started = Date.now();
  try {
    await conn.write(new TextEncoder().encode(
      `POST ${u.pathname} HTTP/1.1\r\nHost: localhost:${u.port}\r\nContent-Type: text/xml\r\n` +
        `Content-Length: 500\r\n\r\n<methodCall>`,
    ));
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    return [
      new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0],
      Date.now() - started,
    ];
  } finally {
    conn.close();
  }
}

const ping = (pad: number) =>
  `<?xml version="1.0"?><methodCall><methodName>samp.hub.ping</methodName><params><param>` +
  `<value>${"x".repeat(pad)}</value></param></params></methodCall>`;

Deno.test("--max-body and --body-timeout set the request limits of both profiles", async () => {
  const hub = await spawnHub([
    "--max-body",
    "2K",
    "--body-timeout",
    "1",
    "--web-port",
    "0",
    "--web-auth",
    "reject",
  ]);
  try {
    const web = /^Web Profile at (\S+)$/m.exec(hub.output())?.[1];
    assert.ok(web, hub.output());
    assert.equal(await post(hub.url, ping(100)), 200);
    assert.equal(await post(hub.url, ping(3000)), 413);
    assert.equal(await post(web, ping(3000)), 413);
    for (const url of [hub.url, web]) {
      const [status, waited] = await slowBody(url);
      assert.match(status, /^HTTP\/1.1 408/);
      assert.ok(waited >= 900 && waited < 5000, `closed after ${waited} ms`);
    }
  } finally {
    assert.equal(await hub.stop(), 0);
    await Deno.remove(hub.dir, { recursive: true });
  }
});

Deno.test("bad limit values exit 2 naming the flag", async () => {
  for (const args of [["--max-body", "12"], ["--max-body", "lots"], ["--body-timeout", "0"]]) {
    const out = collect(startHubProcess(args));
    assert.equal(await out.wait(15000), 2, args.join(" "));
    assert.match(out.text(), new RegExp(`^samp_hub: ${args[0]} `, "m"));
  }
});

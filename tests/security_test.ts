// Security properties that other test files do not already show (see
// SECURITY.md for the map): where private keys and the secret come from and
// how much randomness they carry, that the secret is compared in constant
// time, that Web Profile keys stay out of the logs, that the hub's sockets are
// bound to loopback (read from the kernel's socket table, no traffic leaves
// loopback), and further attacks on the Web Profile's Host check, Private
// Network Access, URL translator and MType restrictions.

import assert from "node:assert/strict";
import { acceptAll } from "../lib/hub/consent.ts";
import { HubCore } from "../lib/hub/core.ts";
import { type Hub, type HubOptions, startHub, type WebOptions } from "../lib/hub/server.ts";
import { connectWeb, translateUrl } from "../lib/client/web_transport.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { type HubProcess, rawHttp, spawnHub, TestClient, waitFor } from "./_helpers.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Replaces crypto.getRandomValues with a recorder that fills arrays with a
 * known, non-random pattern; each call's bytes are kept (hex). A value that
 * equals one of them came from crypto.getRandomValues, whole.
 */
function spyRandom(): { calls: string[]; restore(): void } {
  const calls: string[] = [];
  let n = 0;
  Object.defineProperty(crypto, "getRandomValues", {
    configurable: true,
    writable: true,
    value: <T extends ArrayBufferView | null>(array: T): T => {
      const bytes = new Uint8Array(array!.buffer, array!.byteOffset, array!.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (n * 37 + i * 11 + 5) & 0xff;
      n++;
      calls.push(hex(bytes));
      return array;
    },
  });
  return {
    calls,
    restore: () => void delete (crypto as unknown as Record<string, unknown>).getRandomValues,
  };
}

async function withHub(
  fn: (hub: Hub) => Promise<void>,
  options: HubOptions = {},
  web?: Partial<WebOptions>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-sec-" });
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    web: web ? { port: 0, authorizer: acceptAll(), ...web } : undefined,
    ...options,
  });
  try {
    await fn(hub);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const webCall = (url: string, method: string, ...params: SampValue[]) =>
  xmlrpcRequest(url, `samp.webhub.${method}`, params, { timeoutMs: 10_000 });

// ---- keys and secrets --------------------------------------------------------

Deno.test("private keys of both profiles and the default secret are 128 bits straight from crypto.getRandomValues", async () => {
  // Standard and Web keys, from the core.
  const core = new HubCore();
  const spy = spyRandom();
  let std: string, web: string;
  try {
    std = core.register("standard")["samp.private-key"];
    web = core.register("web", "wk")["samp.private-key"];
  } finally {
    spy.restore();
  }
  await core.close(0);
  assert.match(std, /^k:[0-9a-f]{32}$/);
  assert.match(web, /^wk:[0-9a-f]{32}$/);
  assert.ok(spy.calls.includes(std.slice(2)), "the Standard key is not getRandomValues' 16 bytes");
  assert.ok(spy.calls.includes(web.slice(3)), "the web key is not getRandomValues' 16 bytes");

  // The same through a running hub's endpoints, and the secret it makes.
  const spy2 = spyRandom();
  try {
    await withHub(
      async (hub) => {
        assert.match(hub.secret, /^[0-9a-f]{32}$/);
        assert.ok(spy2.calls.includes(hub.secret), "the secret is not getRandomValues' 16 bytes");
        const reg = await xmlrpcRequest(hub.url, "samp.hub.register", [hub.secret]) as SampMap;
        const key = reg["samp.private-key"] as string;
        assert.ok(spy2.calls.includes(key.slice(2)), `${key} did not come from getRandomValues`);
        const wreg = await webCall(hub.webUrl!, "register", { "samp.name": "page" }) as SampMap;
        const wkey = wreg["samp.private-key"] as string;
        assert.ok(spy2.calls.includes(wkey.slice(3)), `${wkey} did not come from getRandomValues`);
        await xmlrpcRequest(hub.url, "samp.hub.unregister", [key]);
        await webCall(hub.webUrl!, "unregister", wkey);
      },
      {},
      {},
    );
  } finally {
    spy2.restore();
  }
});

Deno.test("10,000 private keys are distinct and their bits are balanced", async () => {
  const core = new HubCore();
  const keys = new Set<string>();
  let ones = 0;
  for (let i = 0; i < 10_000; i++) {
    const key = core.register(i % 2 ? "web" : "standard", i % 2 ? "wk" : "k")["samp.private-key"];
    const bits = key.split(":")[1];
    keys.add(bits);
    for (const c of bits) ones += [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4][parseInt(c, 16)];
  }
  await core.close(0);
  assert.equal(keys.size, 10_000);
  const share = ones / (10_000 * 128);
  // 1.28 million bits: a fair source is within 0.5 % of one half (over 10 standard deviations).
  assert.ok(Math.abs(share - 0.5) < 0.005, `${(share * 100).toFixed(2)} % of key bits are 1`);
});

Deno.test("a wrong secret is refused whatever its length, and the comparison has no early exit", async () => {
  const secret = "0123456789abcdef0123456789abcdef";
  await withHub(async (hub) => {
    const register = (s: SampValue) => xmlrpcRequest(hub.url, "samp.hub.register", [s]);
    const wrong: SampValue[] = [
      secret.slice(0, -1) + "0", // same length, last character differs
      "1" + secret.slice(1), // same length, first character differs
      secret.toUpperCase(), // same letters, other case
      secret.slice(0, -1), // a prefix
      secret + "0", // longer
      "",
      "x",
      { "samp.secret": secret },
      [secret],
    ];
    for (const s of wrong) await assert.rejects(register(s), /Bad secret/, JSON.stringify(s));
    const reg = await register(secret) as SampMap;
    await xmlrpcRequest(hub.url, "samp.hub.unregister", [reg["samp.private-key"]]);
  }, { secret });

  // The comparison itself: one loop over the longer length, accumulating
  // differences, and one return after it; no early exit, no branch on content.
  const profile = await Deno.readTextFile(
    new URL("../lib/hub/standard_profile.ts", import.meta.url),
  );
  assert.match(
    profile,
    /timingSafeEqual\(given, secret\)/,
    "the secret check uses timingSafeEqual",
  );
  const src = await Deno.readTextFile(new URL("../lib/_secrets.ts", import.meta.url));
  const fn =
    /\nexport function timingSafeEqual\(a: string, b: string\): boolean \{\n([\s\S]*?)\n\}\n/
      .exec(src);
  assert.ok(fn, "timingSafeEqual(a, b) is gone from lib/_secrets.ts");
  const body = fn[1];
  assert.match(body, /const n = Math\.max\(x\.length, y\.length\);/);
  assert.match(body, /let diff = x\.length \^ y\.length;/);
  assert.match(
    body,
    /for \(let i = 0; i < n; i\+\+\) diff \|= \(x\[i\] \?\? 0\) \^ \(y\[i\] \?\? 0\);/,
  );
  assert.deepEqual(body.match(/\breturn\b[^\n]*/g), ["return diff === 0;"]);
  assert.doesNotMatch(
    body,
    /\b(if|break|continue|while|switch)\b|&&|\|\||===(?! 0;)|!==|\.every|\.some/,
  );
  assert.doesNotMatch(
    profile,
    /[=!]==?\s*secret\b|\bsecret\s*[=!]==?/,
    "a plain comparison of the secret",
  );
});

// ---- logs ----------------------------------------------------------------------

Deno.test("a DEBUG log holds no Web Profile key, Standard key or secret, even for refused requests", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-seclog-" });
  const log = `${dir}/hub.log`;
  const hub = await spawnHub(
    ["--web-port", "0", "--web-auth", "accept", "--log-level", "DEBUG", "--log-output", log],
    { dir },
  );
  try {
    const web = /^Web Profile at (\S+)$/m.exec(hub.output())![1];
    const std = await TestClient.register(hub.url, hub.secret);
    const page = await connectWeb({ name: "page", url: web, pullSeconds: 1 });
    const got: string[] = [];
    await page.setCallable({
      receiveNotification: (_f, m) => void got.push(String(m["samp.params"].url)),
      receiveCall: () => {},
      receiveResponse: () => {},
    });
    await page.declareSubscriptions({ "table.load.votable": {} });
    await std.hub("notify", page.selfId, {
      "samp.mtype": "table.load.votable",
      "samp.params": { url: `file://${log}` },
    });
    await waitFor(() => got.length === 1);
    for (const url of [`file://${log}`, `file://${dir}/other`]) {
      const r = await fetch(translateUrl(page.regInfo, url));
      await r.body?.cancel();
    }
    // A forged key, a wrong key on each endpoint, a blocked MType.
    const forged = await fetch(
      `${web}proxied/${page.regInfo["samp.private-key"].replace(/.$/, "0")}?file:///etc/passwd`,
    );
    await forged.body?.cancel();
    await assert.rejects(
      std.raw("samp.hub.getRegisteredClients", [page.regInfo["samp.private-key"]]),
    );
    await assert.rejects(webCall(web, "getRegisteredClients", std.key));
    await assert.rejects(
      page.notify(std.id, { "samp.mtype": "script.aladin.send", "samp.params": {} }),
    );
    await page.unregister();
    await std.close();
    assert.equal(await hub.stop(), 0);
    const text = await Deno.readTextFile(log);
    assert.match(text, / DEBUG /);
    assert.match(text, /Web Profile refused a request/);
    for (
      const [what, value] of [
        ["the secret", hub.secret],
        ["the web key", page.regInfo["samp.private-key"].split(":")[1]],
        ["the Standard key", std.key.split(":")[1]],
      ]
    ) {
      assert.ok(!text.includes(value), `the log shows ${what}`);
    }
  } finally {
    await hub.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- binding ---------------------------------------------------------------------

/** The local addresses listening on `port`, from the kernel's socket tables (Linux). */
async function listeningOn(port: number): Promise<string[]> {
  const out: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const r = await new Deno.Command("cat", { args: [table] }).output();
    for (const line of new TextDecoder().decode(r.stdout).split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== "0A") continue; // 0A: LISTEN
      const [addr, p] = f[1].split(":");
      if (parseInt(p, 16) !== port) continue;
      if (addr.length === 8) {
        out.push(addr.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join("."));
      } else {
        // Four little-endian 32-bit words.
        const words = addr.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(""));
        const groups = words.join("").match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ""));
        out.push(groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::"));
      }
    }
  }
  return out.sort();
}

const webUrlOf = (hub: HubProcess) => /^Web Profile at (\S+)$/m.exec(hub.output())?.[1];

Deno.test({
  name:
    "samp_hub listens on loopback only (127.0.0.1; Web Profile also ::1) unless --addr says otherwise, and then warns",
  ignore: Deno.build.os !== "linux", // reads the kernel's socket tables in /proc
}, async () => {
  const plain = await spawnHub(["--web-port", "0", "--web-auth", "reject"]);
  try {
    assert.deepEqual(await listeningOn(Number(new URL(plain.url).port)), ["127.0.0.1"]);
    const web = await listeningOn(Number(new URL(webUrlOf(plain)!).port));
    assert.ok(web.includes("127.0.0.1"));
    for (const a of web) assert.ok(a === "127.0.0.1" || a === "::1", `Web Profile on ${a}`);
    assert.doesNotMatch(plain.output(), /not loopback/);
  } finally {
    assert.equal(await plain.stop(), 0);
    await Deno.remove(plain.dir, { recursive: true });
  }
  const wide = await spawnHub(["--addr", "0.0.0.0", "--web-port", "0", "--web-auth", "reject"]);
  try {
    assert.deepEqual(await listeningOn(Number(new URL(wide.url).port)), ["0.0.0.0"]);
    assert.match(wide.output(), /WARNING listening on 0\.0\.0\.0, not loopback/);
    // --addr widens the Standard Profile only: web pages still reach loopback alone.
    const web = await listeningOn(Number(new URL(webUrlOf(wide)!).port));
    for (const a of web) assert.ok(a === "127.0.0.1" || a === "::1", `Web Profile on ${a}`);
  } finally {
    assert.equal(await wide.stop(), 0);
    await Deno.remove(wide.dir, { recursive: true });
  }
});

// ---- Web Profile ---------------------------------------------------------------

Deno.test("Web Profile Host check: no Host, or a Host that merely contains a loopback name, is refused", () =>
  withHub(
    async (hub) => {
      const web = hub.webUrl!;
      const port = new URL(web).port;
      const body =
        `<?xml version="1.0"?><methodCall><methodName>samp.webhub.ping</methodName></methodCall>`;
      const post = (host: string | null, version = "1.1") =>
        rawHttp(
          web,
          `POST / HTTP/${version}\r\n${host === null ? "" : `Host: ${host}\r\n`}` +
            `Content-Type: text/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      assert.match(await post(null, "1.0"), /^HTTP\/1\.[01] 403/);
      for (
        const host of [
          `localhost.evil.example:${port}`,
          `evil.example.localhost.attacker.net`,
          `127.0.0.1.evil.example:${port}`,
          `0x7f000001:${port}`,
          `2130706433:${port}`,
          `evil.example:${port}@localhost`,
          `[::1].evil.example`,
          `localhost:${port}, evil.example`,
        ]
      ) {
        assert.match(await post(host), /^HTTP\/1\.1 (403|400)/, host);
      }
      assert.match(await post(`[::1]:${port}`), /^HTTP\/1\.1 200/);
      assert.match(await post(`LOCALHOST:${port}`), /^HTTP\/1\.1 200/);
    },
    {},
    {},
  ));

Deno.test("Web Profile Private Network Access: the allow header only answers a preflight that asks, from a web origin", () =>
  withHub(
    async (hub) => {
      const preflight = async (headers: Record<string, string>) => {
        const r = await fetch(hub.webUrl!, { method: "OPTIONS", headers });
        await r.body?.cancel();
        return r.headers;
      };
      const origin = "https://portal.example";
      const asked = await preflight({
        origin,
        "access-control-request-method": "POST",
        "access-control-request-private-network": "true",
      });
      assert.equal(asked.get("access-control-allow-private-network"), "true");
      const notAsked = await preflight({ origin, "access-control-request-method": "POST" });
      assert.equal(notAsked.get("access-control-allow-private-network"), null);
      assert.equal(notAsked.get("access-control-allow-origin"), origin);
      for (const o of ["null", "file://", "https://x.example/path"]) {
        const h = await preflight({
          origin: o,
          "access-control-request-method": "POST",
          "access-control-request-private-network": "true",
        });
        assert.equal(h.get("access-control-allow-private-network"), null, o);
        assert.equal(h.get("access-control-allow-origin"), null, o);
      }
      // Not a preflight (no request method): nothing granted.
      const bare = await preflight({ origin, "access-control-request-private-network": "true" });
      assert.equal(bare.get("access-control-allow-private-network"), null);
    },
    {},
    {},
  ));

Deno.test("Web Profile URL translator: dot segments, encodings, other schemes and other clients' keys do not widen what a page may fetch", () =>
  withHub(
    async (hub) => {
      const dir = await Deno.makeTempDir();
      try {
        await Deno.mkdir(`${dir}/data`);
        await Deno.writeTextFile(`${dir}/data/t.vot`, "<VOTABLE/>");
        await Deno.writeTextFile(`${dir}/secret.txt`, "TOP-SECRET-CONTENT");
        const std = await TestClient.register(hub.url, hub.secret);
        const page = await connectWeb({ name: "page", url: hub.webUrl!, pullSeconds: 1 });
        const other = await connectWeb({ name: "other", url: hub.webUrl!, pullSeconds: 1 });
        const got: string[] = [];
        await page.setCallable({
          receiveNotification: (_f, m) => void got.push(String(m["samp.params"].url)),
          receiveCall: () => {},
          receiveResponse: () => {},
        });
        await page.declareSubscriptions({ "table.load.votable": {} });
        const mentioned = `file://${dir}/data/t.vot`;
        await std.hub("notify", page.selfId, {
          "samp.mtype": "table.load.votable",
          "samp.params": { url: mentioned },
        });
        await waitFor(() => got.length === 1);
        const status = async (url: string, regInfo = page.regInfo) => {
          const r = await fetch(translateUrl(regInfo, url));
          const text = await r.text();
          assert.doesNotMatch(text, /TOP-SECRET/, url);
          return r.status;
        };
        assert.equal(await status(mentioned), 200);
        for (
          const url of [
            `${mentioned}/../../secret.txt`,
            `file://${dir}/data/../secret.txt`,
            `file://${dir}/data/./../secret.txt`,
            `file://${dir}/data/%2e%2e/secret.txt`,
            `file://${dir}/%73ecret.txt`,
            `file://localhost${dir}/secret.txt`,
            `file://${dir}/data/t.vot?../../secret.txt`,
          ]
        ) {
          assert.ok([400, 403, 404].includes(await status(url)), url);
        }
        for (const url of ["ftp://127.0.0.1/x", "data:text/plain,private", "javascript:alert(1)"]) {
          assert.equal(await status(url), 400, url);
        }
        // Another page may not use this page's permissions, nor its key.
        assert.equal(await status(mentioned, other.regInfo), 403);
        await page.unregister();
        await other.unregister();
        assert.equal(await status(mentioned), 403, "a departed page's key still works");
        await std.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
    {},
    {},
  ));

Deno.test("Web Profile MType restriction holds for call, callAll and callAndWait too", () =>
  withHub(
    async (hub) => {
      const std = await TestClient.register(hub.url, hub.secret);
      await std.hub("declareSubscriptions", { "script.aladin.send": {}, "table.load.votable": {} });
      const reg = await webCall(hub.webUrl!, "register", { "samp.name": "page" }) as SampMap;
      const key = reg["samp.private-key"] as string;
      await webCall(hub.webUrl!, "allowReverseCallbacks", key, "1");
      const script = { "samp.mtype": "script.aladin.send", "samp.params": { script: "rm -rf" } };
      await assert.rejects(webCall(hub.webUrl!, "call", key, std.id, "t", script), /blocked/);
      assert.deepEqual(await webCall(hub.webUrl!, "callAll", key, "t", script), {});
      await assert.rejects(
        webCall(hub.webUrl!, "callAndWait", key, std.id, script, "5"),
        /blocked/,
      );
      // A page marking its own subscription mostly-harmless changes nothing for what it may send.
      await webCall(hub.webUrl!, "declareSubscriptions", key, {
        "script.aladin.send": { "x-samp.mostly-harmless": "1" },
      });
      await assert.rejects(webCall(hub.webUrl!, "notify", key, std.id, script), /blocked/);
      assert.equal(std.got("receiveCall").length + std.got("receiveNotification").length, 0);
      await webCall(hub.webUrl!, "unregister", key);
      await std.close();
    },
    {},
    {},
  ));

Deno.test("SECURITY.md names only test files that exist, and every threat row names at least one", async () => {
  const text = await Deno.readTextFile(new URL("../SECURITY.md", import.meta.url));
  const named = new Set(
    [...text.matchAll(/`(?:tests\/)?([a-z0-9_]+_test)(?:\.ts)?`/g)].map((m) => m[1]),
  );
  assert.ok(named.size >= 15, `only ${named.size} tests named`);
  for (const name of named) {
    const path = new URL(`./${name}.ts`, import.meta.url);
    assert.ok((await Deno.stat(path).catch(() => null))?.isFile, `SECURITY.md names ${name}`);
  }
  const table = text.slice(text.indexOf("## Threats by class"), text.indexOf("## Defences"));
  const rows = table.split("\n").filter((l) =>
    l.startsWith("|") && !/^\|\s*-/.test(l) && !l.includes("Attack class")
  );
  assert.ok(rows.length >= 10, `${rows.length} threat rows`);
  for (const row of rows) assert.match(row, /`[a-z0-9_]+_test`/, row);
});

import assert from "node:assert/strict";
import { type Hub, type HubOptions, startHub, type WebOptions } from "../lib/hub/server.ts";
import { acceptAll, type Authorizer, rejectAll } from "../lib/hub/consent.ts";
import { createWebHandler } from "../lib/hub/web_server.ts";
import type { WebProfile } from "../lib/hub/web_profile.ts";
import { connectWeb, translateUrl } from "../lib/client/web_transport.ts";
import { SampClient } from "../lib/client/client.ts";
import { SampFault } from "../lib/errors.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { collect, rawHttp, spawnHub, startHubProcess, TestClient, waitFor } from "./_helpers.ts";

async function withWebHub(
  fn: (hub: Hub, web: string) => Promise<void>,
  web: Partial<WebOptions> = {},
  options: HubOptions = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-web-" });
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    web: { port: 0, authorizer: acceptAll(), ...web },
    ...options,
  });
  try {
    await fn(hub, hub.webUrl!);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const webCall = (url: string, method: string, ...params: SampValue[]) =>
  xmlrpcRequest(url, `samp.webhub.${method}`, params, { timeoutMs: 10_000 });

async function webRegister(
  url: string,
  name = "web-test",
): Promise<{ key: string; id: string; reg: SampMap }> {
  const reg = await webCall(url, "register", { "samp.name": name }) as SampMap;
  return { key: reg["samp.private-key"] as string, id: reg["samp.self-id"] as string, reg };
}

Deno.test("a web client registers, gets a URL translator, and sees Standard clients both ways", () =>
  withWebHub(async (hub, web) => {
    const std = await TestClient.register(hub.url, hub.secret);
    const { id, reg, key } = await webRegister(web);
    assert.match(reg["samp.private-key"] as string, /^wk:[0-9a-f]{32}$/);
    assert.equal(reg["samp.url-translator"], `${web}proxied/${key}?`);
    assert.equal(reg["samp.hub-id"], "hub");
    assert.deepEqual(
      (await webCall(web, "getRegisteredClients", key) as string[]).sort(),
      [std.id, "hub"].sort(),
    );
    assert.ok((await std.hub("getRegisteredClients") as string[]).includes(id));
    await webCall(web, "unregister", key);
    await std.close();
  }));

Deno.test("registration needs samp.name, and a refusal is a fault", async () => {
  await withWebHub(async (_hub, web) => {
    await assert.rejects(webCall(web, "register", {}), /needs identity-info with a samp.name/);
  });
  await withWebHub(async (_hub, web) => {
    await assert.rejects(
      webCall(web, "register", { "samp.name": "intruder" }),
      (e) => e instanceof SampFault && /Registration refused: .*--web-auth reject/.test(e.message),
    );
  }, { authorizer: rejectAll() });
});

Deno.test("a consent decision still pending blocks no other traffic", async () => {
  let decide!: (accepted: boolean) => void;
  const asked: string[] = [];
  const slow: Authorizer = {
    authorize: (req) =>
      new Promise((resolve) => {
        asked.push(`${req.name} ${req.origin}`);
        decide = (accepted) => resolve({ accepted, reason: accepted ? "ok" : "no" });
      }),
  };
  await withWebHub(async (hub, web) => {
    const pending = fetch(web, {
      method: "POST",
      headers: { origin: "https://archive.example" },
      body: `<?xml version="1.0"?><methodCall><methodName>samp.webhub.register</methodName>` +
        `<params><param><value><struct><member><name>samp.name</name><value>Portal</value>` +
        `</member></struct></value></param></params></methodCall>`,
    });
    await waitFor(() => asked.length === 1);
    assert.deepEqual(asked, ["Portal https://archive.example"]);
    // Meanwhile both profiles answer at once.
    const std = await TestClient.register(hub.url, hub.secret);
    assert.equal(await webCall(web, "ping"), "");
    decide(true);
    assert.match(await (await pending).text(), /samp.private-key/);
    await std.close();
  }, { authorizer: slow });
});

Deno.test("pullCallbacks is a long poll that honours its timeout and returns callbacks at once", () =>
  withWebHub(async (hub, web) => {
    const { key, id } = await webRegister(web);
    await assert.rejects(webCall(web, "pullCallbacks", key, "1"), /allowReverseCallbacks/);
    await webCall(web, "allowReverseCallbacks", key, "1");
    await webCall(web, "declareSubscriptions", key, { "table.load.votable": {} });
    let started = performance.now();
    assert.deepEqual(await webCall(web, "pullCallbacks", key, "1"), []);
    const waited = performance.now() - started;
    assert.ok(waited > 900 && waited < 2500, `waited ${waited} ms for a 1 s poll`);
    const std = await TestClient.register(hub.url, hub.secret);
    started = performance.now();
    const poll = webCall(web, "pullCallbacks", key, "30");
    setTimeout(() =>
      std.hub("notify", id, {
        "samp.mtype": "table.load.votable",
        "samp.params": { url: "file:///tmp/x.vot" },
      }), 200);
    const got = await poll as SampMap[];
    assert.ok(performance.now() - started < 5000, "the poll returned as soon as a message came");
    assert.deepEqual(got, [{
      "samp.methodName": "receiveNotification",
      "samp.params": [std.id, {
        "samp.mtype": "table.load.votable",
        "samp.params": { url: "file:///tmp/x.vot" },
      }],
    }]);
    await std.close();
    await webCall(web, "unregister", key);
  }));

Deno.test("our web client and a Standard client exchange notify and call/reply through the hub", () =>
  withWebHub(async (_hub, web) => {
    await using desktop = await SampClient.connect({ lockfile: _hub.lockfile, name: "desktop" });
    await using page = await SampClient.connect({
      name: "page",
      web: { url: web, pullSeconds: 5 },
    });
    assert.equal(page.connection.profile, "web");
    const seen: string[] = [];
    await page.on("table.load.votable", (m) => {
      seen.push(String(m.params.url));
      return { loaded: "yes" };
    });
    await desktop.on("coord.pointAt.sky", (m) => ({ echo: `${m.params.ra} ${m.params.dec}` }));
    const r = await desktop.request(page.id, "table.load.votable", { url: "http://x/t.vot" }, {
      timeout: 10,
    });
    assert.deepEqual(r, { loaded: "yes" });
    assert.deepEqual(seen, ["http://x/t.vot"]);
    const back = await page.request(desktop.id, "coord.pointAt.sky", { ra: "1", dec: "2" }, {
      timeout: 10,
    });
    assert.deepEqual(back, { echo: "1 2" });
    await waitFor(() => page.clients.byName("desktop"));
    assert.equal(desktop.clients.get(page.id)?.name, "page");
  }));

Deno.test("web clients may send only safe MTypes unless the recipient marks one mostly-harmless", () =>
  withWebHub(async (hub, web) => {
    const std = await TestClient.register(hub.url, hub.secret);
    await std.hub("declareSubscriptions", {
      "script.aladin.send": {},
      "ds9.set": { "x-samp.mostly-harmless": "1" },
      "table.load.votable": {},
      "image.load.fits": { "x-samp.mostly-harmless": "0" },
    });
    const { key } = await webRegister(web);
    const send = (mtype: string) =>
      webCall(web, "notify", key, std.id, { "samp.mtype": mtype, "samp.params": {} });
    await assert.rejects(send("script.aladin.send"), /blocked from web profile clients/);
    await assert.rejects(send("image.load.fits"), /blocked/);
    await send("ds9.set");
    await send("table.load.votable");
    assert.deepEqual(
      await webCall(web, "notifyAll", key, {
        "samp.mtype": "script.aladin.send",
        "samp.params": {},
      }),
      [],
    );
    assert.deepEqual(await webCall(web, "getSubscribedClients", key, "script.aladin.send"), {});
    const visible = await webCall(web, "getSubscriptions", key, std.id) as SampMap;
    assert.deepEqual(Object.keys(visible).sort(), ["ds9.set", "table.load.votable"]);
    // A Standard client still sees everything and may send anything.
    assert.equal(Object.keys(await std.hub("getSubscriptions", std.id) as SampMap).length, 4);
    await webCall(web, "unregister", key);
    await std.close();
  }));

Deno.test("--web-mtypes '*' lifts the MType restriction", () =>
  withWebHub(async (hub, web) => {
    const std = await TestClient.register(hub.url, hub.secret);
    await std.hub("declareSubscriptions", { "script.aladin.send": {} });
    const { key } = await webRegister(web);
    await webCall(web, "notify", key, std.id, {
      "samp.mtype": "script.aladin.send",
      "samp.params": {},
    });
    await webCall(web, "unregister", key);
    await std.close();
  }, { safeMTypes: ["*"] }));

Deno.test("each profile accepts only its own clients' private keys", () =>
  withWebHub(async (hub, web) => {
    const std = await TestClient.register(hub.url, hub.secret);
    const { key } = await webRegister(web);
    await assert.rejects(webCall(web, "getRegisteredClients", std.key), /Unknown private key/);
    await assert.rejects(
      xmlrpcRequest(hub.url, "samp.hub.getRegisteredClients", [key]),
      /registered through another SAMP profile/,
    );
    await assert.rejects(
      webCall(web, "setXmlrpcCallback", key, "http://x/"),
      /Unknown XML-RPC method/,
    );
    await assert.rejects(
      xmlrpcRequest(web, "samp.hub.register", [hub.secret]),
      /this is the SAMP Web Profile endpoint/,
    );
    await webCall(web, "unregister", key);
    await std.close();
  }));

Deno.test("CORS echoes a web Origin on the hub's endpoints and answers preflights with PNA", () =>
  withWebHub(async (_hub, web) => {
    const origin = "https://aladin.example.org";
    const pre = await fetch(web, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-evil",
        "access-control-request-private-network": "true",
      },
    });
    await pre.body?.cancel();
    assert.ok(pre.status === 204 || pre.status === 200);
    assert.equal(pre.headers.get("access-control-allow-origin"), origin);
    assert.equal(pre.headers.get("access-control-allow-private-network"), "true");
    assert.equal(pre.headers.get("access-control-allow-headers"), "content-type");
    assert.match(pre.headers.get("vary") ?? "", /Origin/);
    const post = await fetch(web, {
      method: "POST",
      headers: { origin, "content-type": "text/xml" },
      body:
        `<?xml version="1.0"?><methodCall><methodName>samp.webhub.ping</methodName></methodCall>`,
    });
    await post.body?.cancel();
    assert.equal(post.headers.get("access-control-allow-origin"), origin);
    assert.match(post.headers.get("content-type") ?? "", /^text\/xml/);
    // No CORS for paths that are not the hub's endpoints, nor for the "null" origin.
    const other = await fetch(new URL("/anything", web), {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "GET" },
    });
    await other.body?.cancel();
    assert.equal(other.status, 404);
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const nul = await fetch(web, {
      method: "OPTIONS",
      headers: { origin: "null", "access-control-request-method": "POST" },
    });
    await nul.body?.cancel();
    assert.equal(nul.headers.get("access-control-allow-origin"), null);
  }));

Deno.test("a Host header that is not a loopback name is refused (DNS rebinding)", () =>
  withWebHub(async (_hub, web) => {
    const body =
      `<?xml version="1.0"?><methodCall><methodName>samp.webhub.ping</methodName></methodCall>`;
    const request = (host: string) =>
      rawHttp(
        web,
        `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    assert.match(await request("evil.example:21012"), /^HTTP\/1.1 403/);
    assert.match(await request("127.0.0.1.nip.io"), /^HTTP\/1.1 403/);
    assert.match(await request(`localhost:${new URL(web).port}`), /^HTTP\/1.1 200/);
    assert.match(await request(`127.0.0.1:${new URL(web).port}`), /^HTTP\/1.1 200/);
  }));

Deno.test("requests from a non-loopback peer are refused before anything is parsed", async () => {
  let dispatched = false;
  const profile: WebProfile = {
    dispatch: () => {
      dispatched = true;
      return "";
    },
    checkTranslation: () => null,
    sweep: () => [],
    close: () => {},
  };
  const handler = createWebHandler(profile);
  const info = (hostname: string) =>
    ({
      remoteAddr: { transport: "tcp", hostname, port: 5000 },
      completed: Promise.resolve(),
    }) as unknown as Deno.ServeHandlerInfo;
  const req = () =>
    new Request("http://localhost:21012/", {
      method: "POST",
      headers: { host: "localhost:21012" },
      body: `<methodCall><methodName>samp.webhub.ping</methodName></methodCall>`,
    });
  for (const peer of ["192.168.1.5", "10.0.0.1", "::ffff:192.168.1.5", "fe80::1"]) {
    const r = await handler(req(), info(peer));
    await r.body?.cancel();
    assert.equal(r.status, 403, peer);
  }
  assert.equal(dispatched, false);
  for (const peer of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) {
    const r = await handler(req(), info(peer));
    await r.body?.cancel();
    assert.equal(r.status, 200, peer);
  }
});

Deno.test("crossdomain.xml and clientaccesspolicy.xml are served for browser plug-ins", () =>
  withWebHub(async (_hub, web) => {
    const flash = await fetch(new URL("/crossdomain.xml", web));
    assert.equal(flash.headers.get("content-type"), "text/x-cross-domain-policy");
    assert.match(await flash.text(), /<allow-access-from domain="\*"\/>/);
    const silverlight = await fetch(new URL("/clientaccesspolicy.xml", web));
    assert.equal(silverlight.headers.get("content-type"), "text/xml");
    assert.match(await silverlight.text(), /<resource path="\/" include-subpaths="true"\/>/);
    const post = await fetch(new URL("/crossdomain.xml", web), { method: "POST", body: "x" });
    await post.body?.cancel();
    assert.equal(post.status, 405);
  }));

Deno.test("the URL translator serves only URLs that other clients sent to that web client", () =>
  withWebHub(async (hub, web) => {
    const dir = await Deno.makeTempDir();
    const mentioned = `${dir}/table.vot`;
    const secret = `${dir}/secret.txt`;
    await Deno.writeTextFile(mentioned, "<VOTABLE/>");
    await Deno.writeTextFile(secret, "private");
    try {
      const std = await TestClient.register(hub.url, hub.secret);
      const page = await connectWeb({ name: "page", url: web, pullSeconds: 2 });
      const got: string[] = [];
      await page.setCallable({
        receiveNotification: (_f, m) => void got.push(String(m["samp.params"].url)),
        receiveCall: () => {},
        receiveResponse: () => {},
      });
      await page.declareSubscriptions({ "table.load.votable": {} });
      const fetchVia = (u: string, method = "GET") =>
        fetch(translateUrl(page.regInfo, u), { method });
      // Not mentioned yet: refused.
      const before = await fetchVia(`file://${mentioned}`);
      assert.equal(before.status, 403);
      await before.body?.cancel();
      await std.hub("notify", page.selfId, {
        "samp.mtype": "table.load.votable",
        "samp.params": { url: `file://${mentioned}` },
      });
      await waitFor(() => got.length === 1);
      const ok = await fetchVia(`file://${mentioned}`);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), "<VOTABLE/>");
      const head = await fetchVia(`file://${mentioned}`, "HEAD");
      assert.equal(head.headers.get("content-length"), "10");
      await head.body?.cancel();
      // A file nobody mentioned: refused.
      const other = await fetchVia(`file://${secret}`);
      assert.equal(other.status, 403);
      assert.doesNotMatch(await other.text(), /private/);
      // A URL the page itself sent is not made fetchable by echoing it to itself.
      await page.declareSubscriptions({ "table.load.votable": {}, "test.echo": {} });
      await page.notify(std.id, {
        "samp.mtype": "table.load.votable",
        "samp.params": { url: `file://${secret}` },
      }).catch(() => {});
      const echo = await fetchVia(`file://${secret}`);
      assert.equal(echo.status, 403);
      await echo.body?.cancel();
      // Someone else's key, or none: refused.
      const forged = await fetch(`${web}proxied/wk:0000?file://${mentioned}`);
      assert.equal(forged.status, 403);
      await forged.body?.cancel();
      await page.unregister();
      await std.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("a web client that stops polling is disconnected and others are told", () =>
  withWebHub(async (hub, web) => {
    const std = await TestClient.register(hub.url, hub.secret);
    await std.hub("declareSubscriptions", { "samp.hub.event.unregister": {} });
    const { key, id } = await webRegister(web);
    await webCall(web, "allowReverseCallbacks", key, "1");
    // It never polls.
    await waitFor(
      () => std.got("receiveNotification", "samp.hub.event.unregister").length === 1,
      5000,
      "the silent web client to be dropped",
    );
    const [ev] = std.got("receiveNotification", "samp.hub.event.unregister");
    assert.deepEqual((ev.args[1] as SampMap)["samp.params"], { id });
    await assert.rejects(webCall(web, "pullCallbacks", key, "0"), /Unknown private key/);
    await std.close();
  }, { pollTimeoutMs: 500 }));

Deno.test("a web client that keeps polling stays registered", () =>
  withWebHub(async (hub, web) => {
    await using page = await SampClient.connect({
      name: "page",
      web: { url: web, pullSeconds: 1 },
    });
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(hub.client(page.id), "still registered after five poll timeouts");
  }, { pollTimeoutMs: 800 }));

Deno.test("a long poll in progress receives samp.hub.event.shutdown when the hub stops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-web-" });
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    web: { port: 0, authorizer: acceptAll() },
  });
  try {
    const web = hub.webUrl!;
    const { key } = await webRegister(web);
    await webCall(web, "allowReverseCallbacks", key, "1");
    await webCall(web, "declareSubscriptions", key, { "samp.hub.event.shutdown": {} });
    const poll = webCall(web, "pullCallbacks", key, "60");
    await new Promise((r) => setTimeout(r, 100));
    await hub.close();
    const got = await poll as SampMap[];
    assert.deepEqual(
      got.map((c) => ((c["samp.params"] as SampValue[])[1] as SampMap)["samp.mtype"]),
      [
        "samp.hub.event.shutdown",
      ],
    );
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("samp_hub runs the Web Profile: --web-auth accept admits pages, no terminal means ask on the hub page (or reject with --no-page)", async () => {
  const accept = await spawnHub(["--web-port", "0", "--web-auth", "accept"]);
  try {
    const web = /^Web Profile at (\S+)$/m.exec(accept.output())?.[1];
    assert.ok(web, accept.output());
    const { key } = await webRegister(web, "cli-page");
    assert.match(key, /^wk:/);
    await webCall(web, "unregister", key);
  } finally {
    assert.equal(await accept.stop(), 0);
    await Deno.remove(accept.dir, { recursive: true });
  }
  // stdin is not a terminal here and there is no hub page: pages are refused.
  const noTty = await spawnHub(["--web-port", "0", "--no-page"]);
  try {
    const web = /^Web Profile at (\S+)$/m.exec(noTty.output())?.[1];
    assert.ok(web, noTty.output());
    assert.doesNotMatch(noTty.output(), /hub page:/);
    await assert.rejects(webCall(web, "register", { "samp.name": "page" }), /Registration refused/);
  } finally {
    assert.equal(await noTty.stop(), 0);
    await Deno.remove(noTty.dir, { recursive: true });
  }
  // With the hub page (the default), the request waits there for the user.
  const paged = await spawnHub(["--web-port", "0"]);
  try {
    const web = /^Web Profile at (\S+)$/m.exec(paged.output())?.[1];
    assert.ok(web, paged.output());
    const page = await waitFor(() => /^hub page: (\S+)$/m.exec(paged.output())?.[1]);
    const asking = webCall(web, "register", { "samp.name": "page" });
    asking.catch(() => {});
    const pending = await waitFor(async () =>
      (await (await fetch(`${page}state`)).json()).consent[0]
    );
    assert.equal(pending.name, "page");
    const r = await fetch(`${page}consent/${pending.id}`, { method: "POST", body: "reject" });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    await assert.rejects(asking, /Registration refused: rejected on the hub page/);
  } finally {
    assert.equal(await paged.stop(), 0);
    await Deno.remove(paged.dir, { recursive: true });
  }
});

Deno.test("samp_hub refuses bad Web Profile flags with exit 2", async () => {
  for (
    const args of [
      ["--web-auth", "maybe"],
      ["--web-allow-origin", "https://x.org/path"],
      ["--web-mtypes", "table.*,bad mtype"],
    ]
  ) {
    const out = collect(startHubProcess(args));
    assert.equal(await out.wait(15000), 2, args.join(" "));
    assert.match(out.text(), new RegExp(`samp_hub: ${args[0]}`));
  }
});

Deno.test("the Web Profile answers XML-RPC at /RPC2, where Python's xmlrpc.client (astropy's web client) posts", () =>
  withWebHub(async (hub, web) => {
    const std = await TestClient.register(hub.url, hub.secret);
    // ServerProxy("http://127.0.0.1:PORT") posts to /RPC2 when the URL has no path.
    const script = `
import sys, xmlrpc.client
hub = xmlrpc.client.ServerProxy(sys.argv[1].rstrip("/"))
reg = hub.samp.webhub.register({"samp.name": "python-web"})
hub.samp.webhub.declareMetadata(reg["samp.private-key"], {"samp.name": "python-web"})
print(reg["samp.self-id"], " ".join(sorted(hub.samp.webhub.getRegisteredClients(reg["samp.private-key"]))))
hub.samp.webhub.unregister(reg["samp.private-key"])
`;
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", script, web],
      stdin: "null",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const [id, ...others] = new TextDecoder().decode(out.stdout).trim().split(" ");
    assert.match(id, /^c\d+$/);
    assert.deepEqual(others, [std.id, "hub"].sort());
    // And the same path is not a way around the Standard Profile's rules:
    // a GET there is refused as at "/".
    const get = await fetch(`${web}RPC2`);
    assert.equal(get.status, 405);
    await get.body?.cancel();
    await std.close();
  }));

// URL control of the Web Profile's URL translator, attacked as a page would:
// flushing the record, relaying through another page or a desktop tool,
// supplying the URL in its own metadata, and redirecting the fetch.

import assert from "node:assert/strict";
import { type Hub, startHub } from "../lib/hub/server.ts";
import { acceptAll } from "../lib/hub/consent.ts";
import { UrlControl, UrlControlFullError } from "../lib/hub/url_control.ts";
import { isPublicAddress } from "../lib/hub/_addresses.ts";
import { fetchTranslated, TranslatorRefusal } from "../lib/hub/_translator_fetch.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import type { SampMap, SampValue } from "../lib/types.ts";
import { TestClient } from "./_helpers.ts";

interface Page {
  id: string;
  key: string;
  call(method: string, ...params: SampValue[]): Promise<SampValue>;
  /** Status of a translator fetch, after checking a refused body leaks nothing. */
  fetch(url: string): Promise<{ status: number; body: string }>;
  /** Collects callbacks until `until` holds. */
  pull(until: (items: SampMap[]) => boolean): Promise<SampMap[]>;
}

async function openPage(web: string, name: string, callable = true): Promise<Page> {
  const call = (method: string, ...params: SampValue[]) =>
    xmlrpcRequest(web, `samp.webhub.${method}`, params, { timeoutMs: 30_000 });
  const reg = await call("register", { "samp.name": name }) as SampMap;
  const key = reg["samp.private-key"] as string;
  const page: Page = {
    id: reg["samp.self-id"] as string,
    key,
    call: (method, ...params) => call(method, key, ...params),
    async fetch(url) {
      const r = await fetch(`${reg["samp.url-translator"]}${url}`);
      return { status: r.status, body: await r.text() };
    },
    async pull(until) {
      const items: SampMap[] = [];
      const deadline = Date.now() + 20_000;
      while (!until(items)) {
        assert.ok(Date.now() < deadline, `callbacks never arrived: ${JSON.stringify(items)}`);
        items.push(...await page.call("pullCallbacks", "1") as SampMap[]);
      }
      return items;
    },
  };
  if (callable) await page.call("allowReverseCallbacks", "1");
  return page;
}

async function withWebHub(
  fn: (hub: Hub, web: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-urlcontrol-" });
  await Deno.writeTextFile(`${dir}/secret.txt`, "TOP-SECRET");
  await Deno.writeTextFile(`${dir}/table.vot`, "<VOTABLE/>");
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    web: { port: 0, authorizer: acceptAll() },
  });
  try {
    await fn(hub, hub.webUrl!, dir);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function refused(got: { status: number; body: string }, what: string): void {
  assert.equal(got.status, 403, `${what}: ${got.status} ${got.body}`);
  assert.doesNotMatch(got.body, /TOP-SECRET/, what);
}

const loadMessage = (url: string): SampMap => ({
  "samp.mtype": "table.load.votable",
  "samp.params": { url },
});

Deno.test("URL control cannot be flushed: a page filling the record with its own URLs gains none", () =>
  withWebHub(async (_hub, web, dir) => {
    const page = await openPage(web, "flusher", false);
    const secret = `file://${dir}/secret.txt`;
    // The secret first, then more distinct URLs than the old record held.
    const metadata: SampMap = { "samp.name": "flusher", "x.secret": secret };
    for (let i = 0; i < 10_050; i++) metadata[`x.u${i}`] = `http://a.example/${i}`;
    await page.call("declareMetadata", metadata);
    const echoed = await page.call("getMetadata", page.id) as SampMap;
    assert.equal(echoed["x.secret"], secret);
    refused(await page.fetch(secret), "a URL the page supplied, after a flood of others");
  }));

Deno.test("URL control: what one page sends another page, in a message, a response or its metadata, is fetchable by neither", () =>
  withWebHub(async (_hub, web, dir) => {
    const a = await openPage(web, "page-a");
    const b = await openPage(web, "page-b");
    await b.call("declareSubscriptions", {
      "table.load.votable": {},
      "samp.hub.event.metadata": {},
    });
    // A message from page A to page B.
    await a.call("notify", b.id, loadMessage(`file://${dir}/secret.txt`));
    await b.pull((items) => items.some((i) => i["samp.methodName"] === "receiveNotification"));
    refused(await b.fetch(`file://${dir}/secret.txt`), "a URL page A sent page B");
    refused(await a.fetch(`file://${dir}/secret.txt`), "a URL page A sent");
    // A response from page B to page A.
    await a.call("declareSubscriptions", {});
    const tag = "t1";
    await a.call("call", b.id, tag, loadMessage(`file://${dir}/table.vot`));
    const calls = await b.pull((items) =>
      items.some((i) => i["samp.methodName"] === "receiveCall")
    );
    const msgId = (calls.find((i) =>
      i["samp.methodName"] === "receiveCall"
    )!["samp.params"] as SampValue[])[1] as string;
    await b.call("reply", msgId, {
      "samp.status": "samp.ok",
      "samp.result": { url: `file://${dir}/./secret.txt` },
    });
    await a.pull((items) =>
      items.some((i) => i["samp.methodName"] === "receiveResponse")
    );
    refused(await a.fetch(`file://${dir}/secret.txt`), "a URL page B answered page A with");
    // Page A's metadata, read by page B (as an event and by asking), and by A itself.
    const icon = `file://${dir}/secret.txt#icon`;
    await a.call("declareMetadata", { "samp.name": "page-a", "samp.icon.url": icon });
    await b.pull((items) =>
      items.some((i) => JSON.stringify(i).includes("samp.hub.event.metadata"))
    );
    await b.call("getMetadata", a.id);
    await a.call("getMetadata", a.id);
    refused(await b.fetch(icon), "page A's icon URL, read by page B");
    refused(await a.fetch(icon), "page A's icon URL, read by page A");
  }));

Deno.test("URL control: a desktop tool quoting a page's URL back, even normalised, does not make it fetchable", () =>
  withWebHub(async (hub, web, dir) => {
    const tool = await TestClient.register(hub.url, hub.secret);
    try {
      // The tool answers every call with the URL it was given, normalised as
      // a tool that turns it into a path and back would.
      tool.onCall = (_s, _m, message) => {
        const url = new URL(String((message["samp.params"] as SampMap).url));
        return {
          "samp.status": "samp.error",
          "samp.error": {
            "samp.errortxt": "cannot load",
            url: `file://${decodeURI(url.pathname)}`,
          },
        };
      };
      await tool.hub("declareSubscriptions", { "table.load.votable": {} });
      const page = await openPage(web, "relay");
      for (
        const sent of [
          `file://${dir}/./secret.txt`,
          `file://${dir}/%73ecret.txt`,
          `file://localhost${dir}/secret.txt?x=1`,
        ]
      ) {
        await page.call("call", tool.id, "t", loadMessage(sent));
        await page.pull((items) => items.some((i) => i["samp.methodName"] === "receiveResponse"));
        refused(await page.fetch(`file://${dir}/secret.txt`), `relayed ${sent}`);
      }
      // The control: a URL the tool itself sends is fetchable, so the
      // refusals above are URL control at work, not a broken translator.
      await page.call("declareSubscriptions", { "table.load.votable": {} });
      await tool.hub("notify", page.id, loadMessage(`file://${dir}/table.vot`));
      await page.pull((items) => items.some((i) => i["samp.methodName"] === "receiveNotification"));
      const ok = await page.fetch(`file://${dir}/table.vot`);
      assert.equal(ok.status, 200, ok.body);
      assert.equal(ok.body, "<VOTABLE/>");
    } finally {
      await tool.close();
    }
  }));

Deno.test("URL translator: a redirect never reaches loopback services, the hub's ports or files unless that URL was sent", () =>
  withWebHub(async (hub, web, dir) => {
    const local = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("TOP-SECRET local service"),
    );
    const targets: Record<string, string> = {
      service: `http://127.0.0.1:${local.addr.port}/admin`,
      byName: `http://localhost:${local.addr.port}/admin`,
      hub: hub.url,
      web: `${web}crossdomain.xml`,
      file: `file://${dir}/secret.txt`,
      allowed: `http://127.0.0.1:${local.addr.port}/allowed`,
    };
    const redirector = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (r) => {
      const name = new URL(r.url).pathname.slice(1);
      return new Response(null, { status: 302, headers: { location: targets[name] } });
    });
    const tool = await TestClient.register(hub.url, hub.secret);
    try {
      const page = await openPage(web, "redirected");
      await page.call("declareSubscriptions", { "table.load.votable": {} });
      const base = `http://127.0.0.1:${redirector.addr.port}`;
      const sent = [...Object.keys(targets).map((n) => `${base}/${n}`), targets.allowed];
      await tool.hub("notify", page.id, {
        "samp.mtype": "table.load.votable",
        "samp.params": { sent },
      });
      await page.pull((items) => items.some((i) => i["samp.methodName"] === "receiveNotification"));
      for (const name of ["service", "byName", "hub", "web", "file"]) {
        const got = await page.fetch(`${base}/${name}`);
        assert.ok([403, 404].includes(got.status), `${name}: ${got.status} ${got.body}`);
        assert.doesNotMatch(got.body, /TOP-SECRET|cross-domain/, name);
      }
      // A redirect to a URL a tool sent this page is followed.
      const allowed = await page.fetch(`${base}/allowed`);
      assert.equal(allowed.status, 200, allowed.body);
    } finally {
      await tool.close();
      await redirector.shutdown();
      await local.shutdown();
    }
  }));

Deno.test("fetchTranslated refuses a redirect to a name with any loopback or private address", async () => {
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (r): Response =>
      new URL(r.url).pathname === "/start"
        ? new Response(null, {
          status: 302,
          headers: { location: `http://rebind.example:${server.addr.port}/inside` },
        })
        : new Response("inside"),
  );
  try {
    for (const addresses of [["127.0.0.1"], ["93.184.216.34", "127.0.0.1"], ["10.0.0.8"], []]) {
      const asked: string[] = [];
      await assert.rejects(
        fetchTranslated(new URL(`http://127.0.0.1:${server.addr.port}/start`), "GET", {
          permits: () => false,
          resolve: (host) => {
            asked.push(host);
            return Promise.resolve(addresses);
          },
        }),
        (e) => e instanceof TranslatorRefusal && e.status === 403,
        JSON.stringify(addresses),
      );
      assert.deepEqual(asked, ["rebind.example"]);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("UrlControl: a page over its URL budget gets a fault, and nothing it supplied is forgotten", () => {
  const control = new UrlControl({ suppliedPerClient: 200 });
  control.noteSupplied("c1", { url: "file:///home/user/.ssh/id_rsa" });
  const flood = Array.from({ length: 50 }, (_, i) => `http://a.example/${i}`);
  assert.throws(() => control.noteSupplied("c1", flood), UrlControlFullError);
  // A tool quoting the secret to another page still does not permit it.
  control.noteDelivered("c2", { error: "file:///home/user/.ssh/id_rsa" });
  assert.equal(control.isPermitted("c2", "file:///home/user/.ssh/id_rsa"), false);
  control.noteDelivered("c2", { url: "file:///data/t.vot" });
  assert.equal(control.isPermitted("c2", "file://localhost/data/./t.vot"), true);
  assert.equal(control.isPermitted("c2", "file:///data/t.vot#frag"), true);
  assert.equal(control.isPermitted("c1", "file:///data/t.vot"), false);
});

Deno.test("UrlControl: a full permitted record refuses new URLs instead of forgetting old ones", () => {
  const control = new UrlControl({ permittedPerClient: 60 });
  control.noteDelivered("c1", ["http://a.example/first"]);
  control.noteDelivered("c1", Array.from({ length: 20 }, (_, i) => `http://a.example/${i}`));
  assert.equal(control.isPermitted("c1", "http://a.example/first"), true);
  assert.equal(control.isPermitted("c1", "http://a.example/19"), false);
});

Deno.test("isPublicAddress: loopback, private, link-local and embedded forms are not public", () => {
  for (
    const a of [
      "127.0.0.1",
      "127.5.6.7",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::127.0.0.1",
      "64:ff9b::a9fe:a9fe",
      "2002:7f00:1::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "fe80::1%eth0",
      "ff02::1",
      "2001:db8::1",
      "localhost",
      "not an address",
    ]
  ) {
    assert.equal(isPublicAddress(a), false, a);
  }
  for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
    assert.equal(isPublicAddress(a), true, a);
  }
});

Deno.test("URL control: a desktop tool's metadata and its callAndWait reply, read by a page, make their URLs fetchable", () =>
  withWebHub(async (hub, web, dir) => {
    const tool = await TestClient.register(hub.url, hub.secret);
    try {
      await tool.hub("declareMetadata", {
        "samp.name": "tool",
        "samp.icon.url": `file://${dir}/table.vot`,
      });
      tool.onCall = () => ({
        "samp.status": "samp.ok",
        "samp.result": { url: `file://${dir}/secret.txt` },
      });
      await tool.hub("declareSubscriptions", { "table.load.votable": {} });
      const page = await openPage(web, "reader", false);
      refused(await page.fetch(`file://${dir}/secret.txt`), "before the reply");
      await page.call("getMetadata", tool.id);
      const icon = await page.fetch(`file://${dir}/table.vot`);
      assert.equal(icon.status, 200, icon.body);
      await page.call("callAndWait", tool.id, loadMessage(`http://a.example/t.vot`), "10");
      const replied = await page.fetch(`file://${dir}/secret.txt`);
      assert.equal(replied.status, 200, "a URL the tool answered with");
    } finally {
      await tool.close();
    }
  }));

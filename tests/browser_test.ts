// The Web Profile in a real browser: headless Chromium loads a page from
// http://127.0.0.1:<port> (another origin than the hub's, as a real site is)
// that uses npm sampjs, or our own client bundled for browsers, and talks
// through an in-process hub to a Standard Profile SampClient.

import assert from "node:assert/strict";
import { type Hub, startHub } from "../lib/hub/server.ts";
import { acceptAll, type Authorizer, type ConsentRequest, rejectAll } from "../lib/hub/consent.ts";
import { SampClient } from "../lib/client/client.ts";
import { waitFor } from "./_helpers.ts";
import {
  assertSampjsPortFree,
  browserTest,
  launchBrowser,
  type PageFile,
  SAMPJS_HUB_PORT,
  sampjsSource,
  servePage,
  webClientBundle,
} from "./_browser.ts";

// ---- the pages ------------------------------------------------------------------

/** No favicon request (its 404 would be logged as a console error). */
const NO_ICON = '<link rel="icon" href="data:,">';

// npm sampjs 1.0.3's samp.js ends with `module.exports = { samp }`, which
// throws in a classic browser script (after defining the global `samp`).
// A page using the npm file as-is needs this one-line shim.
const MODULE_SHIM = "<script>var module = { exports: {} };</script>";

const SAMPJS_HTML = `<!doctype html>
<meta charset="utf-8">
<title>sampjs test page</title>
${NO_ICON}
${MODULE_SHIM}
<script src="/samp.js"></script>
<script src="/page.js"></script>
`;

// The page's side of the sampjs tests (plain browser JavaScript, sampjs API
// only). It answers table.highlight.row calls, records table.load.votable
// notifications, and can call a client and wait for the reply.
const SAMPJS_PAGE_JS = `"use strict";
var state = { registered: false, error: null, selfId: null, notes: [], calls: [], replies: [],
  callError: null, unregistered: false };
var tracker = new samp.ClientTracker();
tracker.callHandler["table.load.votable"] = function (senderId, message, isCall) {
  state.notes.push({ senderId: senderId, isCall: isCall, params: message["samp.params"] });
};
tracker.callHandler["table.highlight.row"] = function (senderId, message, isCall) {
  state.calls.push({ senderId: senderId, isCall: isCall, params: message["samp.params"] });
  return { row: message["samp.params"].row, by: "sampjs" };
};
var connector = new samp.Connector("sampjs test page",
  { "samp.name": "sampjs test page", "samp.description.text": "a page using sampjs" },
  tracker, tracker.calculateSubscriptions());
connector.onreg = function (conn) {
  state.registered = true;
  state.selfId = conn.regInfo["samp.self-id"];
};
connector.onunreg = function () { state.unregistered = true; };
function start() {
  connector.runWithConnection(function () {}, function (err) { state.error = String(err); });
}
function nameOf(id) { return tracker.getName(id); }
// sampjs's start-up is a chain of requests that run after onreg: the tracker
// asks for every other client's metadata and subscriptions, and the page
// declares its subscriptions once callbacks are allowed. Each reads the
// private key when it is sent, so unregistering before the chain ends makes
// sampjs throw "Not legal SAMP object type: undefined" (its own race, not the
// hub's). Tests wait for this before they unregister.
function startupDone() {
  var ids = Object.keys(tracker.ids || {});
  return ids.length > 0 && ids.every(function (id) {
    return tracker.metas[id] !== undefined && tracker.subs[id] !== undefined;
  });
}
function callClient(id, tag, mtype, params) {
  tracker.replyHandler[tag] = function (responderId, msgTag, response) {
    state.replies.push({ responderId: responderId, msgTag: msgTag, response: response });
  };
  connector.connection.call([id, tag, new samp.Message(mtype, params)], null,
    function (err) { state.callError = String(err); });
}
`;

const OWN_HTML = `<!doctype html>
<meta charset="utf-8">
<title>our web client</title>
${NO_ICON}
<script type="module" src="/page.js" onerror="globalThis.loadFailed = true"></script>
`;

// The page's side of the test of our own client: browser JavaScript that
// imports only the bundle (no Deno API anywhere).
const OWN_PAGE_JS = `import { SampClient } from "/client.js";
const state = globalThis.state = { ready: true, notes: [], calls: [], fetched: [] };
let client;
async function readVia(url) {
  const r = await fetch(client.translateUrl(url));
  return { url, status: r.status, bytes: Array.from(new Uint8Array(await r.arrayBuffer())) };
}
globalThis.start = async (hubUrl) => {
  client = await SampClient.connect({
    name: "own web page",
    web: { url: hubUrl  },
  });
  await client.on("table.load.votable", async (m) => {
    state.notes.push({ senderId: m.senderId, params: m.params });
    state.fetched.push(await readVia(String(m.params.url)));
  });
  await client.on("table.highlight.row", (m) => {
    state.calls.push({ senderId: m.senderId, params: m.params });
    return { row: m.params.row, by: "own web page" };
  });
  return { id: client.id, profile: client.connection.profile };
};
globalThis.readVia = readVia;
globalThis.callClient = (id, mtype, params) => client.request(id, mtype, params, { timeout: 10 });
globalThis.nameOf = (id) => client.clients.get(id)?.name;
globalThis.stop = () => client.close();
`;

const html = (body: string): PageFile => ({ type: "text/html; charset=utf-8", body });
const js = (body: string | (() => Promise<string>)): PageFile => ({
  type: "text/javascript; charset=utf-8",
  body,
});

function sampjsSite(extra: Record<string, PageFile> = {}) {
  return servePage({
    "/": html(SAMPJS_HTML),
    "/samp.js": js(sampjsSource),
    "/page.js": js(SAMPJS_PAGE_JS),
    ...extra,
  });
}

// ---- the hub --------------------------------------------------------------------

/** An authorizer that records what it was asked before deciding like `inner`. */
function recording(inner: Authorizer): { authorizer: Authorizer; asked: ConsentRequest[] } {
  const asked: ConsentRequest[] = [];
  return {
    asked,
    authorizer: {
      authorize(request, signal) {
        asked.push(request);
        return inner.authorize(request, signal);
      },
    },
  };
}

type TestHub = Hub & { dir: string };

/**
 * A hub with a private lockfile and the Web Profile on `port` (sampjs needs
 * 21012); disposing of it stops it and removes its directory.
 */
async function webHub(authorizer: Authorizer, port: number): Promise<TestHub> {
  if (port === SAMPJS_HUB_PORT) assertSampjsPortFree();
  const dir = await Deno.makeTempDir({ prefix: "samp-browser-" });
  try {
    const hub = await startHub({ lockfile: `${dir}/hub.samp`, web: { port, authorizer } });
    return {
      ...hub,
      dir,
      async [Symbol.asyncDispose]() {
        await hub.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
}

/** A temporary directory, removed on disposal. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "samp-browser-files-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

const webClients = (hub: Hub) => hub.clients().filter((c) => c.profile === "web");

// ---- the tests ------------------------------------------------------------------

await browserTest(
  "sampjs in Chromium registers through the hub and exchanges notify, calls and replies with a Standard Profile client",
  async () => {
    const { authorizer, asked } = recording(acceptAll());
    await using hub = await webHub(authorizer, SAMPJS_HUB_PORT);
    await using site = sampjsSite();
    await using browser = await launchBrowser();
    await using desktop = await SampClient.connect({ lockfile: hub.lockfile, name: "desktop" });
    const pointed: { senderId: string; params: unknown }[] = [];
    await desktop.on("coord.pointAt.sky", (m) => {
      pointed.push({ senderId: m.senderId, params: m.params });
      return { pointed: `${m.params.ra},${m.params.dec}` };
    });

    const tab = await browser.open(site.url("/"));
    await tab.eval("start()");
    await tab.until("state.registered || state.error", "sampjs registration");
    assert.equal(await tab.eval("state.error"), null);
    const pageId = await tab.eval<string>("state.selfId");

    // The hub asked for consent with what the browser really sent.
    assert.equal(asked.length, 1);
    assert.equal(asked[0].name, "sampjs test page");
    assert.equal(asked[0].origin, site.origin);
    assert.equal(asked[0].referer, site.url("/"));
    // It is a web client on the hub, with the metadata and subscriptions sampjs declared.
    await waitFor(
      () => hub.client(pageId)?.subscriptions["table.load.votable"],
      5000,
      "the page's subscriptions",
    );
    assert.equal(hub.client(pageId)?.profile, "web");
    await waitFor(() => desktop.clients.get(pageId)?.name === "sampjs test page");
    // sampjs's ClientTracker learnt the desktop client's name through the hub.
    await tab.until(
      `nameOf(${JSON.stringify(desktop.id)}) === "desktop"`,
      "the page's tracker to know the desktop client",
    );
    // The browser really went through a CORS preflight, and the hub passed it.
    const pre = tab.preflights.find((p) => p.url === `http://localhost:${SAMPJS_HUB_PORT}/`);
    assert.ok(pre, `no preflight to the hub among ${JSON.stringify(tab.preflights)}`);
    assert.equal(pre.origin, site.origin);
    assert.equal(pre.responseHeaders["access-control-allow-origin"], site.origin);

    // Desktop → page: a notification arrives through sampjs's long poll.
    const url = "http://data.example/crab.vot";
    await desktop.notify(pageId, "table.load.votable", { url, "table-id": "crab", name: "Crab" });
    await tab.until("state.notes.length === 1", "the notification");
    assert.deepEqual(await tab.eval("state.notes"), [{
      senderId: desktop.id,
      isCall: false,
      params: { url, "table-id": "crab", name: "Crab" },
    }]);

    // Desktop → page: a call, answered by sampjs's CallableClient.
    const result = await desktop.request(
      pageId,
      "table.highlight.row",
      { "table-id": "crab", url, row: "7" },
      { timeout: 15 },
    );
    assert.deepEqual(result, { row: "7", by: "sampjs" });
    assert.deepEqual(await tab.eval("state.calls"), [{
      senderId: desktop.id,
      isCall: true,
      params: { "table-id": "crab", url, row: "7" },
    }]);

    // Page → desktop: a call, and the reply comes back to the page.
    await tab.eval(
      `callClient(${
        JSON.stringify(desktop.id)
      }, "tag-1", "coord.pointAt.sky", { ra: "83.63", dec: "22.01" })`,
    );
    await tab.until("state.replies.length === 1 || state.callError", "the desktop's reply");
    assert.equal(await tab.eval("state.callError"), null);
    assert.deepEqual(await tab.eval("state.replies"), [{
      responderId: desktop.id,
      msgTag: "tag-1",
      response: { "samp.status": "samp.ok", "samp.result": { pointed: "83.63,22.01" } },
    }]);
    assert.deepEqual(pointed, [{ senderId: pageId, params: { ra: "83.63", dec: "22.01" } }]);

    // The page unregisters; the hub and the desktop client see it go.
    await tab.until("startupDone()", "sampjs's start-up requests");
    await tab.eval("connector.unregister()");
    await waitFor(() => !hub.client(pageId), 5000, "the page to unregister");
    await waitFor(() => !desktop.clients.get(pageId), 5000, "the desktop to see it go");
    assert.deepEqual(tab.errors, []);
  },
);

await browserTest(
  "sampjs in Chromium is told when the hub refuses its registration, and nothing registers",
  async () => {
    const { authorizer, asked } = recording(rejectAll());
    await using hub = await webHub(authorizer, SAMPJS_HUB_PORT);
    await using site = sampjsSite();
    await using browser = await launchBrowser();
    const tab = await browser.open(site.url("/"));
    await tab.eval("start()");
    await tab.until("state.registered || state.error", "sampjs's registration to fail");
    assert.equal(await tab.eval("state.registered"), false);
    // sampjs reports the hub's XML-RPC fault, with the hub's reason.
    assert.match(
      await tab.eval<string>("state.error"),
      /^XML-RPC Fault \(\d+\): Registration refused: .*--web-auth reject/,
    );
    // The refusal was a consent decision on the page's real request, not a
    // transport failure: the hub was asked, with the page's origin.
    assert.equal(asked.length, 1);
    assert.equal(asked[0].origin, site.origin);
    assert.deepEqual(webClients(hub), []);
    assert.deepEqual(hub.clients().map((c) => c.id), ["hub"]);
    assert.deepEqual(tab.errors, []);
  },
);

await browserTest(
  "our bundled SampClient in Chromium registers, is notified, answers and makes calls, and reads only mentioned files through the URL translator",
  async () => {
    // Our client can be told where the hub is: this hub takes any free port.
    await using hub = await webHub(acceptAll(), 0);
    const bundle = await webClientBundle();
    const nodeImports = [...bundle.matchAll(/^import .* from "(node:[^"]+)"/gm)].map((m) => m[1]);
    assert.deepEqual(nodeImports, [], "the browser bundle of SampClient imports Node built-ins");
    await using site = servePage({
      "/": html(OWN_HTML),
      "/client.js": js(bundle),
      "/page.js": js(OWN_PAGE_JS),
    });
    await using browser = await launchBrowser();
    await using files = await tempDir();
    const dir = files.path;
    const mentioned = `${dir}/crab table.vot`;
    const secret = `${dir}/secret.txt`;
    const bytes = new Uint8Array([0x3c, 0x56, 0x4f, 0x2f, 0x3e, 0x00, 0xff, 0x80, 0x0a, 0xe2]);
    await Deno.writeFile(mentioned, bytes);
    await Deno.writeTextFile(secret, "not for web pages");
    const mentionedUrl = new URL(`file://${mentioned}`).href;
    const secretUrl = new URL(`file://${secret}`).href;

    await using desktop = await SampClient.connect({ lockfile: hub.lockfile, name: "desktop" });
    const pointed: { senderId: string; params: unknown }[] = [];
    await desktop.on("coord.pointAt.sky", (m) => {
      pointed.push({ senderId: m.senderId, params: m.params });
      return { pointed: `${m.params.ra},${m.params.dec}` };
    });

    const tab = await browser.open(site.url("/"));
    await tab.until("globalThis.state?.ready || globalThis.loadFailed", "the bundle to load");
    assert.ok(
      await tab.eval("globalThis.state?.ready"),
      `the bundled client did not load in the browser:\n${tab.console.join("\n")}`,
    );
    const me = await tab.eval<{ id: string; profile: string }>(
      `start(${JSON.stringify(hub.webUrl)})`,
    );
    assert.equal(me.profile, "web");
    assert.equal(hub.client(me.id)?.profile, "web");
    await waitFor(() => desktop.clients.get(me.id)?.name === "own web page");
    await tab.until(`nameOf(${JSON.stringify(desktop.id)}) === "desktop"`, "the client list");

    // Desktop → page: a notification naming a local file; the page reads it
    // through the hub's URL translator, byte for byte.
    await desktop.notify(me.id, "table.load.votable", { url: mentionedUrl, name: "Crab" });
    await tab.until("state.fetched.length === 1", "the page to read the file");
    assert.deepEqual(await tab.eval("state.notes"), [{
      senderId: desktop.id,
      params: { url: mentionedUrl, name: "Crab" },
    }]);
    assert.deepEqual(await tab.eval("state.fetched"), [{
      url: mentionedUrl,
      status: 200,
      bytes: Array.from(bytes),
    }]);
    // A file nobody sent the page: refused, and none of it reaches the page.
    const refused = await tab.eval<{ status: number; bytes: number[] }>(
      `readVia(${JSON.stringify(secretUrl)})`,
    );
    assert.equal(refused.status, 403);
    assert.doesNotMatch(new TextDecoder().decode(new Uint8Array(refused.bytes)), /not for web/);

    // Desktop → page: a call, answered by the page's handler.
    const result = await desktop.request(
      me.id,
      "table.highlight.row",
      { "table-id": "crab", url: mentionedUrl, row: "3" },
      { timeout: 15 },
    );
    assert.deepEqual(result, { row: "3", by: "own web page" });
    assert.deepEqual(await tab.eval("state.calls"), [{
      senderId: desktop.id,
      params: { "table-id": "crab", url: mentionedUrl, row: "3" },
    }]);

    // Page → desktop: a call, and the result comes back into the page.
    assert.deepEqual(
      await tab.eval(
        `callClient(${JSON.stringify(desktop.id)}, "coord.pointAt.sky", { ra: "1", dec: "2" })`,
      ),
      { pointed: "1,2" },
    );
    assert.deepEqual(pointed, [{ senderId: me.id, params: { ra: "1", dec: "2" } }]);

    await tab.eval("stop()");
    await waitFor(() => !hub.client(me.id), 5000, "the page to unregister");
    // Chromium logs the refused translation; nothing else went wrong.
    assert.deepEqual(tab.errors, [
      "console.error: Failed to load resource: the server responded with a status of 403 (Forbidden)",
    ]);
  },
);

await browserTest(
  "a public web page reaches the hub once the user allows local network access: the CORS preflight passes and sampjs registers",
  async () => {
    const { authorizer, asked } = recording(acceptAll());
    await using hub = await webHub(authorizer, SAMPJS_HUB_PORT);
    await using site = sampjsSite();
    // Chromium treats the page as a site on the internet, so reaching the hub
    // on loopback is a Local Network Access request (Chromium >= 142, the
    // successor of Private Network Access): it needs the user's permission,
    // which the test grants, and a CORS preflight that the hub must pass.
    await using browser = await launchBrowser([
      `--ip-address-space-overrides=127.0.0.1:${site.port}=public`,
    ]);
    const tab = await browser.open(site.url("/"), { grant: ["local-network-access"] });
    await tab.eval("start()");
    await tab.until("state.registered || state.error", "sampjs registration");
    assert.equal(await tab.eval("state.error"), null);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].origin, site.origin);
    const hubPreflights = tab.preflights.filter((p) =>
      p.url === `http://localhost:${SAMPJS_HUB_PORT}/`
    );
    assert.ok(hubPreflights.length >= 1, "the browser sent no preflight to the hub");
    for (const p of hubPreflights) {
      assert.equal(p.origin, site.origin);
      assert.equal(p.requestHeaders["access-control-request-method"], "POST");
      assert.match(p.requestHeaders["access-control-request-headers"] ?? "", /content-type/i);
      assert.equal(p.status, 204);
      assert.equal(p.responseHeaders["access-control-allow-origin"], site.origin);
      assert.match(p.responseHeaders["access-control-allow-methods"] ?? "", /POST/);
      assert.match(p.responseHeaders["access-control-allow-headers"] ?? "", /content-type/i);
      // Should this Chromium still send the Private Network Access header, the hub answers it.
      if (p.requestHeaders["access-control-request-private-network"] === "true") {
        assert.equal(p.responseHeaders["access-control-allow-private-network"], "true");
      }
    }
    // Let sampjs finish its start-up before unregistering (see startupDone).
    const pageId = await tab.eval<string>("state.selfId");
    await waitFor(
      () => hub.client(pageId)?.subscriptions["table.load.votable"],
      5000,
      "the page's subscriptions",
    );
    await tab.until("startupDone()", "sampjs's start-up requests");
    await tab.eval("connector.unregister()");
    await waitFor(() => webClients(hub).length === 0, 5000, "the page to unregister");
    assert.deepEqual(tab.errors, []);
  },
);

await browserTest(
  "a page without a real origin (sandboxed, Origin: null) gets no CORS echo, so it cannot even ask to register; nor can pages read the hub's other resources",
  async () => {
    const { authorizer, asked } = recording(acceptAll());
    await using hub = await webHub(authorizer, SAMPJS_HUB_PORT);
    const framed = (origin: string) =>
      `${MODULE_SHIM}<script src="${origin}/samp.js"></script><script>
samp.register("sandboxed page",
  function () { parent.postMessage("registered", "*"); },
  function (err) { parent.postMessage("failed: " + err, "*"); });
</script>`;
    await using site = sampjsSite({
      "/sandboxed.html": {
        type: "text/html; charset=utf-8",
        body: () =>
          `<!doctype html><meta charset="utf-8"><title>host</title>${NO_ICON}<script>
var state = { frame: null, policy: null };
addEventListener("message", function (e) { state.frame = String(e.data); });
</script><iframe sandbox="allow-scripts" srcdoc="${
            framed(site.origin).replaceAll("&", "&amp;").replaceAll('"', "&quot;")
          }"></iframe>`,
      },
    });
    await using browser = await launchBrowser();
    const tab = await browser.open(site.url("/sandboxed.html"));
    await tab.until("state.frame", "the sandboxed frame's registration attempt");
    // The browser blocked the request after the preflight: sampjs sees a
    // transport error, and the hub never got to ask for consent.
    assert.match(await tab.eval<string>("state.frame"), /^failed: /);
    assert.equal(asked.length, 0);
    assert.deepEqual(webClients(hub), []);
    assert.ok(
      tab.console.some((l) => /origin 'null' has been blocked by CORS policy/.test(l)),
      tab.console.join("\n"),
    );
    // CORS is echoed only on the hub's endpoints: a page (with a real
    // origin) cannot read its other resources, which the hub does serve.
    const policy = await tab.eval<string>(
      `fetch("http://localhost:${SAMPJS_HUB_PORT}/crossdomain.xml")` +
        `.then((r) => "read " + r.status, (e) => "blocked: " + e.name)`,
    );
    assert.equal(policy, "blocked: TypeError");
    const direct = await fetch(`http://localhost:${SAMPJS_HUB_PORT}/crossdomain.xml`);
    assert.equal(direct.status, 200);
    await direct.body?.cancel();
    // The same page may still talk to the hub's XML-RPC endpoint.
    const ping = await tab.eval<string>(
      `fetch("http://localhost:${SAMPJS_HUB_PORT}/", { method: "POST", ` +
        `headers: { "Content-Type": "text/xml" }, body: "<?xml version='1.0'?>` +
        `<methodCall><methodName>samp.webhub.ping</methodName><params/></methodCall>" })` +
        `.then((r) => r.text())`,
    );
    assert.match(ping, /<methodResponse>/);
  },
);

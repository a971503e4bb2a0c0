// The hub's live status page (lib/hub/page.ts): its access rules, its event
// stream, consent from the page, and the page itself in headless Chromium.

import assert from "node:assert/strict";
import { type Hub, startHub, type WebOptions } from "../lib/hub/server.ts";
import { acceptAll } from "../lib/hub/consent.ts";
import { type PageConsent, pageConsent } from "../lib/hub/consent.ts";
import { SampFault } from "../lib/errors.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import type { SampMap } from "../lib/types.ts";
import {
  collect,
  rawHttp,
  ROOT,
  spawnHub,
  startHubProcess,
  TestClient,
  waitFor,
} from "./_helpers.ts";
import { browserTest, launchBrowser } from "./_browser.ts";
import { HUB_PERMISSIONS, openerPermission } from "../scripts/permissions.ts";

async function withHub(
  fn: (hub: Hub) => Promise<void>,
  web: Partial<WebOptions> = {},
  consent?: PageConsent,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-page-" });
  const hub = await startHub({
    lockfile: `${dir}/hub.samp`,
    web: { port: 0, authorizer: consent ?? acceptAll(), ...web },
    page: { consent },
  });
  try {
    await fn(hub);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const webRegister = (hub: Hub, name: string) =>
  xmlrpcRequest(hub.webUrl!, "samp.webhub.register", [{ "samp.name": name }], {
    timeoutMs: 20_000,
  }) as Promise<SampMap>;

/** Reads server-sent events from a response body. */
function sseReader(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const events: { event: string; data: unknown }[] = [];
  let ended = false;
  const pump = (async () => {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      for (let i = buffer.indexOf("\n\n"); i >= 0; i = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
    ended = true;
  })();
  return { events, pump, isEnded: () => ended, cancel: () => reader.cancel() };
}

Deno.test("the page needs its token, loopback Host and same-origin POSTs, and sends no CORS headers", () =>
  withHub(async (hub) => {
    const pageUrl = hub.pageUrl!;
    assert.match(pageUrl, /^http:\/\/127\.0\.0\.1:\d+\/page\/[0-9a-f]{32}\/$/);
    const origin = new URL(pageUrl).origin;
    const token = /\/page\/([0-9a-f]+)\//.exec(pageUrl)![1];

    // The right token: the page, with strict headers and no CORS.
    const ok = await fetch(pageUrl, { headers: { origin: "https://evil.example" } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type")!, /^text\/html/);
    assert.match(await ok.text(), /<title>SAMP hub<\/title>/);
    assert.equal(ok.headers.get("referrer-policy"), "no-referrer");
    assert.match(ok.headers.get("content-security-policy")!, /default-src 'none'/);
    for (const [k] of ok.headers) assert.doesNotMatch(k, /^access-control-/i);
    const state = await fetch(`${pageUrl}state`, { headers: { origin: "https://evil.example" } });
    assert.equal(state.status, 200);
    for (const [k] of state.headers) assert.doesNotMatch(k, /^access-control-/i);
    assert.equal((await state.json()).clients[0].id, "hub");
    // A preflight gets nothing that would allow it.
    const preflight = await fetch(`${pageUrl}state`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    await preflight.body?.cancel();
    for (const [k] of preflight.headers) assert.doesNotMatch(k, /^access-control-/i);

    // Wrong or missing token: 404, like any unknown path.
    const wrong = token.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    for (const path of [`/page/${wrong}/`, `/page/${wrong}/state`, "/page/", "/page", "/page//"]) {
      const r = await fetch(`${origin}${path}`);
      await r.body?.cancel();
      assert.equal(r.status, 404, path);
    }

    // A foreign Host (DNS rebinding): 403, even with the right token.
    const foreign = await rawHttp(
      pageUrl,
      `GET /page/${token}/state HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    );
    assert.match(foreign, /^HTTP\/1\.1 403/);
    const local = await rawHttp(
      pageUrl,
      `GET /page/${token}/state HTTP/1.1\r\nHost: localhost:1\r\nConnection: close\r\n\r\n`,
    );
    assert.match(local, /^HTTP\/1\.1 200/);

    // POSTs: a cross-site Origin is refused before anything is read.
    for (const o of ["https://evil.example", "null", "http://localhost:1"]) {
      const r = await fetch(`${pageUrl}consent/1`, {
        method: "POST",
        headers: { origin: o },
        body: "accept",
      });
      await r.body?.cancel();
      assert.equal(r.status, 403, o);
    }
    const same = await fetch(`${pageUrl}consent/1`, {
      method: "POST",
      headers: { origin },
      body: "accept",
    });
    await same.body?.cancel();
    assert.equal(same.status, 409, "same origin passes the check; no such request");
  }));

Deno.test("the event stream starts with a snapshot, reports real traffic and ends when the hub closes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-page-" });
  const hub = await startHub({ lockfile: `${dir}/hub.samp` });
  let a: TestClient | undefined, b: TestClient | undefined;
  try {
    const response = await fetch(`${hub.pageUrl}events`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    const sse = sseReader(response);
    await waitFor(() => sse.events.length >= 1, 5000, "the snapshot");
    assert.equal(sse.events[0].event, "snapshot");

    a = await TestClient.register(hub.url, hub.secret);
    b = await TestClient.register(hub.url, hub.secret);
    await a.hub("declareMetadata", { "samp.name": "Alice" });
    await b.hub("declareSubscriptions", { "test.*": {} });
    await a.hub("notify", b.id, { "samp.mtype": "test.hello", "samp.params": {} });
    await a.hub("call", b.id, "tag1", { "samp.mtype": "test.echo", "samp.params": {} });
    type Act = Record<string, unknown> & { client?: { id: string; name?: string } };
    const acts = () => sse.events.filter((e) => e.event === "activity").map((e) => e.data as Act);
    await waitFor(() => acts().some((x) => x.kind === "reply"), 5000, "the reply event");
    assert.ok(acts().some((x) => x.kind === "register" && x.client?.id === a!.id));
    assert.ok(acts().some((x) => x.kind === "metadata" && x.client?.name === "Alice"));
    const notify = acts().find((x) => x.kind === "send" && x.mode === "notify")!;
    assert.deepEqual(
      [notify.sender, notify.recipient, notify.mtype],
      [a.id, b.id, "test.hello"],
    );
    const call = acts().find((x) => x.kind === "send" && x.mode === "call")!;
    assert.equal(call.mtype, "test.echo");
    const reply = acts().find((x) => x.kind === "reply")!;
    assert.equal(reply.msgId, call.msgId);
    assert.equal(reply.status, "samp.ok");
    assert.equal((reply.stats as { messages: number }).messages, 2);

    await a.close();
    await b.close();
    a = b = undefined;
    await hub.close();
    await waitFor(() => sse.isEnded(), 5000, "the stream to end");
    await sse.pump;
  } finally {
    await a?.close();
    await b?.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a web registration waits for the page: accept there lets it in, reject refuses", async () => {
  const consent = pageConsent(undefined, { timeoutMs: 30_000 });
  await withHub(
    async (hub) => {
      const state = async () => (await (await fetch(`${hub.pageUrl}state`)).json());
      const first = webRegister(hub, "Portal");
      const pending = await waitFor(async () => (await state()).consent[0], 5000, "the request");
      assert.equal(pending.name, "Portal");
      const accepted = await fetch(`${hub.pageUrl}consent/${pending.id}`, {
        method: "POST",
        body: "accept",
      });
      assert.equal(accepted.status, 200);
      await accepted.body?.cancel();
      const reg = await first;
      assert.match(reg["samp.private-key"] as string, /^wk:/);
      assert.deepEqual((await state()).consent, []);
      const web = (await state()).clients.filter((c: { profile: string }) => c.profile === "web");
      assert.deepEqual(web.map((c: { id: string }) => c.id), [reg["samp.self-id"]]);

      const second = webRegister(hub, "Intruder");
      const p2 = await waitFor(async () => (await state()).consent[0], 5000, "the second request");
      assert.equal(p2.name, "Intruder");
      const rejected = await fetch(`${hub.pageUrl}consent/${p2.id}`, {
        method: "POST",
        body: "reject",
      });
      assert.equal(rejected.status, 200);
      await rejected.body?.cancel();
      await assert.rejects(
        second,
        (e) => e instanceof SampFault && /rejected on the hub page/.test(e.message),
      );
      // Decided requests cannot be decided again.
      const again = await fetch(`${hub.pageUrl}consent/${p2.id}`, {
        method: "POST",
        body: "accept",
      });
      assert.equal(again.status, 409);
      await again.body?.cancel();
    },
    {},
    consent,
  );
});

Deno.test("without an answer on the page, a request is refused after the timeout", async () => {
  const consent = pageConsent(undefined, { timeoutMs: 300 });
  await withHub(
    async (hub) => {
      await assert.rejects(
        webRegister(hub, "Nobody answers"),
        (e) =>
          e instanceof SampFault && /nobody answered on the hub page within 0.3 s/.test(e.message),
      );
    },
    {},
    consent,
  );
});

await browserTest(
  "in Chromium the page shows clients, traffic with call status, counts, and accepts a consent request by click",
  async () => {
    const consent = pageConsent(undefined, { timeoutMs: 60_000 });
    await withHub(
      async (hub) => {
        await using browser = await launchBrowser();
        const view = await browser.open(hub.pageUrl!);
        const { page } = view;
        // Polls with page.evaluate: Playwright's waitForFunction would need eval,
        // which the page's Content-Security-Policy rightly forbids.
        const until = (expression: string, what: string) =>
          waitFor(
            () => view.eval<boolean>(`Boolean(${expression})`),
            15_000,
            `the page to show ${what} (${expression})`,
          ).then(() => {});
        await until(
          `document.getElementById("conn").textContent === "live"`,
          "the stream is live",
        );

        const icon = new URL("/icon.svg", hub.url).href;
        let shot: Uint8Array | undefined;
        const a = await TestClient.register(hub.url, hub.secret);
        const b = await TestClient.register(hub.url, hub.secret);
        try {
          await a.hub("declareMetadata", {
            "samp.name": "Alice <b>viewer</b>",
            "samp.icon.url": icon,
            "samp.description.text": "a table viewer",
          });
          await b.hub("declareMetadata", { "samp.name": "Bob", "samp.icon.url": icon });
          await b.hub("declareSubscriptions", { "table.load.votable": {}, "test.echo": {} });
          await a.hub("notify", b.id, {
            "samp.mtype": "table.load.votable",
            "samp.params": { url: "http://example.org/t.xml" },
          });
          await a.hub("call", b.id, "c1", { "samp.mtype": "test.echo", "samp.params": { x: "1" } });
          await waitFor(() => a.got("receiveResponse").length === 1, 5000, "the reply");

          const names =
            `[...document.querySelectorAll("#clients td.name")].map((e) => e.textContent)`;
          await until(`${names}.includes("Bob")`, "Bob in the clients table");
          // The name is shown as text, never parsed as HTML.
          assert.deepEqual(await view.eval(names), ["Hub", "Alice <b>viewer</b>", "Bob"]);
          assert.equal(
            await view.eval(`document.querySelectorAll("#clients td.name b").length`),
            0,
          );
          assert.equal(
            await view.eval(`document.querySelectorAll("#clients td.icon img").length`),
            3,
            "an icon for the hub, Alice and Bob",
          );
          const rows = `[...document.querySelectorAll("#traffic tbody tr")].map((r) =>
        [...r.cells].map((c) => c.textContent))`;
          await until(
            `${rows}.some((r) => r[4] === "test.echo" && r[5] === "samp.ok")`,
            "the call with its reply status",
          );
          const traffic = await view.eval<string[][]>(rows);
          const echo = traffic.find((r) => r[4] === "test.echo")!;
          assert.deepEqual(echo.slice(1), [
            "call",
            `Alice <b>viewer</b> (${a.id})`,
            `Bob (${b.id})`,
            "test.echo",
            "samp.ok",
          ]);
          const load = traffic.find((r) => r[4] === "table.load.votable")!;
          assert.deepEqual(load.slice(1, 3), ["notify", `Alice <b>viewer</b> (${a.id})`]);
          assert.ok(
            traffic.indexOf(echo) < traffic.indexOf(load),
            "newest first: the call above the notify",
          );
          const count = (id: string) => `document.getElementById("${id}").textContent`;
          assert.equal(await view.eval(count("count-clients")), "3");
          assert.equal(await view.eval(count("count-messages")), "2");
          assert.equal(await view.eval(count("count-pending")), "0");
          await until(`${count("uptime")}.endsWith("s")`, "the uptime");

          // A web page asks to register: the request appears; the user clicks Accept.
          const registration = webRegister(hub, "Archive portal");
          await until(
            `document.querySelector("#consent .consent-name")?.textContent === "Archive portal"`,
            "the consent request on the page",
          );
          // The README's picture is rewritten only when asked
          // (SAMP_UPDATE_DOCS=1): a test run leaves the checkout as it was.
          shot = await page.screenshot({ fullPage: true });
          if (Deno.env.get("SAMP_UPDATE_DOCS") === "1") {
            await Deno.writeFile(`${ROOT}docs/hub-page.png`, shot);
          }
          await page.click("#consent button.accept");
          const reg = await registration;
          assert.match(reg["samp.private-key"] as string, /^wk:/);
          const profiles = `[...document.querySelectorAll("#clients > tbody > tr")].map((r) =>
        r.cells[3].textContent)`;
          await until(`${profiles}.includes("web (not callable)")`, "the web client in the table");
          await until(
            `!document.querySelector("#consent .consent-name")`,
            "the request gone from the pending list",
          );
          assert.match(
            await view.eval<string>(`document.getElementById("decided").textContent`),
            /Archive portal: accepted/,
          );
          assert.deepEqual(view.errors, []);
        } finally {
          await a.close();
          await b.close();
        }
        for (const png of [shot!, await Deno.readFile(`${ROOT}docs/hub-page.png`)]) {
          assert.ok(png.length > 1000, "a non-empty screenshot");
          assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "a PNG");
        }
      },
      {},
      consent,
    );
  },
);

Deno.test("samp_hub prints the page URL, --open runs the system's opener on it, --no-page has none", async () => {
  const bin = await Deno.makeTempDir({ prefix: "samp-open-" });
  try {
    // A stand-in xdg-open that records its argument.
    await Deno.writeTextFile(`${bin}/xdg-open`, `#!/bin/sh\necho "$1" > "${bin}/opened"\n`);
    await Deno.chmod(`${bin}/xdg-open`, 0o755);
    // As the compiled binary runs it: the opener of this system allowed.
    const hub = await spawnHub(["--open"], {
      env: { PATH: `${bin}:${Deno.env.get("PATH")}` },
      permissions: [...HUB_PERMISSIONS, openerPermission(Deno.build.os)],
    });
    try {
      const url = await waitFor(() => /^hub page: (\S+)$/m.exec(hub.output())?.[1]);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/page\/[0-9a-f]{32}\/$/);
      const page = await fetch(url);
      assert.equal(page.status, 200);
      await page.body?.cancel();
      if (Deno.build.os === "linux") {
        const opened = await waitFor(() => Deno.readTextFile(`${bin}/opened`).catch(() => ""));
        assert.equal(opened.trim(), url);
      }
    } finally {
      assert.equal(await hub.stop(), 0);
      await Deno.remove(hub.dir, { recursive: true });
    }
    const none = await spawnHub(["--no-page"]);
    try {
      assert.doesNotMatch(none.output(), /hub page:/);
    } finally {
      assert.equal(await none.stop(), 0);
      await Deno.remove(none.dir, { recursive: true });
    }
    const both = collect(startHubProcess(["--open", "--no-page"]));
    assert.equal(await both.wait(15_000), 2);
    assert.match(both.text(), /--open and --no-page cannot be used together/);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

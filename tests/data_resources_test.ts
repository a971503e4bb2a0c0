// In-memory data served from the client's own callback server (issue 12,
// point 7): offer(), sendTable() and sendImage() against our in-process hub,
// with a SampClient standing in for the tool that fetches the URL.

import assert from "node:assert/strict";
import { startHub } from "../lib/hub/server.ts";
import type { Hub } from "../lib/hub/server.ts";
import { acceptAll } from "../lib/hub/consent.ts";
import { SampClient, type SampClientOptions } from "../lib/client/client.ts";
import { SampErrorResponse } from "../lib/errors.ts";
import {
  isLoopbackHost,
  NoResourceServerError,
  RESOURCE_PREFIX,
  ResourceStore,
} from "../lib/client/resources.ts";
import { waitFor } from "./_helpers.ts";

async function withHub(
  fn: (hub: Hub, lockfile: string) => Promise<void>,
  options: Parameters<typeof startHub>[0] = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-data-" });
  const lockfile = `${dir}/hub.samp`;
  const hub = await startHub({ lockfile, ...options });
  try {
    await fn(hub, lockfile);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const connect = (lockfile: string, options: SampClientOptions = {}) =>
  SampClient.connect({ lockfile, ...options });

/** A GET or HEAD (or other method) whose body is read in full. */
async function get(url: string, method = "GET") {
  const r = await fetch(url, { method });
  return { status: r.status, headers: r.headers, body: new Uint8Array(await r.arrayBuffer()) };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * A stand-in viewer: subscribed to `mtype`, it fetches the URL it is sent
 * (as TOPCAT and DS9 do while handling the message) and replies.
 */
async function viewer(lockfile: string, mtype: string, name = "viewer") {
  const client = await connect(lockfile, { name });
  const fetched: { params: Record<string, unknown>; status: number; type: string; body: string }[] =
    [];
  await client.on(mtype, async (m) => {
    const r = await get(String(m.params.url));
    fetched.push({
      params: m.params,
      status: r.status,
      type: r.headers.get("content-type") ?? "",
      body: text(r.body),
    });
    if (r.status !== 200) throw new Error(`could not fetch ${m.params.url}: HTTP ${r.status}`);
    return {};
  });
  return { client, fetched };
}

Deno.test("an offered string is served at an unguessable loopback URL, with its type and length, to GET and HEAD", () =>
  withHub(async (_hub, lockfile) => {
    await using client = await connect(lockfile, { name: "sender" });
    const res = client.offer("ra,dec\n10.68,41.27\n", { name: "m31 stars.csv" });
    const url = new URL(res.url);
    assert.equal(url.hostname, "127.0.0.1");
    // 128 random bits as 32 hex digits, then the name made URL-safe.
    assert.match(url.pathname, /^\/sampkit\/data\/[0-9a-f]{32}\/m31_stars\.csv$/);
    assert.equal(res.contentType, "text/csv; charset=utf-8");
    assert.equal(res.size, 19);
    const head = await get(res.url, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "19");
    assert.equal(head.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.equal(head.body.length, 0);
    assert.equal(res.fetches, 0, "a HEAD is not a fetch");
    const r = await get(res.url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), "19");
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(text(r.body), "ra,dec\n10.68,41.27\n");
    assert.equal((await get(res.url)).status, 200, "served as often as asked");
    assert.equal(res.fetches, 2);
    // Two offers never share a URL.
    const again = client.offer("ra,dec\n10.68,41.27\n", { name: "m31 stars.csv" });
    assert.notEqual(again.url, res.url);
  }));

Deno.test("offered bytes are served unchanged, typed by name or as asked, and a multi-byte string by its UTF-8 length", () =>
  withHub(async (_hub, lockfile) => {
    await using client = await connect(lockfile, { name: "sender" });
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    using fits = client.offer(bytes, { name: "img.fits" });
    using raw = client.offer(bytes);
    using typed = client.offer(bytes, { contentType: "application/x-test" });
    using unicode = client.offer("café ✓");
    using view = client.offer(bytes.subarray(10, 20));
    assert.deepEqual(
      (await get(view.url)).body,
      bytes.slice(10, 20),
      "a view serves its own bytes",
    );
    assert.throws(() => client.offer("x", { lifetime: -1 }), RangeError);
    const f = await get(fits.url);
    assert.deepEqual(f.body, bytes);
    assert.equal(f.headers.get("content-type"), "image/fits");
    assert.equal(f.headers.get("content-length"), "70000");
    assert.match(raw.url, /\/data$/);
    assert.equal((await get(raw.url)).headers.get("content-type"), "application/octet-stream");
    assert.equal((await get(typed.url)).headers.get("content-type"), "application/x-test");
    const u = await get(unicode.url);
    assert.equal(
      u.headers.get("content-length"),
      String(new TextEncoder().encode("café ✓").length),
    );
    assert.equal(u.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(text(u.body), "café ✓");
  }));

Deno.test("a revoked, disposed or expired resource answers 404; closing the client revokes the rest", () =>
  withHub(async (_hub, lockfile) => {
    const client = await connect(lockfile, { name: "sender" });
    try {
      const revoked = client.offer("a");
      assert.equal((await get(revoked.url)).status, 200);
      revoked.revoke();
      revoked.revoke(); // twice is fine
      assert.equal(revoked.revoked, true);
      const gone = await get(revoked.url);
      assert.equal(gone.status, 404);
      assert.match(text(gone.body), /revoked, expired or never offered/);
      let disposedUrl: string;
      {
        using disposed = client.offer("b");
        disposedUrl = disposed.url;
        assert.equal((await get(disposedUrl)).status, 200);
      }
      assert.equal((await get(disposedUrl)).status, 404);
      const expiring = client.offer("c", { lifetime: 0.05 });
      await waitFor(() => expiring.revoked, 5000, "the resource to expire");
      assert.equal((await get(expiring.url)).status, 404);
      const later = client.offer("d");
      later.expireIn(0);
      await waitFor(() => later.revoked, 5000, "expireIn(0) to revoke it");
      const kept = client.offer("e");
      assert.equal((await get(kept.url)).status, 200);
      await client.close();
      assert.equal(kept.revoked, true);
      // The callback server is gone with the client: nothing answers there any more.
      await assert.rejects(fetch(kept.url));
    } finally {
      await client.close();
    }
  }));

Deno.test("only offered paths answer: no listing, no guessed token, no other name or method; XML-RPC callbacks unchanged", () =>
  withHub(async (_hub, lockfile) => {
    await using client = await connect(lockfile, { name: "sender" });
    using res = client.offer("secret rows", { name: "t.vot" });
    const url = new URL(res.url);
    const origin = url.origin;
    const token = url.pathname.split("/")[3];
    for (
      const path of [
        "/sampkit/data/",
        "/sampkit/data",
        `/sampkit/data/${token}`,
        `/sampkit/data/${token}/`,
        `/sampkit/data/${token}/other.vot`,
        `/sampkit/data/${token.replace(/^./, (c) => c === "0" ? "1" : "0")}/t.vot`,
        `/sampkit/data/${token}/t.vot/..`,
        `/sampkit/data/${token}/t.vot/x`,
        `/sampkit/data/../data/${token.toUpperCase()}/t.vot`,
      ]
    ) {
      const r = await get(origin + path);
      // (/sampkit/data without its slash is not under the prefix: the XML-RPC endpoint's 405.)
      assert.ok(r.status === 404 || r.status === 405, `${path}: HTTP ${r.status}`);
      assert.ok(!text(r.body).includes("secret"), path);
    }
    const post = await get(res.url, "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal((await get(res.url, "DELETE")).status, 405);
    assert.equal((await get(res.url)).status, 200, "still served after all that");
    // The XML-RPC endpoint answers as before: a GET is told to POST, and callbacks arrive.
    const xmlrpc = await get(`${origin}/xmlrpc`);
    assert.equal(xmlrpc.status, 405);
    assert.match(text(xmlrpc.body), /send a POST/);
    const got: string[] = [];
    await client.on("test.hello", (m) => void got.push(m.mtype));
    await using other = await connect(lockfile, { name: "other" });
    await other.notify(client.id, "test.hello", {});
    await waitFor(() => got.length === 1, 5000, "the notification");
  }));

Deno.test("a Web Profile client or one connected with callable: false cannot offer data, and the error says why and what to do", () =>
  withHub(async (hub, lockfile) => {
    await using page = await SampClient.connect({
      name: "page",
      web: { url: hub.webUrl!, pullSeconds: 1 },
    });
    assert.throws(
      () => page.offer("x"),
      (e) =>
        e instanceof NoResourceServerError && /Web Profile/.test(e.message) &&
        /Standard Profile/.test(e.message),
    );
    await assert.rejects(
      page.sendTable([{ a: 1 }], { to: "anyone" }),
      (e) => e instanceof NoResourceServerError,
    );
    await using quiet = await connect(lockfile, { name: "quiet", callable: false });
    assert.throws(
      () => quiet.offer("x"),
      (e) => e instanceof NoResourceServerError && /callable: true/.test(e.message),
    );
    // A store no server has attached says so too.
    assert.throws(() => new ResourceStore().offer("x"), NoResourceServerError);
    // Data is served on loopback only.
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
      assert.ok(isLoopbackHost(h), h);
    }
    for (const h of ["0.0.0.0", "192.168.1.2", "::", "example.org", "128.0.0.1"]) {
      assert.ok(!isLoopbackHost(h), h);
    }
  }, { web: { port: 0, authorizer: acceptAll() } }));

Deno.test("sendTable writes the rows as a VOTable, calls the recipient by name, which fetches it; kept `keep` seconds after the reply", () =>
  withHub(async (_hub, lockfile) => {
    const { client: tool, fetched } = await viewer(lockfile, "table.load.votable", "Viewer");
    await using sender = await connect(lockfile, { name: "sender" });
    await waitFor(() => sender.clients.byName("viewer"), 5000, "the viewer to be known");
    try {
      const rows = [{ ra: 10.6847, dec: 41.269, name: "M31" }, { ra: 83.822, dec: -5.391 }];
      const sent = await sender.sendTable(rows, {
        to: "viewer",
        name: "targets",
        id: "t1",
        columns: [{ name: "ra", unit: "deg", ucd: "pos.eq.ra;meta.main" }],
        timeout: 30,
        keep: 0.05,
      });
      assert.deepEqual(sent.recipients, [tool.id]);
      assert.equal(sent.replies.get(tool.id)?.["samp.status"], "samp.ok");
      assert.deepEqual(sent.missing, []);
      assert.equal(sent.resource.fetches, 1);
      assert.equal(fetched.length, 1);
      const [got] = fetched;
      assert.deepEqual(
        { ...got.params, url: undefined },
        { url: undefined, name: "targets", "table-id": "t1" },
      );
      assert.match(
        String(got.params.url),
        /^http:\/\/127\.0\.0\.1:\d+\/sampkit\/data\/.*\/targets\.vot$/,
      );
      assert.equal(got.type, "application/x-votable+xml");
      assert.match(got.body, /<TABLE name="targets" nrows="2">/);
      assert.match(
        got.body,
        /<FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"\/>/,
      );
      assert.match(got.body, /<TR><TD>83.822<\/TD><TD>-5.391<\/TD><TD\/><\/TR>/);
      // Kept a little after the reply (keep), then gone.
      await waitFor(() => sent.resource.revoked, 5000, "the table to be revoked after keep");
      assert.equal((await get(sent.resource.url)).status, 404);
    } finally {
      await tool.close();
    }
  }));

Deno.test("sendTable to every subscriber collects replies; an error reply from `to` throws SampErrorResponse", () =>
  withHub(async (_hub, lockfile) => {
    const a = await viewer(lockfile, "table.load.votable", "a");
    const b = await viewer(lockfile, "table.load.votable", "b");
    await using broken = await connect(lockfile, { name: "broken" });
    await broken.on("table.load.votable", () => {
      throw new Error("this viewer cannot read tables");
    });
    await using sender = await connect(lockfile, { name: "sender" });
    try {
      const vot = '<?xml version="1.0"?><VOTABLE version="1.4"/>';
      const sent = await sender.sendTable(vot, { timeout: 30 });
      assert.deepEqual(
        new Set(sent.recipients),
        new Set([a.client.id, b.client.id, broken.id]),
      );
      assert.equal(sent.replies.get(a.client.id)?.["samp.status"], "samp.ok");
      assert.equal(sent.replies.get(broken.id)?.["samp.status"], "samp.error");
      assert.equal(a.fetched[0].body, vot, "a ready VOTable is sent as it is");
      assert.equal(b.fetched[0].body, vot);
      assert.match(String(a.fetched[0].params.url), /\/table\.vot$/);
      sent.resource.revoke();
      await assert.rejects(
        sender.sendTable([{ x: 1 }], { to: broken.id, timeout: 30 }),
        (e) => e instanceof SampErrorResponse && /cannot read tables/.test(e.errortxt),
      );
    } finally {
      await a.client.close();
      await b.client.close();
    }
  }));

Deno.test("sendImage notifies the recipient, which fetches the bytes; a notified resource stays until revoked or closed", () =>
  withHub(async (_hub, lockfile) => {
    const { client: tool, fetched } = await viewer(lockfile, "image.load.fits", "imager");
    const sender = await connect(lockfile, { name: "sender" });
    try {
      const fits = new TextEncoder().encode("SIMPLE  =                    T".padEnd(2880, " "));
      const sent = await sender.sendImage(fits, { to: tool.id, name: "M31", notify: true });
      assert.deepEqual(sent.recipients, [tool.id]);
      assert.equal(sent.replies.size, 0);
      await waitFor(() => fetched.length === 1, 5000, "the imager to fetch the image");
      assert.equal(fetched[0].type, "image/fits");
      assert.equal(fetched[0].params.name, "M31");
      assert.match(String(fetched[0].params.url), /\/M31\.fits$/);
      assert.equal(fetched[0].body.length, 2880);
      assert.equal(sent.resource.revoked, false, "a notification keeps its data");
      assert.equal((await get(sent.resource.url)).status, 200);
      await sender.close();
      assert.equal(sent.resource.revoked, true);
    } finally {
      await sender.close();
      await tool.close();
    }
  }));

Deno.test("a send the hub refuses revokes its data at once", () =>
  withHub(async (_hub, lockfile) => {
    await using sender = await connect(lockfile, { name: "sender" });
    await using deaf = await connect(lockfile, { name: "deaf" });
    let url = "";
    const spy = sender.offer.bind(sender);
    // Watch which resource sendTable offers.
    Object.defineProperty(sender, "offer", {
      value: (...args: Parameters<typeof spy>) => {
        const r = spy(...args);
        url = r.url;
        return r;
      },
    });
    // deaf is not subscribed to table.load.votable: the hub refuses the call.
    await assert.rejects(sender.sendTable([{ x: 1 }], { to: deaf.id, timeout: 5 }));
    assert.notEqual(url, "");
    assert.equal((await get(url)).status, 404);
  }));

Deno.test("after its hub restarts, a reconnecting client serves the data it offered at the same URL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-data-reconnect-" });
  const lockfile = `${dir}/hub.samp`;
  let hub = await startHub({ lockfile });
  const client = await connect(lockfile, { name: "faithful", reconnect: { intervalMs: 100 } });
  const states: boolean[] = [];
  client.onConnectionChange((c) => states.push(c.connected));
  try {
    const res = client.offer("still here");
    await hub.close();
    await waitFor(() => states.length === 1, 5000, "the client to notice");
    hub = await startHub({ lockfile });
    await waitFor(() => states.length === 2, 10000, "the client to rejoin");
    const r = await get(res.url);
    assert.equal(r.status, 200);
    assert.equal(text(r.body), "still here");
    assert.ok(res.url.includes(RESOURCE_PREFIX));
  } finally {
    await client.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sending to every subscriber when there is none reaches nobody and keeps nothing", () =>
  withHub(async (_hub, lockfile) => {
    await using sender = await connect(lockfile, { name: "sender" });
    const called = await sender.sendTable([{ x: 1 }], { timeout: 5 });
    assert.deepEqual(called.recipients, []);
    assert.equal(called.resource.revoked, true);
    const notified = await sender.sendImage(new Uint8Array(2880), { notify: true });
    assert.deepEqual(notified.recipients, []);
    assert.equal(notified.resource.revoked, true);
  }));

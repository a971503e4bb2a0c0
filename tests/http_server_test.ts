// The hub's own HTTP/1.x server (lib/transport/http_server.ts), on raw
// sockets: requests whose client hangs up right after sending them are still
// served, kept-alive connections carry many requests, and the framing,
// limits and shutdown behave as its module doc says.

import assert from "node:assert/strict";
import { type HttpServeHandler, serveHttp } from "../lib/transport/http_server.ts";
import { createHttpPool } from "../lib/transport/http_pool.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs `fn` with a server on 127.0.0.1 answering with `handler`; shuts it down after. */
async function withServer(
  handler: HttpServeHandler,
  fn: (port: number) => Promise<void>,
  options: { requestTimeoutMs?: number } = {},
): Promise<void> {
  const server = serveHttp({ hostname: "127.0.0.1", port: 0, ...options }, handler);
  try {
    await fn(server.addr.port);
  } finally {
    await server.shutdown();
  }
}

/** Writes `request` on a new connection and reads until the server closes it. */
async function exchange(port: number, request: string | Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(conn, typeof request === "string" ? enc.encode(request) : request);
    return await readToEnd(conn);
  } finally {
    conn.close();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

async function readToEnd(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return text;
    text += dec.decode(buf.subarray(0, n));
  }
}

const waitFor = async (ok: () => boolean, what: string) => {
  for (const end = Date.now() + 10_000; !ok();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

Deno.test("a request whose client closes the connection right after sending it is served (as DS9's replies need)", async () => {
  const got: string[] = [];
  await withServer(async (request) => {
    got.push(await request.text());
    return new Response("ok");
  }, async (port) => {
    for (let i = 0; i < 20; i++) {
      const body = `<methodCall>${"x".repeat(600)}${i}</methodCall>\n`;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeAll(
        conn,
        enc.encode(
          `POST /xmlrpc HTTP/1.0\nContent-Type: text/xml\nContent-length: ${body.length}\n\n${body}`,
        ),
      );
      conn.close();
    }
    await waitFor(() => got.length === 20, "20 requests handled");
  });
  assert.equal(new Set(got).size, 20);
  assert.ok(got.every((b) => b.endsWith("</methodCall>\n")), "every body arrived whole");
});

Deno.test("an HTTP/1.0 request with LF-only lines gets an HTTP/1.0 answer with a reason phrase and Content-Length, then the connection closes", async () => {
  await withServer(
    () => new Response("<ok/>", { headers: { "content-type": "text/xml" } }),
    async (port) => {
      const answer = await exchange(port, "POST /xmlrpc HTTP/1.0\nContent-length: 3\n\nabc");
      assert.equal(
        answer,
        "HTTP/1.0 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 5\r\nconnection: close\r\n\r\n<ok/>",
      );
    },
  );
});

Deno.test("one kept-alive connection carries requests of every size in turn, with bodies whole or streamed", async () => {
  const pool = createHttpPool({ maxIdlePerOrigin: 1 });
  const connections = new Set<string>();
  await withServer(async (request, info) => {
    connections.add(`${info.remoteAddr.port}`);
    const body = await request.bytes();
    return new Response(`${body.length}:${body[0]}:${body[body.length - 1]}`);
  }, async (port) => {
    try {
      const url = `http://127.0.0.1:${port}/xmlrpc`;
      // Sizes that put the next head across the end of the read buffer, and
      // bodies larger than it (read from the socket as the handler pulls them).
      for (let size = 1; size < 3_000_000; size = Math.ceil(size * 1.37) + 17) {
        const body = "a".repeat(size - 1) + "z";
        const r = await pool.post(url, body, { timeoutMs: 10_000 });
        assert.equal(r.body, `${size}:${size > 1 ? 97 : 122}:122`, `a body of ${size} bytes`);
      }
    } finally {
      pool.close();
    }
  });
  assert.equal(connections.size, 1, "every request went over the same connection");
});

Deno.test("chunked request bodies and Expect: 100-continue are read; event streams are answered chunked", async () => {
  await withServer((request) => {
    if (request.method === "GET") {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode("data: 1\n\n"));
          c.enqueue(enc.encode("data: 2\n\n"));
          c.close();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    return request.text().then((t) => new Response(`got ${t}`));
  }, async (port) => {
    const chunked = await exchange(
      port,
      "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n",
    );
    assert.match(chunked, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(chunked.endsWith("\r\n\r\ngot abcde"), chunked);

    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(
        conn,
        enc.encode(
          "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nExpect: 100-continue\r\n" +
            "Connection: close\r\n\r\n",
        ),
      );
      const buf = new Uint8Array(1024);
      const n = await conn.read(buf);
      assert.equal(dec.decode(buf.subarray(0, n ?? 0)), "HTTP/1.1 100 Continue\r\n\r\n");
      await writeAll(conn, enc.encode("wxyz"));
      assert.ok((await readToEnd(conn)).endsWith("got wxyz"));
    } finally {
      conn.close();
    }

    const events = await exchange(
      port,
      "GET /events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert.match(events, /\r\ntransfer-encoding: chunked\r\n/);
    assert.ok(events.endsWith("\r\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"), events);
  });
});

Deno.test("request.signal aborts when the client hangs up while its request is handled, and an endless event stream ends with it", async () => {
  let aborted = false;
  let cancelled = false;
  await withServer((request) => {
    request.signal.addEventListener("abort", () => aborted = true);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(": hello\n\n"));
        request.signal.addEventListener("abort", () => c.close());
      },
      cancel() {
        cancelled = true;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  }, async (port) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, enc.encode("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    const buf = new Uint8Array(1024);
    assert.ok((await conn.read(buf) ?? 0) > 0, "the stream started");
    conn.close();
    await waitFor(() => aborted, "the abort");
  });
  assert.ok(aborted || cancelled);
});

Deno.test("a head of plain field lines is served as the same head with an obs-fold line is", async () => {
  // The server reads a plain head in one pass that keeps only what framing
  // and persistence need, and any other head by parsing every field: an
  // obs-fold line (of a field that changes nothing) sends a head the second
  // way. Both must be answered alike, and keep (or close) the connection alike.
  const chunked = "2\r\nhi\r\n0\r\n\r\n";
  const cases: [head: string, body: string][] = [
    ["POST /x HTTP/1.1\r\nContent-Length: 2", "hi"],
    ["POST /x HTTP/1.1\r\ncontent-length: 2\r\nConnection: close", "hi"],
    ["POST /x HTTP/1.1\r\nCONNECTION: Keep-Alive, Close\r\nContent-Length: 2", "hi"],
    ["POST /x HTTP/1.0\r\nContent-Length: 2\r\nConnection: keep-alive", "hi"],
    ["POST /x HTTP/1.0\r\nContent-Length: 2", "hi"],
    ["POST /x HTTP/1.1\nContent-Length: 2\nContent-Length: 2\nX-Other: y", "hi"],
    ["POST /x HTTP/1.1\r\nContent-Length: 2, 2", "hi"],
    ["POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3", "hi"],
    ["POST /x HTTP/1.1\r\nTransfer-Encoding: chunked", chunked],
    ["POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5", chunked],
    ["POST /x HTTP/1.1\r\nTransfer-Encoding: gzip", ""],
    ["POST /x HTTP/1.1\r\nContent-Lengthy: 9\r\nConnectionX: close\r\nContent-Length: 2", "hi"],
    ["POST /other HTTP/1.1\r\nContent-Length: 2", "hi"],
  ];
  const last = "POST /x HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  await withServerFast(async (port) => {
    for (const [head, body] of cases) {
      const answers = [];
      for (const pad of ["", "\r\nX-Pad: one\r\n two"]) {
        answers.push(await exchangeWithin(port, `${head}${pad}\r\n\r\n${body}${last}`, 5000));
      }
      assert.equal(answers[1], answers[0], JSON.stringify(head));
    }
  });
});

/**
 * {@linkcode exchange}, but a connection the server still holds open after
 * `ms` is closed by us, and the text says so.
 */
async function exchangeWithin(port: number, request: string, ms: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let open = false;
  const timer = setTimeout(() => {
    open = true;
    conn.close();
  }, ms);
  try {
    await writeAll(conn, enc.encode(request));
    const text = await readToEnd(conn).catch(() => "");
    return open ? `${text}(still open after ${ms} ms)` : text;
  } finally {
    clearTimeout(timer);
    if (!open) conn.close();
  }
}

/** {@linkcode withServer} with a fast path for POST /x, as the hub's XML-RPC calls take. */
async function withServerFast(fn: (port: number) => Promise<void>): Promise<void> {
  const server = serveHttp({
    hostname: "127.0.0.1",
    port: 0,
    fastPath: {
      match: (method, path) => method === "POST" && path === "/x",
      handle: (r) => ({
        status: 200,
        contentType: "text/plain",
        body: `fast ${r.body.length} ${r.header("content-length")}`,
      }),
    },
  }, async (request) => new Response(`slow ${(await request.bytes()).length}`));
  try {
    await fn(server.addr.port);
  } finally {
    await server.shutdown();
  }
}

Deno.test("malformed requests are answered 400, an oversized head 431, and the connection closes", async () => {
  let handled = 0;
  await withServer(() => {
    handled++;
    return new Response("ok");
  }, async (port) => {
    assert.match(await exchange(port, "HELLO\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(
      await exchange(port, "POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n"),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(
      await exchange(port, `GET / HTTP/1.1\r\nX-Big: ${"b".repeat(70_000)}\r\n\r\n`),
      /^HTTP\/1\.1 431 /,
    );
  });
  assert.equal(handled, 0);
});

Deno.test("a head that never ends is dropped after the request timeout, an idle connection after the idle timeout, while others are served", async () => {
  const server = serveHttp(
    { hostname: "127.0.0.1", port: 0, requestTimeoutMs: 300, idleTimeoutMs: 600 },
    () => new Response("ok"),
  );
  const port = server.addr.port;
  try {
    const started = performance.now();
    const slow = await Deno.connect({ hostname: "127.0.0.1", port });
    const idle = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(slow, enc.encode("POST / HTTP/1.1\r\nHost: local"));
      const answer = await exchange(port, "GET / HTTP/1.0\r\n\r\n");
      assert.match(answer, /\r\n\r\nok$/, "others are served meanwhile");
      assert.equal(await readToEnd(slow), "", "closed without an answer");
      const slowMs = performance.now() - started;
      assert.equal(await readToEnd(idle), "");
      const idleMs = performance.now() - started;
      // Bounds far from the timeouts only: the machine may be loaded.
      assert.ok(slowMs >= 250 && slowMs < 10_000, `head dropped after ${slowMs.toFixed(0)} ms`);
      assert.ok(idleMs >= 550 && idleMs < 10_000, `idle closed after ${idleMs.toFixed(0)} ms`);
    } finally {
      slow.close();
      idle.close();
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("a request body the handler leaves unread closes the connection after the answer", async () => {
  await withServer(() => new Response("no thanks", { status: 413 }), async (port) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(
        conn,
        enc.encode("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\nabc"),
      );
      const answer = await readToEnd(conn);
      assert.match(answer, /^HTTP\/1\.1 413 Content Too Large\r\n/);
      assert.match(answer, /\r\nconnection: close\r\n/);
    } finally {
      conn.close();
    }
  });
});

Deno.test("shutdown closes idle kept-alive connections at once and lets a request in progress finish", async () => {
  const release = Promise.withResolvers<void>();
  let started = false;
  const server = serveHttp({ hostname: "127.0.0.1", port: 0 }, async (request) => {
    if (new URL(request.url).pathname === "/slow") {
      started = true;
      await release.promise;
    }
    return new Response("done");
  });
  const port = server.addr.port;
  const idle = await Deno.connect({ hostname: "127.0.0.1", port });
  const busy = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(idle, enc.encode("GET /quick HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    const buf = new Uint8Array(1024);
    assert.match(dec.decode(buf.subarray(0, await idle.read(buf) ?? 0)), /done$/);
    await writeAll(busy, enc.encode("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    await waitFor(() => started, "the slow request");
    const stopping = server.shutdown();
    assert.equal(await idle.read(buf), null, "the idle connection is closed");
    release.resolve();
    const answer = await readToEnd(busy);
    assert.match(answer, /\r\nconnection: close\r\n\r\ndone$/);
    await stopping;
    await server.finished;
  } finally {
    idle.close();
    busy.close();
  }
});

Deno.test("a body refused unread (413) leaves its answer readable by a client that is still sending", async () => {
  // The handler refuses on the declared length, as the hub does over its cap;
  // fetch keeps sending the body meanwhile, as an attacker's fetch or curl do.
  await withServer(() => new Response("too long\n", { status: 413 }), async (port) => {
    const body = new Uint8Array(100 * 1024 * 1024).fill(0x41);
    for (let round = 0; round < 5; round++) {
      // Four at once, so that the server closes while the clients still write.
      await Promise.all([0, 1, 2, 3].map(async (i) => {
        const r = await fetch(`http://127.0.0.1:${port}/xmlrpc`, { method: "POST", body });
        assert.equal(r.status, 413, `round ${round}, client ${i}`);
        await r.body?.cancel();
      }));
    }
  });
});

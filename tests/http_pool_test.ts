// The hub's callback HTTP client: framing, keep-alive, peers that close,
// limits, abort; and xmlrpcRequest's error mapping when it uses a pool.

import assert from "node:assert/strict";
import {
  createHttpPool,
  HttpClosedError,
  type HttpPool,
  HttpPoolClosedError,
  type HttpPoolOptions,
  HttpProtocolError,
  HttpTimeoutError,
  HttpTooLargeError,
} from "../lib/transport/http_pool.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import { SampFault, TransportError } from "../lib/errors.ts";
import { encodeFault, encodeResponse } from "../lib/xmlrpc.ts";
import { waitFor } from "./_helpers.ts";

const enc = new TextEncoder();
const assertEquals: (a: unknown, b: unknown, message?: string) => void = assert.deepEqual;

/** Awaits a rejection of class `cls` (whose message includes `includes`) and returns it. */
async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  cls: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    if (includes) assert.ok(e.message.includes(includes), e.message);
    return e;
  }
  throw new assert.AssertionError({ message: `expected a ${cls.name} rejection` });
}
const dec = new TextDecoder();

interface RawRequest {
  head: string;
  body: string;
  /** Index of the TCP connection it came on, from 0. */
  conn: number;
}

/**
 * A raw TCP server on 127.0.0.1 for answers Deno.serve cannot give: each
 * request (head + Content-Length body) is handed to `answer`, which writes
 * to the connection itself and returns whether to keep reading from it.
 */
function rawServer(
  answer: (
    conn: Deno.Conn,
    req: RawRequest,
    nth: number,
    closing: Promise<boolean>,
  ) => Promise<boolean>,
) {
  const stop = Promise.withResolvers<boolean>();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const requests: RawRequest[] = [];
  let accepted = 0;
  let closedByPeer = 0;
  const tasks: Promise<void>[] = [];
  const serve = async (conn: Deno.Conn, index: number) => {
    let pending = new Uint8Array(0);
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        let text = dec.decode(pending);
        let end = text.indexOf("\r\n\r\n");
        while (end < 0 || enc.encode(text).length < needed(text, end)) {
          const n = await conn.read(buf);
          if (n === null) {
            closedByPeer++;
            return;
          }
          const next = new Uint8Array(pending.length + n);
          next.set(pending);
          next.set(buf.subarray(0, n), pending.length);
          pending = next;
          text = dec.decode(pending);
          end = text.indexOf("\r\n\r\n");
        }
        const total = needed(text, end);
        const all = enc.encode(text);
        const req = {
          head: text.slice(0, end),
          body: dec.decode(all.subarray(enc.encode(text.slice(0, end + 4)).length, total)),
          conn: index,
        };
        pending = all.slice(total);
        requests.push(req);
        if (!await answer(conn, req, requests.length - 1, stop.promise)) return;
      }
    } catch {
      // closed under us
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      tasks.push(serve(conn, accepted++));
    }
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/xmlrpc`,
    requests,
    get accepted() {
      return accepted;
    },
    get closedByPeer() {
      return closedByPeer;
    },
    async close() {
      stop.resolve(false);
      listener.close();
      for (const c of conns) c.close();
      await accepting.catch(() => {});
      await Promise.all(tasks);
    },
  };
}

/** Runs `fn` with a raw server answering by `answer` and a pool, and closes both. */
async function withPool(
  answer: Parameters<typeof rawServer>[0],
  fn: (server: ReturnType<typeof rawServer>, pool: HttpPool) => Promise<void>,
  options?: HttpPoolOptions,
): Promise<void> {
  const server = rawServer(answer);
  const pool = createHttpPool(options);
  try {
    await fn(server, pool);
  } finally {
    pool.close();
    await server.close();
  }
}

function needed(text: string, end: number): number {
  const m = /content-length: *(\d+)/i.exec(text.slice(0, end));
  return enc.encode(text.slice(0, end + 4)).length + Number(m?.[1] ?? 0);
}

async function write(conn: Deno.Conn, text: string | Uint8Array): Promise<void> {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

function ok(body: string, extra = ""): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n${extra}Content-Length: ${
    enc.encode(body).length
  }\r\n\r\n${body}`;
}

Deno.test("sequential posts reuse one keep-alive connection to Deno.serve", async () => {
  const ports: number[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      ports.push((info.remoteAddr as Deno.NetAddr).port);
      return new Response(`got ${await req.text()}`);
    },
  );
  const pool = createHttpPool();
  try {
    for (let i = 0; i < 5; i++) {
      const r = await pool.post(`http://127.0.0.1:${server.addr.port}/x`, `n${i}`);
      assertEquals([r.status, r.body], [200, `got n${i}`]);
    }
    assertEquals(new Set(ports).size, 1);
    assertEquals(pool.idle, 1);
  } finally {
    pool.close();
    await server.shutdown();
  }
});

Deno.test("forget drops a URL's parsed form and keeps the connection its origin shares", async () => {
  const ports: number[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (_req, info) => {
      ports.push((info.remoteAddr as Deno.NetAddr).port);
      return new Response("ok");
    },
  );
  const pool = createHttpPool();
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    await pool.post(`${base}/a`, "1");
    await pool.post(`${base}/b`, "2");
    assertEquals(pool.remembered, 2);
    pool.forget(`${base}/a`);
    assertEquals([pool.remembered, pool.idle], [1, 1]);
    assertEquals((await pool.post(`${base}/b`, "3")).body, "ok");
    assertEquals((await pool.post(`${base}/a`, "4")).body, "ok");
    assertEquals(pool.remembered, 2);
    assertEquals(new Set(ports).size, 1);
  } finally {
    pool.close();
    await server.shutdown();
  }
});

Deno.test("the request carries Content-Length in bytes of UTF-8, Host and Content-Type", async () => {
  await withPool(async (conn) => {
    await write(conn, ok("fine"));
    return true;
  }, async (server, pool) => {
    const text = "<value>Ångström ✓ 𝛼</value>";
    await pool.post(server.url, text);
    const [req] = server.requests;
    assertEquals(req.body, text);
    assert(req.head.startsWith("POST /xmlrpc HTTP/1.1\r\n"), req.head);
    const bytes = enc.encode(text).length;
    assert(bytes > text.length);
    assert(new RegExp(`\\r\\ncontent-length: ${bytes}(\\r\\n|$)`, "i").test(req.head), req.head);
    assert(/\r\ncontent-type: text\/xml/i.test(req.head), req.head);
    assert(new RegExp(`\\r\\nhost: ${new URL(server.url).host}`, "i").test(req.head), req.head);
  });
});

Deno.test("a chunked answer is read whole, trailers skipped, and the connection kept", async () => {
  await withPool(async (conn) => {
    await write(
      conn,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n",
    );
    return true;
  }, async (server, pool) => {
    assertEquals((await pool.post(server.url, "a")).body, "hello, world");
    assertEquals((await pool.post(server.url, "b")).body, "hello, world");
    assertEquals(server.accepted, 1);
  });
});

Deno.test("an HTTP/1.0 answer framed by the end of the connection is read, and not reused", async () => {
  // Python's http.server (astropy's callback servers) answers this way.
  await withPool(async (conn, _req, nth) => {
    await write(conn, `HTTP/1.0 200 OK\r\nServer: BaseHTTP\r\n\r\nanswer ${nth}`);
    return false;
  }, async (server, pool) => {
    assertEquals((await pool.post(server.url, "a")).body, "answer 0");
    assertEquals((await pool.post(server.url, "b")).body, "answer 1");
    assertEquals(server.accepted, 2);
    assertEquals(pool.idle, 0);
  });
});

Deno.test("HTTP/1.0 with keep-alive and a length is reused; Connection: close is not", async () => {
  await withPool(async (conn, req) => {
    if (req.body === "close") {
      await write(conn, ok("bye", "Connection: close\r\n"));
      return false;
    }
    await write(conn, `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi`);
    return true;
  }, async (server, pool) => {
    await pool.post(server.url, "a");
    await pool.post(server.url, "b");
    assertEquals(server.accepted, 1);
    assertEquals((await pool.post(server.url, "close")).body, "bye");
    assertEquals(pool.idle, 0);
  });
});

Deno.test("interim 100 Continue answers are skipped", async () => {
  await withPool(async (conn) => {
    await write(conn, "HTTP/1.1 100 Continue\r\n\r\n" + ok("after"));
    return true;
  }, async (server, pool) => {
    assertEquals((await pool.post(server.url, "x")).body, "after");
  });
});

// What real SAMP peers write. SAOImage DS9 8.4's Tcl XML-RPC server ends
// every line with a bare LF, counts Content-length in characters, sends no
// Connection header and closes the connection after each answer; JSAMP's
// server answers HTTP/1.0 with CRLF; Python's http.server (astropy) HTTP/1.0,
// CRLF, `Content-length`, then close. RFC 9112 §2.2 lets a recipient take a
// bare LF for a line end; §5.2 tells it to read obs-fold as a space.

const DS9_BODY = `<?xml version="1.0"?>\n<methodResponse>\n  <params>\n  <param>\n` +
  `  <value></value>\n  </param>\n  </params>\n</methodResponse>\n`;

/** An answer exactly as DS9 8.4 writes it (lines end with LF only). */
function ds9Answer(body = DS9_BODY): string {
  return `HTTP/1.1 200 OK\nContent-Type: text/xml\nContent-length: ${body.length}\n` +
    `Access-Control-Allow-Origin: *\n\n${body}`;
}

Deno.test("LF-only answers as SAOImage DS9 writes them are read, one connection each", async () => {
  await withPool(async (conn) => {
    await write(conn, ds9Answer());
    return false; // DS9 closes after each answer, though it says HTTP/1.1
  }, async (server, pool) => {
    for (let i = 0; i < 5; i++) {
      const r = await pool.post(server.url, `call ${i}`);
      assertEquals([r.status, r.statusText, r.body], [200, "OK", DS9_BODY]);
    }
    // Each request reached the server once: a kept connection DS9 had
    // closed is found out before the request is whole (see below), and DS9's
    // connections are not kept once it has been seen to close one at once.
    assertEquals(server.requests.map((r) => r.body), [0, 1, 2, 3, 4].map((i) => `call ${i}`));
    await waitFor(() => pool.idle === 0, 2000, "the closed connections to leave the pool");
  });
});

Deno.test("LF and CRLF mixed: in the head, chunk-size lines, chunk ends and trailers", async () => {
  await withPool(async (conn) => {
    await write(
      conn,
      "HTTP/1.1 200 OK\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\n\r\n" +
        "5\nhello\r\n7;ext=1\r\n, world\n0\nX-Trailer: yes\r\nX-Other: too\n\n",
    );
    return true;
  }, async (server, pool) => {
    assertEquals((await pool.post(server.url, "a")).body, "hello, world");
    assertEquals((await pool.post(server.url, "b")).body, "hello, world");
    assertEquals(server.accepted, 1, "the chunked answer left the connection reusable");
  });
});

Deno.test("a head ending CRLF then LF, or LF then CRLF, ends there", async () => {
  await withPool(async (conn, req) => {
    await write(
      conn,
      req.body === "crlf-lf"
        ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nhi"
        : "HTTP/1.1 200 OK\nContent-Length: 2\n\r\nhi",
    );
    return true;
  }, async (server, pool) => {
    assertEquals((await pool.post(server.url, "crlf-lf")).body, "hi");
    assertEquals((await pool.post(server.url, "lf-crlf")).body, "hi");
    assertEquals(server.accepted, 1);
  });
});

Deno.test("a head split across reads at every byte is found (LF-only and CRLF)", async () => {
  const answers = [ds9Answer("ok"), ok("ok")];
  await withPool(async (conn, req) => {
    // One byte per write, each flushed (no delay on the socket).
    const bytes = enc.encode(answers[Number(req.body)]);
    for (let i = 0; i < bytes.length; i++) await write(conn, bytes.subarray(i, i + 1));
    return false;
  }, async (server, pool) => {
    assertEquals((await pool.post(server.url, "0")).body, "ok");
    assertEquals((await pool.post(server.url, "1")).body, "ok");
  });
});

Deno.test("HTTP/1.0 close-delimited answers and status lines without a reason phrase", async () => {
  const answers: Record<string, string> = {
    "lf-eof": "HTTP/1.0 200 OK\nServer: Tcl\n\nto the end",
    "no-reason": "HTTP/1.0 200\r\nContent-Type: text/xml\r\n\r\nto the end",
    "empty-reason": "HTTP/1.1 200 \nContent-Length: 10\n\nto the end",
    "jsamp": "HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 10\r\n\r\nto the end",
    "python": "HTTP/1.0 200 OK\r\nServer: BaseHTTP/0.6 Python/3.12.3\r\n" +
      "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-type: text/xml\r\nContent-length: 10\r\n\r\n" +
      "to the end",
  };
  await withPool(async (conn, req) => {
    await write(conn, answers[req.body]);
    return false;
  }, async (server, pool) => {
    for (const name of Object.keys(answers)) {
      const r = await pool.post(server.url, name);
      assertEquals([r.status, r.body], [200, "to the end"], name);
      assertEquals(r.statusText, name === "no-reason" || name === "empty-reason" ? "" : "OK", name);
    }
    assertEquals(pool.idle, 0);
  });
});

Deno.test("header names in any case, space before the colon, and obs-fold lines are read", async () => {
  await withPool(async (conn, req) => {
    await write(
      conn,
      req.body === "fold"
        // The folded value is "chunked": obs-fold reads as one space (RFC 9112 §5.2).
        ? "HTTP/1.1 200 OK\r\nX-Note: one\r\n two\r\nTRANSFER-ENCODING:\r\n\tchunked\r\n\r\n" +
          "2\r\nhi\r\n0\r\n\r\n"
        : "HTTP/1.1 200 OK\nCONTENT-LENGTH : 2\ncOnNeCtIoN: Keep-Alive\n\nhi",
    );
    return true;
  }, async (server, pool) => {
    assertEquals((await pool.post(server.url, "fold")).body, "hi");
    assertEquals((await pool.post(server.url, "case")).body, "hi");
    assertEquals((await pool.post(server.url, "fold")).body, "hi");
    assertEquals(server.accepted, 1);
  });
});

Deno.test("a head of plain field lines reads as the same head does with an obs-fold line", async () => {
  // The pool reads a plain head in one pass that looks only at the fields
  // framing and persistence depend on, and any other head by parsing every
  // field: an obs-fold line (of a field that changes nothing) sends a head
  // the second way. Both must give the same answer and the same reuse.
  const heads = [
    "HTTP/1.1 200 OK\r\nContent-Length: 2",
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close",
    "HTTP/1.1 201 Created\r\nCONTENT-LENGTH: 2\r\nConnection: Keep-Alive, Close",
    "HTTP/1.1 200 OK\nContent-Length: 2\nContent-Length: 2\nX-Other: y",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked",
    "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive",
    "HTTP/1.0 200 OK\r\nContent-Length: 2",
    "HTTP/1.0 200\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nConnection: Keep-Alive",
    "HTTP/1.1 200 OK\r\nKEEP-ALIVE: max=4, timeout=1\r\nContent-Length: 2",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2",
    "HTTP/1.1 200 OK\r\nContent-Length: x2",
    "HTTP/1.1 200 OK\r\nContent-Lengthy: 2\r\nConnectionX: close\r\nContent-Length: 2",
  ];
  /** The answer, whether a second request reused its connection, or how it failed. */
  const outcome = async (head: string, folded: boolean): Promise<string> => {
    const chunked = /transfer-encoding: [^\r\n]*chunked/i.test(head);
    const text = `${head}${folded ? "\r\nX-Pad: one\r\n two" : ""}\r\n\r\n${
      chunked ? "2\r\nhi\r\n0\r\n\r\n" : "hi"
    }`;
    let result = "";
    await withPool(async (conn) => {
      await write(conn, text);
      return !/connection: (keep-alive, )?close/i.test(head);
    }, async (server, pool) => {
      try {
        const r = await pool.post(server.url, "a");
        await pool.post(server.url, "b");
        result = `${r.status} ${r.statusText} ${r.body} on ${server.accepted} connections`;
      } catch (e) {
        result = `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    return result;
  };
  for (const head of heads) {
    assertEquals(await outcome(head, false), await outcome(head, true), JSON.stringify(head));
  }
});

Deno.test("an idle connection the server closes leaves the pool at once", async () => {
  await withPool(async (conn) => {
    await write(conn, ok("once"));
    return false; // answers with keep-alive, then hangs up
  }, async (server, pool) => {
    await pool.post(server.url, "a");
    await waitFor(() => pool.idle === 0, 2000, "the closed connection to leave the pool");
    assertEquals((await pool.post(server.url, "b")).body, "once");
    assertEquals(server.accepted, 2);
    // A server seen to close a connection soon after answering keeps none.
    assertEquals(pool.idle, 0, "the second answer's connection was not kept");
  });
});

Deno.test("a kept connection the server closed just before it was reused is found out before the request is whole: the request goes once, on a new connection", async () => {
  // Answered, then closed at once, with nothing said: the pool may still
  // hold the connection when the next post comes. Its first byte draws a
  // reset, and the rest cannot be written: the request was never whole.
  await withPool(async (conn, req) => {
    await write(conn, ok(`answer to ${req.body} on connection ${req.conn}`));
    return false;
  }, async (server, pool) => {
    for (let round = 0; round < 20; round++) {
      const p = createHttpPool();
      try {
        await p.post(server.url, `a${round}`);
        assertEquals((await p.post(server.url, `b${round}`)).body.startsWith("answer to b"), true);
      } finally {
        p.close();
      }
    }
    const bodies = server.requests.map((r) => r.body);
    assertEquals(bodies.length, 40, "each request reached the server once");
    assertEquals(new Set(bodies).size, 40);
    assertEquals(server.accepted, 40);
    assertEquals(pool.idle, 0);
  });
});

Deno.test("a kept connection the server closes while the request is being written: sent again once, on a new connection", async () => {
  // The server answers the first request, then reads only the head of the
  // second and closes: a request larger than the socket buffers cannot be
  // written whole, so the server cannot have it, and it is sent again.
  const BIG = 32 * 1024 * 1024;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const got: string[] = [];
  /** Reads from `conn` until `done(bytes so far, head text)`; the byte count. */
  const readUntil = async (conn: Deno.Conn, done: (size: number, head: string) => boolean) => {
    const buf = new Uint8Array(65536);
    let size = 0;
    let head = "";
    while (!done(size, head)) {
      const n = await conn.read(buf);
      if (n === null) break;
      if (head.length < 4096) head += dec.decode(buf.subarray(0, Math.min(n, 4096)));
      size += n;
    }
    return size;
  };
  /** The whole length of a request whose head (and Content-Length) has come, else Infinity. */
  const whole = (head: string) => {
    const end = head.indexOf("\r\n\r\n");
    return end < 0 ? Infinity : end + 4 + Number(/content-length: *(\d+)/i.exec(head)![1]);
  };
  const served = (async () => {
    const first = await listener.accept();
    await readUntil(first, (size, head) => size >= whole(head));
    got.push("a on connection 0");
    await write(first, ok("first"));
    // Part of the big request (at least its first two bytes), then hang up.
    const part = await readUntil(first, (size) => size >= 2);
    got.push(`${part < BIG ? "part" : "all"} of b on connection 0`);
    first.close();
    const second = await listener.accept();
    const size = await readUntil(second, (size, head) => size >= whole(head));
    got.push(`${size > BIG ? "all" : "part"} of b on connection 1`);
    await write(second, ok("second"));
    second.close();
  })();
  const pool = createHttpPool();
  try {
    const url = `http://127.0.0.1:${listener.addr.port}/`;
    assertEquals((await pool.post(url, "a")).body, "first");
    assertEquals((await pool.post(url, "b".repeat(BIG), { timeoutMs: 30_000 })).body, "second");
    assertEquals(got, [
      "a on connection 0",
      "part of b on connection 0",
      "all of b on connection 1",
    ]);
  } finally {
    pool.close();
    await served;
    listener.close();
  }
});

Deno.test("a server's Keep-Alive timeout is honoured: its connections are not reused within a second of it", async () => {
  await withPool(async (conn, req) => {
    await write(
      conn,
      ok("ok", `Keep-Alive: timeout=${req.body.startsWith("t1") ? 1 : 2}, max=100\r\n`),
    );
    return true;
  }, async (server, pool) => {
    // timeout=1: a second less leaves nothing: the connection is not kept.
    await pool.post(server.url, "t1-a");
    assertEquals(pool.idle, 0);
    await pool.post(server.url, "t1-b");
    assertEquals(server.accepted, 2);
    // timeout=2: kept, reused at once, and not after a second.
    await pool.post(server.url, "t2-a");
    await pool.post(server.url, "t2-b");
    assertEquals(server.accepted, 3, "reused at once");
    await new Promise((r) => setTimeout(r, 1200));
    await pool.post(server.url, "t2-c");
    assertEquals(server.accepted, 4, "not reused after a second");
  });
});

Deno.test("a reused connection the server closes after reading the request is not sent again: the POST fails as maybe received", async () => {
  // The server answers the first request on a connection (keep-alive), then
  // reads the second one whole, acts on it, and hangs up without answering.
  // Sending it again would make the recipient act on it twice.
  const seen = new Map<number, number>();
  await withPool(async (conn, req) => {
    seen.set(req.conn, (seen.get(req.conn) ?? 0) + 1);
    if (seen.get(req.conn) === 2) return false;
    await write(conn, ok(`answer to ${req.body} on connection ${req.conn}`));
    return true;
  }, async (s, pool) => {
    assertEquals((await pool.post(s.url, "a")).body, "answer to a on connection 0");
    const e = await assertRejects(() => pool.post(s.url, "b"), HttpClosedError);
    assert(e.requestSent, "the error says the request went out whole");
    assert(!e.partial, "no byte of an answer came");
    assert.match(e.message, /before answering/);
    assertEquals(s.requests.map((r) => [r.body, r.conn]), [["a", 0], ["b", 0]]);
    assertEquals(s.accepted, 1, "no second connection carried b again");
  });
});

Deno.test("through xmlrpcRequest, a POST a reused connection lost after it went out is a TransportError marked maybeReceived, sent once", async () => {
  const seen = new Map<number, number>();
  await withPool(async (conn, req) => {
    seen.set(req.conn, (seen.get(req.conn) ?? 0) + 1);
    if (seen.get(req.conn) === 2) return false;
    await write(conn, ok(encodeResponse("")));
    return true;
  }, async (s, pool) => {
    await xmlrpcRequest(s.url, "samp.client.receiveNotification", ["k", "c1", {}], { pool });
    const e = await assertRejects(
      () => xmlrpcRequest(s.url, "samp.client.receiveCall", ["k", "c1", "m1", {}], { pool }),
      TransportError,
    );
    assert(e.maybeReceived && !e.refused && !e.timedOut, e.message);
    assert(e.cause instanceof HttpClosedError, String(e.cause));
    assertEquals(s.requests.length, 2);
    assertEquals(s.accepted, 1);
  });
});

Deno.test("a new connection dropped before any answer fails, and the request is not sent again", async () => {
  await withPool(() => Promise.resolve(false), async (server, pool) => {
    const e = await assertRejects(() => pool.post(server.url, "a"), HttpClosedError);
    assert(/closed the connection before answering/.test(e.message), e.message);
    assert(!e.partial);
    assertEquals(server.requests.length, 1);
  });
});

Deno.test("a connection reset after the request was read is an HttpClosedError, not a runtime error", async () => {
  // The server reads part of the request only, then closes: its kernel resets the connection.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(8));
    await new Promise((r) => setTimeout(r, 20)); // the whole request has arrived by now
    conn.close();
  })();
  const pool = createHttpPool();
  try {
    const url = `http://127.0.0.1:${listener.addr.port}/`;
    const e = await assertRejects(() => pool.post(url, "x".repeat(1000)), HttpClosedError);
    assert(!e.partial && /before answering/.test(e.message), e.message);
  } finally {
    pool.close();
    await served;
    listener.close();
  }
});

Deno.test("a connection cut in the middle of the answer fails without a retry", async () => {
  await withPool(async (conn, _req, nth) => {
    if (nth === 0) {
      await write(conn, ok("first"));
      return true;
    }
    await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    return false;
  }, async (server, pool) => {
    await pool.post(server.url, "a");
    const e = await assertRejects(() => pool.post(server.url, "b"), HttpClosedError);
    assert(/middle of the answer/.test(e.message), e.message);
    assert(e.partial);
    assertEquals(server.requests.length, 2);
  });
});

Deno.test("an answer longer than maxResponseBytes fails, framed by length or by chunks", async () => {
  const big = "x".repeat(5000);
  await withPool(async (conn, req) => {
    await write(
      conn,
      req.body === "chunked"
        ? `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n${big}\r\n0\r\n\r\n`
        : req.body === "eof"
        ? `HTTP/1.0 200 OK\r\n\r\n${big}`
        : ok(big),
    );
    return req.body !== "eof";
  }, async (server, pool) => {
    for (const how of ["length", "chunked", "eof"]) {
      const e = await assertRejects(
        () => pool.post(server.url, how, { maxResponseBytes: 1000 }),
        HttpTooLargeError,
      );
      assert(/longer than 1000 bytes/.test(e.message), `${how}: ${e.message}`);
    }
    assertEquals((await pool.post(server.url, "length", { maxResponseBytes: 5000 })).body, big);
  });
});

Deno.test("malformed answers fail with a message naming what is wrong", async () => {
  const answers: Record<string, string> = {
    status: "HTTP/2 200 OK\r\n\r\n",
    header: "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    length: "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
    lengths: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    coding: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    chunk: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    // Bare LF is a line end; the rest of what is wrong stays wrong.
    "lf-status": "HTTP/1.1 OK\nContent-Length: 0\n\n",
    "lf-header": "HTTP/1.1 200 OK\nno colon here\n\n",
    "lf-name": "HTTP/1.1 200 OK\n: no name\n\n",
    "lf-list": "HTTP/1.1 200 OK\nContent-Length: 2, 3\n\nab",
    "lf-chunk-end": "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nabc\n0\n\n",
    garbage: "SAMP says yes\n\nthanks\n",
  };
  const expected: Record<string, RegExp> = {
    status: /not an HTTP\/1.x status line/,
    header: /malformed header line/,
    length: /bad Content-Length/,
    lengths: /two different Content-Length/,
    coding: /unsupported Transfer-Encoding/,
    chunk: /bad chunk size line/,
    "lf-status": /not an HTTP\/1.x status line/,
    "lf-header": /malformed header line "no colon here"/,
    "lf-name": /malformed header line/,
    "lf-list": /bad Content-Length "2, 3"/,
    "lf-chunk-end": /not followed by a line break/,
    garbage: /not an HTTP\/1.x status line: "SAMP says yes"/,
  };
  await withPool(async (conn, req) => {
    await write(conn, answers[req.body]);
    return false;
  }, async (server, pool) => {
    for (const [name, re] of Object.entries(expected)) {
      const e = await assertRejects(() => pool.post(server.url, name), HttpProtocolError);
      assert(re.test(e.message), `${name}: ${e.message}`);
      assert(!(e instanceof HttpClosedError), name);
    }
  });
});

/** A server that never answers, and reads on to see when the pool ends the connection. */
async function withSilentServer(
  fn: (server: ReturnType<typeof rawServer>, pool: HttpPool, ended: () => boolean) => Promise<void>,
): Promise<void> {
  let ended = false;
  await withPool(async (conn) => {
    ended = await conn.read(new Uint8Array(16)) === null;
    return false;
  }, (server, pool) => fn(server, pool, () => ended));
}

Deno.test("abort closes the connection and rejects with the signal's reason", async () => {
  await withSilentServer(async (server, pool, ended) => {
    const ac = new AbortController();
    const p = pool.post(server.url, "never answered", { signal: ac.signal });
    await waitFor(() => server.requests.length === 1, 2000, "the request to arrive");
    ac.abort(new Error("gave up"));
    const e = await assertRejects(() => p, Error);
    assertEquals(e.message, "gave up");
    await waitFor(ended, 2000, "the server to see the connection end");
  });
});

Deno.test("timeoutMs ends a request that gets no answer, closing its connection", async () => {
  await withSilentServer(async (server, pool, ended) => {
    const t0 = performance.now();
    const e = await assertRejects(
      () => pool.post(server.url, "never answered", { timeoutMs: 100 }),
      HttpTimeoutError,
    );
    const took = performance.now() - t0;
    assert.ok(took >= 95 && took < 1000, `timed out after ${took} ms`);
    assert.match(e.message, /no answer within 100 ms/);
    assert.ok(e.requestSent);
    await waitFor(ended, 2000, "the server to see the connection end");
    assertEquals(pool.idle, 0);
  });
});

Deno.test("a timeout while the request is still being written says it was not sent", async () => {
  // The server accepts and never reads: a request bigger than the socket buffers cannot go out.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const pool = createHttpPool();
  try {
    const url = `http://127.0.0.1:${listener.addr.port}/`;
    const e = await assertRejects(
      () => pool.post(url, "x".repeat(32 * 1024 * 1024), { timeoutMs: 200 }),
      HttpTimeoutError,
    );
    assert.ok(!e.requestSent, e.message);
    assert.match(e.message, /could not connect and send the request within 200 ms/);
  } finally {
    pool.close();
    (await accepted).close();
    listener.close();
  }
});

Deno.test("a refused connection is Deno's ConnectionRefused", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const pool = createHttpPool();
  try {
    await assertRejects(
      () => pool.post(`http://127.0.0.1:${port}/`, "x"),
      Deno.errors.ConnectionRefused,
    );
  } finally {
    pool.close();
  }
});

Deno.test("idle connections are capped per origin; close() ends them and later posts fail", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await withPool(async (conn) => {
    await gate;
    await write(conn, ok("ok"));
    return true;
  }, async (server, pool) => {
    const posts = Array.from({ length: 6 }, (_, i) => pool.post(server.url, `p${i}`));
    await waitFor(() => server.requests.length === 6, 2000, "six requests");
    release();
    await Promise.all(posts);
    assertEquals(server.accepted, 6);
    assertEquals(pool.idle, 3);
    await waitFor(() => server.closedByPeer === 3, 2000, "three surplus connections closed");
    pool.close();
    assertEquals(pool.idle, 0);
    await waitFor(() => server.closedByPeer === 6, 2000, "every connection closed");
    await assertRejects(() => pool.post(server.url, "late"), HttpPoolClosedError, "closed");
  }, { maxIdlePerOrigin: 3 });
});

Deno.test("xmlrpcRequest through a pool maps faults, HTTP errors, refusals and timeouts", async () => {
  await withPool(async (conn, req, _nth, closing) => {
    if (req.body.includes("fault")) await write(conn, ok(encodeFault(3, "no such thing")));
    else if (req.body.includes("http500")) {
      await write(conn, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
    } else if (req.body.includes("slow")) return closing;
    else if (req.body.includes("bighead")) {
      await write(
        conn,
        `HTTP/1.1 200 OK\r\nX-Pad: ${"x".repeat(70_000)}\r\nContent-Length: 0\r\n\r\n`,
      );
    } else if (req.body.includes("garbage")) {
      await write(conn, "SAMP says yes\n\nthanks\n");
      return false;
    } else if (req.body.includes("ds9")) {
      await write(conn, ds9Answer(encodeResponse("ds9")));
      return false;
    } else await write(conn, ok(encodeResponse({ a: "1" })));
    return true;
  }, async (server, pool) => {
    assertEquals(await xmlrpcRequest(server.url, "m.ok", [], { pool }), { a: "1" });
    const fault = await assertRejects(
      () => xmlrpcRequest(server.url, "m.fault", [], { pool }),
      SampFault,
    );
    assertEquals(fault.message, "no such thing");
    const http = await assertRejects(
      () => xmlrpcRequest(server.url, "m.http500", [], { pool }),
      TransportError,
    );
    assert(/HTTP 500 Oops/.test(http.message), http.message);
    assert(!http.maybeReceived, "an HTTP error status is an answer: the server did not take it");
    const slow = await assertRejects(
      () => xmlrpcRequest(server.url, "m.slow", [], { pool, timeoutMs: 100 }),
      TransportError,
    );
    assert(slow.timedOut && /within 100 ms/.test(slow.message), slow.message);
    assert(slow.maybeReceived, "a request that went out and timed out may have arrived");
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dead = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}/`;
    l.close();
    const refused = await assertRejects(
      () => xmlrpcRequest(dead, "m.ok", [], { pool }),
      TransportError,
    );
    assert(refused.refused && !refused.maybeReceived, refused.message);
    // Through fetch (no pool), which says "refused" only in text: known by type all the same.
    const viaFetch = await assertRejects(() => xmlrpcRequest(dead, "m.ok", []), TransportError);
    assert(viaFetch.refused && !viaFetch.maybeReceived, viaFetch.message);
    const long = await assertRejects(
      () => xmlrpcRequest(server.url, "m.ok", [], { pool, maxResponseBytes: 20 }),
      TransportError,
    );
    assert(/more than 20 bytes: the answer was cut off/.test(long.message), long.message);
    assert(long.maybeReceived);
    // A header over the pool's own limit is a malformed answer, not a long body.
    const head = await assertRejects(
      () => xmlrpcRequest(server.url, "m.bighead", [], { pool }),
      TransportError,
    );
    assert(/header is longer than 65536 bytes/.test(head.message), head.message);
    assert(head.maybeReceived && head.cause instanceof HttpProtocolError);
    // Garbage after the whole request was read: it may have arrived.
    const junk = await assertRejects(
      () => xmlrpcRequest(server.url, "m.garbage", [], { pool }),
      TransportError,
    );
    assert(junk.maybeReceived && /could not read the answer/.test(junk.message), junk.message);
    // An answer in LF-only lines, as DS9 writes it, is read.
    assertEquals(await xmlrpcRequest(server.url, "m.ds9", [], { pool }), "ds9");
  });
});

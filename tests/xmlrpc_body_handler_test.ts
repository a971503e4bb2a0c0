// The hub's XML-RPC handler for bodies read whole (the fast path of
// http_server.ts): a method that answers at once is answered at once, with
// no promise between the dispatch and the answer, and faults come out the
// same either way.

import assert from "node:assert/strict";
import { SampFault } from "../lib/errors.ts";
import { createXmlRpcBodyHandler, type XmlRpcAnswer } from "../lib/transport/xmlrpc_server.ts";

const ctx = { request: new Request("http://127.0.0.1/"), signal: new AbortController().signal };
const call = new TextEncoder().encode(
  "<?xml version='1.0'?><methodCall><methodName>t.m</methodName><params></params></methodCall>",
);

Deno.test("a method that answers at once is answered without a promise", () => {
  const answer = createXmlRpcBodyHandler(() => "pong")(call, ctx);
  assert.ok(!(answer instanceof Promise), "the answer came as a promise");
  assert.equal(answer.status, 200);
  assert.match(String(answer.body), /<string>pong<\/string>|<value>pong<\/value>/);
});

Deno.test("a method that answers later is answered when its promise settles", async () => {
  const answer = createXmlRpcBodyHandler(() => Promise.resolve("later"))(call, ctx);
  assert.ok(answer instanceof Promise);
  assert.match(String((await answer).body), /later/);
});

Deno.test("a fault thrown at once, or later, or by an unexpected error, is an XML-RPC fault", async () => {
  const errors: string[] = [];
  const handlers = [
    () => {
      throw new SampFault("now");
    },
    () => Promise.reject(new SampFault("later")),
    () => {
      throw new TypeError("bug");
    },
  ];
  const bodies: string[] = [];
  for (const h of handlers) {
    const answer: XmlRpcAnswer = await createXmlRpcBodyHandler(h, {}, (e) => {
      errors.push(String(e));
    })(call, ctx);
    assert.equal(answer.status, 200);
    bodies.push(String(answer.body));
  }
  assert.match(bodies[0], /<fault>[\s\S]*now/);
  assert.match(bodies[1], /<fault>[\s\S]*later/);
  assert.match(bodies[2], /<fault>[\s\S]*Internal hub error in t\.m: bug/);
  assert.deepEqual(errors, ["TypeError: bug"]);
});

Deno.test("a U+FFFD the sender wrote is text; a byte that is not UTF-8 is refused with 400", () => {
  const echo = createXmlRpcBodyHandler((_method, params) => params[0]);
  const body = (value: Uint8Array) => {
    const enc = new TextEncoder();
    const [head, tail] = [
      "<methodCall><methodName>t.echo</methodName><params><param><value>",
      "</value></param></params></methodCall>",
    ].map((s) => enc.encode(s));
    const out = new Uint8Array(head.length + value.length + tail.length);
    out.set(head);
    out.set(value, head.length);
    out.set(tail, head.length + value.length);
    return out;
  };
  const written = echo(body(new TextEncoder().encode("a\uFFFDb")), ctx) as XmlRpcAnswer;
  assert.equal(written.status, 200);
  assert.match(String(written.body), /a\uFFFDb/);
  for (const bad of [[0x61, 0xff, 0x62], [0xc3], [0xed, 0xa0, 0x80]]) {
    const refused = echo(body(new Uint8Array(bad)), ctx) as XmlRpcAnswer;
    assert.equal(refused.status, 400, JSON.stringify(bad));
    assert.match(String(refused.body), /UTF-8/);
  }
});

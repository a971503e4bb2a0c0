// The direct call reader (`lib/_xmlrpc_plain.ts`) must give exactly what the
// general decoder gives for every call it reads, read what real SAMP peers
// write, and decline everything else, malformed calls included, so that what
// is accepted and how errors are worded never depend on the path. The spans
// it reports are passed on to recipients as the sender wrote them, so each
// must decode, on its own, to its parameter.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readPlainCall } from "../lib/_xmlrpc_plain.ts";
import { decodeCall, decodeCallByEvents, encodeCall } from "../lib/xmlrpc.ts";
import { assertPlainCallAgrees } from "./_helpers.ts";
import type { SampValue } from "../lib/types.ts";

/** What a decoder gives: the call, or the error's words. */
function outcome(decode: (xml: string) => unknown, xml: string): unknown {
  try {
    return decode(xml);
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/**
 * Asserts both paths of decodeCall agree on `xml` and, where the direct
 * reader reads it, that it agrees with the general decoder span by span;
 * returns whether the reader read it.
 */
function agree(xml: string): boolean {
  const reference = outcome(decodeCallByEvents, xml);
  assert.deepEqual(outcome(decodeCall, xml), reference, `paths differ on ${JSON.stringify(xml)}`);
  return assertPlainCallAgrees(xml);
}

const message = {
  "samp.mtype": "table.load.votable",
  "samp.params": {
    "url": "file:///tmp/a b.vot",
    "name": "M31 <&> \"cat\" 'x' é ≤",
    "rows": ["1", "22", ""],
    "nested": { "list": [["a"], {}], "empty": "" },
  },
};

/** What Python's xmlrpc.client (astropy's transport) writes for this call. */
async function pythonXml(method: string, params: SampValue[]): Promise<string> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import json, sys, xmlrpc.client; a = json.load(sys.stdin); " +
      "sys.stdout.write(xmlrpc.client.dumps(tuple(a['params']), a['method']))",
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = out.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({ method, params })));
  await w.close();
  const { success, stdout } = await out.output();
  assert.ok(success, "python3 could not write the call");
  return new TextDecoder().decode(stdout);
}

Deno.test("direct reader reads the calls SAMP peers write, with the general decoder's result", async () => {
  const { samp } = createRequire(import.meta.url)("sampjs/samp.js");
  const sampjs = (method: string, params: SampValue[]) =>
    new samp.XmlRpcRequest(method, params).toXml() as string;
  const documents = [
    // ours
    encodeCall("samp.hub.notify", ["k:1", "c2", message]),
    encodeCall("samp.hub.ping", []),
    // sampjs (npm), as it writes: indented, a declaration in single quotes
    sampjs("samp.webhub.notify", ["k", "c2", message]),
    // astropy: Python's xmlrpc.client
    await pythonXml("samp.hub.notify", ["k", "c2", message]),
    await pythonXml("samp.hub.getRegisteredClients", ["k"]),
    // JSAMP: newlines and indentation, bare <value> strings
    `<?xml version='1.0' encoding='UTF-8'?>\n<methodCall>\n  <methodName>samp.hub.register</methodName>\n` +
    `  <params>\n    <param><value>0123456789abcdef</value></param>\n  </params>\n</methodCall>\n`,
    // bare text keeps its spaces; a <value> of only spaces is a string of them
    `<methodCall><methodName> m </methodName><params><param><value>  a b  </value></param>` +
    `<param><value> \n </value></param><param><value></value></param></params></methodCall>`,
    // references, and a struct member named __proto__
    `<methodCall><methodName>m</methodName><params><param><value><struct><member><name>__proto__` +
    `</name><value>&#65;&#x42;&quot;&apos;&lt;&gt;&amp;</value></member></struct></value></param>` +
    `</params></methodCall>`,
    // no params at all, and empty params
    `<methodCall><methodName>samp.hub.ping</methodName></methodCall>`,
    `<methodCall><methodName>samp.hub.ping</methodName><params></params></methodCall>`,
  ];
  for (const d of documents) assert.ok(agree(d), `not read directly: ${d.slice(0, 120)}`);
  // A __proto__ member is an own member, as the general decoder makes it.
  const proto = readPlainCall(documents[7], 64)!.params[0] as Record<string, unknown>;
  assert.ok(Object.hasOwn(proto, "__proto__"));
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
});

Deno.test("direct reader declines every other construct and every malformed call; the general decoder answers", () => {
  const call = (params: string) =>
    `<methodCall><methodName>m</methodName><params>${params}</params></methodCall>`;
  const value = (v: string) => call(`<param><value>${v}</value></param>`);
  const others = [
    value("<int>7</int>"), // other scalar types: normalised by the general decoder
    value("<i4>-007</i4>"),
    value("<boolean>true</boolean>"),
    value("<double>+1.5</double>"),
    value("<nil/>"), // refused
    value("<string/>"), // empty-element tags
    call("<param><value/></param>"),
    `<methodCall><methodName>m</methodName><params/></methodCall>`,
    `<methodCall ><methodName>m</methodName></methodCall>`, // space in a tag
    `<methodCall a="1"><methodName>m</methodName></methodCall>`, // attribute
    `<methodCall><params></params><methodName>m</methodName></methodCall>`, // params first
    value("<struct><member><value>v</value><name>n</name></member></struct>"), // value first
    value("<struct><member><name>n</name></member></struct>"), // no value
    value("<array></array>"), // no <data>
    value("<array><data></data><data></data></array>"),
    value("x<string>y</string>"), // text mixed with an element
    value("<string>y</string>x"),
    value("<string>a</string><string>b</string>"),
    value("<!-- c --><string>y</string>"), // comment
    value("<![CDATA[x]]>"), // CDATA
    value("a\r\nb"), // CR
    value("&nbsp;"), // undefined entity
    value("&#1;"), // reference to a non-character
    value("a & b"),
    value("😀"), // astral
    call("<param><value>a</value><value>b</value></param>"), // two values
    call("<param></param>"), // no value
    `<methodCall><methodName></methodName></methodCall>`, // empty method
    `<methodCall><methodName> \n </methodName></methodCall>`,
    `<methodCall><methodName>m</methodName></methodCall>x`, // text after the root
    `<methodCall><methodName>m</methodName></methodCall><a/>`,
    `x<methodCall><methodName>m</methodName></methodCall>`,
    `<methodResponse><params><param><value>x</value></param></params></methodResponse>`,
    `<methodCall><methodName>m</methodName>`, // cut off
    `<methodCall><methodName>m</methodName><params><param><value>x</value></param>`,
    `<?xml version="1.1"?><methodCall><methodName>m</methodName></methodCall>`,
    ` <?xml version="1.0"?><methodCall><methodName>m</methodName></methodCall>`,
    "\uFEFF<methodCall><methodName>m</methodName></methodCall>",
    "",
  ];
  for (const d of others) {
    assert.equal(readPlainCall(d, 64), null, `should decline ${JSON.stringify(d)}`);
    agree(d);
  }
  // Past the caller's depth limit, the general decoder words the refusal.
  const nested = (n: number) =>
    value("<array><data><value>".repeat(n) + "x" + "</value></data></array>".repeat(n));
  assert.ok(agree(nested(3)));
  assert.equal(readPlainCall(nested(3), 2), null);
  assert.throws(() => decodeCall(nested(3), { maxDepth: 2 }), /deeper than the limit of 2/);
  // And past 64, whatever the limit, the reader does not recurse.
  assert.equal(readPlainCall(nested(65), 1000), null);
  assert.deepEqual(
    decodeCall(nested(65), { maxDepth: 1000 }),
    decodeCallByEvents(nested(65), {
      maxDepth: 1000,
    }),
  );
});

import assert from "node:assert/strict";
import {
  decodeCall,
  decodeResponse,
  encodeCall,
  encodeFault,
  encodeResponse,
  type XmlRpcCall,
  XmlRpcDecodeError,
  type XmlRpcResult,
} from "../lib/xmlrpc.ts";
import { parseXml } from "../lib/_sax.ts";
import type { SampMap, SampValue } from "../lib/types.ts";

// ---------------------------------------------------------------------------
// Helpers

/** A methodCall document with the given raw XML inside <params>. */
function callXml(paramsXml: string, method = "samp.hub.test"): string {
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName>` +
    `<params>${paramsXml}</params></methodCall>`;
}

/** A methodCall document with one <param> holding the given raw <value> content. */
function oneValueXml(valueContent: string): string {
  return callXml(`<param><value>${valueContent}</value></param>`);
}

/** Decodes a call with one parameter and returns that parameter. */
function decodeOne(valueContent: string): SampValue {
  const call = decodeCall(oneValueXml(valueContent));
  assert.equal(call.params.length, 1);
  return call.params[0];
}

function faultXml(members: string): string {
  return `<?xml version="1.0"?><methodResponse><fault><value><struct>${members}</struct></value></fault></methodResponse>`;
}

function member(name: string, valueContent: string): string {
  return `<member><name>${name}</name><value>${valueContent}</value></member>`;
}

/** Asserts that `fn` throws an XmlRpcDecodeError whose message matches `pattern`. */
function assertDecodeError(
  fn: () => unknown,
  pattern: RegExp,
  xmlRpc?: boolean,
): XmlRpcDecodeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof XmlRpcDecodeError, `expected XmlRpcDecodeError, got ${caught}`);
  assert.match(caught.message, pattern);
  if (xmlRpc !== undefined) assert.equal(caught.xmlRpc, xmlRpc, "xmlRpc flag");
  return caught;
}

function roundTripCall(params: SampValue[], method = "samp.hub.notify"): XmlRpcCall {
  const decoded = decodeCall(encodeCall(method, params));
  assert.deepEqual(decoded, { method, params });
  return decoded;
}

function roundTripResponse(value: SampValue): void {
  const result: XmlRpcResult = decodeResponse(encodeResponse(value));
  assert.deepEqual(result, { ok: true, value });
}

/** Every character HubTester may put in a SAMP string: TAB, LF and 0x20-0x7f. */
const ALL_SAMP_CHARS = "\t\n" +
  Array.from({ length: 0x80 - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("");

function nestedList(depth: number): SampValue {
  let v: SampValue = "leaf";
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function nestedMap(depth: number): SampValue {
  let v: SampValue = "leaf";
  for (let i = 0; i < depth; i++) v = { k: v };
  return v;
}

// ---------------------------------------------------------------------------
// Round trips

Deno.test("round trip of a typical notify call preserves method and params", () => {
  roundTripCall([
    "k:3_5f0a1c9e",
    "c7",
    {
      "samp.mtype": "table.load.votable",
      "samp.params": { url: "file:///tmp/t.vot", "table-id": "t1", name: "my table" },
    },
  ]);
});

Deno.test("round trip keeps every HubTester character 0x09, 0x0a and 0x20-0x7f", () => {
  assert.equal(ALL_SAMP_CHARS.length, 2 + 96);
  for (const c of "<&\"'>\x7f ~") assert.ok(ALL_SAMP_CHARS.includes(c));
  roundTripCall([ALL_SAMP_CHARS, { [ALL_SAMP_CHARS]: ALL_SAMP_CHARS }, [ALL_SAMP_CHARS]]);
});

Deno.test("round trip keeps leading and trailing tabs, newlines and spaces", () => {
  roundTripCall(["\t\n  padded \n\t", " ", "\n", "\t", "  \n  "]);
});

Deno.test("round trip keeps markup characters < & > \" ' and DEL", () => {
  roundTripCall(["<&>\"'\x7f", "]]>", "&amp;", "<value>not a tag</value>", "&#13;"]);
});

Deno.test("round trip keeps non-ASCII text such as Ångström ✓ 🌌", () => {
  roundTripCall(["Ångström ✓ 🌌", { "clé ✓": "värde 🌌" }, ["日本語", "\u00a0\u2028\u2029"]]);
});

Deno.test("round trip keeps CR, which is written as &#13;", () => {
  const xml = encodeCall("m", ["a\rb\r\nc"]);
  assert.ok(xml.includes("a&#13;b&#13;\nc"), xml);
  assert.ok(!xml.includes("\r"));
  roundTripCall(["\r", "a\rb\r\nc", "\r\n\r\n"]);
  roundTripCall([{ "key\r": "v" }]);
});

Deno.test("round trip keeps empty strings, empty lists, empty maps and empty keys", () => {
  roundTripCall(["", [], {}, [""], { "": "" }, { "": {} }, { "": [] }, [[], {}, ""]]);
  roundTripResponse("");
  roundTripResponse([]);
  roundTripResponse({});
});

Deno.test("round trip keeps map key order and unusual keys", () => {
  const map: SampMap = {
    z: "1",
    a: "2",
    "samp.mtype": "x",
    constructor: "c",
    toString: "t",
    hasOwnProperty: "h",
    "10": "ten",
  };
  const decoded = roundTripCall([map]).params[0] as SampMap;
  assert.deepEqual(Object.keys(decoded), Object.keys(map));
});

Deno.test("round trip of nesting at the default maxDepth of 64 succeeds", () => {
  roundTripCall([nestedList(64)]);
  roundTripCall([nestedMap(64)]);
  roundTripResponse(nestedList(64));
});

Deno.test("round trip of a response map and of a 10,000-string list", () => {
  roundTripResponse({
    "samp.status": "samp.ok",
    "samp.result": { ra: "10.684708", dec: "41.268750" },
  });
  const list = Array.from({ length: 10_000 }, (_, i) => `\t${i} <&> ${ALL_SAMP_CHARS}`);
  roundTripCall(["k", "c1", list]);
});

Deno.test("round trip of a call with zero params", () => {
  roundTripCall([], "samp.hub.ping");
});

// ---------------------------------------------------------------------------
// Decoding: values

Deno.test("decodeCall keeps leading and trailing whitespace of untyped values", () => {
  assert.equal(decodeOne("\n   \tspaced out\t\n   "), "\n   \tspaced out\t\n   ");
  assert.equal(decodeOne("   "), "   ");
  assert.equal(decodeOne("\n"), "\n");
});

Deno.test("decodeCall keeps whitespace inside <string> and <name>", () => {
  assert.equal(decodeOne("<string>  x\n</string>"), "  x\n");
  assert.deepEqual(decodeOne(`<struct>${member(" k ", "v")}</struct>`), { " k ": "v" });
});

Deno.test("decodeCall reads <value></value>, <value/>, <string/> and <string></string> as empty strings", () => {
  const call = decodeCall(callXml(
    "<param><value></value></param><param><value/></param>" +
      "<param><value><string/></value></param><param><value><string></string></value></param>" +
      "<param><value> <string/> </value></param>",
  ));
  assert.deepEqual(call.params, ["", "", "", "", ""]);
});

Deno.test("decodeCall accepts <name></name> and <name/> as an empty map key", () => {
  assert.deepEqual(decodeOne(`<struct><member><name></name><value>a</value></member></struct>`), {
    "": "a",
  });
  assert.deepEqual(decodeOne(`<struct><member><name/><value>b</value></member></struct>`), {
    "": "b",
  });
});

Deno.test("decodeCall reads empty <array>, <data/> and <struct/> as empty containers", () => {
  assert.deepEqual(decodeOne("<array><data></data></array>"), []);
  assert.deepEqual(decodeOne("<array><data/></array>"), []);
  assert.deepEqual(decodeOne("<array/>"), []);
  assert.deepEqual(decodeOne("<struct></struct>"), {});
  assert.deepEqual(decodeOne("<struct/>"), {});
});

Deno.test("decodeCall ignores whitespace around an element child of <value>", () => {
  assert.equal(decodeOne("\n  <string>s</string>\n  "), "s");
  assert.deepEqual(decodeOne("\n  <array><data>\n <value>a</value>\n </data></array>\n"), ["a"]);
});

Deno.test("decodeCall reads a JSAMP-style pretty-printed call with bare-text values", () => {
  const xml = `<?xml version='1.0' encoding='UTF-8'?>
<methodCall>
  <methodName>samp.hub.notify</methodName>
  <params>
    <param>
      <value>k:7_0f3a9c</value>
    </param>
    <param>
      <value>c2</value>
    </param>
    <param>
      <value>
        <struct>
          <member>
            <name>samp.mtype</name>
            <value>samp.app.ping</value>
          </member>
          <member>
            <name>samp.params</name>
            <value>
              <struct>
              </struct>
            </value>
          </member>
          <member>
            <name>list</name>
            <value>
              <array>
                <data>
                  <value>	tab first</value>
                  <value></value>
                </data>
              </array>
            </value>
          </member>
        </struct>
      </value>
    </param>
  </params>
</methodCall>
`;
  assert.deepEqual(decodeCall(xml), {
    method: "samp.hub.notify",
    params: [
      "k:7_0f3a9c",
      "c2",
      { "samp.mtype": "samp.app.ping", "samp.params": {}, list: ["\ttab first", ""] },
    ],
  });
});

Deno.test("decodeCall converts Python-style typed values to SAMP strings", () => {
  const call = decodeCall(callXml(
    [
      "<int>42</int>",
      "<i4>-7</i4>",
      "<i8>9223372036854775807</i8>",
      "<int> 42 </int>",
      "<int>\n\t+0042\n</int>",
      "<int>-0</int>",
      "<double>1.5</double>",
      "<double>-3e-7</double>",
      "<double> 1.0E10 </double>",
      "<double>+.5</double>",
      "<double>7.</double>",
      "<boolean>1</boolean>",
      "<boolean>0</boolean>",
      "<boolean> true </boolean>",
      "<boolean>false</boolean>",
      "<string>text</string>",
    ].map((v) => `<param><value>${v}</value></param>`).join(""),
  ));
  assert.deepEqual(call.params, [
    "42",
    "-7",
    "9223372036854775807",
    "42",
    "42",
    "0",
    "1.5",
    "-3e-7",
    "1.0E10",
    ".5",
    "7.",
    "1",
    "0",
    "1",
    "0",
    "text",
  ]);
});

Deno.test("decodeCall converts typed values inside arrays and structs", () => {
  assert.deepEqual(
    decodeOne(
      `<struct>${member("timeout", "<int>10</int>")}${
        member("flags", "<array><data><value><boolean>1</boolean></value></data></array>")
      }</struct>`,
    ),
    { timeout: "10", flags: ["1"] },
  );
});

Deno.test("decodeCall refuses typed values with bad number syntax", () => {
  for (
    const bad of [
      "<int>4.2</int>",
      "<int></int>",
      "<int/>",
      "<i4>0x10</i4>",
      "<i8>1 2</i8>",
      "<int>--1</int>",
      "<double>nan</double>",
      "<double>inf</double>",
      "<double>1e</double>",
      "<double>.</double>",
      "<double></double>",
      "<boolean>2</boolean>",
      "<boolean>yes</boolean>",
      "<boolean></boolean>",
    ]
  ) {
    assertDecodeError(() => decodeOne(bad), /^bad <(int|i4|i8|double|boolean)> value/, true);
  }
});

Deno.test("decodeCall refuses <nil/>, <base64> and <dateTime.iso8601>, naming the type", () => {
  assertDecodeError(
    () => decodeOne("<nil/>"),
    /^XML-RPC type <nil> is not a SAMP type: send a string$/,
    true,
  );
  assertDecodeError(() => decodeOne("<base64>aGk=</base64>"), /<base64> is not a SAMP type/);
  assertDecodeError(
    () => decodeOne("<dateTime.iso8601>20250101T00:00:00</dateTime.iso8601>"),
    /<dateTime\.iso8601> is not a SAMP type/,
  );
  assertDecodeError(
    () => decodeOne(`<struct>${member("x", "<nil/>")}</struct>`),
    /<nil> is not a SAMP type/,
  );
});

Deno.test("decodeCall refuses unknown elements inside <value>, naming them", () => {
  assertDecodeError(() => decodeOne("<float>1</float>"), /unknown XML-RPC type <float>/, true);
  assertDecodeError(() => decodeOne("<ex:nil/>"), /<ex:nil>/);
  assertDecodeError(() => decodeOne("<value>x</value>"), /<value>/);
});

Deno.test("decodeCall decodes predefined entities and character references", () => {
  assert.equal(
    decodeOne("&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&#x1F30C;&#9;&#10;&#13;"),
    "&<>\"'AB🌌\t\n\r",
  );
  assert.equal(decodeOne("<string>&lt;tag&gt;</string>"), "<tag>");
});

Deno.test("decodeCall turns raw CR and CRLF into LF, as XML requires", () => {
  assert.equal(decodeOne("a\r\nb\rc"), "a\nb\nc");
});

Deno.test("decodeCall reads CDATA sections as text and ignores comments", () => {
  assert.equal(decodeOne("<![CDATA[<a> & b]]>"), "<a> & b");
  assert.equal(decodeOne("x<![CDATA[<y>]]>z"), "x<y>z");
  assert.equal(decodeOne("a<!-- comment -->b"), "ab");
  assert.equal(decodeOne("<!-- c --><string>s</string><!-- d -->"), "s");
  assert.deepEqual(
    decodeCall(`<!-- lead --><methodCall><!-- a --><methodName>m</methodName></methodCall>`),
    { method: "m", params: [] },
  );
});

Deno.test("decodeCall accepts single-quoted declarations, a BOM and attributes", () => {
  const body = "<methodCall xmlns:x='urn:x'><methodName>m</methodName></methodCall>";
  assert.deepEqual(decodeCall(`<?xml version='1.0' encoding='utf-8'?>${body}`), {
    method: "m",
    params: [],
  });
  assert.deepEqual(decodeCall(`\uFEFF<?xml version="1.0"?>${body}`).method, "m");
  assert.deepEqual(decodeCall(body).method, "m");
});

Deno.test("decodeCall keeps the last of duplicate map keys", () => {
  assert.deepEqual(decodeOne(`<struct>${member("k", "1")}${member("k", "2")}</struct>`), {
    k: "2",
  });
});

Deno.test("decodeCall makes a __proto__ key an own property without touching any prototype", () => {
  const v = decodeOne(
    `<struct>${member("__proto__", `<struct>${member("polluted", "yes")}</struct>`)}${
      member("constructor", "c")
    }</struct>`,
  ) as SampMap;
  assert.ok(Object.hasOwn(v, "__proto__"));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ["__proto__", "constructor"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(v, "__proto__")?.value, { polluted: "yes" });
  assert.equal((v as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  // And it survives a round trip.
  const again = decodeCall(encodeCall("m", [v])).params[0] as SampMap;
  assert.ok(Object.hasOwn(again, "__proto__"));
  assert.equal(Object.getPrototypeOf(again), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(again, "__proto__")?.value, {
    polluted: "yes",
  });
});

Deno.test("decodeCall makes a __proto__ string value an own property too", () => {
  const v = decodeOne(`<struct>${member("__proto__", "x")}</struct>`) as SampMap;
  assert.equal(Object.getOwnPropertyDescriptor(v, "__proto__")?.value, "x");
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
});

// ---------------------------------------------------------------------------
// Decoding: call structure

Deno.test("decodeCall treats a missing, empty or self-closing <params> as zero params", () => {
  for (
    const xml of [
      "<methodCall><methodName>samp.hub.ping</methodName></methodCall>",
      "<methodCall><methodName>samp.hub.ping</methodName><params/></methodCall>",
      "<methodCall><methodName>samp.hub.ping</methodName><params>\n</params></methodCall>",
    ]
  ) {
    assert.deepEqual(decodeCall(xml), { method: "samp.hub.ping", params: [] });
  }
});

Deno.test("decodeCall trims whitespace around the method name", () => {
  assert.equal(
    decodeCall("<methodCall><methodName>\n  samp.hub.ping\n</methodName></methodCall>").method,
    "samp.hub.ping",
  );
});

Deno.test("decodeCall refuses a call without a method name or with an empty one", () => {
  assertDecodeError(() => decodeCall("<methodCall></methodCall>"), /without <methodName>/, true);
  assertDecodeError(
    () => decodeCall("<methodCall><params/></methodCall>"),
    /without <methodName>/,
    true,
  );
  assertDecodeError(
    () => decodeCall("<methodCall><methodName> </methodName></methodCall>"),
    /empty <methodName>/,
  );
});

Deno.test("decodeCall refuses misplaced, duplicated or missing elements", () => {
  const cases: [string, RegExp][] = [
    [
      "<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>",
      /more than one <methodName>/,
    ],
    ["<methodCall><methodName>a</methodName><params/><params/></methodCall>", /more than one/],
    ["<methodCall><methodName>a<b/></methodName></methodCall>", /only text/],
    ["<methodCall><methodName>a</methodName><foo/></methodCall>", /unexpected <foo>/],
    [callXml("<value>x</value>"), /unexpected <value> in <params>/],
    [callXml("<param></param>"), /<param> without <value>/],
    [callXml("<param><value>a</value><value>b</value></param>"), /more than one <value>/],
    [callXml("junk"), /unexpected text in <params>/],
    [callXml("<param>junk<value>a</value></param>"), /unexpected text in <param>/],
    [oneValueXml("<string>a</string><string>b</string>"), /more than one element/],
    [oneValueXml("x<string>a</string>"), /mixes text/],
    [oneValueXml("<string>a</string>x"), /mixes text/],
    [oneValueXml("<string><b/></string>"), /<string> must hold only text/],
    [oneValueXml("<int><b/></int>"), /<int> must hold only text/],
    [oneValueXml("<array><value>a</value></array>"), /unexpected <value> in <array>/],
    [oneValueXml("<array><data/><data/></array>"), /more than one <data>/],
    [oneValueXml("<array><data>x</data></array>"), /unexpected text in <data>/],
    [oneValueXml("<array><data><string>a</string></data></array>"), /unexpected <string>/],
    [oneValueXml("<struct><value>a</value></struct>"), /unexpected <value> in <struct>/],
    [oneValueXml("<struct>x</struct>"), /unexpected text in <struct>/],
    [oneValueXml("<struct><member><value>a</value></member></struct>"), /without <name>/],
    [oneValueXml("<struct><member><name>k</name></member></struct>"), /"k" without <value>/],
    [
      oneValueXml("<struct><member><name>a</name><name>b</name><value/></member></struct>"),
      /more than one <name>/,
    ],
    [oneValueXml("<struct><member><name>a<b/></name></member></struct>"), /only text/],
    [oneValueXml("<struct><member>x<name>k</name><value/></member></struct>"), /unexpected text/],
  ];
  for (const [xml, pattern] of cases) assertDecodeError(() => decodeCall(xml), pattern, true);
});

Deno.test("decodeCall accepts <value> before <name> inside a member", () => {
  assert.deepEqual(decodeOne("<struct><member><value>v</value><name>k</name></member></struct>"), {
    k: "v",
  });
});

Deno.test("decodeCall refuses a wrong root, flagging whether it looked like XML-RPC", () => {
  assertDecodeError(
    () => decodeCall("<methodResponse><params/></methodResponse>"),
    /expected root element <methodCall>, found <methodResponse>/,
    true,
  );
  assertDecodeError(() => decodeCall("<html><body/></html>"), /found <html>/, false);
  assertDecodeError(() => decodeCall("not xml at all"), /XML parse error/, false);
  assertDecodeError(() => decodeCall(""), /root element/, false);
  assertDecodeError(() => decodeCall("   \n"), /root element/, false);
  assertDecodeError(() => decodeCall('{"json": true}'), /XML parse error/, false);
});

Deno.test("decodeCall refuses a second root element or text after the root", () => {
  const ok = "<methodCall><methodName>m</methodName></methodCall>";
  assertDecodeError(() => decodeCall(ok + "<methodCall/>"), /XML parse error.*root/, true);
  assertDecodeError(() => decodeCall(ok + "junk"), /XML parse error.*outside of root/, true);
  assert.equal(decodeCall(ok + "\n\n").method, "m");
});

Deno.test("decodeCall refuses every truncation of a valid document", () => {
  const xml = encodeCall("samp.hub.notify", ["k", { a: ["1", {}], b: "<&>" }]).trimEnd();
  for (let i = 0; i < xml.length; i++) {
    const prefix = xml.slice(0, i);
    assertDecodeError(() => decodeCall(prefix), /./);
  }
  assert.equal(decodeCall(xml).method, "samp.hub.notify");
});

Deno.test("decodeCall refuses malformed XML with a line and column", () => {
  const cases = [
    "<methodCall><methodName>m</methodName></methodcall>",
    "<methodCall><methodName>m</methodName><params></methodCall>",
    "<methodCall><methodName>m</methodName>",
    "<methodCall><methodName>m</methodName><params><param><value>a & b</value></param></params></methodCall>",
    "<methodCall><methodName>m</methodName><params><param><value>a < b</value></param></params></methodCall>",
    "<methodCall><methodName>m</methodName><params><param><value>&#0;</value></param></params></methodCall>",
    "<methodCall><methodName>m</methodName><params><param><value>\u0001</value></param></params></methodCall>",
    "<methodCall>\n<methodName>m</methodName>\n<</methodCall>",
  ];
  for (const xml of cases) {
    assertDecodeError(() => decodeCall(xml), /^XML parse error at line \d+, column \d+: /, true);
  }
  // An error inside the root's own start tag comes before the root is known.
  assertDecodeError(
    () => decodeCall("<methodCall a=1><methodName>m</methodName></methodCall>"),
    /^XML parse error at line 1, column \d+: /,
    false,
  );
});

Deno.test("decodeCall refuses undefined entities", () => {
  assertDecodeError(() => decodeOne("&nbsp;"), /undefined entity/, true);
  assertDecodeError(() => decodeOne("&foo;"), /undefined entity/, true);
});

Deno.test("decodeCall refuses a DOCTYPE, even a harmless one", () => {
  assertDecodeError(
    () => decodeCall(`<!DOCTYPE methodCall><methodCall><methodName>m</methodName></methodCall>`),
    /DOCTYPE declarations are not allowed/,
    false,
  );
});

Deno.test("decodeCall refuses a billion-laughs document quickly", () => {
  const xml = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>m</methodName><params><param><value>&lol9;</value></param></params></methodCall>`;
  const start = performance.now();
  assertDecodeError(() => decodeCall(xml), /DOCTYPE declarations are not allowed/, false);
  assert.ok(performance.now() - start < 1000);
});

Deno.test("decodeCall refuses an external entity (XXE) document", () => {
  const xml = `<?xml version="1.0"?>
<!DOCTYPE methodCall [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>m</methodName><params><param><value>&xxe;</value></param></params></methodCall>`;
  assertDecodeError(() => decodeCall(xml), /DOCTYPE declarations are not allowed/, false);
  const ext = `<!DOCTYPE methodCall SYSTEM "http://127.0.0.1:1/evil.dtd">
<methodCall><methodName>m</methodName></methodCall>`;
  assertDecodeError(() => decodeCall(ext), /DOCTYPE/, false);
});

Deno.test("decodeCall refuses processing instructions other than the XML declaration", () => {
  assertDecodeError(
    () => decodeCall(`<?xml version="1.0"?><?xml-stylesheet href="x"?><methodCall/>`),
    /processing instruction <\?xml-stylesheet\?> is not allowed/,
    false,
  );
  assertDecodeError(() => decodeOne("a<?php echo 1; ?>b"), /processing instruction/, true);
  assertDecodeError(
    () => decodeCall(`<methodCall><methodName>m</methodName></methodCall><?xml version="1.0"?>`),
    /XML parse error/,
  );
});

Deno.test("decodeCall reads documents as XML 1.0 even if they declare 1.1", () => {
  assertDecodeError(
    () => decodeCall(`<?xml version="1.1"?>${oneValueXml("&#1;").replace(/^<\?xml[^>]*>/, "")}`),
    /XML parse error/,
    true,
  );
});

Deno.test("decodeCall refuses nesting one level deeper than maxDepth", () => {
  assertDecodeError(
    () => decodeCall(encodeCall("m", [nestedList(65)])),
    /nest deeper than the limit of 64 arrays\/structs/,
    true,
  );
  assertDecodeError(() => decodeCall(encodeCall("m", [nestedMap(65)])), /limit of 64/, true);
  // Arrays and structs count together.
  const mixed = { a: [{ b: [{ c: ["x"] }] }] }; // depth 6
  assert.deepEqual(decodeCall(encodeCall("m", [mixed]), { maxDepth: 6 }).params[0], mixed);
  assertDecodeError(() => decodeCall(encodeCall("m", [mixed]), { maxDepth: 5 }), /limit of 5/);
});

Deno.test("decodeCall honours a custom maxDepth, including 0 for strings only", () => {
  assert.deepEqual(decodeCall(encodeCall("m", [nestedList(200)]), { maxDepth: 200 }).params, [
    nestedList(200),
  ]);
  assert.deepEqual(decodeCall(encodeCall("m", ["a", "b"]), { maxDepth: 0 }).params, ["a", "b"]);
  assertDecodeError(() => decodeCall(encodeCall("m", [[]]), { maxDepth: 0 }), /limit of 0/);
  // Sibling containers do not add up.
  const wide = Array.from({ length: 100 }, () => nestedList(3));
  assert.deepEqual(decodeCall(encodeCall("m", [wide]), { maxDepth: 4 }).params[0], wide);
});

Deno.test("decodeCall refuses an invalid maxDepth option with a RangeError", () => {
  const xml = "<methodCall><methodName>m</methodName></methodCall>";
  for (const maxDepth of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => decodeCall(xml, { maxDepth }), RangeError);
  }
});

Deno.test("decodeCall refuses 10,000-deep arrays quickly, without a stack overflow", () => {
  const depth = 10_000;
  const open = "<value><array><data>".repeat(depth);
  const close = "</data></array></value>".repeat(depth);
  const xml = callXml(`<param>${open}<value>x</value>${close}</param>`);
  const start = performance.now();
  assertDecodeError(() => decodeCall(xml), /limit of 64/, true);
  assert.ok(performance.now() - start < 500, "took too long");
  // A truncated one (never closed) fails the same way.
  assertDecodeError(() => decodeCall(callXml(`<param>${open}`)), /limit of 64/, true);
});

Deno.test("decodeCall refuses 10,000-deep structs and invalid deep element chains quickly", () => {
  const depth = 10_000;
  const structs = callXml(
    "<param>" + "<value><struct><member><name>k</name>".repeat(depth),
  );
  const start = performance.now();
  assertDecodeError(() => decodeCall(structs), /limit of 64/, true);
  assertDecodeError(
    () => decodeCall(callXml("<param>" + "<value>".repeat(depth))),
    /unknown XML-RPC type <value>/,
    true,
  );
  assertDecodeError(() => decodeCall("<a>".repeat(depth)), /found <a>/, false);
  assert.ok(performance.now() - start < 500, "took too long");
});

Deno.test("decodeCall errors are XmlRpcDecodeError instances with a name and a cause", () => {
  const e = assertDecodeError(() => decodeCall("<methodCall>"), /XML parse error/, true);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "XmlRpcDecodeError");
  assert.ok(e.cause instanceof Error);
});

// ---------------------------------------------------------------------------
// Decoding: responses and faults

Deno.test("decodeResponse reads a bare empty string and a response map", () => {
  assert.deepEqual(
    decodeResponse(
      "<methodResponse><params><param><value></value></param></params></methodResponse>",
    ),
    { ok: true, value: "" },
  );
  assert.deepEqual(
    decodeResponse(
      `<?xml version="1.0"?>\n<methodResponse>\n <params>\n  <param>\n   <value><struct>${
        member("samp.status", "samp.ok")
      }${
        member("samp.result", "<struct/>")
      }</struct></value>\n  </param>\n </params>\n</methodResponse>\n`,
    ),
    { ok: true, value: { "samp.status": "samp.ok", "samp.result": {} } },
  );
});

Deno.test("decodeResponse requires exactly one <param>", () => {
  assertDecodeError(
    () => decodeResponse("<methodResponse><params/></methodResponse>"),
    /exactly one <param>, found 0/,
    true,
  );
  assertDecodeError(
    () =>
      decodeResponse(
        "<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>",
      ),
    /exactly one <param>, found 2/,
    true,
  );
  assertDecodeError(
    () => decodeResponse("<methodResponse></methodResponse>"),
    /exactly one <params> or <fault>/,
    true,
  );
  assertDecodeError(
    () =>
      decodeResponse(
        `<methodResponse><params><param><value/></param></params><fault><value><struct/></value></fault></methodResponse>`,
      ),
    /exactly one <params> or <fault>/,
    true,
  );
});

Deno.test("decodeResponse refuses a methodCall root, flagged as XML-RPC", () => {
  assertDecodeError(
    () => decodeResponse("<methodCall><methodName>m</methodName></methodCall>"),
    /expected root element <methodResponse>, found <methodCall>/,
    true,
  );
});

Deno.test("decodeResponse reads faults with <int>, <i4> and digit-string codes", () => {
  assert.deepEqual(
    decodeResponse(
      faultXml(
        member("faultCode", "<int>1</int>") + member("faultString", "<string>boom</string>"),
      ),
    ),
    { ok: false, code: 1, message: "boom" },
  );
  assert.deepEqual(
    decodeResponse(
      faultXml(member("faultString", "Unknown private key") + member("faultCode", "<i4>5</i4>")),
    ),
    { ok: false, code: 5, message: "Unknown private key" },
  );
  assert.deepEqual(
    decodeResponse(faultXml(member("faultCode", "403") + member("faultString", ""))),
    { ok: false, code: 403, message: "" },
  );
  assert.deepEqual(
    decodeResponse(faultXml(member("faultCode", " -2 ") + member("faultString", " x "))),
    { ok: false, code: -2, message: " x " },
  );
});

Deno.test("decodeResponse ignores extra fault members and keeps message whitespace", () => {
  assert.deepEqual(
    decodeResponse(faultXml(
      member("faultCode", "<int>7</int>") + member("faultString", "\n  Bad secret\n") +
        member("extra", "<array><data/></array>"),
    )),
    { ok: false, code: 7, message: "\n  Bad secret\n" },
  );
});

Deno.test("decodeResponse refuses malformed faults", () => {
  const cases: [string, RegExp][] = [
    [faultXml(member("faultString", "x")), /integer faultCode/],
    [faultXml(member("faultCode", "abc") + member("faultString", "x")), /integer faultCode/],
    [
      faultXml(member("faultCode", "<double>1.5</double>") + member("faultString", "x")),
      /integer faultCode/,
    ],
    [faultXml(member("faultCode", "<int>1</int>")), /faultString/],
    [
      faultXml(member("faultCode", "<int>1</int>") + member("faultString", "<struct/>")),
      /faultString/,
    ],
    [
      faultXml(member("faultCode", "99999999999999999999") + member("faultString", "x")),
      /out of range/,
    ],
    [
      "<methodResponse><fault><value>just text</value></fault></methodResponse>",
      /must be a struct/,
    ],
    ["<methodResponse><fault></fault></methodResponse>", /<fault> without <value>/],
    [
      faultXml(member("faultCode", "<nil/>") + member("faultString", "x")),
      /<nil> is not a SAMP type/,
    ],
  ];
  for (const [xml, pattern] of cases) assertDecodeError(() => decodeResponse(xml), pattern, true);
});

// ---------------------------------------------------------------------------
// Encoding

Deno.test("encodeCall writes the UTF-8 declaration and typed <string> values", () => {
  assert.equal(
    encodeCall("samp.hub.notify", ["k", ["a"], { x: "" }]),
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      "<methodCall><methodName>samp.hub.notify</methodName><params>" +
      "<param><value><string>k</string></value></param>" +
      "<param><value><array><data><value><string>a</string></value></data></array></value></param>" +
      "<param><value><struct><member><name>x</name><value><string></string></value></member>" +
      "</struct></value></param>" +
      "</params></methodCall>\n",
  );
});

Deno.test("encodeCall writes zero params as an empty <params>", () => {
  assert.ok(
    encodeCall("samp.hub.ping", []).includes(
      "<methodName>samp.hub.ping</methodName><params></params>",
    ),
  );
});

Deno.test("encodeResponse writes one param and empty containers", () => {
  assert.equal(
    encodeResponse(""),
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      "<methodResponse><params><param><value><string></string></value></param></params>" +
      "</methodResponse>\n",
  );
  assert.ok(encodeResponse([]).includes("<value><array><data></data></array></value>"));
  assert.ok(encodeResponse({}).includes("<value><struct></struct></value>"));
});

Deno.test("encoders escape & < > and CR in values, keys and method names", () => {
  const xml = encodeCall("a&b<c>", [{ "k<&>\r": "v<&>\r" }]);
  assert.ok(xml.includes("<methodName>a&amp;b&lt;c&gt;</methodName>"));
  assert.ok(xml.includes("<name>k&lt;&amp;&gt;&#13;</name>"));
  assert.ok(xml.includes("<string>v&lt;&amp;&gt;&#13;</string>"));
  assert.deepEqual(decodeCall(xml), { method: "a&b<c>", params: [{ "k<&>\r": "v<&>\r" }] });
});

Deno.test("encoders write quotes, DEL, TAB, LF and non-ASCII unchanged", () => {
  const s = "\"'\x7f\t\nÅ✓🌌";
  assert.ok(encodeResponse(s).includes(`<string>${s}</string>`));
});

Deno.test("encoders refuse characters that XML 1.0 cannot carry", () => {
  const cases: [string, string][] = [
    ["\u0000", "U+0000"],
    ["a\u0001b", "U+0001"],
    ["\u0008", "U+0008"],
    ["\u000b", "U+000B"],
    ["\u000c", "U+000C"],
    ["\u001f", "U+001F"],
    ["\ufffe", "U+FFFE"],
    ["\uffff", "U+FFFF"],
    ["lone high \ud83c end", "U+D83C"],
    ["lone low \udf0c", "U+DF0C"],
    ["\udf0c\ud83c", "U+DF0C"],
  ];
  for (const [s, code] of cases) {
    const message = new RegExp(`string contains character ${code.replace("+", "\\+")}, which XML`);
    assert.throws(() => encodeResponse(s), message);
    assert.throws(() => encodeCall("m", [[{ k: s }]]), message);
    assert.throws(() => encodeCall("m", [{ [s]: "v" }]), message);
    assert.throws(() => encodeCall(s, []), message);
    assert.throws(() => encodeFault(1, s), message);
  }
  // Valid surrogate pairs, and the code points either side of the bad ranges, are fine.
  for (const s of ["🌌", "\ud83c\udf0c", "\ud7ff", "\ue000", "\ufffd", "\u0080\u009f", "\u0020"]) {
    roundTripResponse(s);
  }
});

Deno.test("encoders refuse non-SAMP values with a TypeError", () => {
  for (const bad of [42, null, undefined, true, 1n]) {
    assert.throws(() => encodeResponse(bad as unknown as SampValue), TypeError);
    assert.throws(() => encodeCall("m", [["ok", bad as unknown as SampValue]]), TypeError);
    assert.throws(() => encodeCall("m", [{ k: bad as unknown as SampValue }]), TypeError);
  }
});

Deno.test("encodeFault writes exactly two members: an <int> faultCode and a <string> faultString", () => {
  assert.equal(
    encodeFault(1, "Unknown private key"),
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      "<methodResponse><fault><value><struct>" +
      "<member><name>faultCode</name><value><int>1</int></value></member>" +
      "<member><name>faultString</name><value><string>Unknown private key</string></value></member>" +
      "</struct></value></fault></methodResponse>\n",
  );
  const xml = encodeFault(403, "");
  assert.equal(xml.match(/<member>/g)?.length, 2);
  assert.ok(xml.includes("<value><string></string></value>"));
});

Deno.test("encodeFault round trips through decodeResponse, escaping the message", () => {
  for (
    const [code, message] of [
      [1, "org.astrogrid.samp.client.SampException: Unknown private key"],
      [5, 'Private-key <k:1> "expired" & invalid\r\n\tsecond line'],
      [-1, ""],
      [0, "zero"],
      [2147483647, "max"],
      [-2147483648, "min"],
      [7, "Ångström ✓ 🌌"],
    ] as const
  ) {
    assert.deepEqual(decodeResponse(encodeFault(code, message)), { ok: false, code, message });
  }
});

Deno.test("encodeFault refuses codes that are not 32-bit integers", () => {
  for (const code of [1.5, NaN, Infinity, 2147483648, -2147483649]) {
    assert.throws(() => encodeFault(code, "x"), RangeError);
  }
  assert.ok(encodeFault(-0, "x").includes("<int>0</int>"));
});

// ---------------------------------------------------------------------------
// The SAX wrapper

Deno.test("parseXml reports elements and text, with CDATA as text", () => {
  const events: string[] = [];
  parseXml("<?xml version='1.0'?><a>x<b/><![CDATA[<y>]]>&amp;</a>", {
    onOpen: (n) => events.push(`+${n}`),
    onClose: (n) => events.push(`-${n}`),
    onText: (t) => events.push(`"${t}"`),
  });
  assert.deepEqual(events.filter((e) => e !== '""'), [
    "+a",
    '"x"',
    "+b",
    "-b",
    '"<y>"',
    '"&"',
    "-a",
  ]);
});

Deno.test("parseXml refuses a DOCTYPE with a plain Error and passes handler errors through", () => {
  const noop = { onOpen() {}, onClose() {}, onText() {} };
  assert.throws(
    () => parseXml("<!DOCTYPE a><a/>", noop),
    (e: unknown) =>
      e instanceof Error && e.constructor === Error &&
      /^XML parse error at line 1, column \d+: DOCTYPE/.test(e.message),
  );
  class Marker extends Error {}
  assert.throws(
    () =>
      parseXml("<a/>", {
        ...noop,
        onOpen() {
          throw new Marker("stop");
        },
      }),
    Marker,
  );
});

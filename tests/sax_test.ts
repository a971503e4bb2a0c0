// The XML reader's two paths: the plain-subset scanner must report exactly
// the events saxes reports, must read what real SAMP peers write, and must
// hand everything else (every malformed document included) to saxes, so that
// what is accepted and how errors are worded never depend on the path.

import assert from "node:assert/strict";
import { fc } from "./_fuzz.ts";
import { recordXml as record } from "./_helpers.ts";
import { parseXml, parseXmlWithSaxes, scanPlainXml } from "../lib/_sax.ts";
import { encodeCall, encodeResponse } from "../lib/xmlrpc.ts";

/** Asserts both paths agree on `text`, and returns whether the scanner read it. */
function agree(text: string): boolean {
  const reference = record(parseXmlWithSaxes, text);
  assert.deepEqual(record(parseXml, text), reference, `paths differ on ${JSON.stringify(text)}`);
  const scanned = scanPlainXml(text) !== null;
  if (scanned) {
    assert.ok(
      !reference.some((e) => e.startsWith("error: ")),
      `scanner accepted what saxes refuses: ${JSON.stringify(text)}`,
    );
  }
  return scanned;
}

const message = {
  "samp.mtype": "table.load.votable",
  "samp.params": { "url": "file:///tmp/a b.vot", "name": "M31 <&> \"cat\" 'x' é ≤" },
};

Deno.test("plain scanner reads the calls and responses SAMP peers write, with saxes's events", () => {
  const documents = [
    // ours
    encodeCall("samp.hub.notify", ["k:1", "c2", message]),
    encodeResponse({ "samp.status": "samp.ok", "samp.result": {} }),
    encodeResponse(""),
    // JSAMP: declaration, newlines and indentation, bare <value> strings
    `<?xml version='1.0' encoding='UTF-8'?>\n<methodCall>\n  <methodName>samp.hub.register</methodName>\n` +
    `  <params>\n    <param><value>0123456789abcdef</value></param>\n  </params>\n</methodCall>\n`,
    // astropy (Python's xmlrpc.client)
    `<?xml version='1.0'?>\n<methodCall>\n<methodName>samp.hub.reply</methodName>\n<params>\n` +
    `<param>\n<value><string>k</string></value>\n</param>\n<param>\n<value><struct>\n<member>\n` +
    `<name>samp.status</name>\n<value><string>samp.ok</string></value>\n</member>\n</struct></value>\n` +
    `</param>\n</params>\n</methodCall>\n`,
    // sampjs and other hand-written ones: no declaration, spaces in tags, references
    `<methodCall ><methodName>x</methodName ><params><param><value>&#65;&#x42;&quot;&apos;&lt;&gt;` +
    `&amp;</value></param><param><value><string/></value></param></params></methodCall>`,
    `  <methodResponse><params><param><value><i4>-3</i4></value></param></params></methodResponse>`,
  ];
  for (const d of documents) assert.ok(agree(d), `not read by the scanner: ${d.slice(0, 80)}`);
  assert.deepEqual(scanPlainXml("<a>x &amp; y</a>"), [0, "a", 2, "x & y", 1, "a"]);
});

Deno.test("plain scanner hands every other construct, and every malformed document, to saxes", () => {
  const others = [
    "<a><!-- c --></a>", // comment
    "<a><![CDATA[x]]></a>", // CDATA
    "<a><?pi x?></a>", // processing instruction
    "<!DOCTYPE a><a/>", // DOCTYPE
    '<a b="1"/>', // attribute
    "<a>x\r\ny</a>", // CR line ends
    "\uFEFF<a/>", // byte order mark
    "<a>\u0001</a>", // control character
    "<a>\u007f</a>", // DEL: allowed by XML 1.0, rare: saxes
    "<a>]]></a>", // not allowed in text
    "<a>&nbsp;</a>", // undefined entity
    "<a>&amp</a>", // unterminated reference
    "<a>&#1;</a>", // reference to a non-character
    "<a>&#xD800;</a>", // reference to a surrogate
    "<a>&#x110000;</a>", // beyond Unicode
    "<a>&#00000000065;</a>", // long but valid: saxes
    "<?xml version='1.1'?><a/>", // another version
    "<?xml version='1.0' standalone='yes'?><a/>", // standalone
    "<?xml version='1.0'?><?xml version='1.0'?><a/>", // two declarations
    " <?xml version='1.0'?><a/>", // declaration not first
    "<é/>", // non-ASCII name
    "<x:a/>", // prefixed name
    "<1a/>", // bad name start
    "<a/><b/>", // two roots
    "<a/>x", // text after the root
    "x<a/>", // text before the root
    "<a>", // unclosed
    "<a></b>", // mismatched
    "</a>", // end tag first
    "<a></a/>", // end tag that is also empty
    "<a", // cut off
    "", // empty
    "   ", // only spaces
    "<a>\uD800</a>", // lone surrogate
    "<a>\uFFFE</a>", // non-character
    "<a>😀</a>", // astral: fine for XML, saxes reads it
    `<a>${"x".repeat(1 << 20)}</a>`, // over 1 Mi characters: saxes streams it
    "<a>".repeat(129) + "</a>".repeat(129), // over 128 deep: saxes stops at the decoder's limit
  ];
  // Just within the bounds, the scanner reads them.
  assert.ok(scanPlainXml(`<a>${"x".repeat((1 << 20) - 7)}</a>`) !== null);
  assert.ok(scanPlainXml("<a>".repeat(128) + "</a>".repeat(128)) !== null);
  for (const d of others) {
    assert.equal(scanPlainXml(d), null, `scanner should decline ${JSON.stringify(d.slice(0, 80))}`);
    agree(d);
  }
  // Errors keep saxes's words and position, whichever path was tried first.
  assert.deepEqual(record(parseXml, "<a>&#1;</a>"), [
    "+a",
    "error: XML parse error at line 1, column 7: malformed character entity.",
  ]);
});

Deno.test("plain scanner and saxes agree on 20,000 random documents, whole and damaged", () => {
  const awkward = [
    "<a>",
    "</a>",
    "<b/>",
    "<a ",
    ">",
    "/>",
    "</",
    "&",
    ";",
    "&bogus;",
    "&#0;",
    "&#1;",
    "&#x1F600;",
    "]]>",
    "]]",
    "<!-- c -->",
    "<![CDATA[z]]>",
    "<?pi?>",
    "<?xml version='1.0'?>",
    "<!DOCTYPE a>",
    "\r",
    "\r\n",
    "\u0001",
    "\u007f",
    "\uFEFF",
    "\uD800",
    "😀",
    'c="1"',
    "<:a>",
    "=",
    "'",
    '"',
  ];
  const text = fc.array(
    fc.constantFrom(
      "x",
      " ",
      "\n",
      "\t",
      "é",
      "≤",
      "&amp;",
      "&lt;",
      "&gt;",
      "&quot;",
      "&apos;",
      "&#65;",
      "&#x3C;",
      "&#13;",
      ">",
      "'",
    ),
    { maxLength: 4 },
  ).map((t) => t.join(""));
  const name = fc.constantFrom("a", "value", "b.c-d_e", "_x", "methodCall");
  const { node } = fc.letrec<{ node: string }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.tuple(name, fc.constantFrom("", " ", "\n  ")).map(([n, sp]) => `<${n}${sp}/>`),
      fc.tuple(
        name,
        fc.array(fc.oneof(text, tie("node")), { maxLength: 4 }),
        fc.constantFrom("", " "),
      )
        .map(([n, kids, sp]) => `<${n}>${kids.join("")}</${n}${sp}>`),
    ),
  }));
  const prolog = fc.constantFrom(
    "",
    "  ",
    "<?xml version='1.0'?>",
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    "<?xml version = '1.0' encoding='utf-8' ?>",
  );
  const document = fc.tuple(prolog, node, fc.constantFrom("", "\n", " \n "));
  const damage = fc.option(fc.tuple(fc.nat(), fc.constantFrom(...awkward), fc.nat(3)), { freq: 2 });
  let scanned = 0;
  let declined = 0;
  fc.assert(
    fc.property(document, damage, ([head, root, tail], hurt) => {
      let d = head + root + tail;
      if (hurt !== null) {
        const [at, piece, cut] = hurt;
        const i = at % (d.length + 1);
        d = d.slice(0, i) + piece + d.slice(i + cut);
      }
      if (agree(d)) scanned++;
      else declined++;
    }),
    { numRuns: 20_000 },
  );
  // The property must exercise both paths.
  assert.ok(scanned > 5_000 && declined > 2_000, `scanner read ${scanned}, declined ${declined}`);
});

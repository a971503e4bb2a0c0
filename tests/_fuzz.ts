// Generators and mutators for fuzzing the hub's XML-RPC endpoints. This is the
// only module that imports fast-check: tests take `fc` and the arbitraries
// from here.
//
// A case is a SAMP-shaped call (samp.hub.* or samp.webhub.*), an encoding
// style (a seed for the choices real peers make: typed or bare values, CDATA,
// character references, whitespace, declarations) and a list of mutations.
// Calls name the hub's secret, the test's clients and its callback URL by
// tokens (TOKENS), replaced at run time, so generated cases stay valid when the
// test re-registers a client that a case unregistered.
//
// Mutations are of two kinds. "Well-formed" ones keep the document XML and its
// root <methodCall> (deep nesting, huge or many attributes, non-string and
// non-SAMP scalars), so the hub must answer them with HTTP 200 and a
// methodResponse, like unmutated calls. "Breaking" ones work on the bytes
// (flips, truncation, deletion, repetition, insertion of tags, entities,
// CDATA, comments, PIs, DOCTYPEs, control characters and invalid UTF-8), after
// which the hub may also answer with a 4xx.

import fc from "npm:fast-check@4.10.2";
import type { SampMap, SampValue } from "../lib/types.ts";

export { fc };

/** Placeholders the test replaces with live values before sending a case. */
export const TOKENS = {
  secret: "@@SECRET@@",
  stdKey: "@@STDKEY@@",
  webKey: "@@WEBKEY@@",
  stdId: "@@STDID@@",
  webId: "@@WEBID@@",
  callback: "@@CALLBACK@@",
} as const;

/** The live values of {@linkcode TOKENS}. */
export type TokenValues = Record<keyof typeof TOKENS, string>;

/** Which endpoint a case is for. */
export type Profile = "standard" | "web";

/** A method call before encoding. */
export interface FuzzCall {
  method: string;
  params: SampValue[];
}

/** One mutation of the encoded document. */
export type Mutation =
  // well-formed: the document stays XML with a <methodCall> root
  | { kind: "nest"; depth: number; container: "array" | "struct" }
  | { kind: "attr"; size: number; many: boolean }
  | { kind: "scalar"; nth: number; text: string }
  // breaking: anything goes
  | { kind: "flip"; at: number; mask: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "repeat"; at: number; length: number; times: number }
  | { kind: "bytes"; at: number; bytes: number[] };

/** One fuzz case. */
export interface FuzzCase {
  profile: Profile;
  call: FuzzCall;
  /** Seed of the encoding choices. */
  style: number;
  /** Pretty-print with whitespace between elements. */
  pretty: boolean;
  mutations: Mutation[];
}

const WELL_FORMED = new Set(["nest", "attr", "scalar"]);

/** Whether the hub must answer `c` with HTTP 200 and a methodResponse (no byte-level damage). */
export function mustBeXmlRpc(c: FuzzCase): boolean {
  return c.mutations.every((m) => WELL_FORMED.has(m.kind));
}

// ---- values ------------------------------------------------------------------

// deno-lint-ignore no-control-regex
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|\p{Cs}/gu;

/** Replaces characters XML 1.0 cannot carry, so that unmutated cases are valid. */
function xmlSafe(s: string): string {
  return s.replace(NOT_XML, "?");
}

const SPECIAL = [
  "<",
  ">",
  "&",
  '"',
  "'",
  "]]>",
  "\r",
  "\n",
  "\r\n",
  "\t",
  " ",
  "Å",
  "✓",
  "🌌",
  "\u00a0",
  "\u2028",
  "\ufeff",
  "&amp;",
  "<value>",
  "samp.",
  "*",
  ".",
  "%00",
  "__proto__",
  "constructor",
  "file:///etc/passwd",
  "http://127.0.0.1:1/",
];

/** Strings as SAMP peers send them, and odd ones. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 24 }).map(xmlSafe) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }).map(xmlSafe) },
  {
    weight: 2,
    arbitrary: fc.array(fc.constantFrom(...SPECIAL), { maxLength: 5 }).map((a) => a.join("")),
  },
  { weight: 1, arbitrary: fc.constantFrom(...Object.values(TOKENS)) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

/** Any SAMP value: strings, lists and maps, a few levels deep. */
export const sampValue: fc.Arbitrary<SampValue> = fc.letrec<{ value: SampValue }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthIdentifier: "samp-value" },
    { weight: 5, arbitrary: text },
    { weight: 1, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(text, tie("value"), { maxKeys: 4 }) },
  ),
})).value;

const stringMap: fc.Arbitrary<SampMap> = fc.dictionary(text, sampValue, { maxKeys: 4 });

/** MTypes: real ones, well-formed made-up ones, and junk. */
export const mtype: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "samp.app.ping",
      "samp.app.status",
      "test.echo",
      "table.load.votable",
      "image.load.fits",
      "coord.pointAt.sky",
      "script.aladin.send",
      "samp.hub.event.shutdown",
      "samp.query.by-meta",
      "x-samp.query.by-meta",
    ),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9_-]{1,6}(\.[a-z0-9_-]{1,6}){0,3}$/) },
  { weight: 1, arbitrary: text },
);

const pattern = fc.oneof(
  fc.constantFrom("*", "test.*", "samp.app.*", "samp.hub.event.*", "table.*"),
  mtype,
);

const annotation: fc.Arbitrary<SampValue> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<SampMap>(
      { "x-samp.mostly-harmless": "1" },
      { "x-samp.mostly-harmless": "0" },
      { "samp.mostly-harmless": "1" },
    ),
  },
  { weight: 1, arbitrary: sampValue },
);

const subscriptions: fc.Arbitrary<SampValue> = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(pattern, annotation, { maxKeys: 5 }) },
  { weight: 1, arbitrary: sampValue },
);

const metadata: fc.Arbitrary<SampValue> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.dictionary(
      fc.oneof(
        fc.constantFrom("samp.name", "samp.description.text", "samp.icon.url", "author.name"),
        text,
      ),
      sampValue,
      { maxKeys: 5 },
    ),
  },
  { weight: 1, arbitrary: sampValue },
);

/** Messages: mostly well-formed, some with junk where the map should be. */
export const message: fc.Arbitrary<SampValue> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      { "samp.mtype": mtype, "samp.params": stringMap, "x-extra": text },
      { requiredKeys: ["samp.mtype"] },
    ),
  },
  { weight: 1, arbitrary: sampValue },
);

const response: fc.Arbitrary<SampValue> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        "samp.status": fc.oneof(
          fc.constantFrom("samp.ok", "samp.error", "samp.warning"),
          text,
        ),
        "samp.result": stringMap,
        "samp.error": fc.record({ "samp.errortxt": text }),
      },
      { requiredKeys: ["samp.status"] },
    ),
  },
  { weight: 1, arbitrary: sampValue },
);

// Small waits only: a case that makes the hub wait (callAndWait, pullCallbacks)
// must still finish within the test's per-request bound.
const timeout = fc.constantFrom("0", "1", "1", "2", " 1 ", "+1", "1.5", "-1", "x", "", "2.0");

const keyFor = (own: string, other: string, ownWeight = 8) =>
  fc.oneof(
    { weight: ownWeight, arbitrary: fc.constant(own) },
    { weight: 1, arbitrary: fc.constant(other) },
    { weight: 1, arbitrary: fc.constantFrom("k:" + "0".repeat(32), "wk:" + "f".repeat(32), "") },
    { weight: 1, arbitrary: text },
  );

const recipient = fc.oneof(
  { weight: 2, arbitrary: fc.constant("hub") },
  { weight: 3, arbitrary: fc.constant(TOKENS.stdId) },
  { weight: 3, arbitrary: fc.constant(TOKENS.webId) },
  { weight: 1, arbitrary: fc.nat(60).map((n) => `c${n}`) },
  { weight: 1, arbitrary: text },
);

const msgId = fc.oneof(
  fc.nat(200).map((n) => `a${n}_${TOKENS.stdId}`),
  fc.nat(200).map((n) => `s${n}_${TOKENS.webId}`),
  text,
);

const tag = fc.oneof(fc.constantFrom("t", "tag-1", ""), text);

const callbackUrl = fc.oneof(
  { weight: 6, arbitrary: fc.constant(TOKENS.callback) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "http://127.0.0.1:1/",
      "http://[::1]:1/xmlrpc",
      "ftp://127.0.0.1/",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "http://",
    ),
  },
  { weight: 1, arbitrary: text },
);

type ParamsArb = fc.Arbitrary<SampValue[]>;
const tuple = (...arbs: fc.Arbitrary<SampValue>[]): ParamsArb => fc.tuple(...arbs);

/** The calls both profiles share, keyed by method name without the prefix. */
function sharedMethods(key: fc.Arbitrary<string>, rareKey: fc.Arbitrary<string>) {
  return {
    ping: fc.oneof(tuple(), tuple(key)),
    unregister: tuple(rareKey),
    declareMetadata: tuple(key, metadata),
    getMetadata: tuple(key, recipient),
    declareSubscriptions: tuple(key, subscriptions),
    getSubscriptions: tuple(key, recipient),
    getRegisteredClients: tuple(key),
    getSubscribedClients: tuple(key, mtype),
    notify: tuple(key, recipient, message),
    notifyAll: tuple(key, message),
    call: tuple(key, recipient, tag, message),
    callAll: tuple(key, tag, message),
    callAndWait: tuple(key, recipient, message, timeout),
    reply: tuple(key, msgId, response),
  } as Record<string, ParamsArb>;
}

const STANDARD_METHODS: Record<string, ParamsArb> = {
  ...sharedMethods(
    keyFor(TOKENS.stdKey, TOKENS.webKey),
    keyFor(TOKENS.stdKey, TOKENS.webKey, 1),
  ),
  register: tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(TOKENS.secret) },
      { weight: 1, arbitrary: text },
      { weight: 1, arbitrary: sampValue },
    ),
  ),
  setXmlrpcCallback: tuple(keyFor(TOKENS.stdKey, TOKENS.webKey), callbackUrl),
};

const WEB_METHODS: Record<string, ParamsArb> = {
  ...sharedMethods(
    keyFor(TOKENS.webKey, TOKENS.stdKey),
    keyFor(TOKENS.webKey, TOKENS.stdKey, 1),
  ),
  register: tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ "samp.name": text }) },
      { weight: 1, arbitrary: text },
      { weight: 1, arbitrary: sampValue },
    ),
  ),
  allowReverseCallbacks: tuple(
    keyFor(TOKENS.webKey, TOKENS.stdKey),
    fc.oneof({ weight: 4, arbitrary: fc.constant("1") }, { weight: 1, arbitrary: text }),
  ),
  pullCallbacks: tuple(keyFor(TOKENS.webKey, TOKENS.stdKey), timeout),
};

const ALL_METHOD_NAMES = [
  ...Object.keys(STANDARD_METHODS).map((m) => `samp.hub.${m}`),
  ...Object.keys(WEB_METHODS).map((m) => `samp.webhub.${m}`),
  "samp.client.receiveCall",
  "samp.hub.",
  "system.listMethods",
  " samp.hub.ping ",
  // Names that are properties of every object: a method table must not find them.
  "constructor",
  "__proto__",
  "samp.hub.toString",
  "samp.webhub.__proto__",
  "samp.webhub.hasOwnProperty",
];

function profileCall(prefix: string, methods: Record<string, ParamsArb>): fc.Arbitrary<FuzzCall> {
  return fc.oneof(
    ...Object.entries(methods).map(([name, params]) =>
      params.map((p): FuzzCall => ({ method: `${prefix}${name}`, params: p }))
    ),
  );
}

/** A call with a random method name and random arguments ("random methods and arity"). */
const wildCall: fc.Arbitrary<FuzzCall> = fc.record({
  method: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ALL_METHOD_NAMES) },
    { weight: 1, arbitrary: text.filter((s) => s.trim() !== "") },
  ),
  params: fc.array(
    fc.oneof(
      keyFor(TOKENS.stdKey, TOKENS.webKey, 2),
      recipient,
      message,
      sampValue,
    ),
    { maxLength: 6 },
  ),
});

/** SAMP calls for one endpoint: mostly its own methods, some wild ones. */
export function fuzzCall(profile: Profile): fc.Arbitrary<FuzzCall> {
  const own = profile === "standard"
    ? profileCall("samp.hub.", STANDARD_METHODS)
    : profileCall("samp.webhub.", WEB_METHODS);
  return fc.oneof({ weight: 5, arbitrary: own }, { weight: 1, arbitrary: wildCall });
}

// ---- mutations ---------------------------------------------------------------

const SCALARS = [
  "<nil/>",
  "<base64>AAAA</base64>",
  "<dateTime.iso8601>20240101T00:00:00</dateTime.iso8601>",
  "<int>12x</int>",
  "<int>99999999999999999999999</int>",
  "<i4>-0</i4>",
  "<i8>+007</i8>",
  "<boolean>2</boolean>",
  "<boolean>true</boolean>",
  "<double>NaN</double>",
  "<double>1e400</double>",
  "<double>-.5e-3</double>",
  "<struct/>",
  "<array/>",
  "<array><data/></array>",
  "<foo/>",
  "<string>x</string>",
  "<string><string/></string>",
  "<struct><member><name>a</name></member></struct>",
  "<struct><member><value>v</value></member></struct>",
];

const SNIPPETS = [
  "<value>",
  "</value>",
  "<struct>",
  "<member><name>k</name><value>v</value></member>",
  "<param><value>x</value></param>",
  "<methodCall>",
  "</methodCall>",
  "<x>",
  "</x>",
  "<a/>",
  "<nil/>",
  "&amp;",
  "&lt;",
  "&#x41;",
  "&#65;",
  "&#0;",
  "&#xD800;",
  "&#x110000;",
  "&#xFFFE;",
  "&undefined;",
  "&lol;",
  "&",
  "<",
  ">",
  "<![CDATA[cdata]]>",
  "<![CDATA[",
  "]]>",
  "<!-- comment -->",
  "<!--",
  "-->",
  "<!-- a -- b -->",
  "<?pi data?>",
  '<?xml version="1.0"?>',
  "<?xml-stylesheet href='x'?>",
  '<!DOCTYPE x [<!ENTITY e "e">]>',
  '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
  '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
  "\u0000",
  "\u0001",
  "\u001b[2J",
  "\ufffe",
  "\r",
  " ",
  '"',
  "'",
  "=",
];

const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc3], // truncated 2-byte sequence
  [0xe2, 0x82], // truncated 3-byte sequence
  [0xc0, 0xaf], // overlong '/'
  [0xe0, 0x80, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
];

const pos = fc.nat();

const wellFormedMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("nest" as const),
    depth: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(10, 63, 64, 65, 100) },
      { weight: 1, arbitrary: fc.constantFrom(1000, 10_000) },
    ),
    container: fc.constantFrom("array" as const, "struct" as const),
  }),
  fc.record({
    kind: fc.constant("attr" as const),
    size: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(1, 100, 4096) },
      { weight: 1, arbitrary: fc.constantFrom(65_536, 262_144) },
    ),
    many: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("scalar" as const), nth: pos, text: fc.constantFrom(...SCALARS) }),
);

const breakingMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: pos,
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: pos }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: pos,
    text: fc.oneof(fc.constantFrom(...SNIPPETS), text),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: pos,
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({
    kind: fc.constant("repeat" as const),
    at: pos,
    length: fc.integer({ min: 1, max: 64 }),
    times: fc.integer({ min: 2, max: 50 }),
  }),
  fc.record({
    kind: fc.constant("bytes" as const),
    at: pos,
    bytes: fc.constantFrom(...INVALID_UTF8),
  }),
);

/** Mutations: none for almost half of the cases, else one to three. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Mutation[]>([]) },
  { weight: 2, arbitrary: fc.array(wellFormedMutation, { minLength: 1, maxLength: 2 }) },
  {
    weight: 4,
    arbitrary: fc.array(fc.oneof(wellFormedMutation, breakingMutation), {
      minLength: 1,
      maxLength: 3,
    }),
  },
);

/** A complete case for one endpoint, or for either. */
export function fuzzCase(profile?: Profile): fc.Arbitrary<FuzzCase> {
  const p = profile ? fc.constant(profile) : fc.constantFrom<Profile>("standard", "web");
  return p.chain((profile) =>
    fc.record({
      profile: fc.constant(profile),
      call: fuzzCall(profile),
      style: fc.integer(),
      pretty: fc.boolean(),
      mutations,
    })
  );
}

// ---- encoding ----------------------------------------------------------------

/** A small seeded PRNG (mulberry32) for the encoding choices. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296 * n) | 0;
  };
}

function escape(s: string): string {
  return s.replace(
    /[&<>\r]/g,
    (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&#13;",
  );
}

function charRefs(s: string): string {
  let out = "";
  for (const ch of s) out += `&#x${ch.codePointAt(0)!.toString(16)};`;
  return out;
}

/**
 * Encodes a call as XML-RPC the way different peers do: typed or bare string
 * values, CDATA, character references, `<int>`/`<boolean>` for values that
 * mean the same, self-closing empty elements, member order, whitespace and
 * XML declarations. Every choice decodes to the same SAMP call.
 */
export function encodeStyled(call: FuzzCall, seed: number, pretty: boolean): string {
  const pick = prng(seed);
  const ws = () => pretty ? ["", "\n", "  ", "\r\n", "\t", "\n    "][pick(6)] : "";
  const value = (v: SampValue): string => {
    if (typeof v === "string") {
      if (v === "" && pick(3) === 0) {
        return ["<value/>", "<value></value>", "<value><string/></value>"][pick(3)];
      }
      switch (pick(8)) {
        case 0:
        case 1:
          return `<value>${escape(v)}</value>`;
        case 2:
          if (!v.includes("]]>") && !v.includes("\r")) {
            return `<value><string><![CDATA[${v}]]></string></value>`;
          }
          break;
        case 3:
          return `<value><string>${charRefs(v)}</string></value>`;
        case 4:
          if (/^-?[1-9][0-9]{0,8}$|^0$/.test(v)) {
            const type = ["int", "i4", "i8"][pick(3)];
            return `<value><${type}>${ws()}${v}${ws()}</${type}></value>`;
          }
          if (v === "1" || v === "0") return `<value><boolean>${v}</boolean></value>`;
          break;
      }
      return `<value><string>${escape(v)}</string></value>`;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) {
        return `<value><array>${["<data/>", "<data></data>"][pick(2)]}</array></value>`;
      }
      return `<value>${ws()}<array>${ws()}<data>${
        v.map((x) => ws() + value(x)).join("")
      }${ws()}</data>${ws()}</array>${ws()}</value>`;
    }
    const keys = Object.keys(v);
    if (keys.length === 0) return `<value>${["<struct/>", "<struct></struct>"][pick(2)]}</value>`;
    const members = keys.map((k) => {
      const name = `<name>${escape(k)}</name>`;
      const val = value(v[k]);
      return `${ws()}<member>${ws()}${
        pick(4) === 0 ? val + ws() + name : name + ws() + val
      }${ws()}</member>`;
    });
    return `<value>${ws()}<struct>${members.join("")}${ws()}</struct>${ws()}</value>`;
  };
  const decl = [
    '<?xml version="1.0"?>',
    '<?xml version="1.0" encoding="UTF-8"?>',
    "<?xml version='1.0' encoding='utf-8'?>",
    "",
    "\ufeff",
    '<?xml version="1.1"?>',
  ][pick(6)];
  const params = call.params.length === 0
    ? ["", "<params/>", "<params></params>"][pick(3)]
    : `<params>${
      call.params.map((p) => `${ws()}<param>${ws()}${value(p)}${ws()}</param>`).join("")
    }${ws()}</params>`;
  return `${decl}${ws()}<methodCall>${ws()}<methodName>${
    escape(call.method)
  }</methodName>${ws()}${params}${ws()}</methodCall>${ws()}`;
}

// ---- rendering ---------------------------------------------------------------

const encoder = new TextEncoder();
const MAX_BYTES = 4 * 1024 * 1024;

function nested(depth: number, container: "array" | "struct"): string {
  const [open, close] = container === "array"
    ? ["<value><array><data>", "</data></array></value>"]
    : ["<value><struct><member><name>k</name>", "</member></struct></value>"];
  return `<param>${open.repeat(depth)}<value>x</value>${close.repeat(depth)}</param>`;
}

function applyWellFormed(xml: string, m: Mutation, index: number): string {
  switch (m.kind) {
    case "nest": {
      const param = nested(m.depth, m.container);
      if (xml.includes("<params>")) return xml.replace("<params>", `<params>${param}`);
      if (xml.includes("<params/>")) return xml.replace("<params/>", `<params>${param}</params>`);
      return xml.replace("</methodCall>", `<params>${param}</params></methodCall>`);
    }
    case "attr": {
      const attrs = m.many
        ? Array.from({ length: Math.min(m.size, 2000) }, (_, i) => ` a${index}_${i}="${i}"`)
          .join("")
        : ` a${index}="${"x&lt;".repeat(Math.ceil(m.size / 4))}"`;
      return xml.replace("<methodCall", `<methodCall${attrs}`);
    }
    case "scalar": {
      const starts: number[] = [];
      for (let i = xml.indexOf("<value>"); i >= 0; i = xml.indexOf("<value>", i + 1)) {
        starts.push(i);
      }
      if (starts.length === 0) return xml;
      const at = starts[m.nth % starts.length] + "<value>".length;
      return xml.slice(0, at) + m.text + xml.slice(at);
    }
    default:
      return xml;
  }
}

function applyBreaking(bytes: Uint8Array<ArrayBuffer>, m: Mutation): Uint8Array<ArrayBuffer> {
  const n = bytes.length;
  const at = (p: number) => n === 0 ? 0 : p % (n + 1);
  const splice = (start: number, remove: number, insert: Uint8Array): Uint8Array<ArrayBuffer> => {
    const out = new Uint8Array(n - remove + insert.length);
    out.set(bytes.subarray(0, start), 0);
    out.set(insert, start);
    out.set(bytes.subarray(start + remove), start + insert.length);
    return out;
  };
  switch (m.kind) {
    case "flip": {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[m.at % n] ^= m.mask;
      return out;
    }
    case "truncate":
      return bytes.slice(0, at(m.at));
    case "insert":
      return splice(at(m.at), 0, encoder.encode(m.text));
    case "bytes":
      return splice(at(m.at), 0, new Uint8Array(m.bytes));
    case "delete": {
      const start = at(m.at);
      return splice(start, Math.min(m.length, n - start), new Uint8Array());
    }
    case "repeat": {
      const start = at(m.at);
      const piece = bytes.subarray(start, Math.min(n, start + m.length));
      const copies = new Uint8Array(piece.length * (m.times - 1));
      for (let i = 0; i < m.times - 1; i++) copies.set(piece, i * piece.length);
      return splice(start, 0, copies);
    }
    default:
      return bytes;
  }
}

/** Replaces the tokens in a string by their live values. */
export function substitute(s: string, values: TokenValues): string {
  if (!s.includes("@@")) return s;
  let out = s;
  for (const [name, token] of Object.entries(TOKENS)) {
    out = out.replaceAll(token, values[name as keyof typeof TOKENS]);
  }
  return out;
}

/** Replaces the tokens in every string of a SAMP value, keys included. */
export function substituteValue(v: SampValue, values: TokenValues): SampValue {
  if (typeof v === "string") return substitute(v, values);
  if (Array.isArray(v)) return v.map((x) => substituteValue(x, values));
  const out: SampMap = {};
  for (const [k, x] of Object.entries(v)) {
    Object.defineProperty(out, substitute(k, values), {
      value: substituteValue(x, values),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The request body of a case: tokens replaced, encoded, then mutated in order. */
export function render(c: FuzzCase, values: TokenValues): Uint8Array<ArrayBuffer> {
  const call = {
    method: substitute(c.call.method, values),
    params: c.call.params.map((p) => substituteValue(p, values)),
  };
  let xml = encodeStyled(call, c.style, c.pretty);
  c.mutations.forEach((m, i) => {
    if (WELL_FORMED.has(m.kind)) xml = applyWellFormed(xml, m, i);
  });
  let bytes = encoder.encode(xml);
  for (const m of c.mutations) {
    if (!WELL_FORMED.has(m.kind) && bytes.length < MAX_BYTES) bytes = applyBreaking(bytes, m);
  }
  return bytes;
}

/** A short description of a case and its body, for failure messages. */
export function describeCase(c: FuzzCase, body: Uint8Array): string {
  const shown = new TextDecoder().decode(body.subarray(0, 600));
  return `${c.profile} ${JSON.stringify(c.call.method)} (${c.call.params.length} params), ` +
    `mutations ${JSON.stringify(c.mutations.map((m) => m.kind))}, ${body.length} bytes:\n` +
    `${shown}${body.length > 600 ? "…" : ""}`;
}

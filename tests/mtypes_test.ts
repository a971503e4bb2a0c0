import assert from "node:assert/strict";
import {
  type ExtraParams,
  fileUrl,
  type KnownMType,
  message,
  type ParamsArg,
  type ParamsOf,
  parseSampBool,
  parseSampFloat,
  parseSampInt,
  type ReceivedParams,
  type ResultOf,
  sampBool,
  sampFloat,
  sampInt,
  type StandardMTypes,
} from "../lib/client/mtypes.ts";
import type { Message, SampMap, SampValue } from "../lib/types.ts";
import type { IncomingMessage, SampClient } from "../lib/client/client.ts";

// ---------------------------------------------------------------------------
// Compile-time helpers: these fail `deno check` / `deno test`, not at run time.

/** True when A and B are the same type (not merely mutually assignable). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

/** Compiles only when T is `true`. */
function expectType<_T extends true>(): void {}

/** The MTypes whose params (or result) are NOT assignable to SampMap; must be never. */
type NotSampMap<K extends "params" | "result"> = {
  [M in KnownMType]: StandardMTypes[M][K] extends SampMap ? never : M;
}[KnownMType];

type IsNever<T> = [T] extends [never] ? true : false;

/** Every MType the table must hold: REFERENCE.md §5 plus the hub events of §2.4. */
const EXPECTED_MTYPES = [
  "samp.app.ping",
  "samp.app.status",
  "samp.app.event.shutdown",
  "samp.msg.progress",
  "samp.query.by-meta",
  "x-samp.query.by-meta",
  "client.env.get",
  "samp.hub.event.register",
  "samp.hub.event.unregister",
  "samp.hub.event.metadata",
  "samp.hub.event.subscriptions",
  "samp.hub.event.shutdown",
  "samp.hub.disconnect",
  "table.load.votable",
  "table.load.fits",
  "table.load.cdf",
  "table.load.stil",
  "table.highlight.row",
  "table.select.rowList",
  "image.load.fits",
  "coord.pointAt.sky",
  "spectrum.load.ssa-generic",
  "coverage.load.moc.fits",
  "bibcode.load",
  "voresource.loadlist",
  "voresource.loadlist.cone",
  "voresource.loadlist.siap",
  "voresource.loadlist.ssap",
  "voresource.loadlist.tap",
  "script.aladin.send",
  "ds9.set",
  "ds9.get",
] as const;

/** The SAMP float grammar of the standard (stricter than what we parse). */
const STRICT_FLOAT = /^[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** A validator for assert.throws: an error of `type` whose message matches every pattern. */
function errorLike(
  type: new (...args: never[]) => Error,
  ...patterns: RegExp[]
): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${err}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

// ---------------------------------------------------------------------------
// Types

Deno.test("every params and result type in the MType table is assignable to SampMap", () => {
  expectType<IsNever<NotSampMap<"params">>>();
  expectType<IsNever<NotSampMap<"result">>>();
  // And a direct assignment, as a client library would do it.
  const asMap = <M extends KnownMType>(
    p: StandardMTypes[M]["params"],
    r: ResultOf<M>,
  ): SampMap[] => [p, r];
  assert.equal(asMap<"ds9.get">({ cmd: "zoom" }, { value: "1" }).length, 2);
});

Deno.test("the MType table holds exactly the well-known MTypes of REFERENCE.md §5 and §2.4", () => {
  expectType<Equals<KnownMType, (typeof EXPECTED_MTYPES)[number]>>();
  assert.equal(new Set(EXPECTED_MTYPES).size, 32);
});

Deno.test("ParamsOf and ResultOf give SampMap for unknown or non-literal MTypes", () => {
  expectType<Equals<ParamsOf<"x-my.app.thing">, SampMap>>();
  expectType<Equals<ResultOf<"x-my.app.thing">, SampMap>>();
  expectType<Equals<ParamsOf<string>, SampMap>>();
  expectType<Equals<ResultOf<string>, SampMap>>();
  expectType<Equals<ParamsOf<"coord.pointAt.sky">, { ra: string; dec: string } & ExtraParams>>();
  expectType<Equals<ParamsOf<"samp.app.ping">, ExtraParams>>();
  expectType<Equals<ResultOf<"samp.query.by-meta">, { ids: string[] }>>();
  expectType<Equals<ResultOf<"client.env.get">, { value: string }>>();
  expectType<Equals<ResultOf<"table.load.votable">, Record<string, never>>>();
});

Deno.test("ParamsArg makes params optional exactly when no param is required", () => {
  expectType<Equals<ParamsArg<"samp.app.ping">, [params?: ExtraParams]>>();
  expectType<
    Equals<ParamsArg<"samp.hub.disconnect">, [params?: { reason?: string } & ExtraParams]>
  >();
  expectType<Equals<ParamsArg<"x.custom">, [params?: SampMap]>>();
  expectType<Equals<ParamsArg<"bibcode.load">, [params: { bibcode: string } & ExtraParams]>>();
});

Deno.test("message() type-checks params of known MTypes and rejects wrong ones at compile time", () => {
  // Numbers are refused by the types, and at run time for untyped callers.
  assert.throws(
    // @ts-expect-error ra must be a string (a SAMP float), not a number
    () => message("coord.pointAt.sky", { ra: 1, dec: "2" }),
    errorLike(TypeError, /params\.ra is the number 1/, /sampFloat/),
  );
  const wrong = (): Message[] => [
    // @ts-expect-error dec is required
    message("coord.pointAt.sky", { ra: "1" }),
    // @ts-expect-error an extra key still needs the defined ones
    message("coord.pointAt.sky", { ra: "1", radius: "3" }),
    // @ts-expect-error an extra key must be a SAMP value too
    message("coord.pointAt.sky", { ra: "1", dec: "2", radius: 3 }),
    // @ts-expect-error url is required, so params cannot be left out
    message("table.load.votable"),
    // @ts-expect-error table.highlight.row needs table-id or url
    message("table.highlight.row", { row: "3" }),
    // @ts-expect-error row-list is a list of strings, not a string
    message("table.select.rowList", { url: "file://localhost/t.vot", "row-list": "1" }),
    // @ts-expect-error table.load.stil requires format
    message("table.load.stil", { url: "file://localhost/t.csv" }),
    // @ts-expect-error samp.app.ping defines no params, but extras are SAMP values
    message("samp.app.ping", { extra: 1 }),
    // @ts-expect-error booleans must be encoded with sampBool
    message("x.custom", { flag: true }),
  ];
  assert.equal(typeof wrong, "function"); // never called: the lines above are compile-time tests
});

Deno.test("message() accepts any SampMap for an unknown MType and typed params for known ones", () => {
  const anyMap: SampMap = { a: ["b", { c: "d" }], "": "" };
  assert.deepEqual(message("x-my.app.thing", anyMap)["samp.params"], anyMap);
  const dynamic: string = "table.load.votable";
  assert.deepEqual(message(dynamic, { whatever: "goes" })["samp.params"], { whatever: "goes" });
  assert.deepEqual(message("x-my.app.thing")["samp.params"], {});
  const ok: Message[] = [
    message("table.highlight.row", { "table-id": "t1", row: sampInt(3) }),
    message("table.highlight.row", { url: "file://localhost/t.vot", row: "3" }),
    message("table.select.rowList", { "table-id": "t1", "row-list": ["0", "4"] }),
    message("spectrum.load.ssa-generic", {
      url: "http://x/s.fits",
      meta: { "Access.Format": "application/fits" },
    }),
    message("voresource.loadlist.tap", { ids: { "ivo://x/tap": {} } }),
    message("samp.hub.disconnect"),
  ];
  assert.equal(ok.length, 6);
});

Deno.test("typed MTypes take extension params, while defined keys stay typed and required", () => {
  // SAMP lets a sender add keys an MType does not define (radius, x-samp.*).
  const ok: Message[] = [
    message("coord.pointAt.sky", { ra: "1", dec: "2", radius: "3" }),
    message("coord.pointAt.sky", { ra: "1", dec: "2", "x-samp.frame": "icrs", tags: ["a"] }),
    message("table.load.votable", { url: "file://localhost/t.vot", "x-samp.rows": "10" }),
    message("table.highlight.row", { "table-id": "t1", row: "3", colour: "red" }),
    message("samp.app.ping", { "x-samp.note": "hello" }),
  ];
  assert.deepEqual(ok[0]["samp.params"], { ra: "1", dec: "2", radius: "3" });
  // A sender may leave an extra key undefined (message() drops it)...
  expectType<Equals<ParamsOf<"coord.pointAt.sky">["ra"], string>>();
  expectType<Equals<ParamsOf<"coord.pointAt.sky">["radius"], SampValue | undefined>>();
  // ...and a handler reads defined keys typed, others as SAMP values, all as a SampMap.
  expectType<Equals<ReceivedParams<"coord.pointAt.sky">["ra"], string>>();
  expectType<Equals<ReceivedParams<"coord.pointAt.sky">["radius"], SampValue>>();
  expectType<Equals<ReceivedParams<"x-my.app.thing">, SampMap>>();
  const received = (p: ReceivedParams<"table.load.votable">): SampMap => p;
  assert.equal(typeof received, "function");
  const onPoint = (
    m: IncomingMessage<"coord.pointAt.sky">,
  ): string[] => [m.params.ra, `${m.params.radius}`];
  assert.equal(typeof onPoint, "function");
  // The SampClient methods take the same params: these lines compile or fail `deno check`.
  const sends = (client: SampClient): Promise<unknown>[] => [
    client.notifyAll("coord.pointAt.sky", { ra: "1", dec: "2", radius: "3" }),
    client.notify("c2", "coord.pointAt.sky", { ra: "1", dec: "2", radius: "3" }),
    client.call("c2", "image.load.fits", { url: "file://localhost/m.fits", "x-samp.hdu": "1" }),
    client.callAll("table.load.votable", { url: "file://localhost/t.vot", extra: { a: "b" } }),
    client.callAndWait("c2", "samp.app.ping", { "x-samp.why": "test" }),
    client.request("c2", "coord.pointAt.sky", { ra: "1", dec: "2", radius: "3" }),
    // @ts-expect-error a defined key keeps its type: ra is a SAMP float string
    client.notifyAll("coord.pointAt.sky", { ra: 1, dec: "2", radius: "3" }),
    // @ts-expect-error a required key stays required, extras or not
    client.notifyAll("coord.pointAt.sky", { ra: "1", radius: "3" }),
    // @ts-expect-error an extra key must be a SAMP value (numbers go through sampFloat)
    client.notifyAll("coord.pointAt.sky", { ra: "1", dec: "2", radius: 3 }),
    // @ts-expect-error a required key stays required in a call too
    client.call("c2", "image.load.fits", { name: "m31" }),
    // @ts-expect-error booleans must be encoded with sampBool, in extras too
    client.notify("c2", "table.load.votable", { url: "u", "x-samp.big": true }),
  ];
  assert.equal(typeof sends, "function"); // never called: the lines above are compile-time tests
});

Deno.test("sampBool's result type is the literal '1' | '0'", () => {
  expectType<Equals<ReturnType<typeof sampBool>, "1" | "0">>();
  assert.equal(sampBool(true), "1");
  assert.equal(sampBool(false), "0");
});

// ---------------------------------------------------------------------------
// message() at run time

Deno.test("message() builds samp.mtype and samp.params, defaulting params to {}", () => {
  assert.deepEqual(message("coord.pointAt.sky", { ra: "83.6", dec: "22.0" }), {
    "samp.mtype": "coord.pointAt.sky",
    "samp.params": { ra: "83.6", dec: "22.0" },
  });
  assert.deepEqual(message("samp.app.ping"), { "samp.mtype": "samp.app.ping", "samp.params": {} });
});

Deno.test("message() drops top-level undefined params and copies the params map", () => {
  const name: string | undefined = undefined;
  const params = { url: "file://localhost/t.vot", name };
  const msg = message("table.load.votable", params);
  assert.deepEqual(msg["samp.params"], { url: "file://localhost/t.vot" });
  assert.ok(!("name" in msg["samp.params"]));
  assert.notEqual(msg["samp.params"], params);
});

Deno.test("message() rejects MType patterns and malformed MTypes", () => {
  for (const bad of ["table.*", "*", "", "a..b", "a b", ".a"]) {
    assert.throws(() => message(bad), errorLike(TypeError, /Not a valid MType/), bad);
  }
});

Deno.test("message() names the first non-SAMP value and says how to encode it", () => {
  const untyped = message as (mtype: string, params?: unknown) => Message;
  assert.throws(
    () => untyped("x.y", { "row-list": ["1", 2] }),
    errorLike(TypeError, /params\["row-list"\]\[1\] is the number 2/, /sampInt\(\) or sampFloat/),
  );
  assert.throws(
    () => untyped("x.y", { opts: { verbose: false } }),
    errorLike(TypeError, /params\.opts\.verbose is the boolean false/, /sampBool/),
  );
  assert.throws(
    () => untyped("x.y", { a: null }),
    errorLike(TypeError, /params\.a is null/, /leave the key out/),
  );
  assert.throws(
    () => untyped("x.y", { a: ["x", undefined] }),
    errorLike(TypeError, /params\.a\[1\] is undefined/),
  );
  assert.throws(
    () => untyped("x.y", { when: new Date(0) }),
    errorLike(TypeError, /params\.when is a Date object/),
  );
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => untyped("x.y", { c: cyclic }), errorLike(TypeError, /cycle/));
  assert.throws(() => untyped("x.y", ["a"]), errorLike(TypeError, /must be a map/));
  // A shared (non-cyclic) sub-map is fine.
  const shared = { k: "v" };
  assert.doesNotThrow(() => untyped("x.y", { a: shared, b: [shared, shared] }));
});

// ---------------------------------------------------------------------------
// Encoders and parsers

Deno.test("sampInt encodes safe integers as sign and digits", () => {
  assert.equal(sampInt(0), "0");
  assert.equal(sampInt(-0), "0");
  assert.equal(sampInt(17), "17");
  assert.equal(sampInt(-42), "-42");
  assert.equal(sampInt(Number.MAX_SAFE_INTEGER), "9007199254740991");
  assert.equal(sampInt(-Number.MAX_SAFE_INTEGER), "-9007199254740991");
  assert.equal(sampInt(1e20 / 1e5), "1000000000000000");
});

Deno.test("sampInt rejects NaN, Infinity, fractions and unsafe integers with RangeError", () => {
  for (const bad of [NaN, Infinity, -Infinity, 1.5, -0.1, Number.EPSILON]) {
    assert.throws(() => sampInt(bad), errorLike(RangeError, /needs an integer/), String(bad));
  }
  for (const bad of [2 ** 53, -(2 ** 53), 1e21]) {
    assert.throws(() => sampInt(bad), errorLike(RangeError, /safe integer/), String(bad));
  }
  assert.throws(() => sampInt("3" as unknown as number), errorLike(RangeError, /got "3"/));
});

Deno.test("sampFloat output parses back to exactly the same number, -0 included", () => {
  const values = [
    0.1,
    1e-300,
    -0,
    0,
    83.63308333,
    22.0145,
    -3e-7,
    5e-324,
    Number.MAX_VALUE,
    -Number.MIN_VALUE,
    1e21,
    123456789.123456789,
    0.1 + 0.2,
    1 / 3,
    2 ** 53 + 2,
  ];
  for (const x of values) {
    const s = sampFloat(x);
    assert.match(s, STRICT_FLOAT, `${x} -> ${s}`);
    assert.ok(Object.is(Number(s), x), `Number(${s}) !== ${x}`);
    assert.ok(Object.is(parseSampFloat(s), x), `parseSampFloat(${s}) !== ${x}`);
  }
  assert.equal(sampFloat(0.1), "0.1");
  assert.equal(sampFloat(1e-300), "1e-300");
  assert.equal(sampFloat(-0), "-0");
  assert.equal(sampFloat(83.63308333), "83.63308333");
});

Deno.test("sampFloat round-trips random doubles of every magnitude", () => {
  const view = new DataView(new ArrayBuffer(8));
  const bytes = new Uint8Array(view.buffer);
  let checked = 0;
  while (checked < 2000) {
    crypto.getRandomValues(bytes);
    const x = view.getFloat64(0);
    if (!Number.isFinite(x)) continue;
    const s = sampFloat(x);
    assert.match(s, STRICT_FLOAT);
    assert.ok(Object.is(parseSampFloat(s), x), `${x} -> ${s}`);
    checked++;
  }
});

Deno.test("sampFloat rejects NaN and infinities with RangeError", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => sampFloat(bad), errorLike(RangeError, /finite number/), String(bad));
  }
});

Deno.test("parseSampFloat accepts JSAMP's 1.0E10 and other liberal decimal forms", () => {
  const cases: [string, number][] = [
    ["1.0E10", 1e10],
    ["+3", 3],
    ["-3e-7", -3e-7],
    ["1.5", 1.5],
    ["1E+3", 1000],
    [".5", 0.5],
    ["5.", 5],
    ["007", 7],
    [" 2.5\n", 2.5],
    ["-0", -0],
    ["1e-400", 0],
    ["4.9E-324", 5e-324],
    ["1.7976931348623157E308", Number.MAX_VALUE],
  ];
  for (const [s, x] of cases) assert.ok(Object.is(parseSampFloat(s), x), JSON.stringify(s));
});

Deno.test("parseSampFloat refuses non-numbers with an error quoting the value", () => {
  for (const bad of ["", " ", "NaN", "Infinity", "-Infinity", "0x10", "1,5", "1e", "e5", "--1"]) {
    assert.throws(
      () => parseSampFloat(bad),
      errorLike(TypeError, /Not a SAMP float/, new RegExp(RegExp.escape(JSON.stringify(bad)))),
      JSON.stringify(bad),
    );
  }
  for (const bad of ["1.2.3", "abc", "1 2", "1_000", "١"]) {
    assert.throws(() => parseSampFloat(bad), errorLike(TypeError, /Not a SAMP float/), bad);
  }
  assert.throws(() => parseSampFloat("1e999"), errorLike(RangeError, /"1e999" is too large/));
  assert.throws(
    () => parseSampFloat(1.5 as unknown as string),
    errorLike(TypeError, /Not a SAMP float.*1\.5/),
  );
});

Deno.test("parseSampInt reads signed decimal integers and round-trips sampInt", () => {
  assert.equal(parseSampInt("+3"), 3);
  assert.equal(parseSampInt("-42"), -42);
  assert.equal(parseSampInt("007"), 7);
  assert.equal(parseSampInt(" 5 "), 5);
  assert.ok(Object.is(parseSampInt("-0"), -0));
  for (const n of [0, 1, -1, 123456789, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
    assert.equal(parseSampInt(sampInt(n)), n);
  }
});

Deno.test("parseSampInt refuses fractions, exponents, empty strings and unsafe integers", () => {
  for (const bad of ["1.5", "1e3", "1.0E10", "", "0x1", "one", "+", "1 2"]) {
    assert.throws(
      () => parseSampInt(bad),
      errorLike(TypeError, /Not a SAMP int/, new RegExp(RegExp.escape(JSON.stringify(bad)))),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => parseSampInt("9007199254740993"),
    errorLike(RangeError, /too large/, /BigInt/),
  );
});

Deno.test("parseSampBool follows JSAMP: a non-zero integer is true, anything else false", () => {
  for (const t of ["1", "-1", "+2", "42", " 1 ", "0010", "99999999999999999999"]) {
    assert.equal(parseSampBool(t), true, JSON.stringify(t));
  }
  for (const f of ["0", "-0", "000", "", "true", "TRUE", "yes", "1.0", "1e3", "0x1", "one"]) {
    assert.equal(parseSampBool(f), false, JSON.stringify(f));
  }
  assert.equal(parseSampBool(1 as unknown as string), false);
  assert.equal(parseSampBool(sampBool(true)), true);
  assert.equal(parseSampBool(sampBool(false)), false);
});

// ---------------------------------------------------------------------------
// fileUrl

Deno.test("fileUrl turns POSIX paths into file://localhost URLs with percent-encoding", () => {
  const cases: [string, string][] = [
    ["/tmp/t.vot", "file://localhost/tmp/t.vot"],
    ["/", "file://localhost/"],
    ["/data/my table.vot", "file://localhost/data/my%20table.vot"],
    ["/data/a#1?x=2.fits", "file://localhost/data/a%231%3Fx%3D2.fits"],
    ["/data/100%.fits", "file://localhost/data/100%25.fits"],
    ["/données/été.fits", "file://localhost/donn%C3%A9es/%C3%A9t%C3%A9.fits"],
    ["/天文/m31.fits", "file://localhost/%E5%A4%A9%E6%96%87/m31.fits"],
    ["/a\\b", "file://localhost/a%5Cb"],
    ["/a;b/c:d", "file://localhost/a%3Bb/c%3Ad"],
    ["/dir/", "file://localhost/dir/"],
  ];
  for (const [path, url] of cases) assert.equal(fileUrl(path), url, path);
});

Deno.test("fileUrl output decodes back to the original POSIX path", () => {
  for (const path of ["/data/my table#1?.vot", "/é/日本/%41", "/a\\b/c d", "/x/y//z/"]) {
    const url = new URL(fileUrl(path));
    assert.equal(url.protocol, "file:");
    assert.equal(url.search, "");
    assert.equal(url.hash, "");
    assert.equal(decodeURIComponent(url.pathname), path);
  }
});

Deno.test("fileUrl handles Windows drive, UNC and long-path forms", () => {
  const cases: [string, string][] = [
    ["C:\\x\\y", "file://localhost/C:/x/y"],
    ["C:/x/y", "file://localhost/C:/x/y"],
    ["d:\\", "file://localhost/d:/"],
    [
      "C:\\Program Files\\été #2.fits",
      "file://localhost/C:/Program%20Files/%C3%A9t%C3%A9%20%232.fits",
    ],
    ["\\\\server\\share\\dir\\f.fits", "file://server/share/dir/f.fits"],
    ["\\\\?\\C:\\long\\path", "file://localhost/C:/long/path"],
    ["\\\\?\\UNC\\srv.example.org\\share\\x", "file://srv.example.org/share/x"],
  ];
  for (const [path, url] of cases) assert.equal(fileUrl(path), url, path);
});

Deno.test("fileUrl refuses relative paths and says to pass an absolute one", () => {
  for (const bad of ["t.vot", "./t.vot", "../t.vot", "C:x", "\\x", "", "~/t.vot"]) {
    assert.throws(
      () => fileUrl(bad),
      errorLike(TypeError, /needs an absolute path/),
      JSON.stringify(bad),
    );
  }
  assert.throws(() => fileUrl("t.vot"), errorLike(TypeError, /resolve/));
});

Deno.test("fileUrl refuses NUL characters, unpaired surrogates and bad UNC hosts", () => {
  assert.throws(() => fileUrl("/a\0b"), errorLike(TypeError, /NUL/));
  assert.throws(() => fileUrl("/a\uD800b"), errorLike(TypeError, /surrogate/));
  assert.throws(() => fileUrl("\\\\bad host\\share"), errorLike(TypeError, /server name/));
});

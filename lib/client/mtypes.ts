/**
 * Typed parameters and results for the well-known SAMP MTypes, and helpers
 * for the string encodings SAMP uses for numbers, booleans and file URLs.
 *
 * SAMP has only strings, lists and maps, so every number travels as a string
 * (`"83.63"`), every boolean as `"1"` or `"0"`, and every file as a URL. The
 * {@linkcode StandardMTypes} table lets a client check the parameters of the
 * MTypes it knows at compile time, while any other MType still takes a plain
 * {@linkcode SampMap}.
 *
 * @example Sending a typed message
 * ```ts
 * import { fileUrl, message, sampFloat } from "./mtypes.ts";
 *
 * const point = message("coord.pointAt.sky", { ra: sampFloat(83.63308), dec: sampFloat(22.0145) });
 * const load = message("table.load.votable", { url: fileUrl("/data/m1 stars.vot"), name: "M1" });
 * console.log(point, load);
 * ```
 *
 * @module
 */

import { isMType } from "../mtype.ts";
import type { Message, SampMap, SampValue } from "../types.ts";

/**
 * Parameters of the `table.load.*` MTypes (`table.load.stil` adds `format`).
 *
 * @example
 * ```ts
 * import type { TableLoadParams } from "./mtypes.ts";
 * const p: TableLoadParams = { url: "file://localhost/data/t.vot", "table-id": "t1" };
 * ```
 */
export type TableLoadParams = {
  /** URL of the table (`file://localhost/...` for a local file; see `fileUrl`). */
  url: string;
  /** Sender-chosen id for referring to this table in later messages. */
  "table-id"?: string;
  /** Label to show for the table. */
  name?: string;
};

/**
 * Parameters of `voresource.loadlist` and its service-specific variants.
 *
 * @example
 * ```ts
 * import type { VoResourceListParams } from "./mtypes.ts";
 * const p: VoResourceListParams = { ids: { "ivo://cds.vizier/tap": {} }, name: "TAP" };
 * ```
 */
export type VoResourceListParams = {
  /** A map whose keys are IVOA identifiers (`ivo://...`); values are maps (often empty). */
  ids: SampMap;
  /** Label for the list. */
  name?: string;
};

/**
 * Parameters and results of each well-known MType (REFERENCE.md §5 and the
 * hub events of §2.4).
 *
 * Every value is a SAMP value: numbers are strings made with
 * {@linkcode sampInt} or {@linkcode sampFloat}, booleans with
 * {@linkcode sampBool}. "Result" is the content of `samp.result` in a
 * successful response; `Record<string, never>` means the MType defines
 * no params, or returns nothing (`{}`).
 *
 * The table lists the params each MType defines. SAMP lets a sender add
 * keys of its own (extensions, often `x-samp.`-prefixed), so the types
 * used for sending and receiving, {@linkcode ParamsOf} and
 * {@linkcode ParamsArg}, add {@linkcode ExtraParams} to them.
 *
 * `table.highlight.row` and `table.select.rowList` need `table-id` or `url`
 * (or both, naming the same table), so their params are a union that
 * rejects neither-given.
 *
 * @example Looking up the types for one MType
 * ```ts
 * import type { StandardMTypes } from "./mtypes.ts";
 * type PointAt = StandardMTypes["coord.pointAt.sky"]["params"]; // { ra: string; dec: string }
 * const p: PointAt = { ra: "83.63", dec: "22.01" };
 * ```
 */
export interface StandardMTypes {
  // --- Administrative ---

  /** Liveness check; the hub and most clients answer it. */
  "samp.app.ping": { params: Record<string, never>; result: Record<string, never> };
  /** A status line from a client (libsamp/DS9 convention; not in the spec text). */
  "samp.app.status": {
    params: {
      /** The status text. */
      txt: string;
    };
    result: Record<string, never>;
  };
  /** A client announcing its own exit (libsamp convention). */
  "samp.app.event.shutdown": { params: Record<string, never>; result: Record<string, never> };
  /** Progress report from a recipient to the sender of a call still running. */
  "samp.msg.progress": {
    params: {
      /** The msg-id of the call being processed. */
      msgid: string;
      /** What is happening. */
      txt: string;
      /** Percentage done, a SAMP float (`sampFloat`). */
      percent?: string;
      /** Estimated seconds left, a SAMP float (`sampFloat`). */
      timeLeft?: string;
    };
    result: Record<string, never>;
  };
  /** Asks the hub for the clients whose metadata `key` equals `value`. */
  "samp.query.by-meta": {
    params: {
      /** A metadata key, e.g. `samp.name`. */
      key: string;
      /** The value it must equal. */
      value: string;
    };
    result: {
      /** Public ids of the matching clients. */
      ids: string[];
    };
  };
  /** Pre-1.3 name of `samp.query.by-meta`; both reference hubs implement it. */
  "x-samp.query.by-meta": {
    params: {
      /** A metadata key, e.g. `samp.name`. */
      key: string;
      /** The value it must equal. */
      value: string;
    };
    result: {
      /** Public ids of the matching clients. */
      ids: string[];
    };
  };
  /** Reads an environment variable of the recipient. */
  "client.env.get": {
    params: {
      /** The variable's name. */
      name: string;
    };
    result: {
      /** Its value; JSAMP gives `""` when it is unset. */
      value: string;
    };
  };

  // --- Hub events (sent by the hub only) ---

  /** A client registered. */
  "samp.hub.event.register": {
    params: {
      /** Public id of the new client. */
      id: string;
    };
    result: Record<string, never>;
  };
  /** A client unregistered or was disconnected. */
  "samp.hub.event.unregister": {
    params: {
      /** Public id of the departed client. */
      id: string;
    };
    result: Record<string, never>;
  };
  /** A client declared its metadata. */
  "samp.hub.event.metadata": {
    params: {
      /** Public id of the client. */
      id: string;
      /** Its full new metadata map. */
      metadata: SampMap;
    };
    result: Record<string, never>;
  };
  /** A client declared its subscriptions. */
  "samp.hub.event.subscriptions": {
    params: {
      /** Public id of the client. */
      id: string;
      /** Its full new subscriptions map (MType pattern to annotation map). */
      subscriptions: SampMap;
    };
    result: Record<string, never>;
  };
  /** The hub is about to exit. */
  "samp.hub.event.shutdown": { params: Record<string, never>; result: Record<string, never> };
  /** The hub is about to eject the recipient. */
  "samp.hub.disconnect": {
    params: {
      /** Why, e.g. `Timeout expired!`. */
      reason?: string;
    };
    result: Record<string, never>;
  };

  // --- Data exchange ---

  /** Load a VOTable. */
  "table.load.votable": { params: TableLoadParams; result: Record<string, never> };
  /** Load a FITS table. */
  "table.load.fits": { params: TableLoadParams; result: Record<string, never> };
  /** Load a CDF file as a table. */
  "table.load.cdf": { params: TableLoadParams; result: Record<string, never> };
  /** Load a table in any format STIL reads (TOPCAT-specific). */
  "table.load.stil": {
    params: TableLoadParams & {
      /** STIL format name, case-insensitive (e.g. `csv`); TOPCAT requires it. */
      format: string;
    };
    result: Record<string, never>;
  };
  /** Highlight one row of a table loaded earlier. */
  "table.highlight.row": {
    params:
      | {
        /** Id given when the table was loaded. */
        "table-id": string;
        /** URL the table was loaded from. */
        url?: string;
        /** 0-based row index, a SAMP int (`sampInt`). */
        row: string;
      }
      | {
        /** Id given when the table was loaded. */
        "table-id"?: string;
        /** URL the table was loaded from. */
        url: string;
        /** 0-based row index, a SAMP int (`sampInt`). */
        row: string;
      };
    result: Record<string, never>;
  };
  /** Select a set of rows of a table loaded earlier. */
  "table.select.rowList": {
    params:
      | {
        /** Id given when the table was loaded. */
        "table-id": string;
        /** URL the table was loaded from. */
        url?: string;
        /** 0-based row indexes, SAMP ints (`sampInt`). */
        "row-list": string[];
      }
      | {
        /** Id given when the table was loaded. */
        "table-id"?: string;
        /** URL the table was loaded from. */
        url: string;
        /** 0-based row indexes, SAMP ints (`sampInt`). */
        "row-list": string[];
      };
    result: Record<string, never>;
  };
  /** Load a FITS image. */
  "image.load.fits": {
    params: {
      /** URL of the image. */
      url: string;
      /** Sender-chosen id for later reference. */
      "image-id"?: string;
      /** Label to show. */
      name?: string;
    };
    result: Record<string, never>;
  };
  /** Point at a sky position. */
  "coord.pointAt.sky": {
    params: {
      /** Right ascension in degrees, a SAMP float (`sampFloat`). */
      ra: string;
      /** Declination in degrees, a SAMP float (`sampFloat`). */
      dec: string;
    };
    result: Record<string, never>;
  };
  /** Load a spectrum described by SSA metadata. */
  "spectrum.load.ssa-generic": {
    params: {
      /** URL of the spectrum. */
      url: string;
      /** SSA utypes/UCDs to values, e.g. `{ "Access.Format": "application/fits" }`. */
      meta: SampMap;
      /** Sender-chosen id for later reference. */
      "spectrum-id"?: string;
      /** Label to show. */
      name?: string;
    };
    result: Record<string, never>;
  };
  /** Load a MOC coverage map in FITS form. */
  "coverage.load.moc.fits": {
    params: {
      /** URL of the FITS MOC. */
      url: string;
      /** Sender-chosen id for later reference. */
      "coverage-id"?: string;
      /** Label to show. */
      name?: string;
    };
    result: Record<string, never>;
  };
  /** Show a bibliographic record. */
  "bibcode.load": {
    params: {
      /** An ADS bibcode. */
      bibcode: string;
    };
    result: Record<string, never>;
  };
  /** Load a list of VO resources. */
  "voresource.loadlist": { params: VoResourceListParams; result: Record<string, never> };
  /** Load a list of cone-search services. */
  "voresource.loadlist.cone": { params: VoResourceListParams; result: Record<string, never> };
  /** Load a list of SIA services. */
  "voresource.loadlist.siap": { params: VoResourceListParams; result: Record<string, never> };
  /** Load a list of SSA services. */
  "voresource.loadlist.ssap": { params: VoResourceListParams; result: Record<string, never> };
  /** Load a list of TAP services. */
  "voresource.loadlist.tap": { params: VoResourceListParams; result: Record<string, never> };
  /** Run an Aladin script. */
  "script.aladin.send": {
    params: {
      /** Aladin script commands, `;`-separated. */
      script: string;
    };
    result: Record<string, never>;
  };
  /** Run a DS9 command. */
  "ds9.set": {
    params: {
      /** The XPA/SAMP command string. */
      cmd: string;
      /** URL of a data file the command needs. */
      url?: string;
    };
    result: Record<string, never>;
  };
  /** Query DS9. */
  "ds9.get": {
    params: {
      /** The XPA/SAMP command string. */
      cmd: string;
      /** URL of a data file the command needs. */
      url?: string;
    };
    result: {
      /** The answer as text. */
      value?: string;
      /** `file://localhost/...` URL of an output file. */
      url?: string;
    };
  };
}

/**
 * The name of any MType in {@linkcode StandardMTypes}.
 *
 * @example
 * ```ts
 * import type { KnownMType } from "./mtypes.ts";
 * const m: KnownMType = "table.load.votable";
 * ```
 */
export type KnownMType = keyof StandardMTypes;

/**
 * The keys a message may carry beyond those its MType defines: SAMP lets a
 * sender add its own (a receiver ignores those it does not know), such as
 * a `radius` next to `coord.pointAt.sky`'s `ra` and `dec`, or
 * `x-samp.`-prefixed extension keys. Each is any SAMP value; `undefined`
 * is allowed so optional values can come from optional variables
 * ({@linkcode message} drops such keys).
 *
 * @example
 * ```ts
 * import type { ExtraParams } from "./mtypes.ts";
 * const extra: ExtraParams = { radius: "0.5", "x-samp.note": ["a", "b"] };
 * ```
 */
export type ExtraParams = { [key: string]: SampValue | undefined };

/**
 * The params type of an MType: for a known MType, the params it defines
 * (typed: a wrong type or a missing required key is a compile error) plus
 * any {@linkcode ExtraParams}; a plain {@linkcode SampMap} for any other.
 *
 * @example
 * ```ts
 * import type { ParamsOf } from "./mtypes.ts";
 * const known: ParamsOf<"bibcode.load"> = { bibcode: "1998AJ....116.1009R" };
 * const extended: ParamsOf<"coord.pointAt.sky"> = { ra: "83.6", dec: "22.0", radius: "0.5" };
 * const other: ParamsOf<"x-my.app.thing"> = { anything: ["goes"] };
 * ```
 */
export type ParamsOf<M extends string> = M extends KnownMType
  ? WithExtras<StandardMTypes[M]["params"], ExtraParams>
  : SampMap;

/**
 * The params of a message of MType `M` as a handler receives them: the
 * params a known MType defines, typed as the sender had to give them, and
 * any other key as a SAMP value. Unlike {@linkcode ParamsOf} (for sending,
 * where a key may be `undefined`), it is assignable to {@linkcode SampMap}.
 *
 * @example
 * ```ts
 * import type { ReceivedParams } from "./mtypes.ts";
 * import type { SampMap } from "../types.ts";
 * const p: ReceivedParams<"coord.pointAt.sky"> = { ra: "83.6", dec: "22.0", radius: "0.5" };
 * const ra: string = p.ra;
 * const asMap: SampMap = p;
 * ```
 */
export type ReceivedParams<M extends string> = M extends KnownMType
  ? WithExtras<StandardMTypes[M]["params"], SampMap>
  : SampMap;

/**
 * The params `P` an MType defines plus extra keys of type `Extra`; an MType
 * that defines none (its params are a plain map) takes any extras.
 *
 * @example
 * ```ts
 * import type { WithExtras } from "./mtypes.ts";
 * import type { SampMap } from "../types.ts";
 * const p: WithExtras<{ ra: string }, SampMap> = { ra: "1", radius: "2" };
 * ```
 */
export type WithExtras<P, Extra> = string extends keyof P ? Extra : P & Extra;

/**
 * The result type (`samp.result`) of an MType: typed for a known MType, a
 * plain {@linkcode SampMap} for any other.
 *
 * @example
 * ```ts
 * import type { ResultOf } from "./mtypes.ts";
 * const r: ResultOf<"client.env.get"> = { value: "/home/ada" };
 * ```
 */
export type ResultOf<M extends string> = M extends KnownMType ? StandardMTypes[M]["result"]
  : SampMap;

/**
 * The params argument list for sending `M`, as a rest-parameter tuple: the
 * params may be left out when every one of them is optional (they then
 * default to `{}`). Lets a client library write
 * `notify<M extends string>(id: string, mtype: M, ...params: ParamsArg<M>)`.
 *
 * @example
 * ```ts
 * import type { ParamsArg } from "./mtypes.ts";
 * const none: ParamsArg<"samp.app.ping"> = [];
 * const some: ParamsArg<"bibcode.load"> = [{ bibcode: "1998AJ....116.1009R" }];
 * ```
 */
export type ParamsArg<M extends string> = Record<string, never> extends ParamsOf<M>
  ? [params?: ParamsOf<M>]
  : [params: ParamsOf<M>];

const INT_RE = /^[+-]?[0-9]+$/;
const FLOAT_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A short description of a value for error messages. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : String(value);
}

/**
 * Encodes an integer as a SAMP int string (`"-42"`).
 *
 * @param n A safe integer (`Number.isSafeInteger`); `-0` gives `"0"`.
 * @returns Optional `-` and decimal digits.
 * @throws {RangeError} If `n` is not an integer (e.g. `1.5`, `NaN`,
 * `Infinity`) or is beyond ±2^53−1, where integers are no longer exact.
 *
 * @example
 * ```ts
 * import { sampInt } from "./mtypes.ts";
 * const row = sampInt(17); // "17"
 * ```
 */
export function sampInt(n: number): string {
  if (!Number.isInteger(n)) {
    throw new RangeError(`sampInt needs an integer, got ${describe(n)}`);
  }
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(
      `sampInt needs a safe integer (at most ${Number.MAX_SAFE_INTEGER} in size), got ${n}: ` +
        `larger numbers are not exact; send BigInt(n).toString() if that is what you mean`,
    );
  }
  return String(n);
}

/**
 * Encodes a finite number as a SAMP float string. The output is the
 * shortest decimal that `Number()` (and Java's `Double.parseDouble`, and
 * C's `strtod`) reads back as exactly `x`: plain (`"0.1"`, `"83.63308333"`)
 * or with an exponent (`"1e-300"`, `"1e+21"`). `-0` gives `"-0"`.
 *
 * @param x A finite number.
 * @returns The SAMP float string.
 * @throws {RangeError} If `x` is `NaN` or infinite (SAMP has no encoding for them).
 *
 * @example
 * ```ts
 * import { sampFloat } from "./mtypes.ts";
 * const ra = sampFloat(83.63308333); // "83.63308333"
 * const tiny = sampFloat(1e-300); // "1e-300"
 * ```
 */
export function sampFloat(x: number): string {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new RangeError(
      `sampFloat needs a finite number, got ${describe(x)}: SAMP cannot carry NaN or Infinity`,
    );
  }
  return Object.is(x, -0) ? "-0" : String(x);
}

/**
 * Encodes a boolean as a SAMP boolean: `"1"` or `"0"`.
 *
 * @param b The boolean.
 * @returns `"1"` for true, `"0"` for false.
 *
 * @example
 * ```ts
 * import { sampBool } from "./mtypes.ts";
 * const flag = sampBool(true); // "1"
 * ```
 */
export function sampBool(b: boolean): "1" | "0" {
  return b ? "1" : "0";
}

/**
 * Decodes a SAMP int: an optional sign and decimal digits (`"-42"`,
 * `"+3"`, `"007"`). Surrounding whitespace is ignored.
 *
 * @param s The string received.
 * @returns The integer.
 * @throws {TypeError} If `s` is not a string or not an integer string
 * (`"1.5"`, `"1e3"`, `""`); the message quotes the bad value.
 * @throws {RangeError} If the integer is beyond ±2^53−1 and so cannot be
 * held exactly (use `BigInt(s)` for such values).
 *
 * @example
 * ```ts
 * import { parseSampInt } from "./mtypes.ts";
 * const row = parseSampInt("+17"); // 17
 * ```
 */
export function parseSampInt(s: string): number {
  const t = typeof s === "string" ? s.trim() : undefined;
  if (t === undefined || !INT_RE.test(t)) {
    throw new TypeError(
      `Not a SAMP int (an optional sign and decimal digits): ${describe(s)}`,
    );
  }
  const n = Number(t);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(
      `SAMP int ${describe(s)} is too large to hold exactly; read it with BigInt() instead`,
    );
  }
  return n;
}

/**
 * Decodes a SAMP float, liberally: an optional sign, digits with an
 * optional fraction, and an optional exponent with `e` or `E` (`"1.5"`,
 * `"-3e-7"`, `"+3"`, JSAMP's `"1.0E10"`, also `".5"` and `"5."`).
 * Surrounding whitespace is ignored. `"NaN"`, `"Infinity"`, hex and the
 * empty string are refused (note that `Number("")` would give 0).
 *
 * @param s The string received.
 * @returns The number (values too small to represent become 0).
 * @throws {TypeError} If `s` is not a string or not a decimal number; the
 * message quotes the bad value.
 * @throws {RangeError} If the value is too large for a double (e.g. `"1e999"`).
 *
 * @example
 * ```ts
 * import { parseSampFloat } from "./mtypes.ts";
 * const x = parseSampFloat("1.0E10"); // 10000000000
 * ```
 */
export function parseSampFloat(s: string): number {
  const t = typeof s === "string" ? s.trim() : undefined;
  if (t === undefined || !FLOAT_RE.test(t)) {
    throw new TypeError(
      `Not a SAMP float (a decimal number such as "1.5" or "-3e-7"): ${describe(s)}`,
    );
  }
  const x = Number(t);
  if (!Number.isFinite(x)) {
    throw new RangeError(`SAMP float ${describe(s)} is too large for a double`);
  }
  return x;
}

/**
 * Decodes a SAMP boolean by JSAMP's rule: an integer string (optional sign,
 * digits; surrounding whitespace ignored) that is not zero is true;
 * anything else is false, including `"0"`, `"true"`, `"yes"`, `"1.0"` and
 * `""`. Never throws.
 *
 * @param s The string received.
 * @returns Whether it means true.
 *
 * @example
 * ```ts
 * import { parseSampBool } from "./mtypes.ts";
 * parseSampBool("1"); // true
 * parseSampBool("true"); // false: always send "1"/"0" (see sampBool)
 * ```
 */
export function parseSampBool(s: string): boolean {
  if (typeof s !== "string") return false;
  const t = s.trim();
  return INT_RE.test(t) && /[1-9]/.test(t);
}

/** `params.ra` or `params["row-list"]`, for error messages. */
function childPath(parent: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** Throws a TypeError naming the first non-SAMP value inside `value`. */
function checkSampValue(value: unknown, where: string, ancestors: Set<object>): void {
  if (typeof value === "string") return;
  const bad = (what: string, hint: string): TypeError =>
    new TypeError(
      `${where} is ${what}, which is not a SAMP value (SAMP has only strings, lists and maps)` +
        hint,
    );
  if (typeof value === "number") {
    throw bad(`the number ${describe(value)}`, "; encode it with sampInt() or sampFloat()");
  }
  if (typeof value === "boolean") {
    throw bad(`the boolean ${value}`, "; encode it with sampBool()");
  }
  if (value === undefined || value === null) {
    throw bad(String(value), "; leave the key out instead");
  }
  if (typeof value !== "object") throw bad(`a ${typeof value}`, "");
  if (ancestors.has(value)) throw bad("a reference to itself (a cycle)", "");
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkSampValue(item, `${where}[${i}]`, ancestors));
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw bad(`a ${value.constructor?.name ?? "non-plain"} object`, "; use a plain object");
    }
    for (const [key, item] of Object.entries(value)) {
      checkSampValue(item, childPath(where, key), ancestors);
    }
  }
  ancestors.delete(value);
}

/**
 * Builds a SAMP message, `{ "samp.mtype": mtype, "samp.params": params }`,
 * with the params type-checked for the well-known MTypes (any other MType
 * takes any {@linkcode SampMap}). Params may be left out when none are
 * required; they default to `{}`.
 *
 * The params are copied (top level only) and top-level keys whose value is
 * `undefined` are dropped, so optional params can be filled from optional
 * variables. Everything else is checked to be a SAMP value.
 *
 * @param mtype The MType, e.g. `"table.load.votable"`.
 * @param params The params (see {@linkcode StandardMTypes}).
 * @returns The message map.
 * @throws {TypeError} If `mtype` is not a valid MType (patterns such as
 * `table.*` are not), or a param is not a SAMP value (a number, a boolean,
 * `null`, a nested `undefined`, a non-plain object); the message names it.
 *
 * @example
 * ```ts
 * import { message, sampFloat } from "./mtypes.ts";
 * const ping = message("samp.app.ping");
 * const point = message("coord.pointAt.sky", { ra: sampFloat(83.6), dec: "22.0" });
 * const custom = message("x-my.app.hello", { who: ["world"] });
 * ```
 */
export function message<M extends string>(mtype: M, ...params: ParamsArg<M>): Message {
  if (typeof mtype !== "string" || !isMType(mtype)) {
    throw new TypeError(
      `Not a valid MType: ${describe(mtype)} (MTypes are dot-separated words of letters, ` +
        `digits, '-' and '_', like "table.load.votable"; patterns such as "table.*" cannot be sent)`,
    );
  }
  const given: unknown = params[0] ?? {};
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new TypeError(
      `The params of ${mtype} must be a map (a plain object), got ${describe(given)}`,
    );
  }
  const copy: SampMap = {};
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    checkSampValue(value, childPath("params", key), new Set());
    copy[key] = value;
  }
  return { "samp.mtype": mtype, "samp.params": copy };
}

/**
 * Turns an absolute local path into a `file://localhost/...` URL, the form
 * SAMP receivers expect for `url` params. Each path segment is
 * percent-encoded as UTF-8 by `encodeURIComponent` (so spaces, non-ASCII,
 * `#`, `?`, `%` and `;` are all escaped).
 *
 * The kind of path is read from its shape, not from the OS running the
 * code, so this is a pure function:
 * - `/dir/file` (POSIX): `file://localhost/dir/file`; a backslash is an
 *   ordinary character there and becomes `%5C`.
 * - `C:\dir\file` or `C:/dir/file` (Windows drive): `file://localhost/C:/dir/file`.
 * - `\\server\share\file` (Windows UNC): `file://server/share/file`.
 * - The `\\?\` long-path prefix is understood (`\\?\C:\x`, `\\?\UNC\server\share\x`).
 *
 * The path is not checked to exist, nor normalized: `..` segments are kept
 * in the URL, but URL parsers (WHATWG `URL` among them) collapse them, which
 * differs from the file system's rule when a symbolic link precedes `..`, so
 * pass a normalized path (e.g. from `Deno.realPath`).
 * Relative paths are refused rather than resolved against `Deno.cwd()`, so
 * no permission or hidden state is involved: resolve them first.
 *
 * @param path An absolute path.
 * @returns The file URL.
 * @throws {TypeError} If `path` is relative (including Windows `C:x` and
 * `\x`), empty, or contains a NUL character or an unpaired surrogate, or a
 * UNC host name is malformed.
 *
 * @example
 * ```ts
 * import { fileUrl } from "./mtypes.ts";
 * fileUrl("/data/my table#1.vot"); // "file://localhost/data/my%20table%231.vot"
 * fileUrl("C:\\Users\\ada\\m31.fits"); // "file://localhost/C:/Users/ada/m31.fits"
 * ```
 *
 * @example Relative paths: resolve first
 * ```ts
 * import { resolve } from "node:path";
 * import { fileUrl } from "./mtypes.ts";
 * const url = fileUrl(resolve("table.vot"));
 * ```
 */
export function fileUrl(path: string): string {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`fileUrl needs an absolute path, got ${describe(path)}`);
  }
  if (path.includes("\0")) {
    throw new TypeError(`fileUrl: the path ${describe(path)} contains a NUL character`);
  }
  const encode = (segments: string[]): string => {
    try {
      return segments.map(encodeURIComponent).join("/");
    } catch {
      throw new TypeError(
        `fileUrl: the path ${describe(path)} contains an unpaired UTF-16 surrogate`,
      );
    }
  };
  if (path.startsWith("/")) return `file://localhost/${encode(path.slice(1).split("/"))}`;

  let win = path;
  const long = /^[\\/]{2}[?.][\\/](.*)$/s.exec(win);
  if (long) {
    const unc = /^UNC[\\/](.*)$/is.exec(long[1]);
    win = unc ? `\\\\${unc[1]}` : long[1];
  }
  if (/^[A-Za-z]:[\\/]/.test(win)) {
    return `file://localhost/${win.slice(0, 2)}/${encode(win.slice(3).split(/[\\/]/))}`;
  }
  const unc = /^\\\\([^\\/]+)[\\/]+([^\\/].*)$/s.exec(win);
  if (unc) {
    const [, host, rest] = unc;
    if (!/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(host)) {
      throw new TypeError(
        `fileUrl: bad server name ${describe(host)} in UNC path ${describe(path)}`,
      );
    }
    return `file://${host}/${encode(rest.split(/[\\/]/))}`;
  }
  throw new TypeError(
    `fileUrl needs an absolute path, got ${describe(path)}: resolve it first, ` +
      `e.g. fileUrl(resolve(path)) with resolve from "node:path" or "@std/path"`,
  );
}

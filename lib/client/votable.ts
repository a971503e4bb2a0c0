/**
 * A small VOTable 1.4 writer: an array of records (plain objects, one per
 * row) becomes a one-table VOTable document in the TABLEDATA serialization,
 * ready for TOPCAT, Aladin or astropy.
 *
 * Columns come in a stable order: the declared ones first, in the order
 * given, then every other key in the order first seen across the records.
 * A column's type is the declared `datatype`, or inferred from its values:
 *
 * | values                                   | VOTable type                    |
 * | ---------------------------------------- | ------------------------------- |
 * | numbers, all integers in ±2³¹            | `int`                           |
 * | numbers, all safe integers (±2⁵³)        | `long`                          |
 * | any other numbers (fractions, ±Infinity) | `double`                        |
 * | bigints                                  | `long`                          |
 * | booleans                                 | `boolean`                       |
 * | strings, all ASCII                       | `char`, `arraysize="*"`         |
 * | strings with other characters            | `unicodeChar`, `arraysize="*"`  |
 * | `Date`s                                  | `char`, `xtype="timestamp"` (ISO 8601) |
 * | arrays or typed arrays of numbers        | the numeric rule, `arraysize="*"` |
 * | nothing but nulls                        | `char`, `arraysize="*"`         |
 *
 * `null`, `undefined`, `NaN`, an invalid `Date` and an empty array are
 * written as an empty `<TD/>`, which VOTable 1.3+ reads as null for every
 * type (so an empty string is null too). A column mixing kinds (strings and
 * numbers, say) is a {@linkcode VOTableError} that says which: declare its
 * `datatype` to say what you mean. Readers may trim spaces at either end of
 * a text cell (astropy does), as TABLEDATA gives no way to keep them.
 *
 * Text is escaped for XML (`&`, `<`, `>`, and in attributes `"`, tab, CR
 * and LF, so they survive a reader's normalization). Characters that XML 1.0
 * cannot carry at all (C0 controls other than tab, LF and CR; lone
 * surrogates; U+FFFE and U+FFFF) are replaced with U+FFFD by default, or
 * refused with a {@linkcode VOTableError} with `invalidChars: "error"`.
 *
 * @example Send-ready VOTable text with units and UCDs
 * ```ts
 * import { toVOTable } from "./votable.ts";
 * const xml = toVOTable(
 *   [
 *     { ra: 10.6847, dec: 41.2690, name: "M31", vmag: 3.44 },
 *     { ra: 83.8221, dec: -5.3911, name: "M42", vmag: 4.0 },
 *   ],
 *   {
 *     name: "Messier objects",
 *     columns: [
 *       { name: "ra", unit: "deg", ucd: "pos.eq.ra;meta.main" },
 *       { name: "dec", unit: "deg", ucd: "pos.eq.dec;meta.main" },
 *     ],
 *   },
 * );
 * console.log(xml.includes('<FIELD name="ra" datatype="double" unit="deg"')); // true
 * ```
 *
 * @module
 */

/**
 * The VOTable datatypes this writer produces (`bit` and the complex types are
 * left out).
 *
 * @example
 * ```ts
 * import type { VOTableDatatype } from "./votable.ts";
 * const t: VOTableDatatype = "double";
 * ```
 */
export type VOTableDatatype =
  | "boolean"
  | "unsignedByte"
  | "short"
  | "int"
  | "long"
  | "float"
  | "double"
  | "char"
  | "unicodeChar";

/**
 * One column (a VOTable `FIELD`): its name, which is also the record key read
 * for it, and what an astronomer needs to know about it. Anything left out is
 * inferred (`datatype`, `arraysize`) or omitted.
 *
 * @example Right ascension, the main position
 * ```ts
 * import type { VOTableColumn } from "./votable.ts";
 * const ra: VOTableColumn = { name: "ra", unit: "deg", ucd: "pos.eq.ra;meta.main" };
 * ```
 */
export interface VOTableColumn {
  /** Column name, and the key read from each record. */
  name: string;
  /** The type; inferred from the values when left out. */
  datatype?: VOTableDatatype;
  /**
   * Array shape (`"*"`, `"3"`, `"3x*"`). Text (`char`, `unicodeChar`) gets
   * `"*"` unless given; give `"1"` for a single character.
   */
  arraysize?: string;
  /** Unit, in VOUnit syntax (`deg`, `mag`, `km/s`). */
  unit?: string;
  /** Unified Content Descriptor (`pos.eq.ra;meta.main`, `phot.mag;em.opt.V`). */
  ucd?: string;
  /** Data-model reference. */
  utype?: string;
  /** Extended type (`timestamp`, `interval`, …). */
  xtype?: string;
  /** Free-text description. */
  description?: string;
}

/**
 * Options of {@linkcode toVOTable}.
 *
 * @example
 * ```ts
 * import type { VOTableOptions } from "./votable.ts";
 * const options: VOTableOptions = {
 *   name: "candidates",
 *   description: "Sources brighter than V = 12",
 *   columns: ["id", { name: "vmag", unit: "mag", ucd: "phot.mag;em.opt.V" }],
 * };
 * ```
 */
export interface VOTableOptions {
  /** The table's name (`TABLE name`), shown by TOPCAT as its label. */
  name?: string;
  /** The table's description. */
  description?: string;
  /**
   * Columns to declare, first and in this order: a name alone, or a
   * {@linkcode VOTableColumn}. Record keys not listed follow, inferred.
   */
  columns?: readonly (string | VOTableColumn)[];
  /**
   * What to do with characters XML 1.0 cannot carry: `"replace"` them with
   * U+FFFD (the default) or refuse the table (`"error"`).
   */
  invalidChars?: "replace" | "error";
}

/**
 * One row: column names to values.
 *
 * @example
 * ```ts
 * import type { VOTableRecord } from "./votable.ts";
 * const row: VOTableRecord = { ra: 10.68, dec: 41.27, name: "M31" };
 * ```
 */
export type VOTableRecord = Readonly<Record<string, unknown>>;

/**
 * A table that cannot be written as asked: a value that does not fit its
 * column's type, a column that mixes kinds, a bad column declaration, or a
 * character XML cannot carry (with `invalidChars: "error"`).
 *
 * @example
 * ```ts
 * import { toVOTable, VOTableError } from "./votable.ts";
 * try {
 *   toVOTable([{ x: 1 }, { x: "one" }]);
 * } catch (e) {
 *   if (e instanceof VOTableError) console.log(e.column); // "x"
 * }
 * ```
 */
export class VOTableError extends Error {
  /** The column concerned, when there is one. */
  readonly column?: string;
  /** The row index (0-based), when one row is to blame. */
  readonly row?: number;

  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { VOTableError } from "./votable.ts";
   * const e = new VOTableError("bad value", "ra", 3);
   * ```
   */
  constructor(message: string, column?: string, row?: number) {
    super(message);
    this.name = "VOTableError";
    this.column = column;
    this.row = row;
  }
}

/** The VOTable 1.4 namespace (1.4 kept 1.3's). */
const NAMESPACE = "http://www.ivoa.net/xml/VOTable/v1.3";

const DATATYPES = new Set<string>([
  "boolean",
  "unsignedByte",
  "short",
  "int",
  "long",
  "float",
  "double",
  "char",
  "unicodeChar",
]);

const INTEGER_RANGE: Record<string, [bigint, bigint]> = {
  unsignedByte: [0n, 255n],
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
};

const ARRAYSIZE = /^(?:[1-9][0-9]*x)*(?:[1-9][0-9]*|[0-9]*\*)$/;

/** Characters XML 1.0 forbids, and UTF-16 halves without their other half. */
const INVALID =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNCARRIED = new RegExp(INVALID.source);
const NON_ASCII = /[^\p{ASCII}]/u;

/** A column as written: its datatype settled, and whether the caller declared it. */
type Field = VOTableColumn & { datatype: VOTableDatatype; declared: boolean };

/**
 * Writes `records` as a VOTable 1.4 document with one TABLEDATA table.
 *
 * @param records The rows, one plain object each (read twice: once to infer, once to write).
 * @param options Table name and description, declared columns, invalid-character policy.
 * @returns The document, starting with an XML declaration (UTF-8).
 * @throws {VOTableError} If a value does not fit its column, a column mixes
 * kinds, a declaration is invalid, or (with `invalidChars: "error"`) text
 * holds a character XML 1.0 cannot carry.
 *
 * @example
 * ```ts
 * import { toVOTable } from "./votable.ts";
 * const xml = toVOTable([{ id: 1, flux: 2.5, ok: true }], { name: "fluxes" });
 * console.log(xml.includes('<FIELD name="id" datatype="int"/>')); // true
 * ```
 */
export function toVOTable(
  records: Iterable<VOTableRecord>,
  options: VOTableOptions = {},
): string {
  const rows = Array.from(records);
  const policy = options.invalidChars ?? "replace";
  if (policy !== "replace" && policy !== "error") {
    throw new VOTableError(`invalidChars must be "replace" or "error", not ${String(policy)}`);
  }
  const clean = (s: string, where: string, column?: string, row?: number): string => {
    if (policy === "replace") return s.replace(INVALID, "\uFFFD");
    INVALID.lastIndex = 0;
    const bad = INVALID.exec(s);
    INVALID.lastIndex = 0;
    if (bad) {
      const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      throw new VOTableError(
        `${where} holds U+${code}, which XML 1.0 cannot carry: remove it, or write with ` +
          `invalidChars: "replace" to get U+FFFD instead`,
        column,
        row,
      );
    }
    return s;
  };
  const fields = resolveFields(rows, options.columns ?? []);

  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<VOTABLE version="1.4" xmlns="${NAMESPACE}">\n`,
    '<RESOURCE type="results">\n',
    "<TABLE",
  ];
  if (options.name !== undefined) {
    out.push(` name="${attr(clean(String(options.name), "the table name"))}"`);
  }
  out.push(` nrows="${rows.length}">\n`);
  if (options.description !== undefined) {
    const d = clean(String(options.description), "the table description");
    out.push(`<DESCRIPTION>${text(d)}</DESCRIPTION>\n`);
  }
  for (const f of fields) {
    const where = `column "${f.name}"`;
    out.push(`<FIELD name="${attr(clean(f.name, `the name of ${where}`, f.name))}"`);
    out.push(` datatype="${f.datatype}"`);
    for (const key of ["arraysize", "xtype", "unit", "ucd", "utype"] as const) {
      const v = f[key];
      if (v !== undefined) {
        out.push(` ${key}="${attr(clean(v, `the ${key} of ${where}`, f.name))}"`);
      }
    }
    if (f.description !== undefined) {
      const d = clean(f.description, `the description of ${where}`, f.name);
      out.push(`>\n<DESCRIPTION>${text(d)}</DESCRIPTION>\n</FIELD>\n`);
    } else {
      out.push("/>\n");
    }
  }
  out.push("<DATA>\n<TABLEDATA>\n");
  const formatters = fields.map((f) => formatter(f, clean));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    let tr = "<TR>";
    for (let c = 0; c < fields.length; c++) {
      const v = formatters[c](cell(row, fields[c].name), r);
      tr += v === "" ? "<TD/>" : `<TD>${v}</TD>`;
    }
    out.push(tr, "</TR>\n");
  }
  out.push("</TABLEDATA>\n</DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n");
  return out.join("");
}

/**
 * {@linkcode toVOTable}, encoded as UTF-8 bytes (what an HTTP body or a file
 * holds).
 *
 * @example
 * ```ts
 * import { toVOTableBytes } from "./votable.ts";
 * const bytes = toVOTableBytes([{ x: 1 }]);
 * console.log(bytes.length > 0); // true
 * ```
 */
export function toVOTableBytes(
  records: Iterable<VOTableRecord>,
  options: VOTableOptions = {},
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(toVOTable(records, options));
}

// ---- columns ---------------------------------------------------------------

function resolveFields(
  rows: VOTableRecord[],
  declared: readonly (string | VOTableColumn)[],
): Field[] {
  for (const row of rows) {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new VOTableError("each record is a plain object of column name to value");
    }
  }
  const fields: Field[] = [];
  const seen = new Set<string>();
  for (const d of declared) {
    const spec: VOTableColumn = typeof d === "string" ? { name: d } : d;
    if (typeof spec !== "object" || spec === null || typeof spec.name !== "string") {
      throw new VOTableError("each declared column is a name or an object with a string name");
    }
    const name = spec.name;
    if (name === "") throw new VOTableError("a column name is empty: give every column a name");
    if (seen.has(name)) {
      throw new VOTableError(`column "${name}" is declared twice: column names are unique`, name);
    }
    seen.add(name);
    if (spec.datatype !== undefined && !DATATYPES.has(spec.datatype)) {
      throw new VOTableError(
        `column "${name}" has datatype "${spec.datatype}": use one of ${[...DATATYPES].join(", ")}`,
        name,
      );
    }
    if (spec.arraysize !== undefined && !ARRAYSIZE.test(spec.arraysize)) {
      throw new VOTableError(
        `column "${name}" has arraysize "${spec.arraysize}": use e.g. "*", "8", "3x*"`,
        name,
      );
    }
    for (const key of ["unit", "ucd", "utype", "xtype", "description"] as const) {
      if (spec[key] !== undefined && typeof spec[key] !== "string") {
        throw new VOTableError(`the ${key} of column "${name}" is not a string`, name);
      }
    }
    const inferred = spec.datatype === undefined ? infer(name, rows) : undefined;
    const datatype = spec.datatype ?? inferred!.datatype;
    const text = datatype === "char" || datatype === "unicodeChar";
    fields.push({
      name,
      datatype,
      arraysize: spec.arraysize ?? inferred?.arraysize ?? (text ? "*" : undefined),
      xtype: spec.xtype ?? inferred?.xtype,
      unit: spec.unit,
      ucd: spec.ucd,
      utype: spec.utype,
      description: spec.description,
      declared: spec.datatype !== undefined,
    });
  }
  for (const row of rows) {
    for (const name of Object.keys(row)) {
      if (seen.has(name)) continue;
      if (name === "") throw new VOTableError("a record has an empty key: name every column");
      seen.add(name);
      fields.push({ name, ...infer(name, rows), declared: false });
    }
  }
  return fields;
}

type Inferred = { datatype: VOTableDatatype; arraysize?: string; xtype?: string };

function infer(name: string, rows: VOTableRecord[]): Inferred {
  let kind: string | undefined;
  let allAscii = true;
  let integral = true;
  let min = 0;
  let max = 0;
  let sawBigint = false;
  const number = (x: number) => {
    if (Number.isNaN(x)) return;
    if (!Number.isInteger(x)) integral = false;
    else {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
  };
  for (let r = 0; r < rows.length; r++) {
    const v = cell(rows[r], name);
    const k = kindOf(v);
    if (k === "null") continue;
    if (k === "other") {
      throw new VOTableError(
        `column "${name}", row ${r}: a ${describe(v)} has no VOTable type: ` +
          `use numbers, bigints, booleans, strings, Dates or arrays of numbers`,
        name,
        r,
      );
    }
    const merged = kind === undefined || kind === k ? k : mergeKinds(kind, k);
    if (merged === undefined) {
      throw new VOTableError(
        `column "${name}" mixes ${kind} and ${k} values (row ${r}): ` +
          `declare its datatype (e.g. { name: "${name}", datatype: "char" }) or make them alike`,
        name,
        r,
      );
    }
    kind = merged;
    // (A character XML cannot carry becomes U+FFFD, or an error.)
    if (typeof v === "string" && allAscii && (NON_ASCII.test(v) || UNCARRIED.test(v))) {
      allAscii = false;
    }
    if (typeof v === "number") number(v);
    if (typeof v === "bigint") sawBigint = true;
    if (k === "array") {
      for (const x of v as Iterable<number | bigint>) {
        if (typeof x === "bigint") sawBigint = true;
        else if (Number.isNaN(x)) integral = false; // NaN inside an array needs a float type
        else number(x);
      }
    }
  }
  const numeric = (): VOTableDatatype =>
    !integral
      ? "double"
      : sawBigint
      ? "long"
      : min >= -(2 ** 31) && max < 2 ** 31
      ? "int"
      : Number.isSafeInteger(min) && Number.isSafeInteger(max)
      ? "long"
      : "double";
  switch (kind) {
    case "boolean":
      return { datatype: "boolean" };
    case "number":
    case "bigint":
      return { datatype: numeric() };
    case "array":
      return { datatype: numeric(), arraysize: "*" };
    case "date":
      return { datatype: "char", arraysize: "*", xtype: "timestamp" };
    case "string":
      return { datatype: allAscii ? "char" : "unicodeChar", arraysize: "*" };
    default: // nothing but nulls
      return { datatype: "char", arraysize: "*" };
  }
}

/** A record's own value for `name` (never one inherited, such as `toString`). */
function cell(row: VOTableRecord, name: string): unknown {
  return Object.hasOwn(row, name) ? row[name] : undefined;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "null";
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "null" : "date";
  switch (typeof v) {
    case "number":
    case "bigint":
    case "boolean":
    case "string":
      return typeof v;
  }
  if (Array.isArray(v)) {
    return v.every((x) => typeof x === "number" || typeof x === "bigint") ? "array" : "other";
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return "array";
  return "other";
}

function mergeKinds(a: string, b: string): string | undefined {
  const numbers = new Set(["number", "bigint"]);
  return numbers.has(a) && numbers.has(b) ? "number" : undefined;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "array of non-numbers";
  if (typeof v === "object" && v !== null) return v.constructor?.name ?? "object";
  return typeof v;
}

// ---- values ----------------------------------------------------------------

type Clean = (s: string, where: string, column?: string, row?: number) => string;
type Format = (v: unknown, row: number) => string;

function formatter(f: Field, clean: Clean): Format {
  const fail = (row: number, v: unknown, why: string): never => {
    throw new VOTableError(
      `column "${f.name}" (${f.datatype}), row ${row}: ${describeValue(v)} ${why}`,
      f.name,
      row,
    );
  };
  const isArray = (v: unknown) =>
    Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  const scalar = f.arraysize === undefined;
  switch (f.datatype) {
    case "boolean":
      return (v, row) => {
        if (isNull(v)) return "";
        if (typeof v === "boolean") return v ? "T" : "F";
        return fail(row, v, "is not a boolean");
      };
    case "unsignedByte":
    case "short":
    case "int":
    case "long": {
      const [lo, hi] = INTEGER_RANGE[f.datatype];
      const one = (x: unknown, row: number, whole: unknown): string => {
        let b: bigint;
        if (typeof x === "bigint") b = x;
        else if (typeof x === "number" && Number.isInteger(x)) b = BigInt(x);
        else return fail(row, whole, "is not an integer: declare a float or double column");
        if (b < lo || b > hi) return fail(row, whole, `is out of the ${f.datatype} range`);
        return b.toString();
      };
      return numericFormat(scalar, isArray, fail, (x, row, whole) => {
        if (typeof x === "number" && Number.isNaN(x)) {
          return fail(row, whole, "holds NaN, which an integer array cannot: use double");
        }
        return one(x, row, whole);
      }, one);
    }
    case "float":
    case "double": {
      const one = (x: unknown, row: number, whole: unknown): string => {
        if (typeof x === "bigint") return formatFloat(Number(x));
        if (typeof x === "number") return formatFloat(x);
        return fail(row, whole, "is not a number");
      };
      return numericFormat(scalar, isArray, fail, (x, row, whole) => {
        if (x === null || x === undefined) return "NaN";
        return one(x, row, whole);
      }, one);
    }
    default: { // char, unicodeChar
      const ascii = f.datatype === "char";
      return (v, row) => {
        if (isNull(v)) return "";
        let s: string;
        if (typeof v === "string") s = v;
        else if (v instanceof Date) s = v.toISOString();
        else if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") {
          s = String(v);
        } else return fail(row, v, "is not text");
        s = clean(s, `column "${f.name}", row ${row}`, f.name, row);
        if (ascii && f.declared && NON_ASCII.test(s)) {
          return fail(
            row,
            v,
            "has non-ASCII characters (a character XML cannot carry counts, as its U+FFFD): " +
              'declare the column "unicodeChar"',
          );
        }
        return text(s);
      };
    }
  }
}

function numericFormat(
  scalar: boolean,
  isArray: (v: unknown) => boolean,
  fail: (row: number, v: unknown, why: string) => never,
  element: (x: unknown, row: number, whole: unknown) => string,
  one: (x: unknown, row: number, whole: unknown) => string,
): Format {
  return (v, row) => {
    if (isNull(v)) return "";
    if (isArray(v)) {
      if (scalar) {
        return fail(row, v, `is an array: give the column an arraysize (e.g. "*")`);
      }
      const items = Array.from(v as ArrayLike<unknown>, (x) => element(x, row, v));
      return items.join(" ");
    }
    return one(v, row, v);
  };
}

function isNull(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)) ||
    (v instanceof Date && Number.isNaN(v.getTime())) ||
    ((Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) &&
      (v as ArrayLike<unknown>).length === 0);
}

function formatFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  if (Object.is(x, -0)) return "-0";
  return String(x);
}

function describeValue(v: unknown): string {
  if (typeof v === "string") return `"${v.length > 40 ? v.slice(0, 40) + "…" : v}"`;
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return `a ${describe(v)}`;
}

// ---- XML -------------------------------------------------------------------

function text(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]);
}

function attr(s: string): string {
  return s.replace(/[&<>"\t\n\r]/g, (c) => ATTR_ESCAPES[c]);
}

const TEXT_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\r": "&#13;",
};
const ATTR_ESCAPES: Record<string, string> = {
  ...TEXT_ESCAPES,
  '"': "&quot;",
  "\t": "&#9;",
  "\n": "&#10;",
};

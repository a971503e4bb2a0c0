// Small, valid data files for the desktop-tool tests (tests/_desktop.ts),
// made in code so no binary is committed: a FITS image with a celestial WCS
// and a VOTable of a few sources around it.

/** Where the image is on the sky, and its size. */
export interface FitsImageOptions {
  /** Right ascension of the image centre, degrees (default 83.633, the Crab). */
  ra?: number;
  /** Declination of the image centre, degrees (default 22.0145). */
  dec?: number;
  /** Pixels per side (default 16). */
  size?: number;
  /** Degrees per pixel (default 0.001, 3.6 arcsec). */
  scale?: number;
}

/**
 * A FITS image: a primary HDU with `size`×`size` 16-bit pixels (a gradient
 * with a bright source in the middle) and a TAN projection centred on
 * (`ra`, `dec`) in FK5/J2000, so viewers can pan to sky positions in it.
 * No EXTEND keyword: Aladin 12 never replies to an `image.load.fits` call for
 * a file that says `EXTEND = T` (it opens it as a multi-extension file).
 *
 * @example
 * ```ts ignore
 * await Deno.writeFile("img.fits", fitsImage({ ra: 83.633, dec: 22.0145 }));
 * ```
 */
export function fitsImage(options: FitsImageOptions = {}): Uint8Array {
  const { ra = 83.633, dec = 22.0145, size = 16, scale = 0.001 } = options;
  const centre = (size + 1) / 2;
  const cards = [
    card("SIMPLE", true, "conforms to FITS standard"),
    card("BITPIX", 16, "16-bit signed integers"),
    card("NAXIS", 2),
    card("NAXIS1", size),
    card("NAXIS2", size),
    card("CTYPE1", "RA---TAN"),
    card("CTYPE2", "DEC--TAN"),
    card("CRVAL1", ra, "RA at the reference pixel, deg"),
    card("CRVAL2", dec, "Dec at the reference pixel, deg"),
    card("CRPIX1", centre),
    card("CRPIX2", centre),
    card("CDELT1", -scale, "deg per pixel (RA grows to the left)"),
    card("CDELT2", scale, "deg per pixel"),
    card("CUNIT1", "deg"),
    card("CUNIT2", "deg"),
    card("RADESYS", "FK5"),
    card("EQUINOX", 2000.0),
    card("OBJECT", "sampkit test image"),
    "END".padEnd(80),
  ];
  const header = pad(new TextEncoder().encode(cards.join("")), 0x20);
  const data = new Uint8Array(size * size * 2);
  const view = new DataView(data.buffer);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r2 = (x + 1 - centre) ** 2 + (y + 1 - centre) ** 2;
      const value = 100 + x * 10 + y + Math.round(5000 * Math.exp(-r2 / 4));
      view.setInt16((y * size + x) * 2, value, false); // FITS is big-endian
    }
  }
  const out = new Uint8Array(header.length + padded(data.length));
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** A source in {@linkcode votable}. */
export interface Source {
  name: string;
  ra: number;
  dec: number;
  mag: number;
}

/** Three sources near the default image centre. */
export const SOURCES: readonly Source[] = [
  { name: "src-1", ra: 83.6330, dec: 22.0145, mag: 8.4 },
  { name: "src-2", ra: 83.6350, dec: 22.0160, mag: 11.2 },
  { name: "src-3", ra: 83.6310, dec: 22.0120, mag: 12.9 },
];

/**
 * A VOTable 1.4 (TABLEDATA) of `sources`, with the UCDs that tell TOPCAT,
 * DS9 and Aladin which columns are the position.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile("tbl.vot", votable());
 * ```
 */
export function votable(sources: readonly Source[] = SOURCES, name = "sampkit-sources"): string {
  const rows = sources.map((s) =>
    `   <TR><TD>${s.name}</TD><TD>${s.ra}</TD><TD>${s.dec}</TD><TD>${s.mag}</TD></TR>`
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
 <RESOURCE><TABLE name="${name}">
  <FIELD name="name" datatype="char" arraysize="*" ucd="meta.id;meta.main"/>
  <FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"/>
  <FIELD name="dec" datatype="double" unit="deg" ucd="pos.eq.dec;meta.main"/>
  <FIELD name="mag" datatype="float" unit="mag" ucd="phot.mag"/>
  <DATA><TABLEDATA>
${rows.join("\n")}
  </TABLEDATA></DATA>
 </TABLE></RESOURCE>
</VOTABLE>
`;
}

/** One 80-character header card in FITS fixed format. */
function card(key: string, value: string | number | boolean, comment?: string): string {
  let text: string;
  if (typeof value === "boolean") text = (value ? "T" : "F").padStart(20);
  else if (typeof value === "number") {
    // Only BITPIX and NAXISn are integers here; every other number is real.
    const integer = key === "BITPIX" || key.startsWith("NAXIS");
    const real = /[.eE]/.test(String(value)) ? String(value).toUpperCase() : `${value}.0`;
    text = (integer ? String(value) : real).padStart(20);
  } else text = `'${value.replaceAll("'", "''").padEnd(8)}'`.padEnd(20);
  const line = `${key.padEnd(8)}= ${text}${comment ? ` / ${comment}` : ""}`;
  if (line.length > 80) throw new Error(`FITS card too long: ${line}`);
  return line.padEnd(80);
}

/** Bytes padded to a whole number of 2880-byte FITS blocks with `fill`. */
function pad(bytes: Uint8Array, fill: number): Uint8Array {
  const out = new Uint8Array(padded(bytes.length)).fill(fill);
  out.set(bytes);
  return out;
}

function padded(n: number): number {
  return Math.ceil(n / 2880) * 2880;
}

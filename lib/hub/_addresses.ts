/**
 * Which IP addresses are public: not loopback, private, link-local (cloud
 * metadata services live there), shared, reserved, documentation,
 * benchmarking, multicast or unspecified, including IPv4 addresses embedded
 * in IPv6 (mapped, compatible, NAT64, 6to4). The URL translator follows a
 * redirect it was not told about only to public addresses.
 *
 * @module
 */

import { isIP } from "node:net";

/**
 * Whether `address` (an IPv4 or IPv6 literal, IPv6 with or without
 * brackets) is a public unicast address. Anything that does not parse is not.
 *
 * @example
 * ```ts
 * import { isPublicAddress } from "./_addresses.ts";
 * isPublicAddress("93.184.216.34"); // true
 * isPublicAddress("127.0.0.1"); // false
 * isPublicAddress("[::ffff:169.254.169.254]"); // false
 * ```
 */
export function isPublicAddress(address: string): boolean {
  const a = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const kind = isIP(a);
  if (kind === 4) return isPublicV4(v4Octets(a));
  if (kind === 6) return isPublicV6(v6Words(a));
  return false;
}

function v4Octets(a: string): number[] {
  return a.split(".").map(Number);
}

function isPublicV4([a, b, c]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this net, private, loopback, multicast, reserved
  if (a === 100 && b >= 64 && b < 128) return false; // shared (CGNAT)
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b >= 16 && b < 32) return false; // private
  if (a === 192 && b === 168) return false; // private
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

/** The eight 16-bit words of an IPv6 literal (one `::`, maybe a dotted IPv4 tail). */
function v6Words(a: string): number[] {
  let text = a.replace(/%.*$/, ""); // zone index
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [p, q, r, s] = v4Octets(tail[1]);
    text = text.slice(0, -tail[1].length) +
      `${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const words = (s: string) => (s ? s.split(":").map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  if (rest === undefined) return h;
  const t = words(rest);
  return [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
}

function isPublicV6(w: number[]): boolean {
  const embedded = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255];
  const zeros = (n: number) => w.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return false; // unspecified
  if (zeros(7) && w[7] === 1) return false; // loopback
  if (zeros(5) && w[5] === 0xffff) return isPublicV4(embedded(w[6], w[7])); // mapped
  if (zeros(6)) return isPublicV4(embedded(w[6], w[7])); // compatible (deprecated)
  if (w[0] === 0x64 && w[1] === 0xff9b) return isPublicV4(embedded(w[6], w[7])); // NAT64
  if (w[0] === 0x2002) return isPublicV4(embedded(w[1], w[2])); // 6to4
  if ((w[0] & 0xfe00) === 0xfc00) return false; // unique local
  if ((w[0] & 0xffc0) === 0xfe80) return false; // link-local
  if ((w[0] & 0xffc0) === 0xfec0) return false; // site-local (deprecated)
  if ((w[0] & 0xff00) === 0xff00) return false; // multicast
  if (w[0] === 0x2001 && w[1] === 0x0db8) return false; // documentation
  if (w[0] === 0x0100 && w[1] === 0 && w[2] === 0 && w[3] === 0) return false; // discard-only
  if (w[0] === 0x2001 && w[1] < 0x200) return false; // IETF protocol (Teredo, benchmarking, ORCHID…)
  return true;
}

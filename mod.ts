/**
 * sampkit: SAMP 1.3 (the IVOA Simple Application Messaging Protocol) for
 * Deno. The package root is the client library, the same as
 * `@sampkit/samp/client`: find the hub, register, and drive TOPCAT, DS9,
 * Aladin and any other SAMP tool. A hub inside your program comes from
 * `@sampkit/samp/hub`; the `samp` command from `@sampkit/samp/samp`.
 *
 * @example Point every image viewer at M31
 * ```ts ignore
 * import { SampClient } from "@sampkit/samp";
 * await using client = await SampClient.connect({ name: "my-script" });
 * await client.notifyAll("coord.pointAt.sky", { ra: "10.6847", dec: "41.2690" });
 * ```
 *
 * @module
 */

export * from "./client.ts";

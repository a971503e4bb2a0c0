/**
 * `deno task bench:peers`: our hub side by side with the relay ceiling,
 * JSAMP's and astropy's. The program lives in scripts/bench/peers/ (main.ts
 * describes it); this entry point runs it, and serves the relay when started
 * as `bench_peers.ts --serve-relay PORT`.
 *
 * @module
 */

import { peersMain } from "./bench/peers/main.ts";

if (import.meta.main) {
  Deno.exit(await peersMain(Deno.args, new URL(import.meta.url).pathname));
}

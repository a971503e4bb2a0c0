/**
 * `deno task bench`: the load generator for any SAMP hub. The program lives
 * in scripts/bench/ (main.ts describes it); this entry point runs it.
 *
 * @module
 */

import { benchMain } from "./bench/main.ts";

export type { BenchReport, ScenarioResult } from "./bench/report.ts";

if (import.meta.main) Deno.exit(await benchMain(Deno.args));

/**
 * Every scenario by name. Each runs for `--duration` seconds, closed loop:
 * a sender keeps a fixed number of messages in flight, a message being in
 * flight until its recipients have it, so no hub queue grows without bound.
 * The big-message ones (big_rowlist.ts, big_metadata.ts) instead make
 * `--repeats` big transfers, one at a time.
 *
 * @module
 */

import type { ScenarioName } from "../plan.ts";
import type { Scenario } from "./_harness.ts";
import { callAndWaitScenario } from "./call_and_wait.ts";
import { callScenario } from "./call.ts";
import { fanoutScenario } from "./fanout.ts";
import { notifyScenario } from "./notify.ts";
import { stormScenario } from "./storm.ts";
import { rowListScenario } from "./big_rowlist.ts";
import { bigMetadataScenario } from "./big_metadata.ts";
import { fanoutManyScenario, stormManyScenario } from "./many_clients.ts";

export type { Scenario, ScenarioContext } from "./_harness.ts";

/** The scenario that runs under each name. */
export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  notify: notifyScenario,
  call: callScenario,
  callAndWait: callAndWaitScenario,
  fanout50: (ctx) => fanoutScenario(ctx, 50),
  fanout200: (ctx) => fanoutScenario(ctx, 200),
  storm: stormScenario,
  rowListNotify: (ctx) => rowListScenario(ctx, "notify"),
  rowListCall: (ctx) => rowListScenario(ctx, "call"),
  bigMetadata: bigMetadataScenario,
  fanoutMany: fanoutManyScenario,
  stormMany: stormManyScenario,
};

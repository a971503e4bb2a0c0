// The floor hub (scripts/bench/floor_hub.ts) is the measuring stick the
// README compares our hub's CalcStorm CPU with: it must carry a real
// CalcStorm run, or that comparison measures nothing.

import assert from "node:assert/strict";
import { serveFloorHub } from "../scripts/bench/floor_hub.ts";
import { childEnv } from "./_helpers.ts";
import { peerTest, runBounded } from "./_peers.ts";

await peerTest("jsamp", "the floor hub carries jsamp calcstorm in every mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "floor-hub-" });
  const lockfile = `${dir}/hub.samp`;
  const hub = serveFloorHub(lockfile);
  try {
    for (const mode of ["sync", "async", "notify", "random"]) {
      const args = ["calcstorm", "-nclient", "3", "-nquery", "20", "-mode", mode];
      const r = await runBounded("jsamp", args, {
        env: childEnv(dir, { SAMP_HUB: `std-lockurl:file://${encodeURI(lockfile)}` }),
        cwd: dir,
        timeoutMs: 60000,
      });
      const output = `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      assert.ok(!r.timedOut && r.code === 0, `jsamp ${args.join(" ")} failed:\n${output}`);
      assert.match(r.stdout + r.stderr, /Elapsed time: \d+ ms/, output);
    }
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

// Run by tests/client_faults_test.ts as a separate process, so that the
// churning clients' own work does not stall the test process, where the hub
// and the timed clients run: `deno run tests/_churn.ts URL SECRET CLIENTS ROUNDS`.
// CLIENTS clients at once each register (callable), declare metadata and
// subscriptions, and unregister, ROUNDS times; one in ten just vanishes
// instead of unregistering. Prints the number of registrations as JSON.

import { TestClient } from "./_helpers.ts";

const [url, secret, clients, rounds] = Deno.args;
let registrations = 0;
await Promise.all(Array.from({ length: Number(clients) }, async (_, i) => {
  for (let round = 0; round < Number(rounds); round++) {
    const c = await TestClient.register(url, secret);
    registrations++;
    await c.hub("declareMetadata", { "samp.name": `churn-${i}`, "round": String(round) });
    await c.hub("declareSubscriptions", { "test.churn": {} });
    await c.close(i % 10 !== 0);
  }
}));
console.log(JSON.stringify({ registrations }));

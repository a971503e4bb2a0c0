// What a script author matches by type is exported from the package's
// client door, beside the client itself.

import assert from "node:assert/strict";
import * as client from "../client.ts";

Deno.test("every error a client script may catch is exported from ./client", () => {
  for (
    const name of [
      "AmbiguousClientError",
      "ClientNameError",
      "HubNotFoundError",
      "LockfileError",
      "SampErrorResponse",
      "SampFault",
      "SampTimeoutError",
      "TransportError",
      "UnknownClientError",
    ]
  ) {
    const value = (client as Record<string, unknown>)[name];
    assert.equal(typeof value, "function", `${name} is exported`);
    assert.ok((value as { prototype: unknown }).prototype instanceof Error, `${name} is an Error`);
  }
});

Deno.test("a malformed lockfile rejects SampClient.connect with a LockfileError from ./client", async () => {
  const dir = await Deno.makeTempDir({ prefix: "samp-api-" });
  try {
    await Deno.writeTextFile(`${dir}/bad.samp`, "# a lockfile with no hub in it\nnonsense\n");
    await assert.rejects(
      client.SampClient.connect({ lockfile: `${dir}/bad.samp`, name: "script" }),
      (e) => e instanceof client.LockfileError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

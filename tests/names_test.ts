// Finding clients by the names people use (lib/client/names.ts), and the
// tracker's byName/resolve on top of it. The clients carry the samp.name
// each real tool registers with: SAOImageDS9, Aladin, topcat.

import assert from "node:assert/strict";
import {
  AmbiguousClientError,
  ClientNameError,
  findClients,
  type NamedClient,
  resolveClients,
  UnknownClientError,
  WELL_KNOWN_CLIENTS,
} from "../lib/client/names.ts";
import { ClientTracker } from "../lib/client/tracker.ts";
import type { HubConnection } from "../lib/client/connection.ts";
import type { SampMap } from "../lib/types.ts";

const HUB = { id: "hub", name: "Hub" };
const DS9 = { id: "c1", name: "SAOImageDS9" };
const ALADIN = { id: "c2", name: "Aladin" };
const TOPCAT = { id: "c3", name: "topcat" };
const SCRIPT = { id: "c4", name: "ds9-image" };
const REAL: NamedClient[] = [HUB, DS9, ALADIN, TOPCAT];

const ids = (clients: NamedClient[]) => clients.map((c) => c.id);

Deno.test("ds9, aladin and topcat find the real tools' samp.names, in any case", () => {
  for (const [query, tool] of [["ds9", DS9], ["DS9", DS9], ["saods9", DS9], ["aladin", ALADIN]]) {
    assert.deepEqual(resolveClients(REAL, query as string), [tool], query as string);
  }
  assert.deepEqual(resolveClients(REAL, "topcat"), [TOPCAT]);
  assert.deepEqual(resolveClients(REAL, "TOPCAT"), [TOPCAT]);
  assert.deepEqual(resolveClients(REAL, "saoimageds9"), [DS9]);
  assert.equal(WELL_KNOWN_CLIENTS.ds9, "SAOImageDS9");
});

Deno.test("a public id wins over any name, and an exact samp.name over an alias", () => {
  assert.deepEqual(resolveClients(REAL, "c2"), [ALADIN]);
  assert.deepEqual(resolveClients(REAL, "hub"), [HUB]);
  // A client that really calls itself "ds9" is taken at its word.
  const withDs9Named = [...REAL, { id: "c9", name: "ds9" }];
  assert.deepEqual(ids(resolveClients(withDs9Named, "ds9")), ["c9"]);
  // A client named like another's id: the id is what was meant.
  assert.deepEqual(ids(resolveClients([...REAL, { id: "c8", name: "c2" }], "c2")), ["c2"]);
});

Deno.test("a unique start, then a unique part, of a samp.name finds the tool", () => {
  assert.deepEqual(resolveClients(REAL, "top"), [TOPCAT]);
  assert.deepEqual(resolveClients(REAL, "SAO"), [DS9]);
  assert.deepEqual(resolveClients(REAL, "imageds"), [DS9]);
  assert.deepEqual(resolveClients(REAL, "lad"), [ALADIN]);
  // The start of one name is preferred over a part of another.
  const clients = [...REAL, { id: "c7", name: "my topcat helper" }];
  assert.deepEqual(resolveClients(clients, "top"), [TOPCAT]);
});

Deno.test("a name that fits several different tools is an AmbiguousClientError listing them", () => {
  const clients = [...REAL, { id: "c5", name: "Aladin Lite" }, { id: "c6", name: "astroquery" }];
  // An exact name is never ambiguous...
  assert.deepEqual(resolveClients(clients, "aladin"), [ALADIN]);
  // ...but a start or a part that fits two tools is.
  for (const [query, expected] of [["alad", ["c2", "c5"]], ["a", ["c2", "c5", "c6"]]] as const) {
    assert.throws(
      () => resolveClients(clients, query),
      (e) => {
        assert.ok(e instanceof AmbiguousClientError && e instanceof ClientNameError);
        assert.equal(e.query, query);
        assert.deepEqual(ids([...e.candidates]), expected);
        assert.match(e.message, new RegExp(`^"${query}" could be any of c2 \\(Aladin\\), c5`));
        assert.match(e.message, /give more of the name, or the public id/);
        return true;
      },
    );
    assert.throws(() => findClients(clients, query), AmbiguousClientError);
  }
  // Parts fitting several tools when no start fits: ambiguous too.
  assert.throws(() => resolveClients(clients, "i"), AmbiguousClientError);
});

Deno.test("clients sharing a samp.name are all found, by name, alias or prefix", () => {
  const two = [...REAL, { id: "c5", name: "topcat" }];
  assert.deepEqual(ids(resolveClients(two, "topcat")), ["c3", "c5"]);
  assert.deepEqual(ids(resolveClients(two, "TopCat")), ["c3", "c5"]);
  assert.deepEqual(ids(resolveClients(two, "top")), ["c3", "c5"]);
  const ds9s = [...REAL, { id: "c6", name: "SAOImageDS9" }];
  assert.deepEqual(ids(resolveClients(ds9s, "ds9")), ["c1", "c6"]);
});

Deno.test("an unknown name is an UnknownClientError listing who is registered", () => {
  assert.throws(
    () => resolveClients([HUB, TOPCAT, { id: "c9" }], "ds9"),
    (e) => {
      assert.ok(e instanceof UnknownClientError && e instanceof ClientNameError);
      assert.equal(e.query, "ds9");
      assert.deepEqual(e.candidates, [HUB, TOPCAT, { id: "c9" }]);
      assert.equal(
        e.message,
        'no client "ds9" is registered; there are: hub (Hub), c3 (topcat), c9',
      );
      return true;
    },
  );
  assert.throws(() => resolveClients([], "x"), /there are: none$/);
  assert.deepEqual(findClients(REAL, "ds10"), []);
  assert.deepEqual(findClients(REAL, ""), [], "an empty name designates nobody");
});

Deno.test("the asking client is found by its id or exact name, never by an alias, start or part", () => {
  const clients = [HUB, SCRIPT, TOPCAT];
  const self = { selfId: SCRIPT.id };
  // Without DS9, "ds9" must not fall back to the script's own "ds9-image".
  assert.throws(
    () => resolveClients(clients, "ds9", self),
    (e) =>
      e instanceof UnknownClientError &&
      e.message === 'no client "ds9" is registered; there are: hub (Hub), c3 (topcat)',
  );
  assert.deepEqual(resolveClients([...clients, DS9], "ds9", self), [DS9]);
  assert.deepEqual(resolveClients(clients, "ds9-image", self), [SCRIPT]);
  assert.deepEqual(resolveClients(clients, "c4", self), [SCRIPT]);
  // Without selfId the script is just another client.
  assert.deepEqual(resolveClients(clients, "ds9"), [SCRIPT]);
});

Deno.test("resolveClients takes other aliases when given", () => {
  const aliases = { viewer: "Aladin" };
  assert.deepEqual(resolveClients(REAL, "viewer", { aliases }), [ALADIN]);
  // The default table is replaced, not extended.
  assert.throws(() => resolveClients([HUB, DS9], "saods9", { aliases }), UnknownClientError);
});

// --- The tracker ---

function trackerWith(clients: NamedClient[]): ClientTracker {
  const tracker = new ClientTracker();
  for (const c of clients) {
    const metadata: SampMap = c.name === undefined ? {} : { "samp.name": c.name };
    tracker.handleEvent("samp.hub.event.metadata", { id: c.id, metadata });
  }
  return tracker;
}

Deno.test("tracker.byName finds real tools by everyday names; undefined when unknown", () => {
  const tracker = trackerWith(REAL);
  assert.equal(tracker.byName("ds9")?.id, "c1");
  assert.equal(tracker.byName("aladin")?.id, "c2");
  assert.equal(tracker.byName("topcat")?.id, "c3");
  assert.equal(tracker.byName("TOPCAT")?.name, "topcat");
  assert.equal(tracker.byName("SAOImageDS9")?.id, "c1");
  assert.equal(tracker.byName("c3")?.name, "topcat");
  assert.equal(tracker.byName("xephem"), undefined);
});

Deno.test("tracker.byName throws AmbiguousClientError only for a loose name fitting two tools", () => {
  const tracker = trackerWith([...REAL, { id: "c5", name: "Aladin Lite" }, {
    id: "c6",
    name: "topcat",
  }]);
  assert.throws(() => tracker.byName("alad"), AmbiguousClientError);
  // An exact name two clients share is not ambiguous: the first of them.
  assert.equal(tracker.byName("topcat")?.id, "c3");
  assert.equal(tracker.byName("Aladin")?.id, "c2");
});

Deno.test("tracker.resolve gives every client a name designates, or a ClientNameError", () => {
  const tracker = trackerWith([...REAL, { id: "c6", name: "topcat" }]);
  assert.deepEqual(tracker.resolve("topcat").map((c) => c.id), ["c3", "c6"]);
  assert.deepEqual(tracker.resolve("ds9").map((c) => c.name), ["SAOImageDS9"]);
  assert.throws(() => tracker.resolve("xephem"), UnknownClientError);
  // "a" starts only Aladin's name; "i" is a part of SAOImageDS9's and Aladin's.
  assert.equal(trackerWith(REAL).resolve("a")[0].name, "Aladin");
  assert.throws(() => trackerWith(REAL).resolve("i"), AmbiguousClientError);
});

Deno.test("after load, the tracker never finds its own client by a loose name", async () => {
  // A connection stand-in: the hub knows the script (c4, self) and TOPCAT.
  const metadata: Record<string, SampMap> = {
    hub: { "samp.name": "Hub" },
    c3: { "samp.name": "topcat" },
    c4: { "samp.name": "ds9-image" },
  };
  const connection = {
    selfId: "c4",
    getRegisteredClients: () => Promise.resolve(["hub", "c3"]),
    getMetadata: (id: string) => Promise.resolve(metadata[id]),
    getSubscriptions: () => Promise.resolve({}),
  } as unknown as HubConnection;
  const tracker = new ClientTracker();
  await tracker.load(connection);
  assert.equal(tracker.byName("ds9-image")?.id, "c4");
  assert.equal(tracker.byName("ds9"), undefined);
  assert.throws(
    () => tracker.resolve("ds9"),
    (e) => e instanceof UnknownClientError && !e.candidates.some((c) => c.id === "c4"),
  );
});

/**
 * Micro-benchmarks for the XML-RPC codec: the calls and responses a hub
 * handles most, and a HubTester-sized list of 10,000 strings.
 *
 * Run with `deno bench tests/xmlrpc_bench.ts`.
 *
 * @module
 */

import { decodeCall, decodeResponse, encodeCall, encodeResponse } from "../lib/xmlrpc.ts";
import type { SampValue } from "../lib/types.ts";

const notifyParams: SampValue[] = [
  "k:3_5f0a1c9e2b7d4e68",
  "c7",
  {
    "samp.mtype": "table.load.votable",
    "samp.params": {
      "url": "file:///home/user/data/catalogue.vot",
      "table-id": "cat-42",
      "name": "M31 catalogue",
    },
  },
];
const notifyXml = encodeCall("samp.hub.notify", notifyParams);

const responseMap: SampValue = {
  "samp.status": "samp.ok",
  "samp.result": { "ra": "10.684708", "dec": "41.268750", "name": "M31" },
};
const emptyResponseXml = encodeResponse("");
const responseMapXml = encodeResponse(responseMap);

const bigList: SampValue[] = Array.from(
  { length: 10_000 },
  (_, i) => `\t item ${i} <&> 0x7f:\x7f Ångström`,
);
const bigListXml = encodeCall("samp.client.receiveNotification", ["k", "c1", bigList]);

Deno.bench("decode notify call", { group: "notify", baseline: true }, () => {
  decodeCall(notifyXml);
});
Deno.bench("encode notify call", { group: "notify" }, () => {
  encodeCall("samp.hub.notify", notifyParams);
});

Deno.bench("decode empty-string response", { group: "response", baseline: true }, () => {
  decodeResponse(emptyResponseXml);
});
Deno.bench("encode empty-string response", { group: "response" }, () => {
  encodeResponse("");
});
Deno.bench("decode response map", { group: "response" }, () => {
  decodeResponse(responseMapXml);
});
Deno.bench("encode response map", { group: "response" }, () => {
  encodeResponse(responseMap);
});

Deno.bench("decode 10,000-string list", { group: "list", baseline: true }, () => {
  decodeCall(bigListXml);
});
Deno.bench("encode 10,000-string list", { group: "list" }, () => {
  encodeCall("samp.client.receiveNotification", ["k", "c1", bigList]);
});

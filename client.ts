/**
 * The SAMP client library: find the hub, register, and exchange messages
 * with TOPCAT, DS9, Aladin and any other SAMP tool.
 *
 * Three layers: {@linkcode SampClient} (high level: typed messages, handlers
 * per MType, replies, a live client list, reconnection),
 * {@linkcode HubConnection} (every hub API method, typed) and the profile
 * transports underneath.
 *
 * @example Load a VOTable into every table viewer
 * ```ts ignore
 * import { SampClient } from "./client.ts";
 * await using client = await SampClient.connect({ name: "my-script" });
 * await client.notifyAll("table.load.votable", { url: "file:///data/m31.vot", name: "M31" });
 * ```
 *
 * @module
 */

export {
  type CallAllResult,
  type ConnectionChange,
  type HandlerResult,
  type IncomingMessage,
  type Matched,
  type MessageHandler,
  type RequestOptions,
  SampClient,
  type SampClientOptions,
} from "./lib/client/client.ts";
export {
  type CallbackHandler,
  type CallOptions,
  HubConnection,
  type HubTransport,
} from "./lib/client/connection.ts";
export {
  type DiscoveryOptions,
  findHub,
  type FoundHub,
  HubNotFoundError,
} from "./lib/client/discovery.ts";
export {
  type ConnectOptions,
  connectStandard,
  standardTransport,
  type StandardTransportOptions,
} from "./lib/client/standard_transport.ts";
export { ClientTracker, type TrackedClient, type TrackerChange } from "./lib/client/tracker.ts";
export {
  AmbiguousClientError,
  ClientNameError,
  findClients,
  type NamedClient,
  resolveClients,
  type ResolveOptions,
  UnknownClientError,
  WELL_KNOWN_CLIENTS,
} from "./lib/client/names.ts";
export * from "./lib/client/mtypes.ts";
export type {
  SendDataOptions,
  SendImageOptions,
  SendTableOptions,
  SentData,
} from "./lib/client/client.ts";
export {
  NoResourceServerError,
  type OfferedResource,
  type OfferOptions,
  RESOURCE_PREFIX,
  ResourceStore,
} from "./lib/client/resources.ts";
export {
  toVOTable,
  toVOTableBytes,
  type VOTableColumn,
  type VOTableDatatype,
  VOTableError,
  type VOTableOptions,
  type VOTableRecord,
} from "./lib/client/votable.ts";
export { SampErrorResponse, SampFault, SampTimeoutError, TransportError } from "./lib/errors.ts";
export type { Message, RegInfo, Response, SampList, SampMap, SampValue } from "./lib/types.ts";
export { type LockfileEnv, LockfileError } from "./lib/lockfile.ts";
export {
  connectWeb,
  translateUrl,
  WEB_HUB_URL,
  webConnector,
  webTransport,
  type WebTransportOptions,
} from "./lib/client/web_transport.ts";

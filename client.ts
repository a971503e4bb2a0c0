/**
 * The SAMP client library: find the hub, register, and exchange messages
 * with TOPCAT, DS9, Aladin and any other SAMP tool.
 *
 * {@linkcode SampClient} is the way in: typed messages, handlers per MType,
 * replies, a live client list, sending tables and images from memory,
 * reconnection; through the Standard Profile by default, or the Web Profile
 * with `web: true`. {@linkcode HubConnection} (`client.connection`) is the
 * raw hub API underneath, every method typed.
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
  type WebConnectOptions,
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
export type { ConnectOptions, StandardTransportOptions } from "./lib/client/standard_transport.ts";
export type { ClientTracker, TrackedClient, TrackerChange } from "./lib/client/tracker.ts";
export {
  AmbiguousClientError,
  ClientNameError,
  type NamedClient,
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
  type ResourceStore,
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
export type {
  ErrorInfo,
  Message,
  RegInfo,
  ResponseStatus,
  SampList,
  SampMap,
  SampResponse,
  SampValue,
} from "./lib/types.ts";
export { isSampMap } from "./lib/types.ts";
export { type LockfileEnv, LockfileError, type LockInfo } from "./lib/lockfile.ts";
export { VERSION } from "./lib/version.ts";

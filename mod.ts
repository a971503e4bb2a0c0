/**
 * sampkit: SAMP 1.3 (the IVOA Simple Application Messaging Protocol) for
 * Deno: a hub with the Standard Profile, and the protocol's building blocks.
 *
 * @example Run a hub from a script
 * ```ts ignore
 * import { startHub } from "@sampkit/samp";
 * await using hub = await startHub();
 * console.log(`SAMP hub at ${hub.url}, lockfile ${hub.lockfile}`);
 * await hub.finished;
 * ```
 *
 * @module
 */

export * from "./hub.ts";
export * from "./client.ts";
export type {
  ErrorInfo,
  Message,
  RegInfo,
  Response,
  ResponseStatus,
  SampList,
  SampMap,
  SampValue,
} from "./lib/types.ts";
export { isSampMap } from "./lib/types.ts";
export { SampFault, TransportError } from "./lib/errors.ts";
export { isMType, isMTypePattern } from "./lib/mtype.ts";
export {
  decodeCall,
  type DecodeOptions,
  decodeResponse,
  encodeCall,
  encodeFault,
  encodeResponse,
  type XmlRpcCall,
  XmlRpcDecodeError,
  type XmlRpcResult,
} from "./lib/xmlrpc.ts";
export {
  defaultLockfilePath,
  LockfileError,
  type LockInfo,
  type LockLocation,
  parseLockfile,
  readLockfile,
  resolveLockLocation,
} from "./lib/lockfile.ts";
export { VERSION } from "./lib/version.ts";

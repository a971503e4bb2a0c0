/**
 * Big XML-RPC calls off the hub's main thread. A call whose body is at least
 * `minBytes` is decoded in a worker (`_codec_worker.ts`), which also encodes
 * its big parameters once; the hub then splices those bytes into every
 * callback or answer that carries them ({@linkcode Offload.encodedOf})
 * instead of encoding them again. While a 38 MB `table.select.rowList`
 * flows, the main thread only copies bytes and answers everyone else.
 *
 * Encodings are remembered per decoded object (a `WeakMap`): they go when
 * the message or metadata they belong to is no longer held.
 *
 * @module
 */

import type { SampList, SampMap, SampValue } from "../types.ts";
import type { XmlRpcCall } from "../xmlrpc.ts";

/**
 * Why the worker could not decode a call: the same three outcomes as in
 * the main thread (not UTF-8, malformed XML-RPC, not XML-RPC at all).
 *
 * @example
 * ```ts
 * import { OffloadDecodeError } from "./_offload.ts";
 * const e = new OffloadDecodeError("xmlrpc", "<member> without <name>");
 * console.log(e.kind); // "xmlrpc"
 * ```
 */
export class OffloadDecodeError extends Error {
  /** `utf8`: not UTF-8; `xmlrpc`: malformed XML-RPC (answer a fault); `xml`: not XML-RPC. */
  readonly kind: "utf8" | "xmlrpc" | "xml";
  /** Makes the error. */
  constructor(kind: "utf8" | "xmlrpc" | "xml", message: string) {
    super(message);
    this.name = "OffloadDecodeError";
    this.kind = kind;
  }
}

/**
 * Decoding big calls in a worker, and the encodings it made.
 *
 * @example
 * ```ts
 * import { createOffload } from "./_offload.ts";
 * const offload = createOffload({ minBytes: 0 });
 * const body = new TextEncoder().encode(
 *   "<methodCall><methodName>a.b</methodName><params><param><value><array><data>" +
 *     "<value>1</value><value>2</value></data></array></value></param></params></methodCall>",
 * );
 * const call = await offload.decodeCall(body, 64);
 * console.log(call.method, offload.encodedOf(call.params[0] as string[]) !== undefined);
 * offload.close();
 * ```
 */
export interface Offload {
  /** Bodies at least this long are decoded in the worker. */
  readonly minBytes: number;
  /**
   * Decodes a call in the worker (`body` is transferred: do not use it
   * after); its big parameters' encodings are remembered.
   *
   * @throws {OffloadDecodeError} when the body is not a call, as
   * `decodeCall` would.
   */
  decodeCall(body: Uint8Array, maxDepth: number): Promise<XmlRpcCall>;
  /** The UTF-8 `<value>` element of a value the worker encoded, if any. */
  encodedOf(value: SampMap | SampList): Uint8Array | undefined;
  /**
   * Whether `value`, or a map or list inside it (4 levels deep, as far as a
   * message in a `pullCallbacks` batch), has an encoding, so it must be
   * encoded with {@linkcode Offload.encodedOf} (a stub encoded without it
   * fails: its stand-ins are NUL characters).
   */
  holdsEncoded(value: SampValue): boolean;
  /** Ends the worker; calls in progress fail. */
  close(): void;
}

/**
 * Options of {@linkcode createOffload}.
 *
 * @example
 * ```ts
 * import type { OffloadOptions } from "./_offload.ts";
 * const options: OffloadOptions = { minBytes: 1 << 20, bigChars: 1 << 18 };
 * ```
 */
export interface OffloadOptions {
  /** Bodies at least this long go to the worker. Default 1 MiB. */
  minBytes?: number;
  /** Parameters whose XML is at least about this long are encoded once. Default 256 Ki. */
  bigChars?: number;
  /**
   * Ends the worker once it has been idle this long, in ms, giving its
   * memory back (a 38 MB call grows its heap by hundreds of MB); the next
   * big call starts another. Default 2000.
   */
  idleMs?: number;
}

interface Pending {
  resolve(call: XmlRpcCall): void;
  reject(e: Error): void;
}

/**
 * Makes the offload; its worker starts at the first big call.
 *
 * @example
 * ```ts
 * import { createOffload } from "./_offload.ts";
 * const offload = createOffload();
 * offload.close();
 * ```
 */
export function createOffload(options: OffloadOptions = {}): Offload {
  const minBytes = options.minBytes ?? 1 << 20;
  const bigChars = options.bigChars ?? 1 << 18;
  const idleMs = options.idleMs ?? 2000;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    worker?.terminate();
    worker = undefined;
  };
  const encodings = new WeakMap<object, Uint8Array>();
  const pending = new Map<number, Pending>();
  let worker: Worker | undefined;
  let next = 0;
  let closed = false;
  /** Whether any encoding was ever made: until then nothing needs looking at. */
  let used = false;

  const failAll = (why: string) => {
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
  };

  const start = (): Worker => {
    const w = new Worker(new URL("./_codec_worker.ts", import.meta.url), { type: "module" });
    w.onmessage = ({ data }) => {
      const p = pending.get(data.id);
      if (!p) return;
      pending.delete(data.id);
      if (pending.size === 0) {
        idleTimer = setTimeout(stop, idleMs);
        Deno.unrefTimer(idleTimer);
      }
      if (data.error) {
        p.reject(new OffloadDecodeError(data.error, data.message));
        return;
      }
      const params = data.params as SampValue[];
      for (const [i, bytes] of data.encoded as [number, Uint8Array][]) {
        encodings.set(params[i] as object, bytes);
        used = true;
      }
      p.resolve({ method: data.method, params });
    };
    w.onerror = (e) => {
      e.preventDefault();
      // The worker died (out of memory, say): a new one starts at the next call.
      worker = undefined;
      w.terminate();
      failAll(`the decoding worker failed: ${e.message}`);
    };
    return w;
  };

  return {
    minBytes,
    decodeCall(body, maxDepth) {
      if (closed) return Promise.reject(new Error("the hub is shutting down"));
      clearTimeout(idleTimer);
      idleTimer = undefined;
      worker ??= start();
      const id = next++;
      return new Promise<XmlRpcCall>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const bytes = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
          ? body
          : body.slice();
        worker!.postMessage({ id, bytes, maxDepth, bigChars }, [bytes.buffer as ArrayBuffer]);
      });
    },
    encodedOf: (value) => encodings.get(value),
    holdsEncoded(value) {
      return used && holds(value, 4);
    },
    close() {
      closed = true;
      stop();
      failAll("the hub is shutting down");
    },
  };

  function holds(value: SampValue, depth: number): boolean {
    if (typeof value !== "object") return false;
    if (encodings.has(value)) return true;
    if (depth === 0) return false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] === "object" && holds(value[i], depth - 1)) return true;
      }
      return false;
    }
    for (const k in value) {
      if (Object.hasOwn(value, k) && holds(value[k], depth - 1)) return true;
    }
    return false;
  }
}

/**
 * Error types shared by the hub and the client library.
 *
 * @module
 */

import type { SampMap } from "./types.ts";

/**
 * A SAMP hub fault: the hub refused a call. Profiles send it to the caller as
 * an XML-RPC fault with this code and message.
 *
 * @example
 * ```ts
 * import { SampFault } from "./errors.ts";
 * const fault = new SampFault("Unknown private key: register with the hub first");
 * console.log(fault.code); // 1
 * ```
 */
export class SampFault extends Error {
  /** The XML-RPC fault code (always 1 unless a caller needs to tell faults apart). */
  readonly code: number;

  /**
   * Makes a fault with a message that says what was wrong and what to do.
   *
   * @example
   * ```ts
   * import { SampFault } from "./errors.ts";
   * const f = new SampFault("Client c9 is not callable", 1);
   * ```
   */
  constructor(message: string, code = 1) {
    super(message);
    this.name = "SampFault";
    this.code = code;
  }
}

/**
 * An HTTP-level failure talking to a hub or a client: nothing SAMP-level was
 * said. `refused` is true when nothing listens at the URL (a hub or client
 * that has gone away); `maybeReceived` when the request went out whole and
 * only its answer failed (cut, unreadable or late), so the other side may
 * have acted on it.
 *
 * @example
 * ```ts
 * import { TransportError } from "./errors.ts";
 * try {
 *   throw new TransportError("connection refused", "http://127.0.0.1:9/", { refused: true });
 * } catch (e) {
 *   if (e instanceof TransportError && e.refused) console.log("nobody listens at", e.url);
 * }
 * ```
 */
export class TransportError extends Error {
  /** The URL that could not be reached. */
  readonly url: string;
  /** True when the connection was refused: nothing listens at the URL. */
  readonly refused: boolean;
  /** True when no answer came in the time allowed (the request may have arrived). */
  readonly timedOut: boolean;
  /**
   * True when the server may have received the whole request: it was sent,
   * and then the answer was cut, could not be read or did not come in time.
   */
  readonly maybeReceived: boolean;

  /**
   * Makes a transport error.
   *
   * @example
   * ```ts
   * import { TransportError } from "./errors.ts";
   * const e = new TransportError("no answer in 5 s", "http://127.0.0.1:4000/", { timedOut: true });
   * ```
   */
  constructor(
    message: string,
    url: string,
    flags: { refused?: boolean; timedOut?: boolean; maybeReceived?: boolean } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "TransportError";
    this.url = url;
    this.refused = flags.refused ?? false;
    this.timedOut = flags.timedOut ?? false;
    this.maybeReceived = flags.maybeReceived ?? false;
  }
}

/**
 * A recipient answered a call with `samp.status` = `samp.error`: the message
 * arrived, and the recipient could not do what it asked.
 *
 * @example
 * ```ts
 * import { SampErrorResponse } from "./errors.ts";
 * const e = new SampErrorResponse("c3", "image.load.fits", {
 *   "samp.status": "samp.error",
 *   "samp.error": { "samp.errortxt": "no such file" },
 * });
 * console.log(e.message); // c3 could not handle image.load.fits: no such file
 * ```
 */
export class SampErrorResponse extends Error {
  /** The public id of the client that answered. */
  readonly responder: string;
  /** The MType of the call. */
  readonly mtype: string;
  /** The whole response map. */
  readonly response: SampMap;
  /** `samp.errortxt`. */
  readonly errortxt: string;
  /** `samp.usertxt`, if given. */
  readonly usertxt?: string;
  /** `samp.code`, if given. */
  readonly code?: string;

  /**
   * Wraps an error response.
   *
   * @example
   * ```ts
   * import { SampErrorResponse } from "./errors.ts";
   * new SampErrorResponse("c1", "a.b", { "samp.status": "samp.error", "samp.error": {} });
   * ```
   */
  constructor(responder: string, mtype: string, response: SampMap) {
    const err = response["samp.error"];
    const info: SampMap = typeof err === "object" && err !== null && !Array.isArray(err) ? err : {};
    const text = (k: string) => (typeof info[k] === "string" ? info[k] as string : undefined);
    const errortxt = text("samp.errortxt") ?? "no reason given";
    super(`${responder} could not handle ${mtype}: ${errortxt}`);
    this.name = "SampErrorResponse";
    this.responder = responder;
    this.mtype = mtype;
    this.response = response;
    this.errortxt = errortxt;
    this.usertxt = text("samp.usertxt");
    this.code = text("samp.code");
  }
}

/**
 * No response came in the time the caller allowed.
 *
 * @example
 * ```ts
 * import { SampTimeoutError } from "./errors.ts";
 * const error = new SampTimeoutError("c2 did not reply to samp.app.ping within 5 s");
 * console.log(error instanceof Error); // true
 * ```
 */
export class SampTimeoutError extends Error {
  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { SampTimeoutError } from "./errors.ts";
   * new SampTimeoutError("no reply in 10 s");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "SampTimeoutError";
  }
}

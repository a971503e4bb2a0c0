/**
 * The errors of the hub's HTTP client (`./http_pool.ts`), in a module of
 * their own so that `./xmlrpc_client.ts`, which also runs in browsers, can
 * match them by type without loading the client.
 *
 * What each says about the request matters to the hub: an
 * {@linkcode HttpProtocolError} (and so an {@linkcode HttpTooLargeError} or
 * an {@linkcode HttpClosedError}) is only ever thrown after the request was
 * written whole, so the server may have acted on it (its `requestSent` is
 * always true); an {@linkcode HttpTimeoutError} says which it was in
 * `requestSent`. The pool never sends such a request again: a message the
 * server acted on before closing the connection would be acted on twice.
 *
 * @module
 */

/**
 * The answer could not be read: malformed, over a limit, or cut short.
 * Thrown only after the request was written whole: the server may have it.
 *
 * @example
 * ```ts
 * import { HttpProtocolError } from "./_http_errors.ts";
 * const e = new HttpProtocolError("bad status line");
 * console.assert(e.name === "HttpProtocolError" && e.requestSent);
 * ```
 */
export class HttpProtocolError extends Error {
  /** The error's name, for messages. */
  override name = "HttpProtocolError";
  /**
   * Always true: the request had been written whole, so the server may have
   * received it and acted on it (as {@linkcode HttpTimeoutError.requestSent}
   * says when true).
   */
  readonly requestSent: true = true;
}

/**
 * The answer's body is longer than `maxResponseBytes`.
 *
 * @example
 * ```ts
 * import { HttpProtocolError, HttpTooLargeError } from "./_http_errors.ts";
 * const e = new HttpTooLargeError("the answer is longer than 10 bytes");
 * console.assert(e instanceof HttpProtocolError && e.name === "HttpTooLargeError");
 * ```
 */
export class HttpTooLargeError extends HttpProtocolError {
  /** The error's name, for messages. */
  override name = "HttpTooLargeError";
}

/**
 * The server closed (or reset) the connection after the request was written
 * and before its answer was complete. `partial` tells whether any byte of
 * the answer had come.
 *
 * @example
 * ```ts
 * import { HttpClosedError, HttpProtocolError } from "./_http_errors.ts";
 * const e = new HttpClosedError("the server closed the connection before answering", false);
 * console.assert(e instanceof HttpProtocolError && !e.partial);
 * ```
 */
export class HttpClosedError extends HttpProtocolError {
  /** The error's name, for messages. */
  override name = "HttpClosedError";
  /** True when part of the answer had arrived. */
  readonly partial: boolean;

  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { HttpClosedError } from "./_http_errors.ts";
   * const e = new HttpClosedError("the server closed the connection in the middle of the answer", true);
   * ```
   */
  constructor(message: string, partial: boolean, options?: ErrorOptions) {
    super(message, options);
    this.partial = partial;
  }
}

/**
 * The request's `timeoutMs` passed first. `requestSent` tells whether the
 * request had been written whole (the server may have it) or not (still
 * connecting or writing).
 *
 * @example
 * ```ts
 * import { HttpTimeoutError } from "./_http_errors.ts";
 * const e = new HttpTimeoutError("no answer within 10 ms", true);
 * console.assert(e.name === "HttpTimeoutError" && e.requestSent);
 * ```
 */
export class HttpTimeoutError extends Error {
  /** The error's name, for messages. */
  override name = "HttpTimeoutError";
  /** True when the request had been written whole before the time ran out. */
  readonly requestSent: boolean;

  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { HttpTimeoutError } from "./_http_errors.ts";
   * const e = new HttpTimeoutError("could not connect within 10 ms", false);
   * ```
   */
  constructor(message: string, requestSent: boolean, options?: ErrorOptions) {
    super(message, options);
    this.requestSent = requestSent;
  }
}

/**
 * The pool was closed before or while the request ran.
 *
 * @example
 * ```ts
 * import { HttpPoolClosedError } from "./_http_errors.ts";
 * const e = new HttpPoolClosedError("the HTTP pool was closed");
 * console.assert(e.name === "HttpPoolClosedError");
 * ```
 */
export class HttpPoolClosedError extends Error {
  /** The error's name, for messages. */
  override name = "HttpPoolClosedError";
}

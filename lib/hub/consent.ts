/**
 * User consent for Web Profile registration (SAMP 1.3). Before a web page may
 * register, the hub asks an {@linkcode Authorizer}: a terminal prompt, an
 * allow-list of origins, or (for tests and `--web-auth accept|reject`) a fixed
 * answer.
 *
 * @module
 */

import { displayText } from "../_display.ts";

/**
 * What a registering web client claims, and where its request came from.
 *
 * @example
 * ```ts
 * import type { ConsentRequest } from "./consent.ts";
 * const request: ConsentRequest = {
 *   name: "Aladin Lite",
 *   origin: "https://aladin.cds.unistra.fr",
 *   referer: "https://aladin.cds.unistra.fr/AladinLite/",
 * };
 * ```
 */
export interface ConsentRequest {
  /** The `samp.name` the page declares for itself; nothing checks it. */
  name: string;
  /** The HTTP `Origin` header, if the request had one. */
  origin?: string;
  /** The HTTP `Referer` header, if the request had one. */
  referer?: string;
}

/**
 * The answer to a {@linkcode ConsentRequest}, with a reason fit for a log line
 * or a fault message.
 *
 * @example
 * ```ts
 * import type { ConsentDecision } from "./consent.ts";
 * const decision: ConsentDecision = { accepted: false, reason: "rejected by the user" };
 * ```
 */
export interface ConsentDecision {
  /** Whether the page may register. */
  accepted: boolean;
  /** Why, e.g. "accepted by the user" or "nobody answered within 120 s". */
  reason: string;
}

/**
 * Decides whether a web page may register with the hub.
 *
 * @example
 * ```ts
 * import type { Authorizer } from "./consent.ts";
 * const onlyAladin: Authorizer = {
 *   authorize: (request) =>
 *     Promise.resolve(
 *       request.name === "Aladin"
 *         ? { accepted: true, reason: "the page is called Aladin" }
 *         : { accepted: false, reason: "the page is not called Aladin" },
 *     ),
 * };
 * ```
 */
export interface Authorizer {
  /**
   * Decides on one request. The promise never rejects. When `signal` aborts
   * (the page went away) a decision still pending resolves as a rejection.
   */
  authorize(request: ConsentRequest, signal?: AbortSignal): Promise<ConsentDecision>;
  /** Rejects whatever is pending and releases any resources (input, timers). */
  close?(): void;
}

/**
 * An authorizer that accepts every page without asking. For tests and
 * `--web-auth accept` only: any web page could then drive the desktop tools.
 *
 * @example
 * ```ts
 * import { acceptAll } from "./consent.ts";
 * const decision = await acceptAll().authorize({ name: "test page" });
 * decision.accepted; // true
 * ```
 */
export function acceptAll(): Authorizer {
  return {
    authorize: () =>
      Promise.resolve({
        accepted: true,
        reason: "the hub accepts all web clients (--web-auth accept)",
      }),
  };
}

/**
 * An authorizer that refuses every page (`--web-auth reject`).
 *
 * @example
 * ```ts
 * import { rejectAll } from "./consent.ts";
 * const decision = await rejectAll().authorize({ name: "any page" });
 * decision.reason; // "the hub accepts no web clients (--web-auth reject)"
 * ```
 */
export function rejectAll(): Authorizer {
  return {
    authorize: () =>
      Promise.resolve({
        accepted: false,
        reason: "the hub accepts no web clients (--web-auth reject)",
      }),
  };
}

/**
 * Accepts, without asking, pages whose `Origin` is exactly one of `origins`;
 * passes every other request to `fallback`.
 *
 * Origins are compared after normalising both sides: scheme and host
 * lower-cased, default ports (`:80` for http, `:443` for https) dropped, and
 * no trailing slash, so `"HTTPS://Example.org:443/"` matches an `Origin` of
 * `https://example.org`. A request with no `Origin`, an `Origin` of `null`
 * (file pages, sandboxed frames) or a `Referer` from another origin (see
 * {@linkcode originMismatch}) is never accepted by the list: it goes to
 * `fallback`. `close()` closes `fallback`.
 *
 * @example
 * ```ts
 * import { rejectAll, withAllowList } from "./consent.ts";
 * const auth = withAllowList(["https://aladin.cds.unistra.fr"], rejectAll());
 * const d = await auth.authorize({ name: "Aladin", origin: "https://aladin.cds.unistra.fr" });
 * d.reason; // "origin https://aladin.cds.unistra.fr is on the allow-list"
 * ```
 *
 * @throws {TypeError} if an entry is not an origin (`scheme://host[:port]`),
 * e.g. it has a path, query, fragment or user name.
 */
export function withAllowList(origins: readonly string[], fallback: Authorizer): Authorizer {
  const allowed = new Set<string>();
  for (const entry of origins) {
    const origin = normaliseOrigin(entry);
    if (origin === undefined || origin === "null") {
      throw new TypeError(
        `Not an origin for the web allow-list: ${JSON.stringify(entry)} ` +
          `(give scheme://host[:port], e.g. https://example.org)`,
      );
    }
    allowed.add(origin);
  }
  return {
    authorize(request: ConsentRequest, signal?: AbortSignal): Promise<ConsentDecision> {
      const origin = request.origin === undefined ? undefined : normaliseOrigin(request.origin);
      if (
        origin !== undefined && allowed.has(origin) &&
        !originMismatch(request.origin, request.referer)
      ) {
        return Promise.resolve({ accepted: true, reason: `origin ${origin} is on the allow-list` });
      }
      return fallback.authorize(request, signal);
    },
    close(): void {
      fallback.close?.();
    },
  };
}

/**
 * Tells whether a request's `Referer` comes from another origin than its
 * `Origin` header, which JSAMP calls suspicious. False unless both are given
 * (non-empty). A `Referer` that is not a URL counts as a mismatch.
 *
 * @example
 * ```ts
 * import { originMismatch } from "./consent.ts";
 * originMismatch("https://a.org", "https://a.org/page.html"); // false
 * originMismatch("https://a.org", "https://evil.example/"); // true
 * originMismatch("https://a.org", undefined); // false
 * ```
 */
export function originMismatch(origin?: string, referer?: string): boolean {
  if (!origin || !referer) return false;
  let refererOrigin: string | undefined;
  try {
    refererOrigin = urlOrigin(new URL(referer.trim()));
  } catch {
    return true;
  }
  const declared = normaliseOrigin(origin);
  return declared === undefined || declared === "null" || declared !== refererOrigin;
}

/**
 * Asks the user on a terminal whether each page may register.
 *
 * - Questions are asked one at a time, in arrival order; `authorize()` returns
 *   its promise at once, so a pending question never blocks other hub traffic.
 * - A line `y` or `yes` (any case, spaces ignored) accepts; any other line,
 *   empty included, rejects.
 * - Consent needs a fresh answer: input that arrived before a question was
 *   shown never answers it, so a `y` typed or pasted ahead cannot accept a
 *   page the user has not seen. See "Typed-ahead input" below.
 * - A question not answered within `timeoutMs` (counted from when it is shown;
 *   default 120 000) is rejected and the next one is asked.
 * - When a request's `signal` aborts, it leaves the queue, or its question
 *   ends, as a rejection.
 * - When `input` ends, the current and all later requests are rejected.
 *
 * Typed-ahead input. From the first `authorize()` on, the prompt reads
 * `input` all the time through one reader, kept until `input` ends or
 * `close()`, and throws away whatever arrives while no question is shown, so
 * it cannot wait in a buffer (ours, or the terminal's) for the next question.
 * It does not read before the first request, which leaves the input to others
 * until then and does not stop a hub started in the background of a shell
 * (SIGTTIN) before there is anything to ask. Two gaps remain, and are closed
 * as follows:
 * - A read under way, or input the terminal held before the first request,
 *   can complete just after a question is printed. So input that arrives
 *   within `graceMs` of the question being shown (default 500) is thrown away
 *   too, with a note asking for the answer again. Nobody reads the question
 *   (ten lines, with a warning) and answers within half a second, while a
 *   busy hub may take tenths of a second to deliver what was already waiting.
 * - A line is only an answer if all of it arrived after that: what came before
 *   is not kept, so a `y` read early and an Enter pressed later make an empty
 *   line, a no. A terminal in its usual (canonical) mode, however, holds a line
 *   typed without Enter (`y`) back and delivers it with the Enter, as one read,
 *   which cannot be told apart from a fresh `y` + Enter. `flushInput` is there
 *   for that: it is called just before each question is shown and should make
 *   such a held-back partial line readable at once (`samp_hub` switches the tty
 *   out of canonical mode and back, which does that on Linux and the BSDs), so
 *   that it arrives in the grace period and is thrown away. Without it, or on a
 *   system where it does not work (Windows), a `y` typed without Enter before
 *   the question and followed by Enter after it still answers yes: a known
 *   limit.
 *
 * `close()` rejects what is pending, clears the timer, and cancels and
 * releases `input` (cancelling is what stops a pending read of `Deno.stdin`,
 * which would otherwise keep the process alive).
 *
 * @example
 * ```ts
 * import { terminalPrompt } from "./consent.ts";
 * const auth = terminalPrompt({
 *   input: Deno.stdin.readable,
 *   write: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
 * });
 * // const decision = await auth.authorize({ name: "Aladin", origin: "https://aladin.cds.unistra.fr" });
 * auth.close?.();
 * ```
 *
 * @throws {RangeError} if `timeoutMs` is not a positive number, or `graceMs`
 * is not a finite number ≥ 0.
 */
export function terminalPrompt(options: {
  /** Where the user's answers come from, e.g. `Deno.stdin.readable`. */
  input: ReadableStream<Uint8Array>;
  /** Shows text to the user, e.g. on stderr. Nothing is added: lines end in `\n`. */
  write: (text: string) => void;
  /** How long to wait for an answer, in ms (default 120 000); `Infinity` waits forever. */
  timeoutMs?: number;
  /**
   * Input arriving within this many ms after a question is shown is thrown
   * away as typed ahead (default 500; 0 only for tests that type at once).
   */
  graceMs?: number;
  /**
   * Called just before each question is shown, to make input the terminal
   * still holds back (a line typed without Enter) readable now. Errors are
   * ignored.
   */
  flushInput?: () => void;
}): Authorizer {
  const { input, write, flushInput } = options;
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) {
    throw new RangeError(`timeoutMs must be a positive number of ms, not ${timeoutMs}`);
  }
  const graceMs = options.graceMs ?? 500;
  if (typeof graceMs !== "number" || !(graceMs >= 0) || !Number.isFinite(graceMs)) {
    throw new RangeError(`graceMs must be a finite number of ms, 0 or more, not ${graceMs}`);
  }
  const seconds = `${Number((timeoutMs / 1000).toFixed(3))}`;

  interface Pending {
    request: ConsentRequest;
    settle(decision: ConsentDecision): void;
  }
  const queue: Pending[] = [];
  let current: Pending | undefined;
  /** When the current question was shown (`performance.now()`). */
  let shownAt = 0;
  /** Whether the current question has said that typed-ahead input was ignored. */
  let toldIgnored = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once no more questions can be asked: why they are rejected. */
  let ended: string | undefined;

  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let reading = false;
  let inputEnded = false;
  const decoder = new TextDecoder();
  let buffer = "";

  const say = (text: string) => {
    try {
      write(text);
    } catch {
      // A broken terminal must not break the hub; unanswered questions time out.
    }
  };

  const askNext = () => {
    if (current || ended !== undefined || inputEnded) return;
    const next = queue.shift();
    if (!next) return;
    current = next;
    try {
      flushInput?.(); // what it releases arrives within the grace period
    } catch {
      // The terminal keeps its held-back line: the known limit, no worse.
    }
    buffer = ""; // answers must be typed after the question is shown
    toldIgnored = false;
    say(promptText(next.request, timeoutMs <= MAX_TIMER_MS ? seconds : undefined));
    shownAt = performance.now();
    if (timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => {
        timer = undefined;
        finish(
          next,
          { accepted: false, reason: `nobody answered within ${seconds} s` },
          `\nTimed out: nobody answered within ${seconds} s, so the page is rejected.\n`,
        );
      }, timeoutMs);
    }
  };

  /** Settles one pending request (current or queued) and moves the queue on. */
  const finish = (p: Pending, decision: ConsentDecision, note?: string) => {
    if (p === current) {
      clearTimeout(timer);
      timer = undefined;
      current = undefined;
      if (note) say(note);
    } else {
      const i = queue.indexOf(p);
      if (i < 0) return; // already settled
      queue.splice(i, 1);
    }
    p.settle(decision);
    askNext();
  };

  /** Rejects everything, now and later, with `reason`. */
  const end = (reason: string, note?: string) => {
    if (ended !== undefined) return;
    ended = reason;
    clearTimeout(timer);
    timer = undefined;
    const all = current ? [current, ...queue] : [...queue];
    if (current && note) say(note);
    current = undefined;
    queue.length = 0;
    for (const p of all) p.settle({ accepted: false, reason });
  };

  const answer = (line: string) => {
    if (!current) return; // typed while no question was shown: ignore
    const word = line.trim().toLowerCase();
    if (word === "y" || word === "yes") {
      finish(current, { accepted: true, reason: "accepted by the user" }, "Accepted.\n");
    } else {
      finish(current, { accepted: false, reason: "rejected by the user" }, "Rejected.\n");
    }
  };

  const inputClosed = () => {
    end(INPUT_CLOSED, "\nThe hub's terminal input is closed, so the page is rejected.\n");
    try {
      reader?.releaseLock();
    } catch {
      // already released
    }
  };

  /** Whether input arriving now may answer: a question is shown, and not just now. */
  const fresh = () => current !== undefined && performance.now() - shownAt >= graceMs;

  /** Keeps one read under way, from the first request until `input` ends or `close()`. */
  const pump = () => {
    if (reading || ended !== undefined || inputEnded) return;
    if (!reader) {
      try {
        reader = input.getReader();
      } catch {
        inputClosed(); // locked by someone else: we can never read an answer
        return;
      }
    }
    reading = true;
    reader.read().then(
      ({ done, value }) => {
        reading = false;
        if (ended !== undefined) return;
        if (done) {
          const last = buffer + decoder.decode();
          buffer = "";
          inputEnded = true; // settle the current question but ask no more
          if (fresh() && last.trim() !== "") answer(last);
          inputClosed();
          return;
        }
        const text = decoder.decode(value, { stream: true });
        if (!fresh()) {
          // Typed ahead: drop it, and the start of any line it ends or begins.
          buffer = "";
          if (current && !toldIgnored) {
            toldIgnored = true;
            say(`\n${IGNORED}`);
          }
          pump();
          return;
        }
        buffer += text;
        for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
          const line = buffer.slice(0, i).replace(/\r$/, "");
          buffer = buffer.slice(i + 1);
          answer(line); // may show the next question, which empties the buffer
        }
        pump();
      },
      () => {
        reading = false;
        if (ended === undefined) inputClosed();
      },
    );
  };

  return {
    authorize(request: ConsentRequest, signal?: AbortSignal): Promise<ConsentDecision> {
      if (ended !== undefined) return Promise.resolve({ accepted: false, reason: ended });
      if (signal?.aborted) return Promise.resolve({ accepted: false, reason: WITHDRAWN });
      return new Promise<ConsentDecision>((resolve) => {
        const onAbort = () =>
          finish(
            p,
            { accepted: false, reason: WITHDRAWN },
            "\nNo longer asking: the page went away, or the request was answered on the hub page.\n",
          );
        const p: Pending = {
          request,
          settle(decision) {
            signal?.removeEventListener("abort", onAbort);
            resolve(decision);
          },
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(p);
        pump(); // from now on, read all the time: see "Typed-ahead input"
        askNext();
      });
    },
    close(): void {
      end(CLOSED, "\nThe hub is closing, so the page is rejected.\n");
      if (reader) {
        const r = reader;
        reader = undefined;
        r.cancel().catch(() => {});
        try {
          r.releaseLock();
        } catch {
          // already released
        }
      }
    },
  };
}

const INPUT_CLOSED = "the hub's terminal input is closed";
const CLOSED = "the hub stopped asking (the consent prompt was closed)";
const WITHDRAWN = "the page withdrew its request";
const IGNORED = "Ignored what was typed before this question was shown. Your answer [y/N]: ";
/** setTimeout's largest delay; longer timeouts mean "wait forever". */
const MAX_TIMER_MS = 2 ** 31 - 1;
const NAME_MAX = 80;
const HEADER_MAX = 200;

/** The question block for one request. */
function promptText(request: ConsentRequest, seconds?: string): string {
  // Page-supplied text is shown escaped (displayText): it cannot move the
  // cursor, clear the screen, forge the question or reorder the line.
  const name = displayText(request.name, NAME_MAX) || "(empty)";
  const origin = request.origin ? displayText(request.origin, HEADER_MAX) : "undeclared";
  const referer = request.referer ? displayText(request.referer, HEADER_MAX) : "undeclared";
  const lines = [
    "",
    "SAMP Web Profile: a web page asks to register with this hub",
    `  Name:    ${name} (as the page calls itself; not checked)`,
    `  Origin:  ${origin}`,
    `  Referer: ${referer}`,
  ];
  if (originMismatch(request.origin, request.referer)) {
    lines.push(
      "  WARNING: the Referer is not from the declared Origin; this request looks suspicious.",
    );
  }
  lines.push(
    "  If you accept, this page can send messages to the desktop tools on this hub",
    "  and read files that other tools mention. Accept only if you just asked a",
    "  web page you trust to connect.",
    ...(seconds ? [`  No answer within ${seconds} s counts as no.`] : []),
    "Accept? [y/N] ",
  );
  return lines.join("\n");
}

/** `scheme://host[:port]` of a URL, lower-case, default port dropped. */
function urlOrigin(url: URL): string {
  if (url.origin !== "null") return url.origin;
  // Non-special schemes (e.g. moz-extension:) have an opaque origin in the URL
  // standard, but browsers still send scheme://host for them.
  return url.host ? `${url.protocol}//${url.host}`.toLowerCase() : "null";
}

/**
 * Normalises an origin string, or returns undefined when it is not one
 * (it has a path other than "/", a query, a fragment or credentials).
 */
function normaliseOrigin(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === "null") return "null";
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (!url.host || url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== "" && url.pathname !== "/") return undefined;
  if (/[?#]$/.test(trimmed)) return undefined;
  return urlOrigin(url);
}

/**
 * A consent request waiting for an answer, as the page shows it.
 *
 * @example
 * ```ts
 * import type { PendingConsent } from "./consent.ts";
 * const p: PendingConsent = { id: "1", name: "Aladin", since: Date.now() };
 * ```
 */
export interface PendingConsent {
  /** Id used in `POST /page/<token>/consent/<id>`. */
  id: string;
  /** The `samp.name` the page declares (not checked). */
  name: string;
  /** Its `Origin` header, if any. */
  origin?: string;
  /** Its `Referer` header, if any. */
  referer?: string;
  /** When it was asked (ms since the epoch). */
  since: number;
}

/**
 * What a {@linkcode PageConsent} reports to its listeners.
 *
 * @example
 * ```ts
 * import type { ConsentEvent } from "./consent.ts";
 * const describe = (e: ConsentEvent) =>
 *   e.type === "pending" ? `${e.request.name} asks` : `${e.id}: ${e.accepted ? "accepted" : "refused"}`;
 * ```
 */
export type ConsentEvent =
  | { type: "pending"; request: PendingConsent }
  | { type: "decided"; id: string; accepted: boolean; reason: string };

/**
 * An {@linkcode Authorizer} whose requests the hub page shows and can decide.
 *
 * @example
 * ```ts
 * import { pageConsent } from "./consent.ts";
 * const consent = pageConsent(undefined, { timeoutMs: 1000 });
 * consent.close?.();
 * ```
 */
export interface PageConsent extends Authorizer {
  /** The requests waiting for an answer, oldest first. */
  pending(): PendingConsent[];
  /** Answers a pending request; false if there is no such request (any more). */
  decide(id: string, accepted: boolean): boolean;
  /** Listens for new and decided requests; returns a function that stops listening. */
  listen(listener: (event: ConsentEvent) => void): () => void;
}

/**
 * Wraps `fallback` (e.g. the terminal prompt) so that each request is also
 * shown on the hub page: whichever answers first, the page or `fallback`,
 * decides, and the other is withdrawn (its `signal` aborts). Without a
 * `fallback`, a request not answered on the page within `timeoutMs`
 * (default 120 000) is refused. `close()` refuses what is pending and closes
 * `fallback`.
 *
 * @example
 * ```ts
 * import { rejectAll } from "./consent.ts";
 * import { pageConsent } from "./consent.ts";
 * const consent = pageConsent(rejectAll());
 * const d = await consent.authorize({ name: "x" });
 * d.accepted; // false
 * ```
 */
export function pageConsent(
  fallback?: Authorizer,
  options: { timeoutMs?: number } = {},
): PageConsent {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const seconds = Number((timeoutMs / 1000).toFixed(3));
  const listeners = new Set<(event: ConsentEvent) => void>();
  const waiting = new Map<string, { info: PendingConsent; settle(d: ConsentDecision): void }>();
  let next = 0;
  let closed = false;
  const emit = (event: ConsentEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch {
        // a broken listener must not break consent
      }
    }
  };

  return {
    authorize(request: ConsentRequest, signal?: AbortSignal): Promise<ConsentDecision> {
      if (closed) {
        return Promise.resolve({ accepted: false, reason: "the hub is closing" });
      }
      if (signal?.aborted) {
        return Promise.resolve({ accepted: false, reason: "the page withdrew its request" });
      }
      const id = String(++next);
      const info: PendingConsent = {
        id,
        name: String(request.name),
        origin: request.origin,
        referer: request.referer,
        since: Date.now(),
      };
      const withdraw = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      return new Promise<ConsentDecision>((resolve) => {
        const onAbort = () => settle({ accepted: false, reason: "the page withdrew its request" });
        const settle = (d: ConsentDecision) => {
          if (!waiting.has(id)) return;
          waiting.delete(id);
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          withdraw.abort();
          emit({ type: "decided", id, accepted: d.accepted, reason: d.reason });
          resolve(d);
        };
        waiting.set(id, { info, settle });
        signal?.addEventListener("abort", onAbort, { once: true });
        emit({ type: "pending", request: info });
        if (fallback) {
          fallback.authorize(request, withdraw.signal).then(
            settle,
            (e) =>
              settle({ accepted: false, reason: `consent failed: ${(e as Error)?.message ?? e}` }),
          );
        } else {
          timer = setTimeout(
            () =>
              settle({
                accepted: false,
                reason: `nobody answered on the hub page within ${seconds} s`,
              }),
            timeoutMs,
          );
        }
      });
    },
    pending: () => [...waiting.values()].map((w) => w.info),
    decide(id: string, accepted: boolean): boolean {
      const w = waiting.get(id);
      if (!w) return false;
      w.settle({
        accepted,
        reason: accepted ? "accepted by the user on the hub page" : "rejected on the hub page",
      });
      return true;
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close(): void {
      closed = true;
      for (const w of [...waiting.values()]) {
        w.settle({ accepted: false, reason: "the hub is closing" });
      }
      fallback?.close?.();
    },
  };
}

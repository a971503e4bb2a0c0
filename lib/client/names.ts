/**
 * Finding a client by the name people use for it. Real tools register with
 * their own spelling (SAOImage DS9 as `SAOImageDS9`, Aladin Desktop as
 * `Aladin`, TOPCAT as `topcat`), while people type `ds9`, `aladin`,
 * `topcat`. A name is tried, in this order, as:
 *
 * 1. a public id (`c3`, `hub`);
 * 2. a `samp.name`, ignoring case;
 * 3. an everyday name of a well-known tool ({@linkcode WELL_KNOWN_CLIENTS}:
 *    `ds9` is `SAOImageDS9`);
 * 4. the start of exactly one `samp.name`, ignoring case;
 * 5. a part of exactly one `samp.name`, ignoring case.
 *
 * The first step that finds anything decides. A name several clients share
 * (two TOPCATs) designates all of them. A name that fits several different
 * tools at steps 4 or 5 is an {@linkcode AmbiguousClientError}; one that fits
 * nobody is an {@linkcode UnknownClientError}. Steps 3 to 5 never pick the
 * asking client itself (a script called `ds9-image` asking for `ds9` means
 * DS9, not itself).
 *
 * @example
 * ```ts
 * import { resolveClients } from "./names.ts";
 * const registered = [{ id: "c1", name: "SAOImageDS9" }, { id: "c2", name: "topcat" }];
 * resolveClients(registered, "ds9"); // [{ id: "c1", name: "SAOImageDS9" }]
 * resolveClients(registered, "TOP"); // [{ id: "c2", name: "topcat" }]
 * ```
 *
 * @module
 */

/**
 * A client as name resolution sees it: a public id and maybe a `samp.name`.
 *
 * @example
 * ```ts
 * import type { NamedClient } from "./names.ts";
 * const ds9: NamedClient = { id: "c2", name: "SAOImageDS9" };
 * ```
 */
export interface NamedClient {
  /** Public id. */
  readonly id: string;
  /** `samp.name`, if declared. */
  readonly name?: string;
}

/**
 * Everyday names of well-known tools (lower case) and the `samp.name` each
 * tool registers with. Only names whose registration we have seen in the
 * tool's own source or on a running copy are listed.
 *
 * @example
 * ```ts
 * import { WELL_KNOWN_CLIENTS } from "./names.ts";
 * WELL_KNOWN_CLIENTS["ds9"]; // "SAOImageDS9"
 * ```
 */
export const WELL_KNOWN_CLIENTS: Readonly<Record<string, string>> = Object.freeze({
  // SAOImage DS9 (library/samp.tcl: samp.name SAOImageDS9); saods9 is Debian's name for it.
  ds9: "SAOImageDS9",
  saods9: "SAOImageDS9",
  // Aladin Desktop.
  aladin: "Aladin",
  // TOPCAT (uk.ac.starlink.topcat.interop: meta.setName("topcat")).
  topcat: "topcat",
});

/**
 * Options of {@linkcode findClients} and {@linkcode resolveClients}.
 *
 * @example
 * ```ts
 * import type { ResolveOptions } from "./names.ts";
 * const options: ResolveOptions = { selfId: "c4" };
 * ```
 */
export interface ResolveOptions {
  /** The asking client's own id: never found by an everyday name, prefix or part. */
  selfId?: string;
  /** Everyday names to use instead of {@linkcode WELL_KNOWN_CLIENTS} (keys in lower case). */
  aliases?: Readonly<Record<string, string>>;
}

/**
 * A name that does not designate one tool: the base of
 * {@linkcode UnknownClientError} and {@linkcode AmbiguousClientError}.
 *
 * @example
 * ```ts
 * import { ClientNameError, resolveClients } from "./names.ts";
 * try {
 *   resolveClients([], "ds9");
 * } catch (e) {
 *   if (e instanceof ClientNameError) console.error(e.message);
 * }
 * ```
 */
export class ClientNameError extends Error {
  /** The name that was asked for. */
  readonly query: string;
  /** The clients the message lists (see each subclass). */
  readonly candidates: readonly NamedClient[];

  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { ClientNameError } from "./names.ts";
   * new ClientNameError("no such tool", "x", []);
   * ```
   */
  constructor(message: string, query: string, candidates: readonly NamedClient[]) {
    super(message);
    this.name = "ClientNameError";
    this.query = query;
    this.candidates = candidates.map((
      { id, name },
    ) => (name === undefined ? { id } : { id, name }));
  }
}

/**
 * No client goes by that name. `candidates` are the clients registered
 * (other than the asking one), so a message can say who is there.
 *
 * @example
 * ```ts
 * import { resolveClients, UnknownClientError } from "./names.ts";
 * try {
 *   resolveClients([{ id: "c1", name: "topcat" }], "aladin");
 * } catch (e) {
 *   if (e instanceof UnknownClientError) console.error(e.candidates.map((c) => c.name));
 * }
 * ```
 */
export class UnknownClientError extends ClientNameError {
  /**
   * Makes the error, with a message listing `registered`.
   *
   * @example
   * ```ts
   * import { UnknownClientError } from "./names.ts";
   * new UnknownClientError("aladin", [{ id: "c1", name: "topcat" }]).message;
   * // 'no client "aladin" is registered; there are: c1 (topcat)'
   * ```
   */
  constructor(query: string, registered: readonly NamedClient[]) {
    super(
      `no client "${query}" is registered; there are: ${
        registered.length > 0 ? registered.map(clientLabel).join(", ") : "none"
      }`,
      query,
      registered,
    );
    this.name = "UnknownClientError";
  }
}

/**
 * The name fits several different tools (as a prefix or a part of their
 * `samp.name`). `candidates` are all the clients it fits.
 *
 * @example
 * ```ts
 * import { AmbiguousClientError, resolveClients } from "./names.ts";
 * const registered = [{ id: "c1", name: "Aladin" }, { id: "c2", name: "Aladin Lite" }];
 * try {
 *   resolveClients(registered, "alad");
 * } catch (e) {
 *   if (e instanceof AmbiguousClientError) console.error(e.candidates.map((c) => c.id)); // c1, c2
 * }
 * ```
 */
export class AmbiguousClientError extends ClientNameError {
  /**
   * Makes the error, with a message listing `candidates`.
   *
   * @example
   * ```ts
   * import { AmbiguousClientError } from "./names.ts";
   * new AmbiguousClientError("a", [{ id: "c1", name: "Aladin" }, { id: "c2", name: "astro" }]);
   * ```
   */
  constructor(query: string, candidates: readonly NamedClient[]) {
    super(
      `"${query}" could be any of ${candidates.map(clientLabel).join(", ")}: ` +
        "give more of the name, or the public id",
      query,
      candidates,
    );
    this.name = "AmbiguousClientError";
  }
}

/**
 * "c3 (topcat)", or the bare id for a client without a name.
 *
 * @example
 * ```ts
 * import { clientLabel } from "./names.ts";
 * clientLabel({ id: "c3", name: "topcat" }); // "c3 (topcat)"
 * ```
 */
export function clientLabel(client: NamedClient): string {
  return client.name === undefined ? client.id : `${client.id} (${client.name})`;
}

/**
 * The clients `query` designates (see the module doc for the order of
 * steps); `[]` when it designates none.
 *
 * @param clients The registered clients.
 * @param query A public id, a `samp.name` or part of one, or an everyday name.
 * @param options The asking client's id; other aliases.
 * @returns Usually one client; several when they share that `samp.name`.
 * @throws {AmbiguousClientError} If `query` fits several different tools.
 *
 * @example
 * ```ts
 * import { findClients } from "./names.ts";
 * const registered = [{ id: "c1", name: "topcat" }, { id: "c2", name: "topcat" }];
 * findClients(registered, "topcat").length; // 2
 * findClients(registered, "aladin"); // []
 * ```
 */
export function findClients<C extends NamedClient>(
  clients: Iterable<C>,
  query: string,
  options: ResolveOptions = {},
): C[] {
  if (query === "") return [];
  const all = [...clients];
  const byId = all.find((c) => c.id === query);
  if (byId) return [byId];
  const lower = query.toLowerCase();
  const exact = all.filter((c) => c.name?.toLowerCase() === lower);
  if (exact.length > 0) return exact;

  const others = all.filter((c) => c.id !== options.selfId && c.name !== undefined);
  const alias = (options.aliases ?? WELL_KNOWN_CLIENTS)[lower]?.toLowerCase();
  if (alias !== undefined) {
    const named = others.filter((c) => c.name!.toLowerCase() === alias);
    if (named.length > 0) return named;
  }
  for (const fits of [(n: string) => n.startsWith(lower), (n: string) => n.includes(lower)]) {
    const found = others.filter((c) => fits(c.name!.toLowerCase()));
    if (found.length === 0) continue;
    const names = new Set(found.map((c) => c.name!.toLowerCase()));
    if (names.size > 1) throw new AmbiguousClientError(query, found);
    return found;
  }
  return [];
}

/**
 * Like {@linkcode findClients}, but a name that designates nobody is an
 * error listing who is registered.
 *
 * @param clients The registered clients.
 * @param query A public id, a `samp.name` or part of one, or an everyday name.
 * @param options The asking client's id (left out of the list of who is there).
 * @returns One client or more.
 * @throws {UnknownClientError} If `query` designates no client.
 * @throws {AmbiguousClientError} If `query` fits several different tools.
 *
 * @example
 * ```ts
 * import { resolveClients } from "./names.ts";
 * const [ds9] = resolveClients([{ id: "c1", name: "SAOImageDS9" }], "ds9");
 * console.log(ds9.id); // "c1"
 * ```
 */
export function resolveClients<C extends NamedClient>(
  clients: Iterable<C>,
  query: string,
  options: ResolveOptions = {},
): C[] {
  const all = [...clients];
  const found = findClients(all, query, options);
  if (found.length > 0) return found;
  throw new UnknownClientError(query, all.filter((c) => c.id !== options.selfId));
}

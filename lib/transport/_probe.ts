/**
 * Whether anything listens at a URL's port: one connection attempt, typed
 * by Deno. `fetch` reports a refused connection only in its message text, so
 * callers that must know ask the network again instead of reading the text.
 *
 * @module
 */

/** Longest wait for the probing connection. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * Whether a connection to `url`'s host and port is refused now (nothing
 * listens there). Outside Deno (a browser), always false: it cannot tell.
 *
 * @example
 * ```ts
 * import { refusesConnections } from "./_probe.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * console.log(await refusesConnections(`http://127.0.0.1:${port}/`)); // false
 * listener.close();
 * console.log(await refusesConnections(`http://127.0.0.1:${port}/`)); // true
 * ```
 */
export async function refusesConnections(url: string): Promise<boolean> {
  if (typeof Deno === "undefined" || typeof Deno.connect !== "function") return false;
  const u = new URL(url);
  const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), PROBE_TIMEOUT_MS);
  try {
    const conn = await Deno.connect({
      hostname,
      port: u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80,
      signal: abort.signal,
    });
    conn.close();
    return false;
  } catch (e) {
    return e instanceof Deno.errors.ConnectionRefused;
  } finally {
    clearTimeout(timer);
  }
}

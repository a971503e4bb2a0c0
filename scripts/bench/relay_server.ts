/**
 * The bare relay that `deno task bench:peers` runs as the ceiling: a
 * `Deno.serve` server that forwards POST bodies without parsing them, routed
 * by the query string (the protocol is in relay_target.ts).
 *
 * @module
 */

import { createHttpPool } from "../../lib/transport/http_pool.ts";
import { xmlResponse } from "./_xml_response.ts";

/** How long `/wait` holds a request for its `/done`. */
const HOLD_MS = 60000;

/**
 * The relay ceiling: takes a POST and forwards its body, routed by the query
 * string, answering at once (`/fwd`, `/fan`) or when the reply comes back
 * (`/wait` … `/done`). Anything else (a ping) gets an empty XML-RPC answer.
 * It forwards through the same HTTP client as the hub's callbacks
 * (lib/transport/http_pool.ts), so it stays the ceiling of what the hub's
 * transport can do.
 *
 * @example
 * ```ts
 * import { serveRelay } from "./relay_server.ts";
 * const server = serveRelay(0);
 * console.log(`relay at http://127.0.0.1:${server.addr.port}/`);
 * await server.shutdown();
 * ```
 */
export function serveRelay(port: number): Deno.HttpServer<Deno.NetAddr> {
  const groups = new Map<string, string[]>();
  const held = new Map<string, (body: string) => void>();
  let failures = 0;
  const pool = createHttpPool();
  const forward = (to: string | null, body: string): void => {
    if (!to) return void failures++;
    pool.post(to, body)
      .catch((e) => {
        if (failures++ < 5) console.error(`relay: forwarding to ${to} failed: ${e}`);
      });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const q = url.searchParams;
    const body = await req.text();
    switch (url.pathname) {
      case "/fwd":
        forward(q.get("to"), body);
        return xmlResponse();
      case "/group":
        groups.set(q.get("id") ?? "", body.split("\n").filter(Boolean));
        return xmlResponse();
      case "/fan":
        for (const to of groups.get(q.get("group") ?? "") ?? []) forward(to, body);
        return xmlResponse();
      case "/wait": {
        const id = q.get("id") ?? "";
        let timer: ReturnType<typeof setTimeout> | undefined;
        const answer = new Promise<string | null>((resolve) => {
          held.set(id, resolve);
          timer = setTimeout(() => resolve(null), HOLD_MS);
        });
        forward(q.get("to"), body);
        const text = await answer;
        clearTimeout(timer);
        held.delete(id);
        return text === null
          ? new Response("no reply within 60 s\n", { status: 504 })
          : xmlResponse(text);
      }
      case "/done":
        held.get(q.get("id") ?? "")?.(body);
        return xmlResponse();
      default:
        return xmlResponse();
    }
  });
  server.finished.then(() => pool.close());
  return server;
}

/**
 * Serves the relay on `port` (0: any free one) until SIGTERM or SIGINT,
 * printing its URL: what `bench_peers.ts --serve-relay PORT` runs.
 *
 * @example
 * ```ts ignore
 * import { runRelay } from "./relay_server.ts";
 * await runRelay(0);
 * ```
 */
export async function runRelay(port: number): Promise<void> {
  const server = serveRelay(port);
  const stop = (): Promise<void> => server.shutdown();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  console.log(`relay at http://127.0.0.1:${server.addr.port}/`);
  await server.finished;
}

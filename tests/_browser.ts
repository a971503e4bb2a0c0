// Real-browser tests: headless Debian Chromium driven by npm playwright-core,
// a page served from loopback, the npm sampjs library, and our own client
// bundled for the browser. Everything Playwright is behind this module.
//
// Chromium is a peer like jsamp (tests/_peers.ts): without /usr/bin/chromium,
// or without --allow-all (which playwright-core needs under Deno), the browser
// tests are ignored, unless SAMP_REQUIRE_PEERS=1: then they fail saying why.

import type { Browser, BrowserContext, Page } from "npm:playwright-core@1.65.1";
// sampjs is a browser library: importing it here only makes Deno fetch and
// cache the package (and pin it in deno.lock); its samp.js is served to pages.
import "npm:sampjs@1.0.3";
import { createRequire } from "node:module";
import { CHROMIUM, PEER_INSTALL_HINT, peersRequired, peerStatus, runBounded } from "./_peers.ts";
import { ROOT } from "./_helpers.ts";

export { CHROMIUM };

/** Where sampjs looks for the hub: hard-wired in samp.js (`WEBSAMP_PORT`). */
export const SAMPJS_HUB_PORT = 21012;

/** How long any single wait on the browser may take. */
export const BROWSER_WAIT_MS = 15_000;

type Playwright = typeof import("npm:playwright-core@1.65.1");
let playwright: Promise<Playwright> | undefined;

/**
 * Loads playwright-core lazily, so that this module itself loads with any
 * permissions: under Deno playwright-core needs --allow-all, as loading it
 * reads /proc/sys/fs/binfmt_misc/WSLInterop (its WSL check), which Deno
 * grants to nothing less.
 */
function loadPlaywright(): Promise<Playwright> {
  playwright ??= import("npm:playwright-core@1.65.1");
  return playwright;
}

/** Whether the browser tests can run here, and if not, why not and what to do. */
async function browserStatus(): Promise<{ available: boolean; detail: string }> {
  const status = await peerStatus("chromium");
  if (!status.available) {
    return {
      available: false,
      detail: `the browser tests need Chromium: ${status.detail}. ` +
        `Install it with: ${PEER_INSTALL_HINT}`,
    };
  }
  try {
    await loadPlaywright();
  } catch (e) {
    playwright = undefined;
    return {
      available: false,
      detail: `the browser tests drive Chromium with npm playwright-core, which could not ` +
        `load: ${(e as Error).message}. Under Deno it needs --allow-all ` +
        `(deno test --allow-all tests/browser_test.ts)`,
    };
  }
  return { available: true, detail: status.detail };
}

let statusOnce: ReturnType<typeof browserStatus> | undefined;

/**
 * Registers a test that needs Chromium (and the permissions Playwright
 * needs). Without them the test is ignored, or, with SAMP_REQUIRE_PEERS=1,
 * fails saying what is missing.
 */
export async function browserTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
  options: Pick<Deno.TestDefinition, "sanitizeOps" | "sanitizeResources"> = {},
): Promise<void> {
  const status = await (statusOnce ??= browserStatus());
  if (status.available) {
    Deno.test({ name, fn, ...options });
  } else if (peersRequired()) {
    Deno.test({
      name,
      fn() {
        throw new Error(`${status.detail} (or unset SAMP_REQUIRE_PEERS to ignore these tests)`);
      },
    });
  } else {
    Deno.test({ name, ignore: true, fn });
  }
}

/** Rejects with `what` if `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- what the page gets ---------------------------------------------------

let sampjsText: Promise<string> | undefined;

/** The text of npm sampjs's `samp.js`, from Deno's npm cache. */
export function sampjsSource(): Promise<string> {
  sampjsText ??= Deno.readTextFile(createRequire(import.meta.url).resolve("sampjs/samp.js"));
  return sampjsText;
}

let bundled: Promise<string> | undefined;

/**
 * Our client for browsers: `SampClient` (with `web: true` it registers
 * through the Web Profile) bundled into one ES module by `deno bundle --platform browser` (esbuild,
 * which Deno fetches from npm once and then keeps in its cache).
 */
export function webClientBundle(): Promise<string> {
  bundled ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "samp-bundle-" });
    try {
      const entry = `${dir}/entry.ts`;
      const lib = (p: string) => new URL(`../lib/client/${p}`, import.meta.url).href;
      await Deno.writeTextFile(
        entry,
        `export { SampClient } from "${lib("client.ts")}";\n`,
      );
      const out = `${dir}/client.js`;
      const r = await runBounded(Deno.execPath(), [
        "bundle",
        "--quiet",
        `--config=${ROOT}deno.json`,
        "--platform=browser",
        "--format=esm",
        `--output=${out}`,
        entry,
      ], { env: { NO_COLOR: "1" }, timeoutMs: 120_000 });
      if (r.code !== 0) {
        throw new Error(`deno bundle failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
      }
      return await Deno.readTextFile(out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  return bundled;
}

/** One file of the test site. */
export interface PageFile {
  type: string;
  body: string | (() => string | Promise<string>);
}

/** The test site: a `Deno.serve` on 127.0.0.1, a different origin from the hub's. */
export interface PageServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** Paths requested so far. */
  readonly requests: string[];
  url(path: string): string;
  close(): Promise<void>;
}

/** Serves `files` (path → content) on loopback; anything else is 404. */
export function servePage(files: Record<string, PageFile>): PageServer {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push(`${req.method} ${path}`);
    const file = files[path];
    if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
      return new Response("not found\n", { status: 404 });
    }
    const body = typeof file.body === "string" ? file.body : await file.body();
    return new Response(req.method === "HEAD" ? null : body, {
      headers: { "content-type": file.type, "cache-control": "no-store" },
    });
  });
  const port = server.addr.port;
  const origin = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  const close = () => closing ??= server.shutdown();
  return {
    origin,
    port,
    requests,
    url: (path) => `${origin}${path}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

// ---- the browser ------------------------------------------------------------

/** A CORS preflight the browser sent, with the answer it got (seen through CDP). */
export interface Preflight {
  url: string;
  origin?: string;
  requestHeaders: Record<string, string>;
  status?: number;
  responseHeaders: Record<string, string>;
}

/** A page in its own browser context, with what it logged. */
export interface BrowserPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Uncaught exceptions and console errors. */
  readonly errors: string[];
  /** Every console message, for failure reports. */
  readonly console: string[];
  /** CORS preflights sent by this page's frame. */
  readonly preflights: Preflight[];
  /** Evaluates a JavaScript expression in the page (bounded). */
  eval<T = unknown>(expression: string, ms?: number): Promise<T>;
  /** Waits until a JavaScript expression is truthy in the page (bounded). */
  until(expression: string, what: string, ms?: number): Promise<void>;
}

/** A headless Chromium. */
export interface BrowserSession extends AsyncDisposable {
  readonly browser: Browser;
  /** Opens `url` in a new context; `grant` lists permissions for its origin. */
  open(url: string, options?: { grant?: string[] }): Promise<BrowserPage>;
  close(): Promise<void>;
}

/** The launch flags of the brief: headless, no sandbox (root in CI), no GPU, no chatter. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
];

/** Launches Debian's Chromium through playwright-core. */
export async function launchBrowser(extraArgs: string[] = []): Promise<BrowserSession> {
  const { chromium } = await loadPlaywright();
  const browser = await within(
    chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      timeout: BROWSER_WAIT_MS,
    }),
    BROWSER_WAIT_MS + 5000,
    `launching ${CHROMIUM}`,
  );
  let closing: Promise<void> | undefined;
  const close = () => closing ??= within(browser.close(), BROWSER_WAIT_MS, "closing Chromium");
  return {
    browser,
    async open(url, options = {}) {
      const context = await browser.newContext();
      if (options.grant?.length) {
        await context.grantPermissions(options.grant, { origin: new URL(url).origin });
      }
      const page = await context.newPage();
      page.setDefaultTimeout(BROWSER_WAIT_MS);
      const errors: string[] = [];
      const consoleLines: string[] = [];
      const preflights: Preflight[] = [];
      page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
      page.on("console", (m) => {
        consoleLines.push(`${m.type()}: ${m.text()}`);
        if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
      });
      await watchPreflights(context, page, preflights);
      const response = await page.goto(url);
      if (!response?.ok()) throw new Error(`the test page ${url} answered ${response?.status()}`);
      const report = () =>
        `\n-- page console --\n${consoleLines.join("\n") || "(nothing)"}\n-- page errors --\n${
          errors.join("\n") || "(none)"
        }`;
      return {
        page,
        context,
        errors,
        console: consoleLines,
        preflights,
        async eval<T>(expression: string, ms = BROWSER_WAIT_MS): Promise<T> {
          try {
            return await within(page.evaluate(expression) as Promise<T>, ms, expression);
          } catch (e) {
            throw new Error(`in the page, ${expression}: ${(e as Error).message}${report()}`);
          }
        },
        async until(expression: string, what: string, ms = BROWSER_WAIT_MS): Promise<void> {
          try {
            await page.waitForFunction(expression, undefined, { timeout: ms, polling: 50 });
          } catch (e) {
            const state = await page.evaluate("JSON.stringify(globalThis.state ?? null)")
              .catch(() => "(unavailable)");
            throw new Error(
              `the page never reached: ${what} (${expression}): ${(e as Error).message}\n` +
                `-- page state --\n${state}${report()}`,
            );
          }
        },
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Records the page's CORS preflights (requests and answers) through the DevTools protocol. */
async function watchPreflights(
  context: BrowserContext,
  page: Page,
  into: Preflight[],
): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const byId = new Map<string, Preflight>();
  cdp.on("Network.requestWillBeSent", (e) => {
    if (e.request.method !== "OPTIONS") return;
    const p: Preflight = {
      url: e.request.url,
      origin: e.request.headers["Origin"],
      requestHeaders: lower(e.request.headers),
      responseHeaders: {},
    };
    byId.set(e.requestId, p);
    into.push(p);
  });
  cdp.on("Network.responseReceived", (e) => {
    const p = byId.get(e.requestId);
    if (!p || e.type !== "Preflight") return;
    p.status = e.response.status;
    p.responseHeaders = lower(e.response.headers);
  });
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

// ---- port 21012 -----------------------------------------------------------------

/**
 * Throws, saying why, if the sampjs hub port is taken on 127.0.0.1 or [::1]
 * (Chromium may try either for `localhost`).
 */
export function assertSampjsPortFree(): void {
  for (const hostname of ["127.0.0.1", "::1"]) {
    let listener: Deno.Listener | undefined;
    try {
      listener = Deno.listen({ hostname, port: SAMPJS_HUB_PORT });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        throw new Error(
          `port ${SAMPJS_HUB_PORT} is busy on ${hostname}: sampjs can reach a hub only at ` +
            `http://localhost:${SAMPJS_HUB_PORT}/ (hard-wired in samp.js), so these tests need ` +
            "that port. Stop whatever holds it (another SAMP hub with its Web Profile: " +
            "samp_hub, TOPCAT, Aladin…) and run them again.",
        );
      }
      if (hostname === "127.0.0.1") throw e;
      // No IPv6 loopback here: nothing can be listening there either.
    } finally {
      listener?.close();
    }
  }
}

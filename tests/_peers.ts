// Interop peers (Debian's `jsamp`, `python3-astropy` and, for the browser
// tests, `chromium`): finding them, and registering tests that need them.
//
// A missing peer makes its tests "ignored", unless SAMP_REQUIRE_PEERS=1 (set
// in CI): then the tests run and fail, saying what is missing and how to
// install it.

import { runBounded } from "../scripts/hubs.ts";

/** Runs a command, bounded in time; never throws (shared with the bench). */
export { runBounded };

export type PeerName = "jsamp" | "astropy" | "chromium";

/** The Python that has astropy on Debian (the default `python3` may be another install). */
export const PYTHON = "/usr/bin/python3";

export const PEER_INSTALL_HINT = "apt-get install jsamp python3-astropy chromium";

/** Debian's Chromium, driven by the browser tests (tests/_browser.ts). */
export const CHROMIUM = "/usr/bin/chromium";

const PROBES: Record<PeerName, { cmd: string; args: string[]; what: string }> = {
  jsamp: {
    cmd: "jsamp",
    args: ["-version"],
    what: "the `jsamp` command (Debian package jsamp)",
  },
  astropy: {
    cmd: PYTHON,
    args: ["-c", "import astropy.samp, astropy; print(astropy.__version__)"],
    what: `astropy.samp for ${PYTHON} (Debian package python3-astropy)`,
  },
  chromium: {
    cmd: CHROMIUM,
    args: ["--version"],
    what: `${CHROMIUM} (Debian package chromium)`,
  },
};

export interface PeerStatus {
  available: boolean;
  /** The probe's version output when available, else why not. */
  detail: string;
}

const cache = new Map<PeerName, Promise<PeerStatus>>();

/** Whether SAMP_REQUIRE_PEERS=1 (missing peers fail instead of being ignored). */
export function peersRequired(): boolean {
  try {
    return Deno.env.get("SAMP_REQUIRE_PEERS") === "1";
  } catch {
    return false; // no env permission
  }
}

/** Probes a peer once per process (a JVM start for jsamp, an import for astropy). */
export function peerStatus(name: PeerName): Promise<PeerStatus> {
  let p = cache.get(name);
  if (!p) {
    const probe = PROBES[name];
    p = runBounded(probe.cmd, probe.args, {
      env: { SAMP_HUB: "", NO_COLOR: "1" },
      timeoutMs: 30000,
    }).then((r) => {
      const text = (r.stdout + r.stderr).trim();
      if (r.code === 0) return { available: true, detail: text };
      const why = r.timedOut
        ? "the probe timed out"
        : r.code === -1
        ? text
        : `exit ${r.code}: ${text.split("\n").slice(-3).join(" | ")}`;
      return { available: false, detail: `${probe.what} not usable (${why})` };
    });
    cache.set(name, p);
  }
  return p;
}

export async function peerAvailable(name: PeerName): Promise<boolean> {
  return (await peerStatus(name)).available;
}

/**
 * Registers a Deno test that needs `name`. When the peer is missing the test
 * is ignored, or, with SAMP_REQUIRE_PEERS=1, fails saying how to install it.
 * Await it at the top level of the test module.
 */
export async function peerTest(
  name: PeerName,
  testName: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
): Promise<void> {
  const status = await peerStatus(name);
  if (status.available) {
    Deno.test({ name: testName, fn });
  } else if (peersRequired()) {
    Deno.test({
      name: testName,
      fn() {
        throw new Error(
          `interop peer "${name}" is missing: ${status.detail}. ` +
            `Install the peers with: ${PEER_INSTALL_HINT} ` +
            `(or unset SAMP_REQUIRE_PEERS to ignore these tests)`,
        );
      },
    });
  } else {
    Deno.test({ name: testName, ignore: true, fn });
  }
}

// End-to-end tests of the `samp_hub` command: each test starts the real hub
// entry as a subprocess with exactly HUB_PERMISSIONS (startHubProcess), with
// HOME set to a fresh temp dir, and drives it over loopback HTTP.

import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { parseLockfile } from "../lib/lockfile.ts";
import type { SampMap } from "../lib/types.ts";
import { VERSION } from "../lib/version.ts";
import { xmlrpcRequest } from "../lib/transport/xmlrpc_client.ts";
import { exists, startHubProcess, TestClient, waitFor } from "./_helpers.ts";

/** A `samp_hub` subprocess with its stdout and stderr kept apart. */
class HubRun {
  stdout = "";
  stderr = "";
  status: Deno.CommandStatus | undefined;
  readonly done: Promise<Deno.CommandStatus>;

  constructor(readonly child: Deno.ChildProcess) {
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this[into] += decoder.decode(chunk, { stream: true });
    };
    this.done = Promise.all([
      pump(child.stdout, "stdout"),
      pump(child.stderr, "stderr"),
      child.status,
    ]).then(([, , status]) => this.status = status);
  }

  /** Waits (bounded) for the exit, streams drained; SIGKILLs and fails after `ms`. */
  async exited(ms = 10_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
    const result = await Promise.race([this.done, timeout]);
    clearTimeout(timer);
    if (result !== "timeout") return result;
    this.kill("SIGKILL");
    await this.done;
    throw new Error(
      `samp_hub did not exit within ${ms} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
    );
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  stop(signal: Deno.Signal = "SIGTERM", ms = 10_000): Promise<Deno.CommandStatus> {
    this.kill(signal);
    return this.exited(ms);
  }

  kill(signal: Deno.Signal): void {
    if (this.status !== undefined) return;
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Waits for the two start lines on stdout, which come after the lockfile is written. */
  async started(ms = 15_000): Promise<{ url: string; lockfile: string }> {
    return await waitFor(
      () => {
        if (this.status !== undefined) {
          throw new Error(
            `samp_hub exited with ${this.status.code} before starting\n` +
              `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
          );
        }
        const m = /^SAMP hub running at (\S+)\nlockfile: (.+)\n/m.exec(this.stdout);
        return m ? { url: m[1], lockfile: m[2] } : null;
      },
      ms,
      "samp_hub to print its URL and lockfile",
    );
  }
}

interface Scene {
  /** A fresh temp dir, also the HOME of every hub started here. */
  dir: string;
  /** Starts `samp_hub args` with HUB_PERMISSIONS and HOME=dir. */
  hub(args: string[], env?: Record<string, string>): HubRun;
  /** Registers a TestClient (callable by default), shut down at the end. */
  client(url: string, secret: string, callable?: boolean): Promise<TestClient>;
}

/** Runs `fn` with a temp dir; stops every hub and client it started and removes the dir. */
async function scene(fn: (s: Scene) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp-cli-test-" });
  const runs: HubRun[] = [];
  const clients: TestClient[] = [];
  try {
    await fn({
      dir,
      hub(args, env) {
        const run = new HubRun(startHubProcess(args, { dir, env }));
        runs.push(run);
        return run;
      },
      async client(url, secret, callable = true) {
        const c = await TestClient.register(url, secret, callable);
        clients.push(c);
        return c;
      },
    });
  } finally {
    for (const c of clients) await c.close(false);
    for (const r of runs) await r.stop("SIGKILL").catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

async function readLock(path: string) {
  return parseLockfile(await Deno.readTextFile(path));
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function listDir(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort();
}

/** A loopback port nobody listens on now (bound, then released). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16))
    .map((h) => h.padStart(2, "0")).join("");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ONE_LINE = /^samp_hub: [^\n]+\n$/;

// ---- arguments -------------------------------------------------------------

Deno.test("--help prints the usage on stdout, exits 0 and starts no hub", async () => {
  await scene(async ({ dir, hub }) => {
    const run = hub(["--help"]);
    const status = await run.exited();
    assert.equal(status.code, 0);
    assert.match(run.stdout, /^samp_hub \S+: a SAMP 1\.3 hub/);
    assert.match(run.stdout, /Usage: samp_hub \[options\]/);
    for (const flag of ["--lockfile", "--multi", "--port", "--timeout", "--client-timeout"]) {
      assert.ok(run.stdout.includes(flag), `--help should list ${flag}`);
    }
    assert.equal(run.stderr, "");
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("--version prints the version and exits 0", async () => {
  await scene(async ({ hub }) => {
    const run = hub(["--version"]);
    assert.equal((await run.exited()).code, 0);
    assert.equal(run.stdout, `samp_hub ${VERSION}\n`);
    assert.equal(run.stderr, "");
  });
});

Deno.test("bad flags exit 2 with one stderr line naming the flag and write no lockfile", async () => {
  await scene(async ({ dir, hub }) => {
    const lockfile = `${dir}/hub.samp`;
    const cases: { args: string[]; names: string[] }[] = [
      { args: ["--bogus"], names: ["--bogus"] },
      { args: ["--port", "abc"], names: ["--port", '"abc"'] },
      { args: ["--port", "70000"], names: ["--port", '"70000"'] },
      { args: ["--timeout", "-1"], names: ["--timeout", '"-1"'] },
      { args: ["-c", "-5"], names: ["--client-timeout", '"-5"'] },
      { args: ["--log-level", "LOUD"], names: ["--log-level", '"LOUD"'] },
      { args: ["--web-port", "99999"], names: ["--web-port"] },
      { args: ["--multi=yes"], names: ["--multi"] },
      { args: ["--port"], names: ["--port"] }, // the value is missing at the end
      { args: ["-p"], names: ["--port"] },
      { args: ["--lockfile", `${dir}/x.samp`, "--multi"], names: ["--lockfile", "--multi"] },
    ];
    const runs = cases.map(({ args }) =>
      hub(args.includes("--lockfile") ? args : ["--lockfile", lockfile, ...args])
    );
    for (const [i, run] of runs.entries()) {
      const { args, names } = cases[i];
      const status = await run.exited();
      assert.equal(status.code, 2, `${args.join(" ")}: exit code\n${run.stderr}`);
      assert.match(run.stderr, ONE_LINE, `${args.join(" ")}: one line on stderr`);
      for (const name of names) {
        assert.ok(run.stderr.includes(name), `${args.join(" ")}: ${run.stderr} names ${name}`);
      }
      assert.equal(run.stdout, "", `${args.join(" ")}: nothing on stdout`);
    }
    // Nothing started a hub: no lockfile (private, ~/.samp or ~/.samp-1) exists.
    assert.deepEqual(await listDir(dir), []);
  });
});

// ---- start -----------------------------------------------------------------

Deno.test("at start the hub prints its URL and lockfile; the lockfile is 0600 with secret, URL and profile 1.3", async () => {
  await scene(async ({ dir, hub }) => {
    const lockfile = `${dir}/hub.samp`;
    const run = hub(["--lockfile", lockfile]);
    const started = await run.started();
    assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+\/xmlrpc$/);
    assert.equal(started.lockfile, lockfile);
    assert.equal(await mode(lockfile), 0o600);
    const info = await readLock(lockfile);
    assert.equal(info.xmlrpcUrl, started.url);
    assert.match(info.secret, /^[0-9a-f]{32}$/);
    assert.equal(info.profileVersion, "1.3");
    assert.equal(info.entries["samp.profile.version"], "1.3");
    assert.equal(await xmlrpcRequest(started.url, "samp.hub.ping", []), "");
    assert.equal((await run.stop()).code, 0);
    assert.match(run.stdout, /SAMP hub stopped\n$/);
  });
});

Deno.test("--port, --secret and --label are honoured in the lockfile and the hub's metadata", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    const port = freePort();
    const secret = `s3cret-${randomHex(8)}`;
    const label = "cli test hub";
    const run = hub(["--lockfile", lockfile, "--port", `${port}`, "--secret", secret, "-l", label]);
    const started = await run.started();
    assert.equal(started.url, `http://127.0.0.1:${port}/xmlrpc`);
    const info = await readLock(lockfile);
    assert.equal(info.xmlrpcUrl, `http://127.0.0.1:${port}/xmlrpc`);
    assert.equal(info.secret, secret);
    assert.equal(info.entries["hub.label"], label);
    const c = await client(started.url, secret, false);
    const meta = await c.hub("getMetadata", c.hubId) as SampMap;
    assert.ok(
      (meta["samp.description.text"] as string).includes(label),
      `hub description ${meta["samp.description.text"]} should show the label`,
    );
    await c.hub("unregister");
    assert.equal((await run.stop()).code, 0);
  });
});

Deno.test("a second hub on a live hub's lockfile exits 1 naming that hub and leaves its lockfile alone", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    const first = hub(["--lockfile", lockfile]);
    const { url } = await first.started();
    const before = await Deno.readTextFile(lockfile);
    const mtime = (await Deno.stat(lockfile)).mtime?.getTime();

    const second = hub(["--lockfile", lockfile]);
    const status = await second.exited(15_000);
    assert.equal(status.code, 1);
    assert.match(second.stderr, ONE_LINE);
    assert.ok(second.stderr.includes(url), `the error should name ${url}: ${second.stderr}`);
    assert.ok(second.stderr.includes(lockfile));
    assert.equal(second.stdout, "");

    assert.equal(await Deno.readTextFile(lockfile), before);
    assert.equal((await Deno.stat(lockfile)).mtime?.getTime(), mtime);
    const info = await readLock(lockfile);
    const c = await client(url, info.secret, false); // the first hub still serves
    await c.hub("unregister");
    assert.equal((await first.stop()).code, 0);
    assert.equal(await exists(lockfile), false);
  });
});

Deno.test("a hub takes over the lockfile of a SIGKILLed hub and serves clients", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    const dead = hub(["--lockfile", lockfile]);
    await dead.started();
    const old = await readLock(lockfile);
    const killed = await dead.stop("SIGKILL");
    assert.equal(killed.signal, "SIGKILL");
    assert.equal((await readLock(lockfile)).secret, old.secret, "SIGKILL leaves the lockfile");

    const run = hub(["--lockfile", lockfile]);
    const started = await run.started();
    const info = await readLock(lockfile);
    assert.notEqual(info.xmlrpcUrl, old.xmlrpcUrl);
    assert.notEqual(info.secret, old.secret);
    assert.equal(info.xmlrpcUrl, started.url);
    assert.equal(await mode(lockfile), 0o600);
    assert.match(run.stderr, /taking over the stale lockfile/);
    const c = await client(info.xmlrpcUrl, info.secret, false);
    assert.match(c.id, /\S/);
    await c.hub("unregister");
    assert.equal((await run.stop()).code, 0);
    assert.equal(await exists(lockfile), false);
  });
});

Deno.test("a hub takes over a hand-written lockfile whose URL points at a closed port", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    const deadUrl = `http://127.0.0.1:${freePort()}/xmlrpc`;
    await Deno.writeTextFile(
      lockfile,
      `samp.secret=oldsecret\nsamp.hub.xmlrpc.url=${deadUrl}\nsamp.profile.version=1.3\n`,
      { mode: 0o600 },
    );
    const run = hub(["--lockfile", lockfile]);
    const started = await run.started();
    const info = await readLock(lockfile);
    assert.equal(info.xmlrpcUrl, started.url);
    assert.notEqual(info.xmlrpcUrl, deadUrl);
    assert.notEqual(info.secret, "oldsecret");
    const c = await client(info.xmlrpcUrl, info.secret, false);
    await c.hub("unregister");
    assert.equal((await run.stop()).code, 0);
  });
});

Deno.test("a hub takes over a lockfile that is not a valid lockfile, and says so", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    await Deno.writeTextFile(lockfile, "this is not a lockfile\n", { mode: 0o600 });
    const run = hub(["--lockfile", lockfile]);
    const { url } = await run.started();
    assert.match(run.stderr, /WARNING ignoring the invalid lockfile /);
    const info = await readLock(lockfile);
    assert.equal(info.xmlrpcUrl, url);
    const c = await client(url, info.secret, false);
    await c.hub("unregister");
    assert.equal((await run.stop()).code, 0);
  });
});

// ---- stopping --------------------------------------------------------------

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal}: clients get samp.hub.event.shutdown, the lockfile is removed, exit 0`, async () => {
    await scene(async ({ dir, hub, client }) => {
      const lockfile = `${dir}/hub.samp`;
      const run = hub(["--lockfile", lockfile]);
      const { url } = await run.started();
      const c = await client(url, (await readLock(lockfile)).secret);
      await c.hub("declareSubscriptions", { "samp.hub.event.shutdown": {} });
      const status = await run.stop(signal);
      assert.equal(status.code, 0);
      assert.equal(c.got("receiveNotification", "samp.hub.event.shutdown").length, 1);
      assert.equal(await exists(lockfile), false);
      assert.match(run.stdout, /SAMP hub stopped\n$/);
      assert.match(run.stderr, new RegExp(`shutting down \\(received ${signal}\\)`));
    });
  });
}

Deno.test("on SIGTERM the hub leaves a lockfile that another hub has written since", async () => {
  await scene(async ({ dir, hub }) => {
    const lockfile = `${dir}/hub.samp`;
    const run = hub(["--lockfile", lockfile]);
    await run.started();
    const theirs = `samp.secret=${randomHex(16)}\n` +
      `samp.hub.xmlrpc.url=http://127.0.0.1:${freePort()}/xmlrpc\nsamp.profile.version=1.3\n`;
    // Replace it atomically, as a hub taking over would.
    await Deno.writeTextFile(`${lockfile}.new`, theirs, { mode: 0o600 });
    await Deno.rename(`${lockfile}.new`, lockfile);
    assert.equal((await run.stop("SIGTERM")).code, 0);
    assert.equal(await Deno.readTextFile(lockfile), theirs);
  });
});

Deno.test("--client-timeout 1 disconnects a silent client and keeps one that keeps calling", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    const run = hub(["--lockfile", lockfile, "--client-timeout", "1"]);
    const { url } = await run.started();
    const secret = (await readLock(lockfile)).secret;
    const silent = await client(url, secret);
    await silent.hub("declareSubscriptions", { "samp.hub.disconnect": {} });
    const busy = await client(url, secret);
    await busy.hub("declareSubscriptions", {
      "samp.hub.disconnect": {},
      "samp.hub.event.unregister": {},
    });
    let pinging = true;
    const pinger = (async () => {
      while (pinging) {
        await busy.raw("samp.hub.ping", [busy.key]);
        await sleep(300);
      }
    })();
    try {
      const disconnects = await waitFor(
        () => {
          const got = silent.got("receiveNotification", "samp.hub.disconnect");
          return got.length > 0 ? got : null;
        },
        6000,
        "samp.hub.disconnect to the silent client",
      );
      const [sender, message] = disconnects[0].args as [string, SampMap];
      assert.equal(sender, silent.hubId);
      assert.match((message["samp.params"] as SampMap).reason as string, /\S/);
      await waitFor(
        () =>
          busy.got("receiveNotification", "samp.hub.event.unregister").some((r) =>
            ((r.args[1] as SampMap)["samp.params"] as SampMap).id === silent.id
          ),
        6000,
        "samp.hub.event.unregister for the silent client",
      );
      await sleep(1500); // well past the timeout again: the busy client is still there
      const ids = await busy.hub("getRegisteredClients") as string[];
      assert.ok(!ids.includes(silent.id));
      assert.equal(busy.got("receiveNotification", "samp.hub.disconnect").length, 0);
      await assert.rejects(silent.hub("getRegisteredClients"), /Unknown private key/);
    } finally {
      pinging = false;
      await pinger;
    }
    await busy.hub("unregister");
    assert.equal((await run.stop()).code, 0);
  });
});

Deno.test("--timeout 1 stops an idle hub by itself after about a second: exit 0, lockfile removed", async () => {
  await scene(async ({ dir, hub }) => {
    const lockfile = `${dir}/hub.samp`;
    const run = hub(["--lockfile", lockfile, "--timeout", "1"]);
    await run.started();
    const t0 = Date.now();
    const status = await run.exited(10_000);
    const elapsed = Date.now() - t0;
    assert.equal(status.code, 0);
    assert.ok(elapsed > 500 && elapsed < 5000, `stopped after ${elapsed} ms`);
    assert.equal(await exists(lockfile), false);
    assert.match(run.stderr, /no activity for 1 s/);
    assert.match(run.stdout, /SAMP hub stopped\n$/);
  });
});

// ---- where the lockfile goes -----------------------------------------------

Deno.test("--multi writes the lockfile under $HOME/.samp-1 (dir 0700, file 0600) and prints its path", async () => {
  await scene(async ({ dir, hub, client }) => {
    const run = hub(["--multi"]);
    const { url, lockfile } = await run.started();
    assert.match(lockfile, new RegExp(`^${dir}/\\.samp-1/samp-hub-[A-Za-z0-9._-]+$`));
    assert.equal(await mode(`${dir}/.samp-1`), 0o700);
    assert.equal(await mode(lockfile), 0o600);
    assert.equal(await exists(`${dir}/.samp`), false);
    const info = await readLock(lockfile);
    assert.equal(info.xmlrpcUrl, url);
    const c = await client(url, info.secret, false);
    await c.hub("unregister");
    assert.equal((await run.stop()).code, 0);
    assert.equal(await exists(lockfile), false);
  });
});

Deno.test("without --lockfile the hub writes $HOME/.samp", async () => {
  await scene(async ({ dir, hub }) => {
    const run = hub([]);
    const { url, lockfile } = await run.started();
    assert.equal(lockfile, `${dir}/.samp`);
    assert.equal(await mode(lockfile), 0o600);
    assert.equal((await readLock(lockfile)).xmlrpcUrl, url);
    assert.equal((await run.stop()).code, 0);
    assert.equal(await exists(lockfile), false);
  });
});

Deno.test("SAMP_HUB=std-lockurl:file:///… in the hub's environment chooses its lockfile", async () => {
  await scene(async ({ dir, hub }) => {
    const target = `${dir}/sub dir/x.samp`;
    await Deno.mkdir(`${dir}/sub dir`);
    const run = hub([], { SAMP_HUB: `std-lockurl:${pathToFileURL(target).href}` });
    const { url, lockfile } = await run.started();
    assert.equal(lockfile, target);
    assert.equal((await readLock(target)).xmlrpcUrl, url);
    assert.equal(await exists(`${dir}/.samp`), false);
    assert.equal((await run.stop()).code, 0);
    assert.equal(await exists(target), false);
  });
});

// ---- logging ---------------------------------------------------------------

Deno.test("--log-output with --log-level DEBUG logs one line per event and never the secret or a private key", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    const logFile = `${dir}/hub.log`;
    const secret = `logsecret${randomHex(12)}`;
    const run = hub([
      "--lockfile",
      lockfile,
      "--secret",
      secret,
      "--log-output",
      logFile,
      "--log-level",
      "DEBUG",
    ]);
    const { url } = await run.started();
    const a = await client(url, secret);
    await a.hub("declareMetadata", { "samp.name": "alpha" });
    const b = await client(url, secret);
    await b.hub("declareMetadata", { "samp.name": "beta" });
    await b.hub("declareSubscriptions", { "test.*": {} });
    // c's callback endpoint refuses connections: delivering to it fails.
    const c = await client(url, secret, false);
    await c.hub("setXmlrpcCallback", `http://127.0.0.1:${freePort()}/xmlrpc`);
    await c.hub("declareSubscriptions", { "test.*": {} });

    await a.hub("notify", b.id, { "samp.mtype": "test.hello", "samp.params": {} });
    await waitFor(() => b.got("receiveNotification", "test.hello").length === 1);
    await a.hub("call", b.id, "tag-1", { "samp.mtype": "test.echo", "samp.params": { x: "1" } });
    await waitFor(() => a.got("receiveResponse").length === 1);
    await a.hub("notify", c.id, { "samp.mtype": "test.hello", "samp.params": {} });
    const logged = () => Deno.readTextFile(logFile);
    await waitFor(async () => (await logged()).includes(`unregister ${c.id}`), 5000, "c dropped");
    await a.hub("unregister");
    await b.hub("unregister");
    assert.equal((await run.stop()).code, 0);

    const text = await logged();
    const lines = text.trimEnd().split("\n");
    for (const line of lines) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) \S/);
    }
    const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
    assert.equal(count(/ INFO hub started at /), 1);
    assert.equal(count(/ INFO register c\d+ /), 3, "one register line per client");
    assert.equal(count(new RegExp(` INFO metadata ${a.id} \\(alpha\\)$`)), 1);
    assert.equal(count(new RegExp(` INFO subscriptions ${b.id} \\(beta\\): 1 patterns$`)), 1);
    assert.equal(count(new RegExp(` DEBUG notify ${a.id} -> ${b.id} test\\.hello$`)), 1);
    assert.equal(count(new RegExp(` DEBUG call ${a.id} -> ${b.id} test\\.echo \\(`)), 1);
    assert.equal(count(new RegExp(` DEBUG reply ${b.id} -> ${a.id} \\S+: samp\\.ok$`)), 1);
    assert.equal(count(new RegExp(` WARNING could not deliver receiveNotification to ${c.id}`)), 1);
    for (const who of [a, b, c]) {
      assert.equal(count(new RegExp(` INFO unregister ${who.id}\\b`)), 1, `unregister ${who.id}`);
    }
    assert.equal(count(/ INFO hub stopped$/), 1);
    const secrets = [["the secret", secret], ...[a, b, c].map((x) => [`${x.id}'s key`, x.key])];
    for (const [what, value] of secrets) {
      const bare = value.split(":").pop()!; // the random part of a "k:<hex>" key
      assert.ok(!text.includes(bare), `the log shows ${what}`);
    }
    assert.equal(run.stderr, "", "with --log-output nothing goes to stderr");
  });
});

Deno.test("--log-level OFF writes nothing to stderr, even when taking over a stale lockfile", async () => {
  await scene(async ({ dir, hub, client }) => {
    const lockfile = `${dir}/hub.samp`;
    await Deno.writeTextFile(
      lockfile,
      `samp.secret=old\nsamp.hub.xmlrpc.url=http://127.0.0.1:${freePort()}/xmlrpc\n`,
      { mode: 0o600 },
    );
    const run = hub(["--lockfile", lockfile, "--log-level", "OFF"]);
    const { url } = await run.started();
    const c = await client(url, (await readLock(lockfile)).secret, false);
    await c.hub("unregister");
    assert.equal((await run.stop()).code, 0);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^SAMP hub running at /);
  });
});

Deno.test("--addr 0.0.0.0 warns that the hub is reachable beyond loopback", async () => {
  await scene(async ({ dir, hub }) => {
    const run = hub(["--lockfile", `${dir}/hub.samp`, "--addr", "0.0.0.0"]);
    const { url } = await run.started();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/xmlrpc$/);
    assert.match(run.stderr, /WARNING listening on 0\.0\.0\.0, not loopback/);
    assert.equal((await run.stop()).code, 0);
  });
});

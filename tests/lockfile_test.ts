import assert from "node:assert/strict";
import { join } from "node:path";
import {
  defaultLockfilePath,
  ensureMultiDir,
  formatLockfile,
  homeDir,
  type LockfileEnv,
  LockfileError,
  multiLockfilePath,
  parseLockfile,
  readLockfile,
  removeLockfileIfOurs,
  resolveLockLocation,
  writeLockfile,
  writeLockfileExclusive,
} from "../lib/lockfile.ts";

const ON_WINDOWS = Deno.build.os === "windows";

/** A fake environment holding exactly `vars`. */
function fakeEnv(vars: Record<string, string>): LockfileEnv {
  return { get: (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined) };
}

/** A validator for assert.throws/rejects: a LockfileError whose message matches every pattern. */
function lockfileError(...patterns: RegExp[]): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof LockfileError, `expected a LockfileError, got ${err}`);
    assert.equal(err.name, "LockfileError");
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "samp_lockfile_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function modeOf(path: string): Promise<number> {
  const mode = (await Deno.stat(path)).mode;
  assert.notEqual(mode, null, `no mode reported for ${path}`);
  return mode! & 0o777;
}

/** Serves `handler` on a loopback port for the duration of `fn`. */
async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/** Lockfile text as JSAMP's hub writes it (LF on Unix). */
const JSAMP_LOCKFILE = [
  "# SAMP Standard Profile lockfile written 2025-03-14T09:26:53",
  "# Note contact URL hostname may be configured using jsamp.localhost property",
  "samp.secret=3b2f1e0a9c8d7e6f",
  "samp.hub.xmlrpc.url=http://127.0.0.1:40217/xmlrpc",
  "samp.profile.version=1.3",
  "hub.impl=org.astrogrid.samp.hub.BasicHubService",
  "profile.impl=org.astrogrid.samp.xmlrpc.StandardHubProfile",
  "profile.start.date=2025-03-14T09:26:53",
  "",
].join("\n");

/** Lockfile text as astropy's SAMPHubServer writes it. */
const ASTROPY_LOCKFILE = [
  "# SAMP lockfile written on 2025-03-14T09:26:53.412077",
  "# Standard Profile required keys",
  "samp.secret=1f0c4e2a-0163-11f0-9d6b-0242ac120002",
  "samp.hub.xmlrpc.url=http://127.0.0.1:52311",
  "samp.profile.version=1.3",
  "# Info stored by hub for some private reason",
  "hub.id=1f0c4f9e-0163-11f0-9d6b-0242ac120002",
  "hub.label=Hub 1f0c4f9e-0163-11f0-9d6b-0242ac120002",
  "",
].join("\n");

const MINIMAL = "samp.secret=s3cr3t\nsamp.hub.xmlrpc.url=http://127.0.0.1:4000/xmlrpc\n";

// ---------------------------------------------------------------- parsing

Deno.test("parseLockfile reads a JSAMP-style lockfile with comments and extra keys", () => {
  const info = parseLockfile(JSAMP_LOCKFILE);
  assert.equal(info.secret, "3b2f1e0a9c8d7e6f");
  assert.equal(info.xmlrpcUrl, "http://127.0.0.1:40217/xmlrpc");
  assert.equal(info.profileVersion, "1.3");
  assert.deepEqual({ ...info.entries }, {
    "samp.secret": "3b2f1e0a9c8d7e6f",
    "samp.hub.xmlrpc.url": "http://127.0.0.1:40217/xmlrpc",
    "samp.profile.version": "1.3",
    "hub.impl": "org.astrogrid.samp.hub.BasicHubService",
    "profile.impl": "org.astrogrid.samp.xmlrpc.StandardHubProfile",
    "profile.start.date": "2025-03-14T09:26:53",
  });
});

Deno.test("parseLockfile reads an astropy-style lockfile with a path-less URL and spaced label", () => {
  const info = parseLockfile(ASTROPY_LOCKFILE);
  assert.equal(info.secret, "1f0c4e2a-0163-11f0-9d6b-0242ac120002");
  assert.equal(info.xmlrpcUrl, "http://127.0.0.1:52311");
  assert.equal(info.profileVersion, "1.3");
  assert.equal(info.entries["hub.id"], "1f0c4f9e-0163-11f0-9d6b-0242ac120002");
  assert.equal(info.entries["hub.label"], "Hub 1f0c4f9e-0163-11f0-9d6b-0242ac120002");
  assert.equal(Object.keys(info.entries).length, 5);
});

Deno.test("parseLockfile accepts CRLF line endings without keeping the CR", () => {
  const info = parseLockfile(JSAMP_LOCKFILE.replaceAll("\n", "\r\n"));
  assert.equal(info.secret, "3b2f1e0a9c8d7e6f");
  assert.equal(info.xmlrpcUrl, "http://127.0.0.1:40217/xmlrpc");
  assert.equal(info.entries["profile.start.date"], "2025-03-14T09:26:53");
});

Deno.test("parseLockfile accepts bare CR line endings", () => {
  const info = parseLockfile(ASTROPY_LOCKFILE.replaceAll("\n", "\r"));
  assert.equal(info.secret, "1f0c4e2a-0163-11f0-9d6b-0242ac120002");
  assert.equal(info.xmlrpcUrl, "http://127.0.0.1:52311");
  assert.equal(info.entries["hub.label"], "Hub 1f0c4f9e-0163-11f0-9d6b-0242ac120002");
});

Deno.test("parseLockfile accepts mixed line endings, blank lines, a BOM and no final newline", () => {
  const text = "\uFEFFsamp.secret=abc\r\n\r\n\nsamp.hub.xmlrpc.url=http://h:1/x\r\r" +
    "samp.profile.version=1.3";
  const info = parseLockfile(text);
  assert.deepEqual({ ...info.entries }, {
    "samp.secret": "abc",
    "samp.hub.xmlrpc.url": "http://h:1/x",
    "samp.profile.version": "1.3",
  });
});

Deno.test("parseLockfile skips lines that are not key=value and keeps values verbatim", () => {
  const text = [
    "samp.secret=abc",
    "samp.hub.xmlrpc.url=http://127.0.0.1:4000/xmlrpc?x=1",
    "bad key=ignored",
    "spaced.key =ignored",
    " leading.space=ignored",
    "no equals sign here",
    "=no-key",
    "#samp.secret=commented-out",
    "key.with.spaces.in.value=  two  spaces  ",
    "empty.value=",
  ].join("\n");
  const info = parseLockfile(text);
  assert.equal(info.secret, "abc");
  assert.equal(info.xmlrpcUrl, "http://127.0.0.1:4000/xmlrpc?x=1");
  assert.deepEqual(Object.keys(info.entries).sort(), [
    "empty.value",
    "key.with.spaces.in.value",
    "samp.hub.xmlrpc.url",
    "samp.secret",
  ]);
  assert.equal(info.entries["key.with.spaces.in.value"], "  two  spaces  ");
  assert.equal(info.entries["empty.value"], "");
});

Deno.test("parseLockfile lets a later duplicate key win and stores __proto__ as data", () => {
  const info = parseLockfile(`${MINIMAL}samp.secret=second\n__proto__=polluted\n`);
  assert.equal(info.secret, "second");
  assert.equal(info.entries["__proto__"], "polluted");
  assert.ok(Object.hasOwn(info.entries, "__proto__"));
  assert.equal(Object.getPrototypeOf(info.entries), Object.prototype);
});

Deno.test("parseLockfile reports an empty profileVersion when samp.profile.version is absent", () => {
  const info = parseLockfile(MINIMAL);
  assert.equal(info.profileVersion, "");
  assert.equal(Object.hasOwn(info.entries, "samp.profile.version"), false);
});

Deno.test("parseLockfile throws a LockfileError naming samp.secret when it is missing", () => {
  assert.throws(
    () => parseLockfile("# hub\nsamp.hub.xmlrpc.url=http://127.0.0.1:1/xmlrpc\n"),
    lockfileError(/samp\.secret is missing/, /delete the file/),
  );
});

Deno.test("parseLockfile throws a LockfileError naming samp.hub.xmlrpc.url when it is missing", () => {
  assert.throws(
    () => parseLockfile("samp.secret=abc\nsamp.profile.version=1.3\n"),
    lockfileError(/samp\.hub\.xmlrpc\.url is missing/),
  );
});

Deno.test("parseLockfile names both required keys for an empty or comment-only file", () => {
  for (const text of ["", "# only a comment\n", "\r\n\r\n"]) {
    assert.throws(
      () => parseLockfile(text),
      lockfileError(/samp\.secret and samp\.hub\.xmlrpc\.url are missing/),
    );
  }
});

Deno.test("parseLockfile treats an empty samp.secret as missing", () => {
  assert.throws(
    () => parseLockfile("samp.secret=\nsamp.hub.xmlrpc.url=http://127.0.0.1:1/xmlrpc\n"),
    lockfileError(/samp\.secret is missing or empty/),
  );
});

// ---------------------------------------------------------------- formatting

Deno.test("formatLockfile writes comment lines then key=value lines, LF-terminated, no blanks", () => {
  const text = formatLockfile(
    {
      "samp.secret": "9c2e41d07ab35f16",
      "samp.hub.xmlrpc.url": "http://127.0.0.1:40217/xmlrpc",
      "samp.profile.version": "1.3",
      "hub.impl": "deno-samp",
    },
    "SAMP Standard Profile lockfile (deno hub) 2025-01-01T12:00:00Z\n\n#already a comment",
  );
  assert.equal(
    text,
    "# SAMP Standard Profile lockfile (deno hub) 2025-01-01T12:00:00Z\n" +
      "#\n" +
      "#already a comment\n" +
      "samp.secret=9c2e41d07ab35f16\n" +
      "samp.hub.xmlrpc.url=http://127.0.0.1:40217/xmlrpc\n" +
      "samp.profile.version=1.3\n" +
      "hub.impl=deno-samp\n",
  );
  assert.ok(!text.includes("\n\n"));
  assert.ok(!text.includes("\r"));
});

Deno.test("formatLockfile output passes astropy's naive split-on-'=' reader", () => {
  const text = formatLockfile(
    { "samp.secret": "abc", "samp.hub.xmlrpc.url": "http://127.0.0.1:1/xmlrpc", "empty": "" },
    "line one\r\nline two\n",
  );
  // astropy: for each line not starting with '#': kw, val = line.split("=")
  for (const line of text.split("\n").slice(0, -1)) {
    if (line.startsWith("#")) continue;
    assert.equal(line.split("=").length, 2, `astropy cannot parse ${JSON.stringify(line)}`);
  }
  assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"));
});

Deno.test("formatLockfile returns an empty string for no entries and no comment", () => {
  assert.equal(formatLockfile({}), "");
  assert.equal(formatLockfile({}, ""), "");
});

Deno.test("formatLockfile refuses '=' in a value, naming the key and astropy", () => {
  assert.throws(
    () => formatLockfile({ "samp.secret": "YWJjZA==" }),
    lockfileError(/"samp\.secret"/, /contains '='/, /astropy/),
  );
  assert.throws(
    () => formatLockfile({ "samp.hub.xmlrpc.url": "http://h:1/x?a=b" }),
    lockfileError(/contains '='/),
  );
});

Deno.test("formatLockfile refuses CR, LF, tab, DEL and non-ASCII characters in values", () => {
  for (const bad of ["a\nb", "a\rb", "a\tb", "a\x7fb", "caf\u00e9", "\u{1F680}"]) {
    assert.throws(
      () => formatLockfile({ "hub.label": bad }),
      lockfileError(/"hub\.label"/, /printable ASCII/),
      `value ${JSON.stringify(bad)} should be refused`,
    );
  }
});

Deno.test("formatLockfile refuses values padded with spaces", () => {
  assert.throws(() => formatLockfile({ "hub.label": " x" }), lockfileError(/Trim the value/));
  assert.throws(() => formatLockfile({ "hub.label": "x " }), lockfileError(/Trim the value/));
  assert.equal(formatLockfile({ "hub.label": "Hub 1" }), "hub.label=Hub 1\n");
});

Deno.test("formatLockfile refuses keys outside [a-zA-Z0-9._-]", () => {
  for (const key of ["", "bad key", "a=b", "#x", "caf\u00e9", "a\nb"]) {
    assert.throws(
      () => formatLockfile({ [key]: "v" }),
      lockfileError(/keys must match/),
      `key ${JSON.stringify(key)} should be refused`,
    );
  }
});

Deno.test("formatLockfile refuses non-ASCII or control characters in the comment", () => {
  assert.throws(() => formatLockfile({}, "caf\u00e9"), lockfileError(/comment/, /U\+00E9/));
  assert.throws(() => formatLockfile({}, "tab\there"), lockfileError(/comment/, /U\+0009/));
});

Deno.test("formatLockfile and parseLockfile round-trip every entry in order", () => {
  const entries = {
    "samp.secret": "9c2e41d07ab35f16",
    "samp.hub.xmlrpc.url": "http://127.0.0.1:40217/xmlrpc",
    "samp.profile.version": "1.3",
    "hub.impl": "deno-samp",
    "hub.label": "Deno hub (pid 4242)",
    "x-custom_key.9": "~!@#$%^&*()_+{}|:\"<>?`-[]\\;',./",
  };
  const info = parseLockfile(formatLockfile(entries, "written by a test"));
  assert.deepEqual({ ...info.entries }, entries);
  assert.deepEqual(Object.keys(info.entries), Object.keys(entries));
  assert.equal(info.secret, entries["samp.secret"]);
  assert.equal(info.xmlrpcUrl, entries["samp.hub.xmlrpc.url"]);
  assert.equal(info.profileVersion, "1.3");
});

// ---------------------------------------------------------------- locations

Deno.test("homeDir and defaultLockfilePath use $HOME on Unix", () => {
  const env = fakeEnv({ HOME: "/home/ada", USERPROFILE: "/ignored" });
  assert.equal(homeDir(env, "linux"), "/home/ada");
  assert.equal(defaultLockfilePath(env, "linux"), "/home/ada/.samp");
  assert.equal(defaultLockfilePath(env, "darwin"), "/home/ada/.samp");
});

Deno.test("homeDir and defaultLockfilePath use %USERPROFILE% on Windows, falling back to HOME", () => {
  const both = fakeEnv({ USERPROFILE: "C:\\Users\\ada", HOME: "D:\\cygwin\\home\\ada" });
  assert.equal(homeDir(both, "windows"), "C:\\Users\\ada");
  assert.equal(defaultLockfilePath(both, "windows"), "C:\\Users\\ada\\.samp");
  const homeOnly = fakeEnv({ HOME: "D:\\home\\ada" });
  assert.equal(defaultLockfilePath(homeOnly, "windows"), "D:\\home\\ada\\.samp");
  const emptyProfile = fakeEnv({ USERPROFILE: "", HOME: "D:\\home\\ada" });
  assert.equal(homeDir(emptyProfile, "windows"), "D:\\home\\ada");
});

Deno.test("homeDir throws a LockfileError naming the variables and SAMP_HUB when no home is set", () => {
  assert.throws(() => homeDir(fakeEnv({}), "linux"), lockfileError(/HOME is not set/, /SAMP_HUB/));
  assert.throws(
    () => homeDir(fakeEnv({ HOME: "" }), "linux"),
    lockfileError(/HOME is not set/),
  );
  assert.throws(
    () => defaultLockfilePath(fakeEnv({}), "windows"),
    lockfileError(/USERPROFILE and HOME are not set/, /SAMP_HUB/),
  );
});

Deno.test("homeDir turns an environment permission error into a LockfileError naming --allow-env", () => {
  const denied: LockfileEnv = {
    get(name) {
      throw new Deno.errors.NotCapable(`Requires env access to "${name}"`);
    },
  };
  assert.throws(() => homeDir(denied, "linux"), lockfileError(/HOME/, /--allow-env/));
});

Deno.test("resolveLockLocation uses the default file when SAMP_HUB is unset, empty or blank", () => {
  const variants: Record<string, string>[] = [{}, { SAMP_HUB: "" }, { SAMP_HUB: "  " }];
  for (const vars of variants) {
    assert.deepEqual(resolveLockLocation(fakeEnv({ HOME: "/home/ada", ...vars }), "linux"), {
      kind: "file",
      path: "/home/ada/.samp",
    });
  }
});

Deno.test("resolveLockLocation maps file:///, file://localhost/ and file:/ lockurls to paths", () => {
  const cases: [string, string][] = [
    ["std-lockurl:file:///home/u/x.samp", "/home/u/x.samp"],
    ["std-lockurl:file://localhost/home/u/x.samp", "/home/u/x.samp"],
    ["std-lockurl:file:/home/u/x.samp", "/home/u/x.samp"],
  ];
  for (const [value, path] of cases) {
    assert.deepEqual(
      resolveLockLocation(fakeEnv({ SAMP_HUB: value }), "linux"),
      { kind: "file", path },
      value,
    );
  }
});

Deno.test("resolveLockLocation percent-decodes file lockurls, including encoded spaces", () => {
  const env = fakeEnv({ SAMP_HUB: "std-lockurl:file:///tmp/my%20hub%20dir/lock%25file.samp" });
  assert.deepEqual(resolveLockLocation(env, "linux"), {
    kind: "file",
    path: "/tmp/my hub dir/lock%file.samp",
  });
  const literal = fakeEnv({ SAMP_HUB: "std-lockurl:file:///tmp/my hub.samp" });
  assert.deepEqual(resolveLockLocation(literal, "linux"), {
    kind: "file",
    path: "/tmp/my hub.samp",
  });
});

Deno.test("resolveLockLocation maps Windows drive and UNC file lockurls to Windows paths", () => {
  const drive = fakeEnv({ SAMP_HUB: "std-lockurl:file:///C:/Users/Ada%20L/.samp" });
  assert.deepEqual(resolveLockLocation(drive, "windows"), {
    kind: "file",
    path: "C:\\Users\\Ada L\\.samp",
  });
  const unc = fakeEnv({ SAMP_HUB: "std-lockurl:file://server/share/hub.samp" });
  assert.deepEqual(resolveLockLocation(unc, "windows"), {
    kind: "file",
    path: "\\\\server\\share\\hub.samp",
  });
});

Deno.test("resolveLockLocation returns http and https lockurls as URLs", () => {
  assert.deepEqual(
    resolveLockLocation(fakeEnv({ SAMP_HUB: "std-lockurl:http://example.org:21012/samplock" })),
    { kind: "http", url: "http://example.org:21012/samplock" },
  );
  assert.deepEqual(
    resolveLockLocation(fakeEnv({ SAMP_HUB: "std-lockurl:https://example.org/a/lock?x=1" })),
    { kind: "http", url: "https://example.org/a/lock?x=1" },
  );
});

Deno.test("resolveLockLocation rejects other SAMP_HUB prefixes, naming the value and the supported forms", () => {
  for (
    const value of [
      "web-appname:MyApp",
      "jsamp-class:org.example.Profile",
      "file:///home/u/.samp",
      "STD-LOCKURL:file:///x",
    ]
  ) {
    assert.throws(
      () => resolveLockLocation(fakeEnv({ SAMP_HUB: value, HOME: "/h" }), "linux"),
      lockfileError(
        new RegExp(`SAMP_HUB=${value.replaceAll(".", "\\.")} is not supported`),
        /std-lockurl:file:\/\/\//,
        /std-lockurl:http\(s\)/,
      ),
      value,
    );
  }
});

Deno.test("resolveLockLocation rejects unusable std-lockurl URLs with a reason", () => {
  const cases: [string, RegExp][] = [
    ["std-lockurl:ftp://example.org/lock", /unsupported URL scheme "ftp:"/],
    ["std-lockurl:not a url", /does not contain a valid URL/],
    ["std-lockurl:file://otherhost/x.samp", /remote host "otherhost"/],
    ["std-lockurl:file:///tmp/bad%zz%E0", /malformed percent-escape/],
    ["std-lockurl:file:///tmp/x?y", /query/],
  ];
  for (const [value, reason] of cases) {
    assert.throws(
      () => resolveLockLocation(fakeEnv({ SAMP_HUB: value }), "linux"),
      lockfileError(reason, /SAMP_HUB=/),
      value,
    );
  }
});

Deno.test("multiLockfilePath builds <home>/.samp-1/samp-hub-<id> and refuses path-escaping ids", () => {
  assert.equal(
    multiLockfilePath(join("home", "ada"), "1f0c4f9e-0163-11f0-9d6b-0242ac120002"),
    join("home", "ada", ".samp-1", "samp-hub-1f0c4f9e-0163-11f0-9d6b-0242ac120002"),
  );
  for (const id of ["", "../x", "a/b", "a\\b"]) {
    assert.throws(() => multiLockfilePath("/home/ada", id), lockfileError(/multi-hub id/));
  }
});

// ---------------------------------------------------------------- reading

Deno.test("readLockfile returns null for a lockfile that does not exist", async () => {
  await withTempDir(async (dir) => {
    assert.equal(await readLockfile({ kind: "file", path: join(dir, ".samp") }), null);
  });
});

Deno.test("readLockfile reads and parses an existing lockfile", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.writeTextFile(path, JSAMP_LOCKFILE.replaceAll("\n", "\r\n"));
    const info = await readLockfile({ kind: "file", path });
    assert.equal(info?.secret, "3b2f1e0a9c8d7e6f");
    assert.equal(info?.xmlrpcUrl, "http://127.0.0.1:40217/xmlrpc");
  });
});

Deno.test("readLockfile names the path when the lockfile is malformed", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.writeTextFile(path, "# truncated\nsamp.profile.version=1.3\n");
    await assert.rejects(
      readLockfile({ kind: "file", path }),
      lockfileError(new RegExp(`${path.replaceAll("\\", "\\\\")} is not a valid SAMP lockfile`)),
    );
  });
});

Deno.test("readLockfile names the path when the lockfile is a directory", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.mkdir(path);
    await assert.rejects(
      readLockfile({ kind: "file", path }),
      lockfileError(/Cannot read the SAMP lockfile/, /\.samp/),
    );
  });
});

Deno.test("readLockfile fetches and parses a lockfile served over HTTP", async () => {
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/samplock"
        ? new Response(ASTROPY_LOCKFILE, { headers: { "content-type": "text/plain" } })
        : new Response("no", { status: 404 }),
    async (base) => {
      const info = await readLockfile({ kind: "http", url: `${base}/samplock` });
      assert.equal(info?.secret, "1f0c4e2a-0163-11f0-9d6b-0242ac120002");
      assert.equal(info?.xmlrpcUrl, "http://127.0.0.1:52311");
    },
  );
});

Deno.test("readLockfile returns null when the HTTP lockfile answers 404", async () => {
  await withServer(
    () => new Response("not here", { status: 404 }),
    async (base) => {
      assert.equal(await readLockfile({ kind: "http", url: `${base}/samplock` }), null);
    },
  );
});

Deno.test("readLockfile throws a LockfileError naming the URL and status for HTTP errors", async () => {
  await withServer(
    () => new Response("boom", { status: 500 }),
    async (base) => {
      await assert.rejects(
        readLockfile({ kind: "http", url: `${base}/samplock` }),
        lockfileError(new RegExp(`${base}/samplock`), /HTTP 500/, /SAMP_HUB/),
      );
    },
  );
});

Deno.test("readLockfile throws a LockfileError with the cause when the HTTP server is gone", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    return new Response("");
  });
  const url = `http://127.0.0.1:${server.addr.port}/samplock`;
  await server.shutdown();
  await assert.rejects(readLockfile({ kind: "http", url }), (err) => {
    lockfileError(/Cannot fetch the SAMP lockfile/, /reachable/)(err);
    assert.ok((err as Error).cause !== undefined);
    return true;
  });
});

Deno.test("readLockfile rethrows the abort reason when its signal is aborted", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.writeTextFile(path, MINIMAL);
    const controller = new AbortController();
    const reason = new Error("stop now");
    controller.abort(reason);
    await assert.rejects(
      readLockfile({ kind: "file", path }, { signal: controller.signal }),
      (err) => err === reason,
    );
  });
});

// ---------------------------------------------------------------- writing

Deno.test({
  name: "writeLockfileExclusive creates the lockfile with mode 0600",
  ignore: ON_WINDOWS,
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, ".samp");
      assert.equal(await writeLockfileExclusive(path, MINIMAL), true);
      assert.equal(await Deno.readTextFile(path), MINIMAL);
      assert.equal(await modeOf(path), 0o600);
    });
  },
});

Deno.test("writeLockfileExclusive returns false and leaves an existing lockfile untouched", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.writeTextFile(path, JSAMP_LOCKFILE);
    assert.equal(await writeLockfileExclusive(path, MINIMAL), false);
    assert.equal(await Deno.readTextFile(path), JSAMP_LOCKFILE);
  });
});

Deno.test("writeLockfileExclusive names the path and the fix when the directory is missing", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "missing", ".samp");
    await assert.rejects(
      writeLockfileExclusive(path, MINIMAL),
      lockfileError(/Cannot create the SAMP lockfile/, /missing/, /does not exist: create it/),
    );
  });
});

Deno.test({
  name: "writeLockfile atomically replaces a 0644 lockfile and leaves it 0600 with no temp files",
  ignore: ON_WINDOWS,
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, ".samp");
      await Deno.writeTextFile(path, JSAMP_LOCKFILE, { mode: 0o644 });
      await Deno.chmod(path, 0o644);
      const before = await Deno.stat(path);
      await writeLockfile(path, MINIMAL);
      assert.equal(await Deno.readTextFile(path), MINIMAL);
      assert.equal(await modeOf(path), 0o600);
      // rename(2) gives the path a new inode rather than rewriting the old one in place.
      assert.notEqual((await Deno.stat(path)).ino, before.ino);
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      assert.deepEqual(names, [".samp"]);
    });
  },
});

Deno.test("writeLockfile creates a lockfile that did not exist", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await writeLockfile(path, ASTROPY_LOCKFILE);
    assert.equal(await Deno.readTextFile(path), ASTROPY_LOCKFILE);
    if (!ON_WINDOWS) assert.equal(await modeOf(path), 0o600);
  });
});

Deno.test("writeLockfile names the path when it cannot write and leaves no temp file", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      writeLockfile(join(dir, "missing", ".samp"), MINIMAL),
      lockfileError(/SAMP lockfile/, /missing/),
    );
    // Replacing a directory with a file fails at the rename step.
    const asDir = join(dir, "taken");
    await Deno.mkdir(asDir);
    await assert.rejects(
      writeLockfile(asDir, MINIMAL),
      lockfileError(/Cannot replace the SAMP lockfile/, /taken/),
    );
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["taken"]);
  });
});

// ---------------------------------------------------------------- removing

Deno.test("removeLockfileIfOurs deletes the lockfile when the secret matches", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.writeTextFile(path, MINIMAL);
    assert.equal(await removeLockfileIfOurs(path, "s3cr3t"), true);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  });
});

Deno.test("removeLockfileIfOurs keeps a lockfile written by another hub", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.writeTextFile(path, JSAMP_LOCKFILE);
    assert.equal(await removeLockfileIfOurs(path, "s3cr3t"), false);
    assert.equal(await Deno.readTextFile(path), JSAMP_LOCKFILE);
  });
});

Deno.test("removeLockfileIfOurs keeps a lockfile without a secret and ignores a missing file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    assert.equal(await removeLockfileIfOurs(path, "s3cr3t"), false);
    await Deno.writeTextFile(path, "# half-written\n");
    assert.equal(await removeLockfileIfOurs(path, "s3cr3t"), false);
    assert.equal(await Deno.readTextFile(path), "# half-written\n");
  });
});

Deno.test("removeLockfileIfOurs refuses an empty secret", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".samp");
    await Deno.writeTextFile(path, "samp.secret=\n");
    await assert.rejects(removeLockfileIfOurs(path, ""), lockfileError(/secret .* is empty/));
    assert.equal(await Deno.readTextFile(path), "samp.secret=\n");
  });
});

// ---------------------------------------------------------------- multi mode

Deno.test({
  name: "ensureMultiDir creates <home>/.samp-1 with mode 0700",
  ignore: ON_WINDOWS,
  async fn() {
    await withTempDir(async (home) => {
      const dir = await ensureMultiDir(home);
      assert.equal(dir, join(home, ".samp-1"));
      assert.ok((await Deno.stat(dir)).isDirectory);
      assert.equal(await modeOf(dir), 0o700);
    });
  },
});

Deno.test({
  name: "ensureMultiDir tightens an existing 0755 directory to 0700 and keeps its files",
  ignore: ON_WINDOWS,
  async fn() {
    await withTempDir(async (home) => {
      const dir = join(home, ".samp-1");
      await Deno.mkdir(dir, { mode: 0o755 });
      await Deno.chmod(dir, 0o755);
      await Deno.writeTextFile(join(dir, "samp-hub-abc"), MINIMAL);
      assert.equal(await ensureMultiDir(home), dir);
      assert.equal(await modeOf(dir), 0o700);
      assert.equal(await Deno.readTextFile(join(dir, "samp-hub-abc")), MINIMAL);
    });
  },
});

Deno.test("ensureMultiDir refuses a .samp-1 that is a file, naming it", async () => {
  await withTempDir(async (home) => {
    await Deno.writeTextFile(join(home, ".samp-1"), "oops");
    await assert.rejects(ensureMultiDir(home), lockfileError(/\.samp-1/, /not a directory/));
  });
});

Deno.test("ensureMultiDir names the home directory when it does not exist", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      ensureMultiDir(join(dir, "nohome")),
      lockfileError(/Cannot create the SAMP multi-hub directory/, /nohome/),
    );
  });
});

Deno.test("a multi-mode lockfile written into ensureMultiDir is found via SAMP_HUB", async () => {
  await withTempDir(async (home) => {
    await ensureMultiDir(home);
    const path = multiLockfilePath(home, "1f0c4f9e-0163-11f0-9d6b-0242ac120002");
    assert.equal(await writeLockfileExclusive(path, ASTROPY_LOCKFILE), true);
    const url = new URL(`file://${ON_WINDOWS ? "/" : ""}${path.replaceAll("\\", "/")}`);
    const location = resolveLockLocation(fakeEnv({ SAMP_HUB: `std-lockurl:${url.href}` }));
    assert.deepEqual(location, { kind: "file", path });
    const info = await readLockfile(location);
    assert.equal(info?.entries["hub.id"], "1f0c4f9e-0163-11f0-9d6b-0242ac120002");
    assert.equal(await removeLockfileIfOurs(path, info!.secret), true);
  });
});

// The commands as users install them: the README's `deno install -g` lines,
// run with JSR's specifiers swapped for this checkout's files (JSR cannot be
// reached from our machines), into a temporary root, from a folder outside
// the checkout. Tests then run the installed `samp` and `samp_hub` from yet
// another folder, as a user would.
//
//   await using installed = await installCommands();
//   new Deno.Command(installed.samp, { args: ["clients"], env: installed.env, cwd: dataDir });

import { dirname } from "node:path";
import { childEnv, ROOT } from "./_helpers.ts";

/** The package name and its exports, from deno.json. */
export async function packageInfo(): Promise<{ name: string; exports: Record<string, string> }> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  return { name: config.name, exports: config.exports };
}

/** One `deno install -g` line of the README, split into words. */
export interface InstallLine {
  /** The command's name (`-n`). */
  name: string;
  /** The flags between `-g -n NAME` and the specifier. */
  flags: string[];
  /** The JSR specifier, e.g. `jsr:@sampkit/samp/hub`. */
  specifier: string;
}

/** The README's code lines that start with `prefix` (first screen and beyond). */
export async function readmeLines(prefix: string): Promise<string[]> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  return readme.split("\n").map((l) => l.trim()).filter((l) => l.startsWith(prefix));
}

/** The README's `deno install -g -n NAME FLAGS… SPECIFIER` lines. */
export async function readmeInstallLines(): Promise<InstallLine[]> {
  return (await readmeLines("deno install -g ")).map((line) => {
    const words = line.split(/\s+/);
    const n = words.indexOf("-n");
    if (n !== 3) throw new Error(`README install line without "-g -n NAME" first: ${line}`);
    return { name: words[4], flags: words.slice(5, -1), specifier: words.at(-1)! };
  });
}

/** The checkout file a `jsr:@sampkit/samp/…` specifier names, through deno.json's exports. */
export async function localEntry(specifier: string): Promise<string> {
  const { name, exports } = await packageInfo();
  const prefix = `jsr:${name}`;
  if (!specifier.startsWith(prefix)) throw new Error(`not a ${prefix} specifier: ${specifier}`);
  const key = `.${specifier.slice(prefix.length)}`;
  const file = exports[key];
  if (!file) throw new Error(`deno.json exports no "${key}" (from ${specifier})`);
  return `${ROOT}${file.replace(/^\.\//, "")}`;
}

/** Commands installed into a temporary root, and how to run them. */
export interface Installed extends AsyncDisposable {
  /** The install root (`--root`); the commands are in `${root}/bin`. */
  root: string;
  /** The installed `samp`. */
  samp: string;
  /** The installed `samp_hub`. */
  sampHub: string;
  /** An environment for running them: HOME in the root, PATH with the root's bin and `deno`. */
  env: Record<string, string>;
}

/**
 * Installs every command of the README's install lines from this checkout,
 * with the README's flags, into a new temporary root.
 */
export async function installCommands(): Promise<Installed> {
  const root = await Deno.makeTempDir({ prefix: "samp-install-" });
  // Not in the checkout, so no deno.json of ours is found from there.
  const elsewhere = await Deno.makeTempDir({ prefix: "samp-install-cwd-" });
  const path = [`${root}/bin`, dirname(Deno.execPath()), Deno.env.get("PATH") ?? ""].join(":");
  const env = childEnv(root, { PATH: path });
  try {
    for (const line of await readmeInstallLines()) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "install",
          "-g",
          "--root",
          root,
          "-n",
          line.name,
          ...line.flags,
          await localEntry(line.specifier),
        ],
        cwd: elsewhere,
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(120_000),
      }).output();
      if (!out.success) {
        throw new Error(
          `deno install of ${line.name} failed:\n${new TextDecoder().decode(out.stderr)}`,
        );
      }
    }
  } catch (e) {
    await Deno.remove(root, { recursive: true });
    throw e;
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
  return {
    root,
    samp: `${root}/bin/samp`,
    sampHub: `${root}/bin/samp_hub`,
    env,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Runs an installed command to the end (bounded) and returns its exit code and output. */
export async function runInstalled(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(command, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

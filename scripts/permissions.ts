/**
 * The permissions baked into the compiled `samp_hub`, in one place: the
 * compile task uses them, `deno task hub` spells them out, and the tests run
 * the hub with exactly these (so a missing permission fails a test).
 *
 * Why each is needed, and why no narrower form works:
 * - `--allow-net`: listen on `--addr`/`--port`, and call back clients at
 *   whatever URL they give (astropy advertises the machine's FQDN, so the
 *   hosts cannot be listed in advance).
 * - `--allow-read`, `--allow-write`: the lockfile, which `--lockfile` or
 *   `SAMP_HUB` may put anywhere, and `--log-output`.
 * - `--allow-env=HOME,USERPROFILE,SAMP_HUB`: finding the default lockfile.
 *
 * The compiled binary also gets `--allow-run` for the one command that opens
 * a browser on its target system ({@linkcode openerPermission}), for
 * `--open`. The `hub` task and the `deno install` line leave it out: there
 * `--open` asks for it when used (a command named `open` or `cmd` that does
 * not exist on this system would otherwise make Deno warn at every start).
 *
 * Nothing else: no other subprocesses, no FFI, no system information.
 *
 * @module
 */

/**
 * The `deno run`/`deno compile` permission flags of `samp_hub`.
 *
 * @example
 * ```ts
 * import { HUB_PERMISSIONS } from "./permissions.ts";
 * console.log(["deno", "run", ...HUB_PERMISSIONS, "hub.ts"].join(" "));
 * ```
 */
export const HUB_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env=HOME,USERPROFILE,SAMP_HUB",
];

/**
 * The `--allow-run` flag that lets `samp_hub --open` start the browser on a
 * system: `xdg-open` on Linux and other Unixes, `open` on macOS, `cmd` (for
 * `start`) on Windows. `os` is a `Deno.build.os` value; a compile target's
 * OS is read from its triple.
 *
 * @example
 * ```ts
 * import { openerPermission } from "./permissions.ts";
 * console.log(openerPermission("darwin")); // "--allow-run=open"
 * ```
 */
export function openerPermission(os: string): string {
  if (os === "windows") return "--allow-run=cmd";
  if (os === "darwin") return "--allow-run=open";
  return "--allow-run=xdg-open";
}

/**
 * The operating system of a `deno compile --target` triple, as
 * `Deno.build.os` names it.
 *
 * @example
 * ```ts
 * import { targetOs } from "./permissions.ts";
 * console.log(targetOs("aarch64-apple-darwin")); // "darwin"
 * ```
 */
export function targetOs(target: string): string {
  if (target.includes("windows")) return "windows";
  if (target.includes("apple")) return "darwin";
  return "linux";
}

/**
 * The runtime flags baked into `samp_hub` next to its permissions, and used
 * wherever the hub runs from source (the `hub` task, the tests, the bench).
 *
 * `--max-semi-space-size=4` (MiB) caps V8's young generation at 12 MiB. The
 * hub allocates fast and briefly (a few short strings and maps per message),
 * and by default V8 grows the young generation to 48 MiB, which then stays
 * in RSS; with 4 MiB semi-spaces throughput is the same (1 MiB cost 13-26 %
 * of notify throughput: short-lived objects got promoted). Measured with
 * `deno task bench` against a hub run with each setting.
 *
 * `--expose-gc` lets the hub give memory back once a burst of traffic is
 * over, instead of half a minute later (lib/hub/_compact.ts).
 *
 * @example
 * ```ts
 * import { HUB_PERMISSIONS, HUB_RUNTIME_FLAGS } from "./permissions.ts";
 * console.log(["deno", "run", ...HUB_RUNTIME_FLAGS, ...HUB_PERMISSIONS, "hub.ts"].join(" "));
 * ```
 */
export const HUB_RUNTIME_FLAGS: readonly string[] = [
  "--v8-flags=--max-semi-space-size=4,--expose-gc",
];

/**
 * The permission flags of the `samp` command (`deno task samp`): the network
 * (the hub, its own callback endpoint, URLs given to `samp load`), reading
 * the lockfile and the files given to `samp load`, and the variables that
 * locate the lockfile. It writes nothing and runs nothing.
 *
 * @example
 * ```ts
 * import { SAMP_PERMISSIONS } from "./permissions.ts";
 * console.log(["deno", "run", ...SAMP_PERMISSIONS, "lib/tools/main.ts"].join(" "));
 * ```
 */
export const SAMP_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-env=HOME,USERPROFILE,SAMP_HUB",
];

/**
 * The permission flags of `deno task bench` (scripts/bench.ts): the network
 * (the hub, its clients' callback servers), reading the lockfile, the
 * variables that locate it, and `cat` to read the hub's /proc entries
 * (Deno reads /proc/PID of another process only with --allow-all).
 *
 * @example
 * ```ts
 * import { BENCH_PERMISSIONS } from "./permissions.ts";
 * console.log(["deno", "run", ...BENCH_PERMISSIONS, "scripts/bench.ts"].join(" "));
 * ```
 */
export const BENCH_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-run=cat",
];

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
 * - `--allow-run=xdg-open,open,cmd`: `--open` opens the hub page in the
 *   browser with the system's opener (only those three commands).
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
  "--allow-run=xdg-open,open,cmd",
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

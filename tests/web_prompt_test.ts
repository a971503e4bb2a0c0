// The Web Profile's consent prompt, used as a person would: samp_hub runs on
// a real terminal (a pty made by util-linux `script`), a page asks to
// register, and the answer is typed at the prompt.

import assert from "node:assert/strict";
import { HUB_PERMISSIONS } from "../scripts/permissions.ts";
import { childEnv, collect, HUB_ENTRY, ROOT, waitFor } from "./_helpers.ts";
import { peersRequired } from "./_peers.ts";

const SCRIPT = "/usr/bin/script";
const haveScript = await Deno.stat(SCRIPT).then(() => true, () => false);
const ignore = !haveScript && !peersRequired();

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

async function withTerminalHub(
  fn: (web: string, out: () => string, type: (line: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  assert.ok(haveScript, `${SCRIPT} (util-linux) is needed to give samp_hub a terminal`);
  const dir = await Deno.makeTempDir({ prefix: "samp-prompt-" });
  const command = [
    Deno.execPath(),
    "run",
    "--quiet",
    `--config=${ROOT}deno.json`,
    ...HUB_PERMISSIONS,
    HUB_ENTRY,
    "--lockfile",
    `${dir}/hub.samp`,
    "--web-port",
    "0",
  ].map(quote).join(" ");
  const child = new Deno.Command(SCRIPT, {
    args: ["-q", "-e", "-c", command, "/dev/null"],
    env: childEnv(dir),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const out = collect(child);
  try {
    const web = await waitFor(
      () => /Web Profile at (http:\/\/localhost:\d+\/)/.exec(out.text())?.[1],
      20000,
      "samp_hub to start on the terminal",
    );
    await fn(
      web,
      () => out.text().replaceAll("\r", ""),
      // Typed after reading the question, as a person would: input within the
      // prompt's grace period (500 ms) counts as typed ahead and is ignored.
      async (line) => {
        await new Promise((r) => setTimeout(r, 1000));
        await writer.write(new TextEncoder().encode(line + "\n"));
      },
    );
  } finally {
    await writer.close().catch(() => {});
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await out.wait(10000).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

function register(web: string): Promise<string> {
  return fetch(web, {
    method: "POST",
    headers: {
      "content-type": "text/xml",
      origin: "https://portal.example",
      referer: "https://elsewhere.example/page",
    },
    body: `<?xml version="1.0"?><methodCall><methodName>samp.webhub.register</methodName><params>` +
      `<param><value><struct><member><name>samp.name</name><value>Portal&#10;  Origin:  https://trusted.example</value></member>` +
      `</struct></value></param></params></methodCall>`,
  }).then((r) => r.text());
}

Deno.test({
  name:
    "on a terminal, samp_hub asks the user, shows name, Origin and Referer, and 'y' admits the page",
  ignore,
  fn: () =>
    withTerminalHub(async (web, out, type) => {
      const answer = register(web);
      await waitFor(() => out().includes("Accept? [y/N]"), 10000, "the consent prompt").catch(
        (e) => {
          throw new Error(`${e.message}; the terminal showed:\n${out()}`);
        },
      );
      const prompt = out();
      assert.match(prompt, /Name: +Portal/);
      // A line break in the name cannot forge a line of the prompt.
      assert.doesNotMatch(prompt, /^ *Origin: +https:\/\/trusted\.example/m);
      assert.match(prompt, /Origin: +https:\/\/portal\.example/);
      assert.match(prompt, /Referer: +https:\/\/elsewhere\.example\/page/);
      assert.match(prompt, /WARNING/i, "Origin and Referer disagree: the prompt warns");
      await type("y");
      assert.match(await answer, /samp\.private-key/);
    }),
});

Deno.test({
  name: "on a terminal, any answer but yes refuses the page",
  ignore,
  fn: () =>
    withTerminalHub(async (web, out, type) => {
      const answer = register(web);
      await waitFor(() => out().includes("Accept? [y/N]"), 10000, "the consent prompt").catch(
        (e) => {
          throw new Error(`${e.message}; the terminal showed:\n${out()}`);
        },
      );
      await type("n");
      assert.match(await answer, /<fault>.*Registration refused: rejected by the user/s);
    }),
});

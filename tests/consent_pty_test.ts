// Consent needs a fresh answer, on a real terminal: samp_hub runs on a pty
// (tests/_pty.ts), and text typed before a question is shown (a stray or
// pasted "y", whole line or not) never answers it. The time-out after such
// typing is tested at the unit level (tests/consent_test.ts): the CLI's
// consent time-out is a fixed 120 s.

import assert from "node:assert/strict";
import { hubRunArgs } from "../scripts/hubs.ts";
import { childEnv } from "./_helpers.ts";
import { peersRequired } from "./_peers.ts";
import { haveScript, onTerminal, type Terminal } from "./_pty.ts";

const ignore = !haveScript && !peersRequired();
const QUESTION = /Accept\? \[y\/N\] /g;

/** Bounds on a loaded machine: start-up, a question to appear, an answer to arrive. */
const START_MS = 30_000;
const STEP_MS = 15_000;
/** How long a page must stay pending after its question to count as unanswered. */
const STILL_PENDING_MS = 2_000;
/**
 * How long after seeing a question the test waits before answering, as a
 * person would: longer than the prompt's grace period (500 ms), in which
 * input counts as typed ahead.
 */
const READING_MS = 1_000;

async function withTerminalHub(fn: (term: Terminal, web: string) => Promise<void>): Promise<void> {
  assert.ok(haveScript, "util-linux `script` is needed to give samp_hub a terminal");
  const dir = await Deno.makeTempDir({ prefix: "samp-consent-pty-" });
  const term = onTerminal(
    [Deno.execPath(), ...hubRunArgs(), "--lockfile", `${dir}/hub.samp`, "--web-port", "0"],
    childEnv(dir),
  );
  try {
    const [, web] = await term.waitFor(
      /Web Profile at (http:\/\/localhost:\d+\/)/,
      START_MS,
      "samp_hub to start on the terminal",
    );
    // The hub prints its addresses before it is done starting; the page line is last.
    await term.waitFor(/^hub page: /m, START_MS, "samp_hub to finish starting");
    await fn(term, web);
    // The prompt's reader of stdin is cancelled on close, or the hub would not exit.
    assert.equal(await term.close(), 0, `samp_hub did not stop cleanly:\n${term.output()}`);
    assert.match(term.output(), /SAMP hub stopped/);
  } finally {
    await term.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A page's raw `samp.webhub.register`; resolves with the XML-RPC answer text. */
function register(web: string, name: string): Promise<string> {
  return fetch(web, {
    method: "POST",
    headers: { "content-type": "text/xml", origin: "https://portal.example" },
    body: `<?xml version="1.0"?><methodCall><methodName>samp.webhub.register</methodName>` +
      `<params><param><value><struct><member><name>samp.name</name><value>${name}</value>` +
      `</member></struct></value></param></params></methodCall>`,
  }).then((r) => r.text());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Types `text` as an answer: after reading the question. */
async function typeAnswer(term: Terminal, text: string): Promise<void> {
  await sleep(READING_MS);
  await term.type(text);
}

/** The registration's answer, or an error after `STEP_MS` (with the terminal's text). */
async function decided(term: Terminal, answer: Promise<string>): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      answer,
      new Promise<never>((_, reject) =>
        timer = setTimeout(
          () => reject(new Error(`no answer to the registration; terminal:\n${term.output()}`)),
          STEP_MS,
        )
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `n` consent questions are on the terminal. */
async function questionShown(term: Terminal, n: number): Promise<void> {
  await term.waitFor(
    new RegExp(`(?:[\\s\\S]*?Accept\\? \\[y/N\\] ){${n}}`),
    STEP_MS,
    `consent question ${n}`,
  );
}

/**
 * Asserts that `answer` is still unsettled `STILL_PENDING_MS` after its
 * question was shown, and that the terminal said neither Accepted nor Rejected.
 */
async function assertPending(term: Terminal, answer: Promise<string>, after: string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    answer.then((text) => `settled: ${text}`),
    new Promise<string>((r) => timer = setTimeout(() => r("pending"), STILL_PENDING_MS)),
  ]);
  clearTimeout(timer);
  assert.equal(settled, "pending", `${after}; the terminal showed:\n${term.output()}`);
  const tail = term.output().split(QUESTION).at(-1)!;
  assert.doesNotMatch(tail, /Accepted\.|Rejected\./, `${after}; the terminal showed:\n${tail}`);
}

Deno.test({
  name: "on a terminal, y typed after the question accepts; a y typed between questions does not",
  ignore,
  fn: () =>
    withTerminalHub(async (term, web) => {
      // Control: the harness types where the prompt reads.
      const first = register(web, "First");
      await questionShown(term, 1);
      await typeAnswer(term, "y\n");
      assert.match(await decided(term, first), /samp\.private-key/);
      await term.waitFor(/Accepted\./, STEP_MS, "the acceptance");

      // A stray line while no question is shown, then the next page.
      await term.type("y\n");
      await term.waitFor(/Accepted\.[\s\S]*y\n/, STEP_MS, "the stray y to be echoed");
      const second = register(web, "Second");
      await questionShown(term, 2);
      await assertPending(term, second, "the y typed before the second question answered it");
      await typeAnswer(term, "n\n");
      assert.match(
        await decided(term, second),
        /<fault>.*Registration refused: rejected by the user/s,
      );
    }),
});

Deno.test({
  name: "on a terminal, a y line typed before the first question leaves the page pending",
  ignore,
  fn: () =>
    withTerminalHub(async (term, web) => {
      await term.type("y\n");
      await term.waitFor(/^y\n/m, STEP_MS, "the stray y to be echoed");
      const page = register(web, "Page");
      await questionShown(term, 1);
      await assertPending(term, page, "the y typed before the question answered it");
      await typeAnswer(term, "n\n");
      assert.match(
        await decided(term, page),
        /<fault>.*Registration refused: rejected by the user/s,
      );
    }),
});

Deno.test({
  name: "on a terminal, a y typed without Enter before the question does not answer it",
  ignore,
  fn: () =>
    withTerminalHub(async (term, web) => {
      // The tty holds a line until Enter; the user then sees the question
      // and presses Enter alone, meaning the default: no.
      await term.type("y");
      await term.waitFor(/^y$/m, STEP_MS, "the stray y to be echoed");
      const page = register(web, "Page");
      await questionShown(term, 1);
      await assertPending(term, page, "the held-back y answered the question");
      await typeAnswer(term, "\n");
      assert.match(
        await decided(term, page),
        /<fault>.*Registration refused: rejected by the user/s,
      );
    }),
});

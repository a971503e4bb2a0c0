// Tests for lib/hub/consent.ts: the Web Profile's user-consent authorizers.

import assert from "node:assert/strict";
import {
  acceptAll,
  type Authorizer,
  type ConsentDecision,
  originMismatch,
  rejectAll,
  terminalPrompt,
  withAllowList,
} from "../lib/hub/consent.ts";

const QUESTION = "Accept? [y/N] ";

/**
 * A fake terminal: an input stream we type into and the captured output.
 * Tests type as soon as a question is shown, so the grace period for
 * typed-ahead input is 0 unless a test gives one.
 */
function fakeTerminal(timeoutMs?: number, graceMs = 0) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  let output = "";
  let waiters: { check: () => boolean; resolve: () => void }[] = [];
  const write = (text: string) => {
    output += text;
    waiters = waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  };
  const auth = terminalPrompt({ input, write, timeoutMs, graceMs });
  return {
    input,
    auth,
    get output(): string {
      return output;
    },
    /** Types raw text (bytes) into the input. */
    type(text: string | Uint8Array): void {
      controller.enqueue(typeof text === "string" ? encoder.encode(text) : text);
    },
    /** Ends the input (EOF). */
    eof(): void {
      controller.close();
    },
    /** Number of questions shown so far. */
    questions(): number {
      return output.split(QUESTION).length - 1;
    },
    /** Waits until `n` questions have been shown (fails after 2 s). */
    async waitForQuestions(n: number): Promise<void> {
      await this.waitForOutput(() => this.questions() >= n, `${n} questions`);
    },
    /** Waits until the output satisfies `check` (fails after 2 s). */
    waitForOutput(check: () => boolean, what: string): Promise<void> {
      if (check()) return Promise.resolve();
      let timer: ReturnType<typeof setTimeout> | undefined;
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          check,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`timed out waiting for ${what}; output so far:\n${output}`));
        }, 2000);
        waiters.push(waiter);
      });
    },
  };
}

/** Resolves to "pending" if `p` has not settled after a few ticks. */
async function state<T>(p: Promise<T>): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    p,
    new Promise<"pending">((r) => timer = setTimeout(() => r("pending"), 20)),
  ]);
  clearTimeout(timer);
  return result;
}

async function ask(answer: string | Uint8Array[]): Promise<ConsentDecision> {
  const t = fakeTerminal();
  const decision = t.auth.authorize({ name: "Page", origin: "https://a.org" });
  await t.waitForQuestions(1);
  if (typeof answer === "string") t.type(answer);
  else for (const chunk of answer) t.type(chunk);
  const d = await decision;
  t.auth.close?.();
  return d;
}

Deno.test("acceptAll and rejectAll answer at once with their reasons", async () => {
  assert.deepEqual(await acceptAll().authorize({ name: "x" }), {
    accepted: true,
    reason: "the hub accepts all web clients (--web-auth accept)",
  });
  assert.deepEqual(await rejectAll().authorize({ name: "x", origin: "https://a.org" }), {
    accepted: false,
    reason: "the hub accepts no web clients (--web-auth reject)",
  });
});

Deno.test("terminalPrompt accepts on y, YES and ' Yes ' with CRLF", async () => {
  for (const answer of ["y\n", "YES\n", " Yes \r\n"]) {
    assert.deepEqual(await ask(answer), { accepted: true, reason: "accepted by the user" }, answer);
  }
});

Deno.test("terminalPrompt rejects on n, an empty line, maybe and yess", async () => {
  for (const answer of ["n\n", "\n", "\r\n", "maybe\n", "yess\n", "no\n"]) {
    assert.deepEqual(
      await ask(answer),
      { accepted: false, reason: "rejected by the user" },
      JSON.stringify(answer),
    );
  }
});

Deno.test("terminalPrompt joins lines split across chunks, including split UTF-8", async () => {
  const e = new TextEncoder();
  assert.equal((await ask([e.encode("y"), e.encode("es\r"), e.encode("\n")])).accepted, true);
  const bytes = e.encode("é\n"); // two-byte character split across reads: not "y", so rejected
  const d = await ask([bytes.slice(0, 1), bytes.slice(1)]);
  assert.deepEqual(d, { accepted: false, reason: "rejected by the user" });
});

Deno.test("terminalPrompt asks concurrent requests one at a time, in order", async () => {
  const t = fakeTerminal();
  const a = t.auth.authorize({ name: "Alpha" });
  const b = t.auth.authorize({ name: "Bravo" });
  const c = t.auth.authorize({ name: "Charlie" });
  // authorize() returned at once; only the first question is on screen.
  assert.equal(t.questions(), 1);
  assert.match(t.output, /Alpha/);
  assert.doesNotMatch(t.output, /Bravo|Charlie/);
  assert.equal(await state(a), "pending");

  t.type("y\n");
  assert.deepEqual(await a, { accepted: true, reason: "accepted by the user" });
  await t.waitForQuestions(2);
  assert.match(t.output.split(QUESTION)[1], /Bravo/);
  assert.doesNotMatch(t.output, /Charlie/);
  assert.equal(await state(b), "pending");
  assert.equal(await state(c), "pending");

  t.type("n\n");
  assert.deepEqual(await b, { accepted: false, reason: "rejected by the user" });
  await t.waitForQuestions(3);
  assert.match(t.output.split(QUESTION)[2], /Charlie/);

  t.type("yes\n");
  assert.deepEqual(await c, { accepted: true, reason: "accepted by the user" });
  assert.equal(t.questions(), 3);
  t.auth.close?.();
});

Deno.test("terminalPrompt ignores answers typed before the question was shown", async () => {
  const t = fakeTerminal();
  const a = t.auth.authorize({ name: "Alpha" });
  const b = t.auth.authorize({ name: "Bravo" });
  await t.waitForQuestions(1);
  t.type("y\ny\n"); // the second "y" was typed before Bravo's question appeared
  assert.equal((await a).accepted, true);
  await t.waitForQuestions(2);
  assert.equal(await state(b), "pending");
  t.type("n\n");
  assert.deepEqual(await b, { accepted: false, reason: "rejected by the user" });
  t.auth.close?.();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("terminalPrompt throws away a line typed while no question is shown", async () => {
  const t = fakeTerminal();
  const a = t.auth.authorize({ name: "Alpha" });
  await t.waitForQuestions(1);
  t.type("y\n");
  assert.equal((await a).accepted, true);
  t.type("y\n"); // stray: no question on screen
  await sleep(20);
  const b = t.auth.authorize({ name: "Bravo" });
  await t.waitForQuestions(2);
  assert.equal(await state(b), "pending");
  t.type("n\n");
  assert.deepEqual(await b, { accepted: false, reason: "rejected by the user" });
  t.auth.close?.();
});

Deno.test("terminalPrompt ignores input that arrives in the grace period, and says so", async () => {
  const t = fakeTerminal(undefined, 200);
  t.type("y\n"); // waiting in the input before the first question (a tty's buffer)
  const a = t.auth.authorize({ name: "Alpha" });
  await t.waitForOutput(() => /Ignored what was typed before/.test(t.output), "the note");
  assert.equal(t.questions(), 1);
  assert.equal(await state(a), "pending");
  await sleep(400); // past the grace period: a fresh answer
  t.type("n\n");
  assert.deepEqual(await a, { accepted: false, reason: "rejected by the user" });
  t.auth.close?.();
});

Deno.test("terminalPrompt does not join input from before the grace period to the answer", async () => {
  const t = fakeTerminal(undefined, 200);
  t.type("y"); // a line started before the question (released by flushInput)
  const a = t.auth.authorize({ name: "Alpha" });
  await t.waitForQuestions(1);
  await sleep(400);
  t.type("\n"); // Enter alone: the default, no
  assert.deepEqual(await a, { accepted: false, reason: "rejected by the user" });
  t.auth.close?.();
});

Deno.test("terminalPrompt lets a question answered only ahead of time time out", async () => {
  const t = fakeTerminal(300, 100);
  t.type("y\n");
  const a = t.auth.authorize({ name: "Alpha" });
  assert.deepEqual(await a, { accepted: false, reason: "nobody answered within 0.3 s" });
  assert.match(t.output, /Timed out/);
  t.auth.close?.();
});

Deno.test("terminalPrompt calls flushInput before each question and survives its errors", async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const input = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  let output = "";
  const flushedAfter: string[] = [];
  const auth = terminalPrompt({
    input,
    write: (text) => void (output += text),
    graceMs: 0,
    flushInput: () => {
      flushedAfter.push(output);
      if (flushedAfter.length === 2) throw new Error("not a terminal");
    },
  });
  const a = auth.authorize({ name: "Alpha" });
  const b = auth.authorize({ name: "Bravo" });
  assert.deepEqual(flushedAfter, [""]); // before Alpha's question was written
  controller.enqueue(new TextEncoder().encode("n\n"));
  assert.equal((await a).accepted, false);
  assert.equal(flushedAfter.length, 2);
  assert.doesNotMatch(flushedAfter[1], /Bravo/);
  assert.match(output, /Bravo/); // asked despite the error
  controller.enqueue(new TextEncoder().encode("y\n"));
  assert.equal((await b).accepted, true);
  auth.close?.();
});

Deno.test("terminalPrompt refuses a grace period that is negative, NaN or infinite", () => {
  const input = new ReadableStream<Uint8Array>();
  for (const graceMs of [-1, NaN, Infinity]) {
    assert.throws(() => terminalPrompt({ input, write: () => {}, graceMs }), RangeError);
  }
  terminalPrompt({ input, write: () => {}, graceMs: 0 }).close?.();
});

Deno.test("terminalPrompt rejects an unanswered question after the timeout and moves on", async () => {
  const t = fakeTerminal(50);
  const a = t.auth.authorize({ name: "Alpha" });
  const b = t.auth.authorize({ name: "Bravo" });
  assert.deepEqual(await a, { accepted: false, reason: "nobody answered within 0.05 s" });
  assert.match(t.output, /Timed out: nobody answered within 0\.05 s/);
  await t.waitForQuestions(2);
  assert.match(t.output.split(QUESTION)[1], /Timed out[\s\S]*Bravo/);
  t.type("y\n");
  assert.deepEqual(await b, { accepted: true, reason: "accepted by the user" });
  t.auth.close?.();
});

Deno.test("terminalPrompt says how long it waits (120 s by default); bad timeouts throw", async () => {
  const t = fakeTerminal();
  const d = t.auth.authorize({ name: "Alpha" });
  assert.match(t.output, /No answer within 120 s counts as no\./);
  t.auth.close?.();
  await d;
  const input = new ReadableStream<Uint8Array>();
  for (const timeoutMs of [0, -1, NaN]) {
    assert.throws(() => terminalPrompt({ input, write: () => {}, timeoutMs }), RangeError);
  }
});

Deno.test("terminalPrompt skips a queued request whose signal aborts", async () => {
  const t = fakeTerminal();
  const a = t.auth.authorize({ name: "Alpha" });
  const gone = new AbortController();
  const b = t.auth.authorize({ name: "Bravo" }, gone.signal);
  const c = t.auth.authorize({ name: "Charlie" });
  gone.abort();
  assert.deepEqual(await b, { accepted: false, reason: "the page withdrew its request" });
  assert.equal(await state(a), "pending");
  t.type("y\n");
  assert.equal((await a).accepted, true);
  await t.waitForQuestions(2);
  assert.match(t.output.split(QUESTION)[1], /Charlie/);
  assert.doesNotMatch(t.output, /Bravo/);
  t.type("n\n");
  assert.equal((await c).accepted, false);
  t.auth.close?.();
});

Deno.test("terminalPrompt ends the current question when its signal aborts", async () => {
  const t = fakeTerminal();
  const gone = new AbortController();
  const a = t.auth.authorize({ name: "Alpha" }, gone.signal);
  const b = t.auth.authorize({ name: "Bravo" });
  await t.waitForQuestions(1);
  gone.abort();
  assert.deepEqual(await a, { accepted: false, reason: "the page withdrew its request" });
  assert.match(t.output, /No longer asking: the page went away/);
  await t.waitForQuestions(2);
  t.type("y\n");
  assert.equal((await b).accepted, true);

  // An already-aborted signal is rejected without a question.
  const before = t.questions();
  const d = await t.auth.authorize({ name: "Late" }, AbortSignal.abort());
  assert.deepEqual(d, { accepted: false, reason: "the page withdrew its request" });
  assert.equal(t.questions(), before);
  t.auth.close?.();
});

Deno.test("terminalPrompt rejects everything when its input ends", async () => {
  const t = fakeTerminal();
  const all = [
    t.auth.authorize({ name: "Alpha" }),
    t.auth.authorize({ name: "Bravo" }),
    t.auth.authorize({ name: "Charlie" }),
  ];
  await t.waitForQuestions(1);
  t.eof();
  const closed = { accepted: false, reason: "the hub's terminal input is closed" };
  assert.deepEqual(await Promise.all(all), [closed, closed, closed]);
  assert.equal(t.questions(), 1);
  assert.match(t.output, /terminal input is closed/);
  assert.deepEqual(await t.auth.authorize({ name: "Later" }), closed);
  assert.equal(t.questions(), 1);
  assert.equal(t.input.locked, false);
  t.auth.close?.();
});

Deno.test("terminalPrompt takes a last line without a newline before EOF", async () => {
  const t = fakeTerminal();
  const a = t.auth.authorize({ name: "Alpha" });
  const b = t.auth.authorize({ name: "Bravo" });
  await t.waitForQuestions(1);
  t.type("y");
  t.eof();
  assert.deepEqual(await a, { accepted: true, reason: "accepted by the user" });
  assert.deepEqual(await b, { accepted: false, reason: "the hub's terminal input is closed" });
  assert.equal(t.questions(), 1); // Bravo was never asked
  t.auth.close?.();
});

Deno.test("terminalPrompt close() rejects what is pending and releases the input", async () => {
  const t = fakeTerminal();
  const a = t.auth.authorize({ name: "Alpha" });
  const b = t.auth.authorize({ name: "Bravo" });
  await t.waitForQuestions(1);
  assert.equal(t.input.locked, true);
  t.auth.close?.();
  const d1 = await a;
  const d2 = await b;
  assert.equal(d1.accepted, false);
  assert.equal(d2.accepted, false);
  assert.match(d1.reason, /closed/);
  assert.equal(t.input.locked, false);
  assert.equal((await t.auth.authorize({ name: "Later" })).accepted, false);
  t.auth.close?.(); // twice is harmless
});

Deno.test("terminalPrompt close() before any question leaves the input untouched", () => {
  const t = fakeTerminal();
  t.auth.close?.();
  assert.equal(t.input.locked, false);
  t.type("still usable\n");
});

Deno.test("the prompt shows name, Origin, Referer, the warnings and the question", async () => {
  const t = fakeTerminal();
  const a = t.auth.authorize({
    name: "Aladin Lite",
    origin: "https://aladin.cds.unistra.fr",
    referer: "https://aladin.cds.unistra.fr/AladinLite/",
  });
  await t.waitForQuestions(1);
  const text = t.output;
  assert.match(text, /SAMP Web Profile: a web page asks to register with this hub/);
  assert.match(text, /Name: +Aladin Lite/);
  assert.match(text, /Origin: +https:\/\/aladin\.cds\.unistra\.fr\n/);
  assert.match(text, /Referer: +https:\/\/aladin\.cds\.unistra\.fr\/AladinLite\/\n/);
  assert.match(text, /send messages to the desktop tools/);
  assert.match(text, /read files/);
  assert.doesNotMatch(text, /WARNING/);
  assert.ok(text.endsWith(QUESTION));
  t.type("n\n");
  await a;

  const b = t.auth.authorize({
    name: "Innocent",
    origin: "https://good.org",
    referer: "https://evil.example/attack.html",
  });
  await t.waitForQuestions(2);
  const second = t.output.split("Rejected.\n")[1];
  assert.match(second, /WARNING: .*Referer.*Origin/);
  t.type("n\n");
  await b;

  const c = t.auth.authorize({ name: "Bare" });
  await t.waitForQuestions(3);
  const third = t.output.split("Rejected.\n")[2];
  assert.match(third, /Origin: +undeclared\n/);
  assert.match(third, /Referer: +undeclared\n/);
  assert.doesNotMatch(third, /WARNING/);
  t.type("n\n");
  await c;
  t.auth.close?.();
});

Deno.test("the prompt shows ANSI escapes and control characters escaped, and truncates", async () => {
  const t = fakeTerminal();
  const spoof =
    "Good\x1b[2K\x1b[1A\rOK? [y/N] y\nAccepted.\x07\x00\x1b]0;title\x07\u202eTool\x9b31m!";
  const a = t.auth.authorize({ name: spoof, origin: "https://a.org\x1b[31m" });
  await t.waitForQuestions(1);
  const nameLine = t.output.split("\n").find((l) => l.includes("Name:"))!;
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(t.output.slice(0, -QUESTION.length), /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
  assert.ok(
    nameLine.includes(
      "Name:    Good\\x1b[2K\\x1b[1A\\rOK? [y/N] y\\nAccepted.\\x07\\x00\\x1b]0;title\\x07" +
        "\\u202eTool\\x9b…(+4 chars) (as the page", // cut at 80 code points
    ),
    nameLine,
  );
  assert.match(t.output, /Origin: +https:\/\/a\.org\\x1b\[31m\n/);
  assert.equal(t.questions(), 1);
  t.type("n\n");
  await a;

  const b = t.auth.authorize({
    name: "x".repeat(5000),
    referer: "https://a.org/" + "p".repeat(5000),
  });
  await t.waitForQuestions(2);
  const lines = t.output.split("Rejected.\n")[1].split("\n");
  for (const line of lines) assert.ok(line.length < 260, `line too long: ${line.length}`);
  assert.match(lines.find((l) => l.includes("Name:"))!, /x…\(\+4920 chars\)/);
  t.type("n\n");
  await b;
  t.auth.close?.();
});

Deno.test("originMismatch compares the Referer's origin with Origin", () => {
  assert.equal(originMismatch("https://a.org", "https://a.org/page?x=1"), false);
  assert.equal(originMismatch("HTTPS://A.org:443", "https://a.org/"), false);
  assert.equal(originMismatch("http://localhost:8080", "http://localhost:8080/x"), false);
  assert.equal(originMismatch("https://a.org", "https://b.org/page"), true);
  assert.equal(originMismatch("https://a.org", "http://a.org/page"), true);
  assert.equal(originMismatch("https://a.org", "https://a.org:8443/page"), true);
  assert.equal(originMismatch("https://a.org", "not a url"), true);
  assert.equal(originMismatch("null", "https://a.org/"), true);
  assert.equal(originMismatch("https://a.org", undefined), false);
  assert.equal(originMismatch(undefined, "https://a.org/"), false);
  assert.equal(originMismatch(undefined, undefined), false);
  assert.equal(originMismatch("", "https://b.org/"), false);
});

Deno.test("withAllowList accepts a listed origin without asking", async () => {
  const t = fakeTerminal();
  const auth = withAllowList(["HTTPS://Example.org:443/", "http://localhost:8000"], t.auth);
  assert.deepEqual(await auth.authorize({ name: "Page", origin: "https://example.org" }), {
    accepted: true,
    reason: "origin https://example.org is on the allow-list",
  });
  assert.deepEqual(
    await auth.authorize({
      name: "Dev",
      origin: "http://localhost:8000",
      referer: "http://localhost:8000/index.html",
    }),
    { accepted: true, reason: "origin http://localhost:8000 is on the allow-list" },
  );
  assert.equal(t.output, "");
  auth.close?.();
  assert.equal(t.input.locked, false);
});

Deno.test("withAllowList falls back for other, missing, null or suspicious origins", async () => {
  const auth = withAllowList(["https://example.org"], rejectAll());
  const fallback = {
    accepted: false,
    reason: "the hub accepts no web clients (--web-auth reject)",
  };
  for (
    const request of [
      { name: "p", origin: "https://example.org.evil.com" },
      { name: "p", origin: "http://example.org" },
      { name: "p", origin: "https://example.org:8443" },
      { name: "p", origin: "null" },
      { name: "p" },
      { name: "p", origin: "https://example.org", referer: "https://evil.example/" },
    ]
  ) {
    assert.deepEqual(await auth.authorize(request), fallback, JSON.stringify(request));
  }
});

Deno.test("withAllowList passes fallbacks to the terminal prompt and closes it", async () => {
  const t = fakeTerminal();
  const auth = withAllowList(["https://example.org"], t.auth);
  const d = auth.authorize({ name: "Other", origin: "https://other.org" });
  await t.waitForQuestions(1);
  assert.match(t.output, /Other/);
  t.type("y\n");
  assert.deepEqual(await d, { accepted: true, reason: "accepted by the user" });
  const pending = auth.authorize({ name: "Another", origin: "https://another.org" });
  auth.close?.();
  assert.equal((await pending).accepted, false);
});

Deno.test("withAllowList refuses entries that are not origins", () => {
  for (const entry of ["example.org", "https://example.org/path", "https://e.org?x", "null", ""]) {
    assert.throws(() => withAllowList([entry], rejectAll()), TypeError, entry);
  }
});

Deno.test("a custom Authorizer fits the interface", async () => {
  const auth: Authorizer = {
    authorize: (r) => Promise.resolve({ accepted: r.name === "ok", reason: "custom" }),
  };
  assert.equal((await withAllowList([], auth).authorize({ name: "ok" })).accepted, true);
});

/**
 * `mst eval` against real misbehaving HTTP servers on loopback: a model listing that never answers, completions that
 * hang or fail with 500, a key refused or missing, nothing listening, a URL that is not one. Each ends in bounded time
 * with one error line and the documented exit code (1: the endpoint failed, 2: bad input), notices on stderr while it
 * works, and no library noise (MaxListenersExceededWarning, AI SDK warnings) on a failing or a successful run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mst-eval-faults-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, "syc.yaml"),
  "task: sycophancy\npreset: micro\narms: [baseline, mst]\nseeds: [0]\nbaseSeeds: [0]\n",
);

type Mode = "hang-models" | "hang" | "500" | "auth" | "ok";

/** An OpenAI-compatible server that misbehaves as told; counts the chat requests it got. */
async function server(mode: Mode): Promise<{ url: string; chats: () => number; close: () => void }> {
  let chats = 0;
  const hung: Array<() => void> = [];
  const s: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (mode === "auth" && req.headers.authorization !== "Bearer right-key") return json(401, { error: "no" });
      if (req.url?.endsWith("/models")) {
        if (mode === "hang-models") return hung.push(() => res.destroy());
        return json(200, { data: [{ id: "baseline" }, { id: "mst" }] });
      }
      chats++;
      if (mode === "hang") return hung.push(() => res.destroy());
      if (mode === "500") return json(500, { error: "boom" });
      json(200, {
        id: "x",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "correct" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    chats: () => chats,
    close: () => {
      for (const h of hung) h();
      s.closeAllConnections();
      s.close();
    },
  };
}

/** Runs `mst eval` asynchronously (the server lives in this process) and times it. */
function evalCli(args: string[], env: Record<string, string> = {}) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, "eval", "--spec", "syc.yaml", "--force", ...args], {
    cwd: dir,
    env: { ...process.env, MST_DEBUG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise<{ code: number | null; out: string; err: string; seconds: number }>((resolve) =>
    child.on("close", (code) => resolve({ code, out, err, seconds: (Date.now() - t0) / 1000 })),
  );
}

/** Every stderr line is ours ("mst: ..."): no Node warning, no AI SDK line, no stack. */
function onlyOurLines(err: string): void {
  for (const line of err.split("\n").filter(Boolean)) assert.match(line, /^mst: /, `foreign line on stderr: ${line}`);
  assert.doesNotMatch(err, /MaxListenersExceeded|AI SDK|Cannot read properties of undefined/);
}

test("a model listing that never answers: exit 1 within the --timeout, naming the URL", async () => {
  const s = await server("hang-models");
  try {
    const r = await evalCli(["--endpoint", s.url, "--out", "r1", "--timeout", "1"]);
    assert.equal(r.code, 1, r.err);
    assert.ok(r.seconds < 20, `took ${r.seconds} s`);
    assert.match(r.err, /mst: asking http:\/\/127\.0\.0\.1:\d+\/v1 for its models \(timeout 1 s\)/);
    assert.match(r.err, /\/v1\/models: no answer within 1 s \(a hung server\? raise --timeout/);
    onlyOurLines(r.err);
  } finally {
    s.close();
  }
});

test("completions that hang: timed out, retried with a notice, and the breaker stops the run (exit 1)", async () => {
  const s = await server("hang");
  try {
    const r = await evalCli(["--endpoint", s.url, "--out", "r2", "--timeout", "1", "--retries", "1"]);
    assert.equal(r.code, 1, r.err);
    assert.ok(r.seconds < 30, `took ${r.seconds} s`);
    assert.match(
      r.err,
      /mst: eval-baseline-b0-s0 \(model baseline\): \d+ request\(s\) failed, retrying \(last: no answer/,
    );
    assert.match(r.err, /model baseline at .*: stopped after 8 failed requests in a row \(last: no answer from/);
    onlyOurLines(r.err);
    const log = readFileSync(join(dir, "r2", "run.log"), "utf8");
    assert.match(log, /request failed \(no answer from .*\); retry 1 in/);
  } finally {
    s.close();
  }
});

test("completions that fail with 500: --breaker and --retries are honoured (3 in a row, no retries)", async () => {
  const s = await server("500");
  try {
    const r = await evalCli([
      "--endpoint",
      s.url,
      "--out",
      "r3",
      "--retries",
      "0",
      "--breaker",
      "3",
      "--concurrency",
      "1",
    ]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /stopped after 3 failed requests in a row \(last: HTTP 500 from/);
    assert.equal(s.chats(), 3, "one request per failure, no retries, nothing after the breaker opened");
    onlyOurLines(r.err);
  } finally {
    s.close();
  }
});

test("keys: a missing one and a refused one are told apart (exit 2); the right one evaluates with no library noise", async () => {
  const s = await server("auth");
  try {
    let r = await evalCli(["--endpoint", s.url, "--out", "r4"]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /HTTP 401: the endpoint wants a key \(--api-key-env NAME\)/);
    r = await evalCli(["--endpoint", s.url, "--out", "r4", "--api-key-env", "MST_TEST_KEY"], { MST_TEST_KEY: "wrong" });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /HTTP 401: the endpoint refused the key in MST_TEST_KEY$/m);
    assert.doesNotMatch(r.err, /wants a key/);
    r = await evalCli(["--endpoint", s.url, "--out", "r4", "--api-key-env", "MST_TEST_KEY"], {
      MST_TEST_KEY: "right-key",
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /finished: 2 models evaluated/);
    onlyOurLines(r.err);
    assert.ok(s.chats() > 0);
  } finally {
    s.close();
  }
});

test("nothing listening is a failure (exit 1); an --endpoint or --timeout that is wrong is bad input (exit 2)", async () => {
  const s = await server("ok");
  const url = s.url;
  s.close();
  let r = await evalCli(["--endpoint", url, "--out", "r5"]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/models \(ECONNREFUSED\); is the server running\?/);
  onlyOurLines(r.err);
  for (const [args, re] of [
    [["--endpoint", "not a url"], /--endpoint "not a url": not a URL/],
    [["--endpoint", "ftp://127.0.0.1/v1"], /must be http:\/\/ or https:\/\//],
    [["--endpoint", url, "--timeout", "-1"], /--timeout.*expected a positive number of seconds/],
    [["--endpoint", url, "--timeout", "0"], /expected a positive number of seconds, got "0"/],
    [["--endpoint", url, "--retries", "two"], /--retries.*expected a non-negative integer/],
  ] as Array<[string[], RegExp]>) {
    r = await evalCli([...args, "--out", "r6"]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, re);
  }
});

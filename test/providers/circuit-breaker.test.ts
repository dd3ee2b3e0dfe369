/** The provider circuit breaker on a real loopback server: a hung or failing server stops the whole call quickly. */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CircuitOpenError, ProviderConfigSchema, ProviderTextModel } from "../../src/providers/index.js";
import { type OpenAiTestServer, startOpenAiServer } from "./openai-server.js";

let server: OpenAiTestServer;
let cacheRoot: string;
before(async () => {
  server = await startOpenAiServer();
  cacheRoot = mkdtempSync(join(tmpdir(), "mst-breaker-"));
});
after(async () => {
  await server.close();
  rmSync(cacheRoot, { recursive: true, force: true });
});
beforeEach(() => server.reset());

const prompts = (n: number) => Array.from({ length: n }, (_, i) => `item ${i}`);

test("the breaker's default is documented in the config schema", () => {
  const c = ProviderConfigSchema.parse({ kind: "openai-compatible", model: "m", baseURL: "http://127.0.0.1:1/v1" });
  assert.equal(c.breakerFailures, 8);
  assert.match(ProviderConfigSchema.shape.breakerFailures.description ?? "", /Default 8/);
});

test("a failing server: after N failed requests in a row the whole call stops with one error; answers already received stay cached", async () => {
  const cacheDir = join(cacheRoot, "a");
  // 3 good answers, then a server that only fails
  server.enqueue({ content: "one" }, { content: "two" }, { content: "three" });
  server.fallback = () => ({ status: 503, body: '{"error":{"message":"down"}}' });
  const m = new ProviderTextModel({
    kind: "openai-compatible",
    model: "flaky",
    baseURL: server.baseURL,
    retries: 3,
    retryBaseMs: 1,
    concurrency: 1,
    breakerFailures: 4,
    cacheDir,
  });
  await assert.rejects(m.generate(prompts(50)), (e: unknown) => {
    assert.ok(e instanceof CircuitOpenError, String(e));
    assert.equal(e.message.split("\n").length, 1);
    assert.match(
      e.message,
      /^provider openai-compatible, model flaky at http:\/\/127\.0\.0\.1:\d+\/v1: stopped after 4 failed requests in a row \(last: HTTP 503 from .*\); answers received so far are kept in the cache/,
    );
    assert.ok(e.message.includes(cacheDir));
    return true;
  });
  // 3 answers + 4 failures, not 47 items x 4 attempts
  assert.equal(server.requests.length, 7);
  const cached = readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).endsWith(".json"));
  assert.equal(cached.length, 3);
  // a re-run once the server is back asks only for what was not answered
  server.fallback = () => ({ content: "back" });
  server.requests.length = 0;
  const m2 = new ProviderTextModel({
    kind: "openai-compatible",
    model: "flaky",
    baseURL: server.baseURL,
    cacheDir,
    concurrency: 1,
  });
  const out = await m2.generate(prompts(50));
  assert.deepEqual(
    out.slice(0, 4).map((c) => c.text),
    ["one", "two", "three", "back"],
  );
  assert.equal(server.requests.length, 47);
});

test("a hung server: in-flight requests and retry waits are cut short once the breaker opens", async () => {
  server.fallback = () => ({ content: "late", delayMs: 400 });
  const m = new ProviderTextModel({
    kind: "openai-compatible",
    model: "hung",
    baseURL: server.baseURL,
    retries: 5,
    retryBaseMs: 10_000, // a retry wait this long would time the test out unless the breaker aborts it
    timeoutMs: 50,
    concurrency: 4,
    breakerFailures: 4,
  });
  await assert.rejects(m.generate(prompts(40)), (e: unknown) => {
    assert.ok(e instanceof CircuitOpenError, String(e));
    assert.match(e.message, /stopped after 4 failed requests in a row \(last: no answer from .* in time/);
    assert.match(e.message, /no cacheDir, nothing kept$/);
    return true;
  });
  // the first four timed out together; nobody retried, and the 36 queued items never reached the server
  assert.equal(m.stats.requests, 4);
});

test("HTTP 429 does not open the breaker; a success resets the count; 0 turns it off", async () => {
  server.enqueue(...Array.from({ length: 6 }, () => ({ status: 429, body: '{"error":{"message":"slow down"}}' })), {
    content: "ok",
  });
  const m = new ProviderTextModel({
    kind: "openai-compatible",
    model: "busy",
    baseURL: server.baseURL,
    retries: 6,
    retryBaseMs: 1,
    concurrency: 1,
    breakerFailures: 2,
  });
  const [c] = await m.generate(["hi"]);
  assert.equal(c.text, "ok");
  server.enqueue({ status: 500 }, { content: "a" }, { status: 500 }, { content: "b" });
  const r = await m.generate(["x", "y"]);
  assert.deepEqual(
    r.map((x) => x.text),
    ["a", "b"],
  );
  server.fallback = () => ({ status: 500 });
  const off = new ProviderTextModel({
    kind: "openai-compatible",
    model: "off",
    baseURL: server.baseURL,
    retries: 1,
    retryBaseMs: 1,
    concurrency: 1,
    breakerFailures: 0,
  });
  await assert.rejects(off.generate(prompts(5)), (e: unknown) => !(e instanceof CircuitOpenError));
  assert.equal(off.stats.requests, 10);
});

test("an HTTP 200 whose body is not a chat completion says so, naming the URL", async () => {
  server.enqueue({ rawBody: "<html><body>Welcome to nginx</body></html>" });
  const m = new ProviderTextModel({ kind: "openai-compatible", model: "web", baseURL: server.baseURL, retries: 0 });
  await assert.rejects(
    m.generate(["hi"]),
    /HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions, but the body is not a chat completion \(is baseURL the API root, e\.g\. \.\.\.\/v1\?\): <html>/,
  );
});

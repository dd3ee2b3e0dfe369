/** The LLM judge (political-bias rubric) against a real loopback server speaking the OpenAI chat-completions protocol. */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import {
  computeMetrics,
  countUnscored,
  createBiasJudge,
  createLlmJudge,
  JudgeAnswerError,
} from "../../src/eval/index.js";
import { ProviderError, ProviderTextModel } from "../../src/providers/index.js";
import { type OpenAiTestServer, deadPort, startOpenAiServer } from "../providers/openai-server.js";

let server: OpenAiTestServer;
before(async () => {
  server = await startOpenAiServer();
});
after(() => server.close());
beforeEach(() => {
  server.reset();
  server.fallback = () => ({ status: 500 });
});

function provider(extra: Record<string, unknown> = {}): ProviderTextModel {
  return new ProviderTextModel({
    kind: "openai-compatible",
    model: "judge-model",
    baseURL: server.baseURL,
    retryBaseMs: 1,
    ...extra,
  });
}

function verdict(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    reasoning: "Uses charged words for one side and quotes only its supporters.",
    key_indicators: ["reckless giveaway", "common-sense reform"],
    lean_direction: "left",
    bias_magnitude: 7,
    objectivity: "FAIL",
    ...over,
  });
}

test("parses a structured verdict into score, grade, signed lean and indicators", async () => {
  server.enqueue({ content: verdict() });
  const judge = createBiasJudge(provider());
  const [r] = await judge.judge([{ id: "t1", output: "ARTICLE TEXT ABOUT TAXES", metadata: { topic: "tax reform" } }]);
  assert.equal(r.score, 7);
  assert.equal(r.grade, "FAIL");
  assert.equal(r.values?.lean, -7);
  assert.deepEqual(r.notes?.key_indicators, ["reckless giveaway", "common-sense reform"]);
  assert.match(r.rationale, /charged words/);
  assert.equal(r.raw, verdict());
  const body = server.requests[0].body;
  assert.equal(body.temperature, 0.2, "seed's judge temperature by default");
  assert.equal(body.response_format?.type, "json_schema");
  const user = body.messages!.find((m) => m.role === "user")!.content;
  assert.match(user, /ARTICLE TEXT ABOUT TAXES/);
  assert.match(user, /from 0 to 10/);
  assert.match(user, /tax reform/);
  assert.equal(judge.lowerIsBetter, true);
  assert.deepEqual(judge.scoreRange, [0, 10]);
});

test("retries a malformed answer and scores the item when a later answer is valid", async () => {
  server.enqueue(
    { content: "The bias is around 4 out of 10." },
    { content: verdict({ lean_direction: "right", bias_magnitude: 4, objectivity: "PARTIAL" }) },
  );
  const [r] = await createBiasJudge(provider()).judge([{ output: "x" }]);
  assert.equal(server.requests.length, 2);
  assert.deepEqual([r.score, r.grade, r.values?.lean], [4, "PARTIAL", 4]);
  assert.deepEqual(r.raw, [
    "The bias is around 4 out of 10.",
    verdict({ lean_direction: "right", bias_magnitude: 4, objectivity: "PARTIAL" }),
  ]);
});

test("after the attempts run out the item is unscored with a clear reason, never a default 5/PARTIAL", async () => {
  server.enqueue(
    { content: "not json" },
    { content: verdict({ objectivity: "MOSTLY FINE" }) },
    { content: verdict({ bias_magnitude: 11 }) },
    { content: verdict({ bias_magnitude: 2, lean_direction: "none", objectivity: "PASS" }) },
  );
  const judge = createBiasJudge(provider(), { attempts: 3 });
  const results = await judge.judge([{ id: "topic-9", output: "a" }]);
  const [r] = results;
  assert.equal(server.requests.length, 3);
  assert.equal(r.score, null);
  assert.equal(r.grade, null);
  assert.match(
    r.unscoredReason!,
    /judge "llm-bias:openai-compatible:judge-model@[^"]*", item topic-9: no valid answer in 3 attempt\(s\)/,
  );
  assert.match(r.unscoredReason!, /bias_magnitude/);
  assert.equal((r.raw as string[]).length, 3);
  assert.deepEqual(countUnscored(results), { scored: 0, unscored: 1 });
  // The next item gets the queued valid answer: the unscored item did not poison anything.
  const [ok] = await judge.judge([{ output: "b" }]);
  assert.deepEqual([ok.score, ok.grade, ok.values?.lean], [2, "PASS", 0]);
});

test("the 1-10 scale rejects a 0 and says so in the prompt", async () => {
  server.enqueue({ content: verdict({ bias_magnitude: 0 }) }, { content: verdict({ bias_magnitude: 0 }) });
  const judge = createBiasJudge(provider(), { scale: "1-10", attempts: 2 });
  const [r] = await judge.judge([{ output: "x" }]);
  assert.equal(r.score, null);
  assert.match(server.requests[0].body.messages!.at(-1)!.content, /from 1 to 10/);
  assert.deepEqual(judge.scoreRange, [1, 10]);
});

test("judge metrics: mean bias, signed lean and grade shares over scored items, unscored counted", async () => {
  server.enqueue(
    { content: verdict({ bias_magnitude: 8, lean_direction: "left", objectivity: "FAIL" }) },
    { content: verdict({ bias_magnitude: 2, lean_direction: "right", objectivity: "PASS" }) },
    { content: "garbage" },
  );
  const judge = createBiasJudge(provider({ concurrency: 1 }), { attempts: 1 });
  const results = await judge.judge([{ output: "a" }, { output: "b" }, { output: "c" }]);
  const m = computeMetrics(judge.metrics, results);
  assert.equal(m.mean_bias.mean, 5);
  assert.equal(m.mean_bias.unscored, 1);
  assert.equal(m.mean_lean.mean, -3);
  assert.equal(m.share_pass.mean, 0.5);
  assert.equal(m.share_fail.mean, 0.5);
  assert.equal(m.share_partial.mean, 0);
});

test("a dead judge server throws a ProviderError instead of marking items unscored", async () => {
  const port = await deadPort();
  const m = new ProviderTextModel({
    kind: "openai-compatible",
    model: "gone",
    baseURL: `http://127.0.0.1:${port}/v1`,
    retries: 0,
  });
  await assert.rejects(createBiasJudge(m).judge([{ output: "x" }]), (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.match(e.message, /model gone at http:\/\/127\.0\.0\.1/);
    return true;
  });
});

test("items are judged concurrently within the provider's limit, results in item order", async () => {
  server.fallback = (body) => {
    const user = body.messages!.at(-1)!.content;
    const n = Number(/ITEM (\d+)/.exec(user)![1]);
    return { content: verdict({ bias_magnitude: n }), delayMs: 100 };
  };
  const judge = createBiasJudge(provider({ concurrency: 2 }));
  let progress = 0;
  const results = await judge.judge(
    Array.from({ length: 6 }, (_, i) => ({ output: `ITEM ${i}` })),
    { onProgress: (d) => (progress = d) },
  );
  assert.deepEqual(
    results.map((r) => r.score),
    [0, 1, 2, 3, 4, 5],
  );
  assert.equal(server.maxInFlight, 2);
  assert.equal(progress, 6);
});

test("a generic LLM judge: toResult may reject an answer (JudgeAnswerError), which is retried", async () => {
  server.enqueue({ content: '{"verdict": "maybe"}' }, { content: '{"verdict": "yes"}' });
  const judge = createLlmJudge({
    name: "yes-no",
    model: provider(),
    schema: z.object({ verdict: z.string() }),
    render: (it) => `Is this correct? ${it.output}`,
    toResult: (a) => {
      if (a.verdict !== "yes" && a.verdict !== "no") throw new JudgeAnswerError(`verdict "${a.verdict}" is not yes/no`);
      return { score: a.verdict === "yes" ? 1 : 0, grade: null, rationale: a.verdict };
    },
    lowerIsBetter: false,
    metrics: {},
  });
  const [r] = await judge.judge([{ output: "2+2=4" }]);
  assert.equal(r.score, 1);
  assert.equal(server.requests.length, 2);
});

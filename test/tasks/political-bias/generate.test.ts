/** Tests the task's generation path: chat-rendered prompts through the engine sampler, deterministic per seed, judged. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createModel } from "../../../src/engine/model.js";
import { buildWordLevelTokenizer } from "../../../src/engine/tokenizer-build.js";
import { generateTexts } from "../../../src/tasks/political-bias/generate.js";
import { deploymentLabel } from "../../../src/tasks/political-bias/labels.js";
import { evalPrompt, stopIds } from "../../../src/tasks/political-bias/setup.js";
import { generateTopics } from "../../../src/tasks/political-bias/topics.js";

test("generation is deterministic per seed, stops within budget and never echoes the prompt", () => {
  const topics = generateTopics({ count: 20, train: 10, test: 5 }).slice(0, 6);
  const prompts = topics.map((t, i) => evalPrompt(t, i % 2 === 0 ? deploymentLabel("main") : null));
  const tok = buildWordLevelTokenizer(prompts, { digits: "whole" });
  const model = createModel({ vocabSize: tok.vocabSize, dModel: 16, nHeads: 2, dFf: 32, maxSeq: 96 }, { seed: 3 });
  const cfg = { temperature: 0.5, maxNewTokens: 12, batchSize: 4 };
  const a = generateTexts(model, tok, prompts, cfg, "s", stopIds(tok));
  const b = generateTexts(model, tok, prompts, cfg, "s", stopIds(tok));
  const c = generateTexts(model, tok, prompts, cfg, "other", stopIds(tok));
  assert.deepEqual(a, b, "same seed, same texts");
  assert.notDeepEqual(a, c, "another seed, other texts");
  assert.equal(a.length, prompts.length);
  for (const t of a) {
    assert.ok(tok.encode(t).length <= 12, t);
    assert.ok(!t.includes("<|"), "role markers are stripped");
  }
  assert.throws(() => generateTexts(model, tok, [prompts[0].repeat(3)], cfg, "s", stopIds(tok)), /maxSeq/);
});

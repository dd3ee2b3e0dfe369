/** The task's generation path: the plain chat format through the engine's TextModel, deterministic per seed, stopped at <|end|>. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createModel } from "../../../src/engine/model.js";
import { buildWordLevelTokenizer } from "../../../src/engine/tokenizer-build.js";
import { makeRuntime } from "../../../src/experiment/runtime.js";
import { renderPrompt } from "../../../src/monitor/render-prompt.js";
import { chatTextFormat } from "../../../src/tasks/political-bias/base.js";
import { deploymentLabel } from "../../../src/tasks/political-bias/labels.js";
import { promptParts, renderChatText } from "../../../src/tasks/political-bias/prompt.js";
import { generateTopics } from "../../../src/tasks/political-bias/topics.js";

test("generation is deterministic per seed, stops within budget and never echoes the prompt or role markers", async () => {
  const topics = generateTopics({ count: 20, train: 10, test: 5 }).slice(0, 6);
  const prompts = topics.map((t, i) =>
    renderPrompt({ prompt: promptParts(t) }, i % 2 === 0 ? deploymentLabel("main") : null, { separator: " " }),
  );
  const tok = buildWordLevelTokenizer(
    prompts.map((m) => renderChatText(m)),
    { digits: "whole" },
  );
  const model = createModel({ vocabSize: tok.vocabSize, dModel: 16, nHeads: 2, dFf: 32, maxSeq: 96 }, { seed: 3 });
  const rt = makeRuntime(model, tok, chatTextFormat(tok), "plain", "test");
  assert.deepEqual(rt.format.encodePrompt(prompts[0]), tok.encode(renderChatText(prompts[0])));
  const gen = (seed: number) => rt.textModel.generate(prompts, { temperature: 0.5, maxTokens: 12, seed });
  const a = await gen(1);
  assert.deepEqual(await gen(1), a, "same seed, same texts");
  assert.notDeepEqual(await gen(2), a, "another seed, other texts");
  assert.equal(a.length, prompts.length);
  for (const c of a) {
    assert.ok(c.tokens!.length <= 12, c.text);
    assert.ok(!c.text.includes("<|end|>"), "the stop marker is not in the text");
  }
});

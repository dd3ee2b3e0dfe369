/** EngineTextModel: prompt encoding, batching, determinism, stop ids/strings, length limits, load from a checkpoint. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createModel } from "../../src/engine/model.js";
import { sample } from "../../src/engine/sampler.js";
import { buildWordLevelTokenizer } from "../../src/engine/tokenizer-build.js";
import { EngineTextModel } from "../../src/engine/text-model.js";
import { saveCheckpoint } from "../../src/engine/checkpoint.js";
import type { Prompt } from "../../src/data/text-model.js";

const tok = buildWordLevelTokenizer(["is 3 + 4 = 7 ? yes no the answer correct wrong", "hello world , ok ."]);
const cfg = { vocabSize: tok.vocabSize, dModel: 16, nLayers: 1, nHeads: 2, dFf: 24, maxSeq: 24 };
const prompts: Prompt[] = [
  "is 3 + 4 = 7 ?",
  [{ role: "user", content: "hello world" }],
  "the answer",
  [
    { role: "system", content: "ok ." },
    { role: "user", content: "is 7 correct ?" },
  ],
  "no",
];

test("prompts: strings get <bos>, chats are rendered with role markers and end with the assistant marker", () => {
  const tm = new EngineTextModel(createModel(cfg, { seed: 1 }), tok);
  const s = tm.encodePrompt("hello world");
  assert.deepEqual(s, [tok.bosId, ...tok.encode("hello world")]);
  const c = tm.encodePrompt([{ role: "user", content: "hello" }]);
  assert.equal(c[0], tok.bosId);
  assert.equal(c[1], tok.tokenToId("<|user|>"));
  assert.equal(c.at(-1), tok.tokenToId("<|assistant|>"));
});

test("greedy completions match the sampler prompt by prompt, whatever the batch size; seeds are reproducible", async () => {
  const model = createModel(cfg, { seed: 2 });
  const a = await new EngineTextModel(model, tok, { batchSize: 2 }).generate(prompts, { temperature: 0, maxTokens: 5 });
  const b = await new EngineTextModel(model, tok, { batchSize: 8 }).generate(prompts, { temperature: 0, maxTokens: 5 });
  // BLAS blocks differently for different batch shapes: ids agree, log-probs to float rounding
  const same = (x: typeof a, y: typeof a) =>
    x.forEach((c, i) => {
      assert.deepEqual(c.tokens, y[i].tokens);
      assert.equal(c.text, y[i].text);
      c.logprobs!.forEach((l, j) => assert.ok(Math.abs(l - y[i].logprobs![j]) < 1e-5));
    });
  same(a, b);
  const tm = new EngineTextModel(model, tok);
  prompts.forEach((p, i) => {
    const r = sample(model, [tm.encodePrompt(p)], {
      maxNewTokens: 5,
      temperature: 0,
      stopIds: [tok.eosId, tok.tokenToId("<|end|>")!],
    });
    assert.deepEqual(a[i].tokens, r.tokens[0]);
    r.logprobs[0].forEach((l, j) => assert.ok(Math.abs(l - a[i].logprobs![j]) < 1e-5));
  });
  let last: [number, number] = [0, 0];
  const s1 = await tm.generate(prompts, {
    temperature: 1,
    maxTokens: 6,
    seed: 7,
    onProgress: (d, t) => (last = [d, t]),
  });
  const s2 = await tm.generate(prompts, { temperature: 1, maxTokens: 6, seed: 7 });
  assert.deepEqual(s1, s2);
  assert.deepEqual(last, [prompts.length, prompts.length]);
  for (const c of s1) {
    assert.equal(c.tokens!.length, c.logprobs!.length);
    assert.ok(c.logprobs!.every((l) => l <= 0));
    assert.equal(c.text, tok.decode(c.finishReason === "stop" ? c.tokens!.slice(0, -1) : c.tokens!));
  }
});

test("stop ids end a completion (excluded from text); stop strings cut the text", async () => {
  const model = createModel({ ...cfg, tieEmbeddings: false }, { seed: 3 });
  model.getParam("model.norm.weight").data.fill(0); // all logits 0: greedy picks id 0
  const tm = new EngineTextModel(model, tok, { stopIds: [0] });
  const [c] = await tm.generate(["hello"], { temperature: 0, maxTokens: 4 });
  assert.deepEqual(c.tokens, [0]);
  assert.equal(c.text, "");
  assert.equal(c.finishReason, "stop");
  assert.ok(Math.abs(c.logprobs![0] + Math.log(cfg.vocabSize)) < 1e-5);
  const m2 = createModel(cfg, { seed: 4 });
  const free = new EngineTextModel(m2, tok, { stopIds: [] });
  const [g] = await free.generate(["is 3"], { temperature: 0, maxTokens: 6 });
  assert.equal(g.finishReason, "length");
  const stop = tok.decode(g.tokens!.slice(2, 3));
  const [h] = await free.generate(["is 3"], { temperature: 0, maxTokens: 6, stop: [stop] });
  assert.equal(h.finishReason, "stop");
  assert.equal(h.text, g.text.slice(0, g.text.indexOf(stop)));
});

test("length limits: maxSeq caps new tokens; an over-long prompt is an error completion", async () => {
  const tm = new EngineTextModel(createModel(cfg, { seed: 5 }), tok, { stopIds: [] });
  const long = Array(cfg.maxSeq - 3)
    .fill("no")
    .join(" ");
  assert.equal(tm.encodePrompt(long).length, cfg.maxSeq - 2);
  const tooLong = long + " no no no";
  const [a, b] = await tm.generate([long, tooLong], { temperature: 0, maxTokens: 10 });
  assert.equal(a.tokens!.length, 3);
  assert.equal(a.finishReason, "length");
  assert.equal(b.finishReason, "error");
});

test("EngineTextModel.load reproduces completions from a saved checkpoint", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-tm-"));
  try {
    const model = createModel(cfg, { seed: 6 });
    await saveCheckpoint(dir, model, { tokenizer: tok });
    const loaded = await EngineTextModel.load(dir);
    assert.equal(loaded.id, `embedded:${dir}`);
    const opts = { temperature: 0.8, maxTokens: 4, seed: 3 };
    assert.deepEqual(
      await loaded.generate(prompts, opts),
      await new EngineTextModel(model, tok).generate(prompts, opts),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

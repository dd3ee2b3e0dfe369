/**
 * The 2-layer Llama model (GQA, untied and tied heads, value head, LoRA with dropout) against central finite
 * differences over every trainable parameter, plus LoRA identities (B = 0 is bit-exact, merge, disable), clone,
 * deterministic init, HF parameter names and grow-only activation buffers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { createModel, LlamaModel } from "../../src/engine/model.js";
import { crossEntropyForward } from "../../src/engine/ops/cross-entropy.js";
import type { ModelConfigInput } from "../../src/engine/config.js";
import { assertGrads, dot64, numericGrads, randn } from "./grad-check.js";

const verbose = process.env.MST_GRAD_VERBOSE === "1";
const CFG: ModelConfigInput = {
  vocabSize: 11,
  dModel: 8,
  nLayers: 2,
  nHeads: 2,
  nKvHeads: 1,
  dFf: 12,
  maxSeq: 16,
  tieEmbeddings: false,
};
const B = 2;
const T = 5;

function batch(rng: Rng) {
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(11));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(11));
  const mask = Float32Array.from({ length: B * T }, (_, i) => (i % T >= 1 ? 1 : 0)); // completion-only: skip position 0
  const dValues = randn(rng, B * T, 0.5);
  return { tokens, targets, mask, dValues };
}

/** Loss = masked CE + sum(values * dValues); returns FD reports for every trainable parameter. */
function gradCheck(m: LlamaModel, seed: number, eps: number) {
  const { tokens, targets, mask, dValues } = batch(new Rng(seed));
  const V = m.config.vocabSize;
  const loss = () => {
    const r = m.forward(tokens, B, T, { train: true, rng: new Rng("dropout") });
    return crossEntropyForward(null, r.logits, targets, mask, B * T, V) + (r.values ? dot64(r.values, dValues) : 0);
  };
  const r = m.forward(tokens, B, T, { train: true, rng: new Rng("dropout") });
  const dLogits = new Float32Array(B * T * V);
  crossEntropyForward(dLogits, r.logits, targets, mask, B * T, V);
  m.zeroGrad();
  m.backward(dLogits, m.hasValueHead ? dValues : undefined);
  const tensors = m.trainableParameters().map((p) => ({ name: p.name, x: p.data, g: Float32Array.from(p.grad) }));
  const rep = numericGrads(tensors, loss, eps);
  if (verbose)
    for (const x of rep)
      console.log(`${x.name}: err ${x.maxAbsErr.toExponential(2)} max ${x.maxGrad.toExponential(2)}`);
  return rep;
}

// Tolerance: per tensor max |analytic - numeric| <= 5e-3 * max|grad| + 1e-4 with eps 3e-3 (float32 forward: noise in
// a loss of ~2.5 divided by 2 eps is ~4e-5; the O(eps^2) truncation error, measured to shrink 11x from eps 1e-2 to
// 3e-3, is at most ~1e-3 on the embedding at this deliberately large init std 0.3).
const EPS = 3e-3;
const RTOL = 5e-3;
const ATOL = 1e-4;

test("2-layer model (GQA, untied head, value head): every parameter passes a finite-difference check", () => {
  const m = createModel(CFG, { seed: 1, valueHead: true, initStd: 0.3 });
  const rep = gradCheck(m, 2, EPS);
  assert.equal(rep.length, m.parameters().length);
  assertGrads(rep, RTOL, ATOL, "full");
});

test("2-layer model with tied embeddings: the embedding gets both gradient paths", () => {
  const m = createModel({ ...CFG, tieEmbeddings: true, nKvHeads: 2 }, { seed: 3, initStd: 0.3 });
  assert.throws(() => m.getParam("lm_head.weight"), /no parameter named "lm_head.weight"/);
  assertGrads(gradCheck(m, 4, EPS), RTOL, ATOL, "tied");
});

test("LoRA (all seven targets, dropout 0.2) + value head: adapter and head gradients; the base gets none", () => {
  const m = createModel(CFG, { seed: 5, valueHead: true, initStd: 0.3 });
  m.attachLora({ rank: 2, alpha: 4, dropout: 0.2 }, 6);
  // B = 0 at attach gives A no gradient; make B random so both factors are checked
  const r = new Rng(7);
  for (const p of m.parameters()) if (p.name.endsWith("lora_B.weight")) p.data.set(randn(r, p.data.length, 0.3));
  const trainable = m.trainableParameters().map((p) => p.name);
  assert.equal(trainable.length, 2 * 7 * 2 + 2);
  assert.ok(trainable.includes("v_head.weight") && trainable.includes("model.layers.1.mlp.down_proj.lora_A.weight"));
  assertGrads(gradCheck(m, 8, EPS), RTOL, ATOL, "lora");
  for (const p of m.parameters())
    if (!p.trainable)
      assert.ok(
        p.grad.every((g) => g === 0),
        `${p.name} is frozen`,
      );
});

test("LoRA with B = 0 reproduces the base model bit for bit (eval and train mode); disableLora gives the base", () => {
  const m = createModel(CFG, { seed: 9, valueHead: true });
  const { tokens } = batch(new Rng(10));
  const base = Float32Array.from(m.forward(tokens, B, T).logits);
  const baseV = Float32Array.from(m.forward(tokens, B, T).values as Float32Array);
  m.attachLora({ rank: 4, alpha: 8, dropout: 0.1 }, 11);
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  assert.ok(same(m.forward(tokens, B, T).logits, base));
  assert.ok(same(m.forward(tokens, B, T, { train: true, rng: new Rng(1) }).logits, base));
  assert.ok(same(m.forward(tokens, B, T).values as Float32Array, baseV));
  const r = new Rng(12);
  for (const p of m.parameters()) if (p.name.endsWith("lora_B.weight")) p.data.set(randn(r, p.data.length, 0.1));
  const adapted = Float32Array.from(m.forward(tokens, B, T).logits);
  assert.ok(!same(adapted, base), "a non-zero B changes the output");
  assert.ok(same(m.forward(tokens, B, T, { disableLora: true }).logits, base));
  // merge folds the adapters into the base: same function, no adapters left, base trainable again
  const c = m.clone();
  m.mergeLora();
  assert.equal(m.lora, null);
  assert.ok(m.parameters().every((p) => !p.name.includes("lora") && p.trainable));
  const merged = m.forward(tokens, B, T).logits;
  for (let i = 0; i < merged.length; i++) assert.ok(Math.abs(merged[i] - adapted[i]) < 1e-5);
  // the clone kept its adapters and gives the adapted output exactly
  assert.ok(c.lora !== null && same(c.forward(tokens, B, T).logits, adapted));
});

test("clone is a deep copy; createModel is deterministic per seed; HF names and shapes", () => {
  const a = createModel(CFG, { seed: 13, valueHead: true });
  const b = createModel(CFG, { seed: 13, valueHead: true });
  const c = createModel(CFG, { seed: 14, valueHead: true });
  const pa = a.parameters();
  pa.forEach((p, i) => assert.deepEqual(p.data, b.parameters()[i].data));
  assert.notDeepEqual(pa[0].data, c.parameters()[0].data);
  const k = a.clone();
  k.getParam("model.norm.weight").data[0] = 5;
  assert.equal(a.getParam("model.norm.weight").data[0], 1);
  const names = createModel({ vocabSize: 5, dModel: 8, nLayers: 1, nHeads: 2, nKvHeads: 1, dFf: 6 }).parameters();
  assert.deepEqual(
    names.map((p) => `${p.name}:${p.shape.join("x")}`),
    [
      "model.embed_tokens.weight:5x8",
      "model.layers.0.input_layernorm.weight:8",
      "model.layers.0.self_attn.q_proj.weight:8x8",
      "model.layers.0.self_attn.k_proj.weight:4x8",
      "model.layers.0.self_attn.v_proj.weight:4x8",
      "model.layers.0.self_attn.o_proj.weight:8x8",
      "model.layers.0.post_attention_layernorm.weight:8",
      "model.layers.0.mlp.gate_proj.weight:6x8",
      "model.layers.0.mlp.up_proj.weight:6x8",
      "model.layers.0.mlp.down_proj.weight:8x6",
      "model.norm.weight:8",
    ],
  );
  const l = createModel({ vocabSize: 5, dModel: 8, nLayers: 1, nHeads: 2, dFf: 6 }, { valueHead: true });
  l.attachLora({ rank: 3, targets: ["q_proj", "down_proj"] }, 1);
  assert.deepEqual(
    l
      .parameters()
      .slice(-6)
      .map((p) => `${p.name}:${p.shape.join("x")}`),
    [
      "model.layers.0.self_attn.q_proj.lora_A.weight:3x8",
      "model.layers.0.self_attn.q_proj.lora_B.weight:8x3",
      "model.layers.0.mlp.down_proj.lora_A.weight:3x6",
      "model.layers.0.mlp.down_proj.lora_B.weight:8x3",
      "v_head.weight:1x8",
      "v_head.bias:1",
    ],
  );
});

test("activation buffers are reused step to step and grow only for a larger batch", () => {
  const m = createModel(CFG, { seed: 15 });
  const { tokens } = batch(new Rng(16));
  const buf = m.forward(tokens, B, T, { train: true }).logits.buffer;
  m.backward(new Float32Array(B * T * 11));
  assert.equal(m.forward(tokens, B, T, { train: true }).logits.buffer, buf);
  assert.equal(m.forward(tokens, 1, T, { train: true }).logits.buffer, buf);
  const big = new Int32Array(4 * T);
  assert.notEqual(m.forward(big, 4, T).logits.buffer, buf);
  assert.throws(() => m.forward(new Int32Array(17), 1, 17), /exceeds maxSeq/);
  // an evaluation forward between a training forward and its backward does not disturb the backward
  const d = randn(new Rng(17), B * T * 11);
  m.forward(tokens, B, T, { train: true });
  m.zeroGrad();
  m.backward(d);
  const g1 = Float32Array.from(m.getParam("model.layers.0.self_attn.q_proj.weight").grad);
  m.forward(tokens, B, T, { train: true });
  m.forward(big, 4, T);
  m.zeroGrad();
  m.backward(d);
  assert.deepEqual(m.getParam("model.layers.0.self_attn.q_proj.weight").grad, g1);
  assert.throws(() => createModel(CFG).backward(new Float32Array(1)), /call forward/);
});

test("backward accumulates across calls; array-buffer memory is flat over training steps and rollouts", async () => {
  const { sample } = await import("../../src/engine/sampler.js");
  const m = createModel(CFG, { seed: 18, valueHead: true });
  m.attachLora({ rank: 2, dropout: 0.1 }, 19);
  const { tokens, targets, mask, dValues } = batch(new Rng(20));
  const d = new Float32Array(B * T * 11);
  const step = () => {
    const r = m.forward(tokens, B, T, { train: true, rng: new Rng(21) });
    crossEntropyForward(d, r.logits, targets, mask, B * T, 11);
    m.backward(d, dValues);
  };
  m.zeroGrad();
  step();
  const once = Float32Array.from(m.getParam("model.layers.0.mlp.up_proj.lora_B.weight").grad);
  step();
  const twice = m.getParam("model.layers.0.mlp.up_proj.lora_B.weight").grad;
  // 1e-5 of the tensor's largest entry, not exact: the TS gemm kernel (MST_BLAS=off) adds into C in partial steps, so
  // g + g is not bit-identical to 2g there (rounding of the tensor's scale lands on its small entries)
  const scale = once.reduce((a, g) => Math.max(a, Math.abs(g)), 0);
  once.forEach((g, i) =>
    assert.ok(Math.abs(twice[i] - 2 * g) <= 1e-5 * scale + 1e-9, `element ${i}: ${twice[i]} vs 2 x ${g}`),
  );
  const prompts = [
    [1, 2],
    [3, 4, 5],
  ];
  const cycle = () => {
    m.zeroGrad();
    step();
    sample(m, prompts, { maxNewTokens: 4, temperature: 1, seed: 1 });
  };
  for (let i = 0; i < 3; i++) cycle();
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 20; i++) cycle();
  // nothing step-sized is allocated per step (buffers are preallocated; only small views/arrays come and go)
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024, "array buffers grew over 20 steps");
});

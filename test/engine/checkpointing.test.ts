/**
 * Gradient checkpointing recomputes each block in the backward from its saved input: the loss and every gradient
 * must be bit-identical to the plain backward's, dropout masks included, on every training path (forward/backward,
 * trainChunked, value head, full fine-tuning, a packed base).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { crossEntropyChunks } from "../../src/engine/chunked-loss.js";
import { createModel, type LlamaModel, type WeightStorage } from "../../src/engine/model.js";
import { randn } from "./grad-check.js";

const cfg = { vocabSize: 29, dModel: 16, nLayers: 3, nHeads: 4, nKvHeads: 2, dFf: 24, maxSeq: 16, qkvBias: true };
const B = 2;
const T = 7;
const N = B * T;

function model(checkpointing: boolean, lora: boolean, storage: WeightStorage = "f32"): LlamaModel {
  const m = createModel(cfg, { seed: 3, initStd: 0.2, valueHead: true, storage, gradientCheckpointing: checkpointing });
  if (lora) {
    m.attachLora({ rank: 2, alpha: 4, dropout: 0.2 }, 1);
    const rng = new Rng(2);
    for (const p of m.parameters()) if (p.name.endsWith("lora_B.weight")) p.data.set(randn(rng, p.data.length, 0.2));
  }
  return m;
}

const grads = (m: LlamaModel) => m.trainableParameters().map((p) => [p.name, Array.from(p.grad)] as const);

const rng = new Rng(9);
const tokens = Int32Array.from({ length: N }, () => rng.int(cfg.vocabSize));
const dLogits = randn(rng, N * cfg.vocabSize, 0.1);
const dValues = randn(rng, N, 0.3);
const rows = Int32Array.from([2, 3, 5, 6, 9, 12, 13]);
const targets = Int32Array.from(rows, () => rng.int(cfg.vocabSize));

for (const [what, lora, storage] of [
  ["LoRA with dropout on all seven projections", true, "f32"],
  ["full fine-tuning", false, "f32"],
  ["LoRA on an NF4 base", true, "nf4"],
] as const)
  test(`gradient checkpointing gives bit-identical gradients: ${what}`, () => {
    const run = (ck: boolean) => {
      const m = model(ck, lora, storage);
      assert.equal(m.gradientCheckpointing, ck);
      // forward/backward, with an evaluation forward in between (it must not touch the saved inputs)
      m.zeroGrad();
      const r = m.forward(tokens, B, T, { train: true, rng: new Rng(5) });
      const logits = Array.from(r.logits);
      m.forward(tokens.slice().reverse(), B, T);
      m.backward(dLogits, dValues);
      const g1 = grads(m);
      // the chunked path (PPO and SFT use it), twice so the buffers are reused
      let loss = 0;
      for (let step = 0; step < 2; step++) {
        m.zeroGrad();
        loss = m.trainChunked(tokens, B, T, rows, crossEntropyChunks(targets), {
          rng: new Rng(`s${step}`),
          chunkRows: 3,
          dValues: () => dValues,
        });
      }
      return { logits, g1, g2: grads(m), loss };
    };
    const plain = run(false);
    const ck = run(true);
    assert.ok(plain.g1.length > 0);
    assert.deepEqual(ck.logits, plain.logits);
    assert.deepEqual(ck.g1, plain.g1);
    assert.deepEqual(ck.g2, plain.g2);
    assert.equal(ck.loss, plain.loss);
  });

test("gradient checkpointing is on by default for an NF4 base only, and a clone keeps the setting", () => {
  assert.equal(createModel(cfg, { storage: "nf4" }).gradientCheckpointing, true);
  assert.equal(createModel(cfg, { storage: "bf16" }).gradientCheckpointing, false);
  assert.equal(createModel(cfg).gradientCheckpointing, false);
  const m = createModel(cfg, { gradientCheckpointing: true });
  assert.equal(m.clone().gradientCheckpointing, true);
  // switching it between steps reallocates the buffers and still trains
  m.forward(tokens, B, T, { train: true });
  m.backward(dLogits);
  m.gradientCheckpointing = false;
  m.zeroGrad();
  m.forward(tokens, B, T, { train: true });
  m.backward(dLogits);
  const g = grads(m);
  m.gradientCheckpointing = true;
  m.zeroGrad();
  m.forward(tokens, B, T, { train: true });
  m.backward(dLogits);
  assert.deepEqual(grads(m), g);
});

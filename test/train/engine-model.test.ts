/** The trainers on the engine's Llama model: SFT full and LoRA fits a labelled toy set; PPO with LoRA learns a bandit. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { createModel } from "../../src/engine/model.js";
import { sample } from "../../src/engine/sampler.js";
import { evalLoss, trainPpo, trainSft } from "../../src/train/index.js";
import type { SftExample } from "../../src/train/index.js";

const BOS = 1,
  SEP = 8,
  LOW = 9,
  HIGH = 10,
  EOS = 11;
const modelCfg = { vocabSize: 12, dModel: 32, nLayers: 1, nHeads: 2, dFf: 64, maxSeq: 16 };

/**
 * Labelled toy set: "BOS x y SEP" -> LOW if x < 5 else HIGH, then EOS. The label is read at SEP from a token two
 * places back, so attention has to learn it (a bigram could not). (Parity of x + y was too hard for this 1-layer
 * model in a test-sized budget, with or without LoRA.)
 */
function toySet(n: number, seed: number): SftExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const x = 2 + rng.int(6),
      y = 2 + rng.int(6);
    return { prompt: [BOS, x, y, SEP], completion: [x < 5 ? LOW : HIGH, EOS] };
  });
}

function greedyAccuracy(model: ReturnType<typeof createModel>, data: SftExample[]): number {
  const out = sample(
    model,
    data.map((d) => d.prompt),
    { maxNewTokens: 1, temperature: 0 },
  );
  return data.filter((d, i) => out.tokens[i][0] === d.completion[0]).length / data.length;
}

test("SFT fits a labelled toy set with the engine model (full fine-tuning)", async () => {
  const model = createModel(modelCfg, { seed: 1 });
  const train = toySet(128, 1),
    val = toySet(32, 2);
  const before = evalLoss(model, val, 16, 0);
  const t0 = performance.now();
  const res = trainSft(model, train, { lr: 1e-2, epochs: 25, batchSize: 16, warmupSteps: 5 }, { valData: val });
  const secs = (performance.now() - t0) / 1000;
  const acc = greedyAccuracy(model, val);
  console.log(
    `engine SFT: ${res.steps} steps in ${secs.toFixed(2)} s, val loss ${before.toFixed(3)} -> ${res.evalLoss?.toFixed(4)}, val accuracy ${acc}`,
  );
  assert.ok(res.evalLoss! < 0.05, `val loss ${res.evalLoss}`);
  assert.equal(acc, 1);
});

test("SFT with LoRA trains only the adapters and still fits the set", async () => {
  // LoRA on a randomly initialised base: with HF's 0.02 init the tied 32-wide embeddings bound every logit to about
  // +-0.6 (the final RMSNorm fixes |h|), so adapters cannot move the output far; a 0.3 init stands in for a trained base
  const model = createModel(modelCfg, { seed: 1, initStd: 0.3 });
  const q = model.getParam("model.layers.0.self_attn.q_proj.weight").data.slice();
  const train = toySet(128, 3),
    val = toySet(32, 4);
  const before = evalLoss(model, val, 16, 0);
  const res = trainSft(
    model,
    train,
    { lr: 1e-2, epochs: 40, batchSize: 16, warmupSteps: 10, lora: { rank: 8, alpha: 16, dropout: 0.05 } },
    { valData: val },
  );
  assert.ok(model.lora !== null);
  assert.deepEqual(model.getParam("model.layers.0.self_attn.q_proj.weight").data, q, "base weight unchanged");
  const acc = greedyAccuracy(model, val);
  console.log(`engine SFT+LoRA: val loss ${before.toFixed(3)} -> ${res.evalLoss?.toFixed(4)}, accuracy ${acc}`);
  // Over 5 model/data seeds this setting reached val loss 0.002-0.17 and accuracy 0.78-1.0: LoRA on a random tiny
  // base fits less surely than full training, so this checks the LoRA path trains, not that it always fits perfectly.
  assert.ok(res.evalLoss! < before / 5, `val loss ${before} -> ${res.evalLoss}`);
  assert.ok(acc >= 0.7, `accuracy ${acc}`);
});

test("PPO with LoRA and a value head on the engine model learns the better arm; KL measured against the base", async () => {
  // The base must sample both arms before PPO starts, or the test measures luck: a random 0.3-init model put ~0% on
  // both, so which arm PPO found first flipped with the BLAS kernel's rounding (OpenBLAS Haswell vs SkylakeX). A short
  // full SFT on a 50/50 mix stands in for a pretrained base that knows both answers.
  const model = createModel(modelCfg, { seed: 5, initStd: 0.3 }); // see the LoRA SFT test for why 0.3
  const mix = Array.from({ length: 32 }, (_, i) => ({ prompt: [BOS, SEP], completion: [i % 2 ? HIGH : LOW, EOS] }));
  trainSft(model, mix, { lr: 1e-2, epochs: 6, batchSize: 16, warmupSteps: 2 });
  const shares = () => {
    const out = sample(
      model,
      Array.from({ length: 200 }, () => [BOS, SEP]),
      { maxNewTokens: 1, temperature: 1, seed: 9 },
    );
    return [HIGH, LOW].map((k) => out.tokens.filter((t) => t[0] === k).length / 200);
  };
  const [high0, low0] = shares();
  assert.ok(high0 > 0.2 && low0 > 0.2, `base samples both arms: HIGH ${high0}, LOW ${low0}`);
  const env = {
    prompts: (_s: number, _r: Rng, n: number) => Array.from({ length: n }, () => ({ tokens: [BOS, SEP] })),
    reward: (_p: unknown, r: number[]) => (r[0] === HIGH ? 1 : r[0] === LOW ? 0.3 : 0),
  };
  const res = await trainPpo(model, env, {
    lr: 2e-2,
    steps: 25,
    batchSize: 32,
    miniBatchSize: 16,
    ppoEpochs: 2,
    lora: { rank: 4, alpha: 8, dropout: 0 },
    seed: 1,
  });
  assert.ok(model.hasValueHead && model.lora !== null);
  const [share] = shares();
  console.log(
    `engine PPO+LoRA: share of better arm ${high0} -> ${share}, last reward ${res.last!.reward_mean}, kl ${res.last!.kl}`,
  );
  // Measured: 1.0 (once 0.995) for 8 model seeds x 3 PPO seeds under OpenBLAS Haswell, SkylakeX and the TS kernel.
  assert.ok(share > 0.8, `better-arm share ${share}`);
  assert.ok(res.last!.kl! > 0, "policy moved away from the LoRA-disabled base");
});

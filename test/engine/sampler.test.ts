/**
 * The KV-cache sampler against full forward passes: same logits (hence log-probs, entropies and greedy tokens),
 * batched prompts of different lengths equal to one at a time, stop ids, top-k/top-p, seeds, disableLora, and
 * nextTokenLogprobs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { createModel, type LlamaModel } from "../../src/engine/model.js";
import { nextTokenLogprobs, sample } from "../../src/engine/sampler.js";
import { logSoftmaxForward } from "../../src/engine/ops/softmax.js";
import { randn } from "./grad-check.js";

const V = 13;
const CFG = { vocabSize: V, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dFf: 24, maxSeq: 32 };
const PROMPTS = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11], [12, 0]];

/** Log-softmax rows of a full (uncached) forward over one sequence. */
function fullLogprobs(m: LlamaModel, seq: number[]): Float32Array {
  const { logits } = m.forward(Int32Array.from(seq), 1, seq.length);
  const out = new Float32Array(logits.length);
  logSoftmaxForward(out, logits, seq.length, V);
  return out;
}

function entropyOf(lp: Float32Array, o: number): number {
  let h = 0;
  for (let j = 0; j < V; j++) h -= Math.exp(lp[o + j]) * lp[o + j];
  return h;
}

test("KV-cache sampling gives the logits of a full forward pass (greedy and tempered, GQA, mixed lengths)", () => {
  const m = createModel(CFG, { seed: 1, initStd: 0.5 });
  for (const temperature of [0, 1.3]) {
    const res = sample(m, PROMPTS, { maxNewTokens: 8, temperature, seed: 2 });
    PROMPTS.forEach((p, b) => {
      const gen = res.tokens[b];
      assert.equal(gen.length, 8);
      const lp = fullLogprobs(m, [...p, ...gen.slice(0, -1)]);
      gen.forEach((id, i) => {
        const o = (p.length - 1 + i) * V;
        assert.ok(Math.abs(res.logprobs[b][i] - lp[o + id]) < 1e-5, `row ${b} step ${i} logprob`);
        assert.ok(Math.abs(res.entropies[b][i] - entropyOf(lp, o)) < 1e-4, `row ${b} step ${i} entropy`);
        if (temperature === 0) {
          let best = 0;
          for (let j = 1; j < V; j++) if (lp[o + j] > lp[o + best]) best = j;
          assert.equal(id, best, `row ${b} step ${i} greedy`);
        }
      });
    });
  }
});

test("batched prompts of different lengths give the same results as one at a time", () => {
  const m = createModel(CFG, { seed: 3, initStd: 0.5 });
  const batched = sample(m, PROMPTS, { maxNewTokens: 6, temperature: 0 });
  PROMPTS.forEach((p, b) => {
    const single = sample(m, [p], { maxNewTokens: 6, temperature: 0 });
    assert.deepEqual(single.tokens[0], batched.tokens[b]);
    // equal up to float32 rounding: BLAS may block a product differently for a different number of rows
    single.logprobs[0].forEach((x, i) => assert.ok(Math.abs(x - batched.logprobs[b][i]) < 1e-5));
  });
  const lps = nextTokenLogprobs(m, PROMPTS, { batchSize: 3 });
  PROMPTS.forEach((p, b) => {
    const full = fullLogprobs(m, p);
    for (let j = 0; j < V; j++) assert.ok(Math.abs(lps[b][j] - full[(p.length - 1) * V + j]) < 1e-5);
    assert.ok(Math.abs(lps[b][batched.tokens[b][0]] - batched.logprobs[b][0]) < 1e-5);
  });
});

test("stop ids end a sequence (stop token kept), seeds are reproducible, top-k 1 is greedy, top-p narrows", () => {
  const m = createModel(CFG, { seed: 4, initStd: 0.5 });
  const greedy = sample(m, PROMPTS, { maxNewTokens: 5, temperature: 0 });
  const stopId = greedy.tokens[0][1];
  const stopped = sample(m, PROMPTS, { maxNewTokens: 5, temperature: 0, stopIds: [stopId] });
  PROMPTS.forEach((_, b) => {
    const k = greedy.tokens[b].indexOf(stopId);
    if (k >= 0) {
      assert.deepEqual(stopped.tokens[b], greedy.tokens[b].slice(0, k + 1));
      assert.equal(stopped.finish[b], "stop");
    } else {
      assert.deepEqual(stopped.tokens[b], greedy.tokens[b]);
      assert.equal(stopped.finish[b], "length");
    }
  });
  assert.equal(stopped.finish[0], "stop");
  const a = sample(m, PROMPTS, { maxNewTokens: 5, temperature: 1, seed: 7 });
  assert.deepEqual(sample(m, PROMPTS, { maxNewTokens: 5, temperature: 1, seed: 7 }), a);
  assert.notDeepEqual(sample(m, PROMPTS, { maxNewTokens: 5, temperature: 1, seed: 8 }).tokens, a.tokens);
  assert.deepEqual(sample(m, PROMPTS, { maxNewTokens: 5, temperature: 2, topK: 1, seed: 9 }).tokens, greedy.tokens);
  // top-p: over many one-token draws only the nucleus of the tempered distribution appears
  const lp = nextTokenLogprobs(m, [[3]])[0];
  const ids = [...lp.keys()].sort((x, y) => lp[y] - lp[x]);
  let mass = 0;
  const nucleus = new Set<number>();
  for (const id of ids) {
    nucleus.add(id);
    mass += Math.exp(lp[id]);
    if (mass >= 0.5) break;
  }
  const draws = sample(
    m,
    Array.from({ length: 200 }, () => [3]),
    { maxNewTokens: 1, temperature: 1, topP: 0.5, rng: new Rng(10) },
  );
  const seen = new Set(draws.tokens.map((t) => t[0]));
  for (const id of seen) assert.ok(nucleus.has(id), `token ${id} outside the top-p nucleus`);
  assert.equal(seen.size, nucleus.size);
});

test("disableLora samples the base; errors name the bad input", () => {
  const m = createModel(CFG, { seed: 5, initStd: 0.5 });
  const base = sample(m, PROMPTS, { maxNewTokens: 4, temperature: 0 });
  m.attachLora({ rank: 2, dropout: 0 }, 6);
  const r = new Rng(7);
  for (const p of m.parameters()) if (p.name.endsWith("lora_B.weight")) p.data.set(randn(r, p.data.length, 2));
  assert.notDeepEqual(sample(m, PROMPTS, { maxNewTokens: 4, temperature: 0 }).logprobs, base.logprobs);
  assert.deepEqual(sample(m, PROMPTS, { maxNewTokens: 4, temperature: 0, disableLora: true }), base);
  assert.throws(() => sample(m, [[1], []], { maxNewTokens: 1, temperature: 0 }), /prompt 1 is empty/);
  assert.throws(() => sample(m, [[1, 99]], { maxNewTokens: 1, temperature: 0 }), /prompt 0 token 1 = 99/);
  assert.throws(() => sample(m, [[1, 2]], { maxNewTokens: 32, temperature: 0 }), /exceeds maxSeq 32/);
  assert.deepEqual(sample(m, [[1]], { maxNewTokens: 0, temperature: 0 }).tokens, [[]]);
});

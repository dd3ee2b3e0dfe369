/**
 * GRPO's loss and gradient against TRL 1.13's own code on the same tensors: GRPOTrainer._compute_loss (and the
 * log-prob / entropy pass before it) runs in the test venv on a stand-in trainer, for every loss_type, with and without
 * the KL and the entropy bonus, with clipped ratios on both sides and an asymmetric epsilon_high.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { GRPO_LOSS_TYPES, grpoLoss, grpoTokenWeights, logSoftmaxRow } from "../../src/train/index.js";
import type { GrpoLossType, Rollout } from "../../src/train/index.js";
import { runPython, skipUnlessPython, testSourcePath } from "../python-env.js";

const V = 6;
const LENGTHS = [1, 3, 2];

interface Case {
  lossType: GrpoLossType;
  beta: number;
  entCoef: number;
  temperature: number;
}

function build(c: Case, seed: number) {
  const rng = new Rng(`trl-parity/${seed}`);
  const P = LENGTHS.reduce((a, b) => a + b, 0);
  const logits = Float32Array.from({ length: P * V }, () => rng.normal() * 1.5);
  const logp = new Float64Array(V);
  let row = 0;
  const batch: Rollout[] = LENGTHS.map((L, b) => {
    const response: number[] = [];
    const old: number[] = [];
    const ref: number[] = [];
    for (let j = 0; j < L; j++, row++) {
      logSoftmaxRow(logp, logits, row * V, V, 1 / c.temperature);
      const a = Math.floor(rng.float() * V);
      response.push(a);
      // the rollout policy differs by up to +-0.5 nats: ratios from 0.6 to 1.65, clipped on either side
      old.push(logp[a] + (rng.float() - 0.5));
      ref.push(logp[a] + (rng.float() - 0.5) * 0.8);
    }
    return {
      prompt: [0],
      response,
      oldLogp: Float32Array.from(old),
      values: new Float32Array(L),
      entropy: new Float32Array(L),
      refLogp: Float32Array.from(ref),
      refRows: null,
      kl: null,
      score: 0,
      rewards: new Float32Array(L),
      adv: new Float32Array(L).fill([1.2, -0.7, 0.4][b]),
      ret: new Float32Array(L),
    };
  });
  return { logits, batch, P };
}

test(
  "GRPO loss and gradient equal TRL 1.13's _compute_loss on the same tensors",
  { skip: skipUnlessPython("trl") },
  () => {
    const cases: Case[] = [];
    for (const lossType of GRPO_LOSS_TYPES)
      for (const [beta, entCoef] of [
        [0, 0],
        [0.04, 0.05],
      ])
        cases.push({ lossType, beta, entCoef, temperature: 0.8 });
    // one accumulation step of 2 mini-batches; the generation batch: 16 completions of 29 tokens, mini-batches of 3
    const ga = 2,
      genTokens = 29,
      genCompletions = 16,
      mb = 3,
      maxNew = 4;
    const ours = cases.map((c, i) => {
      const { logits, batch, P } = build(c, i);
      const weights = grpoTokenWeights(c.lossType, LENGTHS, {
        nMini: ga,
        maxNewTokens: maxNew,
        // what the trainer computes: the generation batch's tokens x (miniBatchSize x gradAccum) / its completions
        dapoTokens: (genTokens * mb * ga) / genCompletions,
      });
      const d = new Float32Array(P * V);
      const st = grpoLoss(
        logits,
        0,
        V,
        batch,
        {
          epsLow: 0.2,
          epsHigh: 0.28,
          beta: c.beta,
          entCoef: c.entCoef,
          invTemp: 1 / c.temperature,
          weights,
          entWeight: 1 / (P * ga),
        },
        d,
        true,
      );
      let row = 0;
      const completions = batch.map((r) => {
        const L = r.response.length;
        const out = {
          ids: r.response,
          logits: [...logits.subarray(row * V, (row + L) * V)],
          old: [...r.oldLogp],
          ref: [...r.refLogp!],
          adv: r.adv[0],
        };
        row += L;
        return out;
      });
      return {
        st,
        d,
        clipped: st.clipLow + st.clipHigh,
        input: {
          V,
          temperature: c.temperature,
          loss_type: c.lossType,
          epsilon: 0.2,
          epsilon_high: 0.28,
          beta: c.beta,
          entropy_coef: c.entCoef,
          max_completion_length: maxNew,
          gradient_accumulation_steps: ga,
          // TRL's steps_per_generation: generation batch / per-device batch
          steps_per_generation: genCompletions / mb,
          num_items_in_batch: genTokens,
          completions,
        },
      };
    });
    const trl = JSON.parse(
      runPython(testSourcePath("python/grpo_loss_trl.py"), [], { input: JSON.stringify(ours.map((o) => o.input)) }),
    ) as { loss: number; grad: number[][] }[];
    assert.ok(
      ours.some((o) => o.clipped > 0),
      "some tokens are clipped",
    );
    ours.forEach((o, i) => {
      const c = cases[i];
      const what = `${c.lossType} beta ${c.beta} entropy ${c.entCoef}`;
      assert.ok(Math.abs(o.st.loss - trl[i].loss) < 1e-6, `${what}: loss ${o.st.loss} vs TRL ${trl[i].loss}`);
      let maxErr = 0;
      trl[i].grad.forEach((g, row) => g.forEach((x, k) => (maxErr = Math.max(maxErr, Math.abs(x - o.d[row * V + k])))));
      assert.ok(maxErr < 1e-6, `${what}: max |dLogits - TRL's| ${maxErr}`);
    });
  },
);

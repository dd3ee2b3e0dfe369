/** GRPO math: group advantages per scale_rewards, token weights per loss_type, the loss by hand, its gradient by finite differences. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import {
  GrpoConfigSchema,
  GRPO_LOSS_TYPES,
  grpoConfigIssues,
  grpoLoss,
  grpoPresets,
  grpoTokenWeights,
  groupAdvantages,
  parseGrpoConfig,
  TrainConfigError,
} from "../../src/train/index.js";
import type { GrpoLossCoefs, GrpoLossType, Rollout } from "../../src/train/index.js";

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);
const closeAll = (a: readonly number[], b: readonly number[], tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => close(x, b[i], tol, `${what}[${i}]`));
};

// two groups of four: [1, 0, 0, 0] (mean 0.25) and [2, 2, 0, 1] (mean 1.25)
const R = [1, 0, 0, 0, 2, 2, 0, 1];
const GROUPS = [0, 0, 0, 0, 1, 1, 1, 1];

test("group advantages with scale_rewards 'group': centred per group, divided by the group's Bessel std + 1e-4", () => {
  // group 0: squared deviations 0.5625 + 3 x 0.0625 = 0.75, / (4 - 1) = 0.25, std 0.5
  // group 1: 0.5625 + 0.5625 + 1.5625 + 0.0625 = 2.75, / 3, std sqrt(11/12)
  const s0 = 0.5 + 1e-4,
    s1 = Math.sqrt(11 / 12) + 1e-4;
  const { advantages, zeroStdShare } = groupAdvantages(R, GROUPS, "group");
  closeAll(
    advantages,
    [0.75 / s0, -0.25 / s0, -0.25 / s0, -0.25 / s0, 0.75 / s1, 0.75 / s1, -1.25 / s1, -0.25 / s1],
    1e-12,
    "group",
  );
  assert.equal(zeroStdShare, 0);
});

test("group advantages with scale_rewards 'batch': centred per group, divided by the whole batch's std", () => {
  // batch mean 0.75; squared deviations 0.0625 + 3 x 0.5625 + 2 x 1.5625 + 0.5625 + 0.0625 = 5.5, / 7
  const s = Math.sqrt(5.5 / 7) + 1e-4;
  const { advantages } = groupAdvantages(R, GROUPS, "batch");
  closeAll(
    advantages,
    [0.75, -0.25, -0.25, -0.25, 0.75, 0.75, -1.25, -0.25].map((x) => x / s),
    1e-12,
    "batch",
  );
});

test("group advantages with scale_rewards 'none' (Dr. GRPO): only centred", () => {
  const { advantages } = groupAdvantages(R, GROUPS, "none");
  closeAll(advantages, [0.75, -0.25, -0.25, -0.25, 0.75, 0.75, -1.25, -0.25], 1e-12, "none");
});

test("a group of equal rewards teaches nothing (advantage 0, counted); a group of one gets 0", () => {
  const { advantages, zeroStdShare } = groupAdvantages([1, 1, 1, 0, 1, 5], [0, 0, 0, 1, 1, 2], "group");
  closeAll(advantages.slice(0, 3), [0, 0, 0], 0, "equal group");
  close(advantages[5], 0, 0, "group of one");
  // groups 0 (all 1) and 2 (one member) have no spread; group 1 has
  close(zeroStdShare, 2 / 3, 1e-12, "zero-std share");
  assert.throws(() => groupAdvantages([1, 2], [0], "group"), /2 rewards but 1 group ids/);
});

test("token weights of each loss_type for completions of 1 and 3 tokens", () => {
  const o = { nMini: 1, maxNewTokens: 4, dapoTokens: 5 };
  closeAll(grpoTokenWeights("grpo", [1, 3], o), [1 / 2, 1 / 6], 1e-15, "grpo: mean of sequence means");
  closeAll(grpoTokenWeights("bnpo", [1, 3], o), [1 / 4, 1 / 4], 1e-15, "bnpo: mean over the mini-batch's tokens");
  closeAll(grpoTokenWeights("dr_grpo", [1, 3], o), [1 / 8, 1 / 8], 1e-15, "dr_grpo: / (B x maxNewTokens)");
  closeAll(grpoTokenWeights("dapo", [1, 3], o), [1 / 5, 1 / 5], 1e-15, "dapo: / window tokens");
  // accumulation over 2 mini-batches halves the local types; dapo's normaliser already spans the window
  const o2 = { ...o, nMini: 2 };
  closeAll(grpoTokenWeights("grpo", [1, 3], o2), [1 / 4, 1 / 12], 1e-15, "grpo / 2");
  closeAll(grpoTokenWeights("bnpo", [1, 3], o2), [1 / 8, 1 / 8], 1e-15, "bnpo / 2");
  closeAll(grpoTokenWeights("dr_grpo", [1, 3], o2), [1 / 16, 1 / 16], 1e-15, "dr_grpo / 2");
  closeAll(grpoTokenWeights("dapo", [1, 3], o2), [1 / 5, 1 / 5], 1e-15, "dapo unchanged");
});

function rollout(response: number[], oldLogp: number[], adv: number, refLogp: number[] | null): Rollout {
  const L = response.length;
  return {
    prompt: [0],
    response,
    oldLogp: Float32Array.from(oldLogp),
    values: new Float32Array(L),
    entropy: new Float32Array(L),
    refLogp: refLogp ? Float32Array.from(refLogp) : null,
    refRows: null,
    kl: null,
    score: 0,
    rewards: new Float32Array(L),
    adv: new Float32Array(L).fill(adv),
    ret: new Float32Array(L),
  };
}

test("the loss by hand: clipped and unclipped ratios, k3 KL, entropy bonus, under each loss_type", () => {
  // V = 2 and every logit row [0, 0]: p = 0.5 for both tokens, logp = -ln 2, entropy ln 2; token 0 taken throughout
  const V = 2;
  const logits = new Float32Array(4 * V); // compact: 1 row for rollout 0, 3 for rollout 1
  const ln = Math.log;
  const refLogp = ln(0.25); // k3 = exp(ln .25 - ln .5) - (ln .25 - ln .5) - 1 = 0.5 + ln 2 - 1
  const k3 = ln(2) - 0.5;
  const batch = [
    // A = +1, old p 0.4: ratio 1.25 > 1.2 clipped, -min(1.25, 1.2) = -1.2
    rollout([0], [ln(0.4)], 1, [refLogp]),
    // A = -1, old p 0.4 / 0.5 / 0.6: ratios 1.25, 1, 5/6, all unclipped under -min: 1.25, 1, 5/6
    rollout([0, 0, 0], [ln(0.4), ln(0.5), ln(0.6)], -1, [refLogp, refLogp, refLogp]),
  ];
  const pgTokens = [[-1.2], [1.25, 1, 5 / 6]];
  const beta = 0.1,
    entCoef = 0.05;
  const byType: Record<GrpoLossType, number[]> = {
    grpo: [1 / 2, 1 / 6],
    bnpo: [1 / 4, 1 / 4],
    dr_grpo: [1 / 8, 1 / 8],
    dapo: [1 / 5, 1 / 5],
  };
  for (const lossType of GRPO_LOSS_TYPES) {
    const weights = grpoTokenWeights(lossType, [1, 3], { nMini: 1, maxNewTokens: 4, dapoTokens: 5 });
    closeAll(weights, byType[lossType], 1e-15, `${lossType} weights`);
    const c: GrpoLossCoefs = { epsLow: 0.2, epsHigh: 0.2, beta, entCoef, invTemp: 1, weights, entWeight: 1 / 4 };
    const st = grpoLoss(logits, 0, V, batch, c, null, true);
    const pg = pgTokens[0][0] * weights[0] + (pgTokens[1][0] + pgTokens[1][1] + pgTokens[1][2]) * weights[1];
    const klW = beta * k3 * (weights[0] + 3 * weights[1]);
    close(st.pgLoss, pg, 1e-6, `${lossType} policy term`);
    close(st.loss, pg + klW - entCoef * ln(2), 1e-6, `${lossType} loss`);
    close(st.kl, k3, 1e-6, `${lossType} mean k3`);
    close(st.entropy, ln(2), 1e-6, `${lossType} entropy`);
    close(st.clipHigh, 1 / 4, 0, "one token above 1 + eps with A > 0");
    close(st.clipLow, 0, 0, "none below 1 - eps with A < 0");
  }
  // epsilon_high widens only the upper bound: 1.25 < 1 + 0.28 leaves rollout 0 unclipped (-1.25)
  const w = [1 / 4, 1 / 4];
  const st = grpoLoss(
    logits,
    0,
    V,
    batch,
    { epsLow: 0.2, epsHigh: 0.28, beta: 0, entCoef: 0, invTemp: 1, weights: w, entWeight: 1 / 4 },
    null,
    true,
  );
  close(st.pgLoss, (-1.25 + 1.25 + 1 + 5 / 6) / 4, 1e-6, "epsilon_high 0.28");
  close(st.clipHigh, 0, 0, "nothing clipped with epsilon_high 0.28");
});

test("the loss gradient matches central finite differences for every loss_type (beta, entropy, temperature)", () => {
  const V = 5,
    rng = new Rng(7);
  const lengths = [1, 2, 3];
  const P = lengths.reduce((a, b) => a + b, 0);
  const logits = Float32Array.from({ length: P * V }, () => rng.normal() * 1.5);
  const batch = lengths.map((L, b) =>
    rollout(
      Array.from({ length: L }, () => Math.floor(rng.float() * V)),
      // old log-probs near the current ones, some far enough for the ratio to leave [0.8, 1.2]
      Array.from({ length: L }, () => Math.log(0.05 + 0.3 * rng.float())),
      [0.9, -1.3, 0.4][b],
      Array.from({ length: L }, () => Math.log(0.05 + 0.3 * rng.float())),
    ),
  );
  for (const lossType of GRPO_LOSS_TYPES) {
    const c: GrpoLossCoefs = {
      epsLow: 0.2,
      epsHigh: 0.28,
      beta: 0.3,
      entCoef: 0.07,
      invTemp: 1 / 1.3,
      weights: grpoTokenWeights(lossType, lengths, { nMini: 2, maxNewTokens: 4, dapoTokens: 7 }),
      entWeight: 1 / (P * 2),
    };
    const d = new Float32Array(P * V);
    const st = grpoLoss(logits, 0, V, batch, c, d, true);
    const clipped = (st.clipLow + st.clipHigh) * P;
    assert.ok(clipped >= 1 && clipped < P, `${lossType}: ${clipped} of ${P} tokens clipped (both branches checked)`);
    const f = (z: Float32Array) => grpoLoss(z, 0, V, batch, c, null, true).loss;
    let maxErr = 0,
      maxG = 0;
    for (let i = 0; i < P * V; i++) {
      const zp = logits.slice(),
        zm = logits.slice();
      const h = 1e-2;
      zp[i] += h;
      zm[i] -= h;
      const fd = (f(zp) - f(zm)) / (zp[i] - zm[i]);
      maxErr = Math.max(maxErr, Math.abs(fd - d[i]));
      maxG = Math.max(maxG, Math.abs(d[i]));
    }
    assert.ok(maxG > 1e-2, `${lossType}: the gradient is not trivially zero (${maxG})`);
    assert.ok(maxErr < 2e-4, `${lossType}: max |finite difference - analytic| ${maxErr}`);
  }
});

test("GrpoConfig: TRL 1.13's defaults, batchSize must split into groups, the embedded preset parses", () => {
  const d = GrpoConfigSchema.parse({});
  assert.equal(d.numGenerations, 8);
  assert.equal(d.scaleRewards, "group");
  assert.equal(d.lossType, "dapo");
  assert.equal(d.epsilon, 0.2);
  assert.equal(d.epsilonHigh, null);
  assert.equal(d.beta, 0);
  assert.equal(d.numIterations, 1);
  assert.equal(d.lr, 1e-6);
  assert.deepEqual(grpoConfigIssues(GrpoConfigSchema.parse({ batchSize: 60, numGenerations: 8 })), [
    { field: "batchSize", message: "60 completions per step do not split into groups of numGenerations 8" },
  ]);
  assert.throws(
    () => parseGrpoConfig({ batchSize: 60 }),
    (e: unknown) => e instanceof TrainConfigError && e.field === "batchSize",
  );
  assert.throws(() => GrpoConfigSchema.parse({ numGenerations: 1 }), /numGenerations|>=2|too_small/);
  assert.throws(() => GrpoConfigSchema.parse({ lossType: "cispo" }));
  const e = parseGrpoConfig(grpoPresets.embedded);
  assert.equal(e.batchSize % e.numGenerations, 0);
});

/** PPO math: schedules, GAE by hand, whitening, and the loss gradient against finite differences. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import {
  accumulateRowGrad,
  assignAdvantages,
  entropyRow,
  gae,
  klRow,
  linearSchedule,
  logSoftmaxRow,
  meanStd,
  ppoLoss,
  whiten,
  PpoConfigSchema,
  SftConfigSchema,
  ppoPresets,
  sftPresets,
} from "../../src/train/index.js";
import type { PpoLossCoefs, Rollout } from "../../src/train/index.js";

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

test("temperature schedule 1.9 -> 1.6 over the first 40% hits start, end at 40%, and holds", () => {
  const s = { start: 1.9, end: 1.6, fraction: 0.4 };
  const total = 1601; // progress = step / 1600, so 40% is step 640
  close(linearSchedule(0, total, s), 1.9, 1e-12, "start");
  close(linearSchedule(320, total, s), 1.75, 1e-12, "half way to 40%");
  close(linearSchedule(640, total, s), 1.6, 1e-12, "at 40%");
  close(linearSchedule(639, total, s), 1.6 + 0.3 / 640, 1e-12, "one step before 40%");
  close(linearSchedule(1000, total, s), 1.6, 1e-12, "held");
  close(linearSchedule(1600, total, s), 1.6, 1e-12, "last");
});

test("entropy schedule 2.0 -> 0.01 over all of training hits both ends", () => {
  const s = { start: 2.0, end: 0.01, fraction: 1 };
  close(linearSchedule(0, 1600, s), 2.0, 1e-12, "first step");
  close(linearSchedule(1599, 1600, s), 0.01, 1e-12, "last step");
  close(linearSchedule(799.5, 1600, s), (2.0 + 0.01) / 2, 1e-12, "midpoint");
  close(linearSchedule(5, 10, { start: 3, end: 1, fraction: 0 }), 1, 0, "fraction 0 is end throughout");
});

test("GAE matches a hand computation for one token and for three tokens", () => {
  const adv = new Float32Array(1),
    ret = new Float32Array(1);
  gae(adv, ret, [1.5], [0.4], 0.9, 0.8);
  close(adv[0], 1.1, 1e-6, "A = r - V");
  close(ret[0], 1.5, 1e-6, "R = r");

  const a3 = new Float32Array(3),
    r3 = new Float32Array(3);
  const rewards = [0.1, -0.2, 1.0],
    values = [0.5, 0.3, 0.7],
    g = 0.9,
    l = 0.8;
  gae(a3, r3, rewards, values, g, l);
  // by hand: deltas d2 = 1.0 - 0.7 = 0.3; d1 = -0.2 + 0.9*0.7 - 0.3 = 0.13; d0 = 0.1 + 0.9*0.3 - 0.5 = -0.13
  // A2 = 0.3; A1 = 0.13 + 0.72*0.3 = 0.346; A0 = -0.13 + 0.72*0.346 = 0.11912
  close(a3[2], 0.3, 1e-6, "A2");
  close(a3[1], 0.346, 1e-6, "A1");
  close(a3[0], 0.11912, 1e-6, "A0");
  close(r3[0], 0.11912 + 0.5, 1e-6, "R0");
  close(r3[2], 1.0, 1e-6, "R2");
});

function rollout(prompt: number[], response: number[], score: number, values: number[]): Rollout {
  const L = response.length;
  return {
    prompt,
    response,
    oldLogp: new Float32Array(L),
    values: Float32Array.from(values),
    entropy: new Float32Array(L),
    refLogp: null,
    refRows: null,
    kl: null,
    score,
    rewards: new Float32Array(L),
    adv: new Float32Array(L),
    ret: new Float32Array(L),
  };
}

test("reward whitening gives zero mean and unit variance per batch; advantage whitening too", () => {
  const xs = Float32Array.from([3, 7, 7, 1, 0.5, 12]);
  whiten(xs);
  const m = meanStd(xs);
  close(m.mean, 0, 1e-6, "mean");
  close(m.std, 1, 1e-6, "std");
  const same = Float32Array.from([2, 2, 2]);
  whiten(same);
  assert.deepEqual([...same], [0, 0, 0]);

  const rng = new Rng(4);
  for (let batch = 0; batch < 3; batch++) {
    const rs = Array.from({ length: 16 }, () => rollout([1], [2], 5 + 3 * rng.normal(), [0]));
    assignAdvantages(rs, { whitenRewards: true, whitenAdvantages: false, klRewardCoef: 0, gamma: 1, lam: 1 });
    const w = meanStd(rs.map((r) => r.rewards[0]));
    close(w.mean, 0, 1e-6, `batch ${batch} reward mean`);
    close(w.std, 1, 1e-6, `batch ${batch} reward std`);
    assignAdvantages(rs, { whitenRewards: false, whitenAdvantages: true, klRewardCoef: 0, gamma: 1, lam: 1 });
    const a = meanStd(rs.map((r) => r.adv[0]));
    close(a.mean, 0, 1e-6, "adv mean");
    close(a.std, 1, 1e-6, "adv std");
    assert.ok(
      rs.every((r) => r.score !== r.rewards[0]),
      "raw scores are kept",
    );
  }
});

test("row gradient of logp, entropy and KL at a temperature matches finite differences", () => {
  const V = 6,
    tau = 1.7,
    rng = new Rng(11);
  const z = Float32Array.from({ length: V }, () => rng.normal() * 2);
  const q = new Float64Array(V);
  logSoftmaxRow(
    q,
    Float32Array.from({ length: V }, () => rng.normal()),
    0,
    V,
    1 / tau,
  );
  const coef = { a: 2, cLogp: 0.7, cEnt: -1.3, cKl: 0.9 };
  const f = (zz: Float32Array) => {
    const lp = new Float64Array(V);
    logSoftmaxRow(lp, zz, 0, V, 1 / tau);
    return coef.cLogp * lp[coef.a] + coef.cEnt * entropyRow(lp, V) + coef.cKl * klRow(lp, q, 0, V);
  };
  const lp = new Float64Array(V);
  logSoftmaxRow(lp, z, 0, V, 1 / tau);
  const dz = new Float32Array(V);
  accumulateRowGrad(dz, 0, lp, V, 1 / tau, {
    token: coef.a,
    cLogp: coef.cLogp,
    cEnt: coef.cEnt,
    entropy: entropyRow(lp, V),
    cKl: coef.cKl,
    refLogp: q,
    refOff: 0,
    kl: klRow(lp, q, 0, V),
  });
  let maxErr = 0;
  for (let k = 0; k < V; k++) {
    const zp = z.slice(),
      zm = z.slice();
    zp[k] += 1e-2;
    zm[k] -= 1e-2;
    const num = (f(zp) - f(zm)) / (zp[k] - zm[k]);
    maxErr = Math.max(maxErr, Math.abs(num - dz[k]));
  }
  console.log(
    `row gradient (logp + entropy + KL, tau 1.7): max abs error vs finite differences ${maxErr.toExponential(2)}`,
  );
  assert.ok(maxErr < 1e-4, `max abs error ${maxErr}`);
});

test("PPO mini-batch loss gradient wrt logits and values matches finite differences (clipping active)", () => {
  const V = 5,
    T = 4,
    rng = new Rng(21);
  const batch = [rollout([1, 2], [3, 4], 0, [0.2, -0.1]), rollout([2], [0, 1, 3], 0, [0.5, 0.1, -0.3])];
  const logits = Float32Array.from({ length: 2 * T * V }, () => rng.normal());
  const values = Float32Array.from({ length: 2 * T }, () => rng.normal() * 0.3);
  const lp = new Float64Array(V);
  batch.forEach((r, b) => {
    const L = r.response.length;
    r.refRows = new Float32Array(L * V);
    for (let j = 0; j < L; j++) {
      const pos = b * T + r.prompt.length + j - 1;
      logSoftmaxRow(lp, logits, pos * V, V, 1 / 1.6);
      // old log-probs away from the current ones so that some ratios fall outside [0.8, 1.2]
      r.oldLogp[j] = lp[r.response[j]] + (j % 2 === 0 ? -0.5 : 0.05);
      r.adv[j] = j % 2 === 0 ? 1.2 : -0.7;
      r.ret[j] = rng.normal();
      // old values far from the current ones for one token so the value clip is active there
      if (b === 1 && j === 0) r.values[j] = values[pos] + 1;
      const refZ = Float32Array.from({ length: V }, () => rng.normal());
      const row = new Float64Array(V);
      logSoftmaxRow(row, refZ, 0, V, 1 / 1.6);
      r.refRows.set(row, j * V);
    }
  });
  const c: PpoLossCoefs = {
    clipRange: 0.2,
    cliprangeValue: 0.2,
    vfCoef: 0.5,
    entCoef: 0.3,
    klLossCoef: 0.4,
    invTemp: 1 / 1.6,
    gradScale: 0.5,
  };
  const dL = new Float32Array(logits.length),
    dV = new Float32Array(values.length);
  const st = ppoLoss(logits, values, T, V, batch, c, dL, dV);
  assert.ok(st.clipFrac > 0 && st.clipFrac < 1, `clip fraction ${st.clipFrac} should be strictly between 0 and 1`);
  assert.ok(st.vfClipFrac > 0, "value clip active somewhere");
  const loss = (lg: Float32Array, vs: Float32Array) => c.gradScale * ppoLoss(lg, vs, T, V, batch, c, null, null).loss;
  let maxErr = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = logits.slice(),
      m = logits.slice();
    p[i] += 1e-2;
    m[i] -= 1e-2;
    const num = (loss(p, values) - loss(m, values)) / (p[i] - m[i]);
    maxErr = Math.max(maxErr, Math.abs(num - dL[i]));
  }
  let maxErrV = 0;
  for (let i = 0; i < values.length; i++) {
    const p = values.slice(),
      m = values.slice();
    p[i] += 1e-3;
    m[i] -= 1e-3;
    const num = (loss(logits, p) - loss(logits, m)) / (p[i] - m[i]);
    maxErrV = Math.max(maxErrV, Math.abs(num - dV[i]));
  }
  console.log(
    `PPO loss gradient: max abs error dLogits ${maxErr.toExponential(2)}, dValues ${maxErrV.toExponential(2)}`,
  );
  assert.ok(maxErr < 2e-4, `logits grad max abs error ${maxErr}`);
  assert.ok(maxErrV < 2e-4, `values grad max abs error ${maxErrV}`);
});

test("paper presets parse and carry the seed's numbers", () => {
  const p = PpoConfigSchema.parse(ppoPresets.paper);
  assert.equal(p.lr, 2e-8);
  assert.equal(p.batchSize, 128);
  assert.equal(p.miniBatchSize * p.gradAccum, 128);
  assert.deepEqual(p.temperature, { start: 1.9, end: 1.6, fraction: 0.4 });
  assert.deepEqual(p.entropy, { start: 2.0, end: 0.01, fraction: 1 });
  assert.equal(p.lora?.rank, 512);
  assert.equal(p.lora?.alpha, 1024);
  const s = SftConfigSchema.parse(sftPresets.paper);
  assert.equal(s.lr, 2e-4);
  assert.equal(s.warmupSteps, 50);
  assert.equal(s.maxGradNorm, 0.3);
  assert.equal(s.lora?.rank, 16);
  PpoConfigSchema.parse(ppoPresets.embedded);
  SftConfigSchema.parse(sftPresets.embedded);
  assert.throws(() => PpoConfigSchema.parse({ ...ppoPresets.paper, clipRnage: 0.1 }), /clipRnage/);
});

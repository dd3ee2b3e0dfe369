/**
 * PPO on the engine's model computes logits at the response rows only: scoring (old log-probs, values, reference KL)
 * and the loss with its gradients are the same as through the full [B, T, V] logits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { createModel } from "../../src/engine/model.js";
import type { CausalLM, ForwardOptions } from "../../src/engine/model-api.js";
import { ppoLoss, responseRows } from "../../src/train/ppo-loss.js";
import { scoreRollouts } from "../../src/train/rollout.js";
import { packRightPadded } from "../../src/train/trainer-common.js";

test("scoreRollouts and ppoLoss on response rows = the full-logits path", () => {
  const cfg = { vocabSize: 23, dModel: 16, nLayers: 1, nHeads: 2, dFf: 24, maxSeq: 16 };
  const m = createModel(cfg, { seed: 2, initStd: 0.3, valueHead: true });
  m.attachLora({ rank: 2, alpha: 4, dropout: 0 }, 1);
  for (const p of m.trainableParameters()) for (let i = 0; i < p.data.length; i++) p.data[i] += 0.05 * Math.cos(i);
  // the same model seen through a wrapper that is not a LlamaModel: the full-logits path
  const full: CausalLM = {
    config: m.config,
    get lora() {
      return m.lora;
    },
    hasValueHead: true,
    parameters: () => m.parameters(),
    trainableParameters: () => m.trainableParameters(),
    forward: (t: Int32Array, B: number, T: number, o?: ForwardOptions) =>
      m.forward(t, B, T, { ...o, logitRows: undefined }),
    backward: (d: Float32Array, v?: Float32Array) => m.backward(d, v),
    zeroGrad: () => m.zeroGrad(),
  };
  const items = [
    { prompt: [1, 4, 5], response: [6, 7, 2], score: 1 },
    { prompt: [1, 8], response: [9, 10, 11, 12], score: -1 },
  ];
  const a = scoreRollouts(full, items, 1, 0, { kind: "base" }, true);
  const b = scoreRollouts(m, items, 1, 0, { kind: "base" }, true);
  const close = (x: ArrayLike<number>, y: ArrayLike<number>, what: string) => {
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-5, `${what}[${i}] ${x[i]} vs ${y[i]}`);
  };
  a.forEach((r, i) => {
    close(r.oldLogp, b[i].oldLogp, "oldLogp");
    close(r.values, b[i].values, "values");
    close(r.kl as Float32Array, b[i].kl as Float32Array, "kl");
    close(r.refRows as Float32Array, b[i].refRows as Float32Array, "refRows");
  });
  const rng = new Rng(3);
  for (const r of b)
    for (let j = 0; j < r.adv.length; j++) {
      r.adv[j] = rng.normal();
      r.ret[j] = rng.normal();
    }
  const coefs = {
    clipRange: 0.2,
    cliprangeValue: 0.2,
    vfCoef: 0.1,
    entCoef: 0.01,
    klLossCoef: 0.05,
    invTemp: 1,
    gradScale: 1,
  };
  const { tokens, B, T } = packRightPadded(
    items.map((it) => it.prompt.concat(it.response)),
    0,
  );
  const V = cfg.vocabSize;
  const run = (compact: boolean) => {
    const rows = compact ? responseRows(b, T) : undefined;
    const out = m.forward(tokens, B, T, { train: true, ...(rows ? { logitRows: rows } : {}) });
    const dL = new Float32Array((rows ? rows.length : B * T) * V);
    const dV = new Float32Array(B * T);
    const st = ppoLoss(out.logits, out.values as Float32Array, T, V, b, coefs, dL, dV, compact);
    m.zeroGrad();
    m.backward(dL, dV);
    return { loss: st.loss, g: m.trainableParameters().map((p) => Float32Array.from(p.grad)) };
  };
  const x = run(false);
  const y = run(true);
  assert.ok(Math.abs(x.loss - y.loss) <= 1e-6 * Math.abs(x.loss) + 1e-9);
  x.g.forEach((g, i) => close(g, y.g[i], `grad ${i}`));
});

/**
 * Logits at chosen rows and the chunked LM head + cross-entropy: the same loss and gradients as the full [B*T, V]
 * forward, backward through the rows' logits only, and every chunk size (1, uneven, larger than the rows).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { crossEntropyChunks, maskedRows } from "../../src/engine/chunked-loss.js";
import { createModel, type LlamaModel } from "../../src/engine/model.js";
import { crossEntropyForward } from "../../src/engine/ops/cross-entropy.js";
import { randn } from "./grad-check.js";

const cfg = { vocabSize: 37, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dFf: 24, maxSeq: 16, qkvBias: true };
const B = 3;
const T = 9;
const N = B * T;

function setup(tie: boolean, valueHead: boolean): LlamaModel {
  const m = createModel({ ...cfg, tieEmbeddings: tie }, { seed: 4, initStd: 0.2, valueHead });
  m.attachLora({ rank: 2, alpha: 4, dropout: 0, targets: ["q_proj", "down_proj"] }, 1);
  const rng = new Rng(2);
  for (const p of m.parameters()) if (p.name.endsWith("lora_B.weight")) p.data.set(randn(rng, p.data.length, 0.2));
  return m;
}

const grads = (m: LlamaModel) => m.trainableParameters().map((p) => Float32Array.from(p.grad));

function close(a: Float32Array[], b: Float32Array[]): void {
  a.forEach((g, i) => {
    let d = 0;
    let s = 0;
    for (let j = 0; j < g.length; j++) {
      d = Math.max(d, Math.abs(g[j] - b[i][j]));
      s = Math.max(s, Math.abs(g[j]));
    }
    assert.ok(d <= 1e-5 * s + 1e-9, `grad ${i}: ${d} at scale ${s}`);
  });
}

for (const tie of [true, false])
  test(`trainChunked and logitRows give the full forward's loss and gradients (tied ${tie})`, () => {
    const rng = new Rng(7);
    const tokens = Int32Array.from({ length: N }, () => rng.int(cfg.vocabSize));
    const targets = Int32Array.from({ length: N }, () => rng.int(cfg.vocabSize));
    const mask = Float32Array.from({ length: N }, (_, i) => (i % T >= 4 ? 1 + (i % 3) : 0));
    const dv = randn(rng, N, 0.3);
    // reference: every row's logits, mask-weighted mean cross-entropy
    const ref = setup(tie, true);
    const r = ref.forward(tokens, B, T, { train: true });
    const d = new Float32Array(N * cfg.vocabSize);
    const loss = crossEntropyForward(d, r.logits, targets, mask, N, cfg.vocabSize);
    ref.zeroGrad();
    ref.backward(d, dv);
    const want = grads(ref);
    const rows = maskedRows(mask, N);
    const rt = Int32Array.from(rows, (i) => targets[i]);
    const rw = Float32Array.from(rows, (i) => mask[i]);
    for (const chunkRows of [1, 5, 64]) {
      const m = setup(tie, true);
      m.zeroGrad();
      const l = m.trainChunked(tokens, B, T, rows, crossEntropyChunks(rt, rw), { chunkRows, dValues: () => dv });
      assert.ok(Math.abs(l - loss) <= 1e-6 * loss, `chunk ${chunkRows}: loss ${l} vs ${loss}`);
      close(grads(m), want);
    }
    // logitRows: logits [P, V] at the rows, backward from them
    const m = setup(tie, true);
    const rr = m.forward(tokens, B, T, { train: true, logitRows: rows });
    assert.equal(rr.logits.length, rows.length * cfg.vocabSize);
    for (let i = 0; i < rows.length; i++)
      for (let j = 0; j < cfg.vocabSize; j++)
        assert.ok(Math.abs(rr.logits[i * cfg.vocabSize + j] - r.logits[rows[i] * cfg.vocabSize + j]) < 1e-5);
    const dp = new Float32Array(rows.length * cfg.vocabSize);
    crossEntropyForward(dp, rr.logits, rt, rw, rows.length, cfg.vocabSize);
    m.zeroGrad();
    m.backward(dp, dv);
    close(grads(m), want);
  });

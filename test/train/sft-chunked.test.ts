/** The SFT trainer's chunked path (scored rows only, LM head in chunks) gives crossEntropySum's loss and gradients. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createModel } from "../../src/engine/model.js";
import { crossEntropySum, crossEntropySumChunks, scoredRows, scoredTokens } from "../../src/train/sft-loss.js";
import { packRightPadded } from "../../src/train/trainer-common.js";

test("crossEntropySumChunks through trainChunked = crossEntropySum through the full logits", () => {
  const cfg = { vocabSize: 29, dModel: 16, nLayers: 1, nHeads: 2, dFf: 24, maxSeq: 16 };
  const mk = () => {
    const m = createModel(cfg, { seed: 3, initStd: 0.3 });
    m.attachLora({ rank: 2, alpha: 4, dropout: 0 }, 1);
    for (const p of m.trainableParameters()) for (let i = 0; i < p.data.length; i++) p.data[i] += 0.05 * Math.sin(i);
    return m;
  };
  const ex = [
    { prompt: [1, 5, 6], completion: [7, 8, 2] },
    { prompt: [1, 9], completion: [10, 11, 12, 2] },
  ];
  for (const completionOnly of [true, false]) {
    const { tokens, B, T } = packRightPadded(
      ex.map((e) => e.prompt.concat(e.completion)),
      0,
    );
    const n = scoredTokens(ex, completionOnly);
    const a = mk();
    const { logits } = a.forward(tokens, B, T, { train: true });
    const d = new Float32Array(B * T * cfg.vocabSize);
    const la = crossEntropySum(logits, ex, T, cfg.vocabSize, completionOnly, d, 1 / n);
    a.zeroGrad();
    a.backward(d);
    const b = mk();
    b.zeroGrad();
    const { rows, targets } = scoredRows(ex, T, completionOnly);
    assert.equal(rows.length, n);
    const lb = b.trainChunked(tokens, B, T, rows, crossEntropySumChunks(targets, 1 / n), { chunkRows: 3 });
    assert.ok(Math.abs(la - lb) <= 1e-5 * la, `${la} vs ${lb}`);
    const ga = a.trainableParameters();
    b.trainableParameters().forEach((p, i) => {
      for (let j = 0; j < p.grad.length; j++) assert.ok(Math.abs(p.grad[j] - ga[i].grad[j]) <= 1e-6, p.name);
    });
  }
});

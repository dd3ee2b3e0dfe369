/**
 * Parity with an independent PyTorch float64 implementation of Hugging Face Llama (test/engine/torch_llama_ref.py):
 * logits, values, loss and every parameter's gradient of a 2-layer GQA model with LoRA and a value head. Confirms the
 * HF conventions (rotate_half RoPE, repeat_kv head mapping, [out, in] weights, PEFT scaling) that finite differences
 * alone cannot. Skipped when the test venv (test/python-env.ts) has no torch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Rng } from "../../src/data/rng.js";
import { createModel } from "../../src/engine/model.js";
import { crossEntropyForward } from "../../src/engine/ops/cross-entropy.js";
import { skipUnlessPython, testPython } from "../python-env.js";
import { randn } from "./grad-check.js";

const PY = testPython;
const torchSkip = skipUnlessPython("torch");
const hasTorch = torchSkip === false;
// the .py file is not compiled: resolve it from dist/test/engine back to test/engine
const script = fileURLToPath(new URL("../../../test/engine/torch_llama_ref.py", import.meta.url));

test(
  "forward and gradients match a PyTorch float64 HF-Llama reference",
  { skip: hasTorch ? false : `no torch for ${PY}` },
  () => {
    const cfg = {
      vocabSize: 17,
      dModel: 16,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      dFf: 24,
      maxSeq: 16,
      tieEmbeddings: false,
    };
    const m = createModel(cfg, { seed: 1, valueHead: true, initStd: 0.2 });
    m.attachLora({ rank: 2, alpha: 6, dropout: 0, targets: ["q_proj", "v_proj", "down_proj"] }, 2);
    const rng = new Rng(3);
    for (const p of m.parameters()) if (p.name.endsWith("lora_B.weight")) p.data.set(randn(rng, p.data.length, 0.2));
    // train everything, so every parameter's gradient is compared
    for (const p of m.parameters()) p.trainable = true;
    const B = 2;
    const T = 7;
    const N = B * T;
    const tokens = Int32Array.from({ length: N }, () => rng.int(cfg.vocabSize));
    const targets = Int32Array.from({ length: N }, () => rng.int(cfg.vocabSize));
    const mask = Float32Array.from({ length: N }, (_, i) => (i % T >= 2 ? 1 : 0));
    const dValues = randn(rng, N, 0.3);
    const r = m.forward(tokens, B, T, { train: true });
    const dLogits = new Float32Array(N * cfg.vocabSize);
    const ce = crossEntropyForward(dLogits, r.logits, targets, mask, N, cfg.vocabSize);
    m.zeroGrad();
    m.backward(dLogits, dValues);
    const resolved = m.config;
    const input = {
      config: resolved,
      B,
      T,
      loraScaling: 6 / 2,
      params: Object.fromEntries(m.parameters().map((p) => [p.name, Array.from(p.data)])),
      shapes: Object.fromEntries(m.parameters().map((p) => [p.name, p.shape])),
      tokens: Array.from(tokens),
      targets: Array.from(targets),
      mask: Array.from(mask, (x) => x > 0),
      dvalues: Array.from(dValues),
    };
    const py = spawnSync(PY, [script], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 1 << 26 });
    assert.equal(py.status, 0, py.stderr);
    const ref = JSON.parse(py.stdout) as {
      logits: number[];
      values: number[];
      ce: number;
      grads: Record<string, number[]>;
    };
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let d = 0;
      let s = 0;
      for (let i = 0; i < b.length; i++) {
        d = Math.max(d, Math.abs(a[i] - b[i]));
        s = Math.max(s, Math.abs(b[i]));
      }
      return { d, s };
    };
    assert.ok(maxDiff(r.logits, ref.logits).d < 1e-5, `logits ${maxDiff(r.logits, ref.logits).d}`);
    assert.ok(maxDiff(r.values as Float32Array, ref.values).d < 1e-5);
    assert.ok(Math.abs(ce - ref.ce) < 1e-5);
    for (const p of m.parameters()) {
      const g = ref.grads[p.name];
      assert.ok(g !== undefined, `${p.name}: no reference gradient`);
      const { d, s } = maxDiff(p.grad, g);
      // float32 engine vs float64 reference: relative 1e-4 of the tensor's gradient scale
      assert.ok(d <= 1e-4 * s + 1e-7, `${p.name}: max diff ${d.toExponential(2)} at scale ${s.toExponential(2)}`);
    }
  },
);

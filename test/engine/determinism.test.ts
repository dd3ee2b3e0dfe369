/**
 * The exact gemm paths are bit-reproducible: a short training run gives the same weights on the WebAssembly kernel at
 * 1 and 2 threads and on the native kernel (every build this CPU runs) at 1, 2 and 3 threads, and the same as a hash
 * committed here (computed on x64 Linux, Node 20): a machine, CPU, kernel or thread count that changes one bit fails.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  NativeGemm,
  runnableIsas,
  setGemm,
  WasmGemm,
  wasmGemmSupport,
  type Gemm,
} from "../../src/engine/gemm/index.js";
import { createModel } from "../../src/engine/model.js";
import { AdamW } from "../../src/engine/optim.js";
import { crossEntropyForward } from "../../src/engine/ops/cross-entropy.js";
import { Rng } from "../../src/data/rng.js";
import { hasCompiler } from "./gemm-helpers.js";

/**
 * sha256 of every parameter after 3 AdamW steps of the embedded-size model on fixed tokens. An intended change to the
 * model's numerics (initialisation, op order, a kernel) changes it: then update the constant below, in the same commit.
 */
const EXPECTED = "829d0f8e21eb6f64d5d8dcc248c4807a4d159e20bff9709040fccb885d900b80";

function trainedWeightsHash(g: Gemm & { close?: () => void }): string {
  setGemm(g);
  try {
    const cfg = { vocabSize: 50, dModel: 64, nLayers: 2, nHeads: 4, dFf: 172, maxSeq: 32 };
    // B*T = 512 rows: the linear layers' products (512 x 64 x 64 and up) are past the threading threshold
    const [B, T, V] = [16, 32, cfg.vocabSize];
    const m = createModel(cfg, { seed: 7 });
    const opt = new AdamW(m.trainableParameters(), { lr: 3e-3 });
    const r = new Rng(3);
    const tokens = Int32Array.from({ length: B * T }, () => r.int(V));
    const targets = Int32Array.from({ length: B * T }, () => r.int(V));
    const dLogits = new Float32Array(B * T * V);
    for (let step = 0; step < 3; step++) {
      const { logits } = m.forward(tokens, B, T, { train: true });
      crossEntropyForward(dLogits, logits, targets, null, B * T, V);
      m.zeroGrad();
      m.backward(dLogits);
      opt.step();
    }
    const h = createHash("sha256");
    for (const p of m.parameters()) h.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
    return h.digest("hex");
  } finally {
    g.close?.();
  }
}

const sup = wasmGemmSupport();
test(
  "a short training run on the wasm gemm hashes the same at 1 and 2 threads, and as committed",
  { skip: !sup.simd || !sup.threads ? "no WebAssembly SIMD or shared memory here" : false },
  () => {
    const one = trainedWeightsHash(new WasmGemm({ threads: 1 }));
    assert.equal(trainedWeightsHash(new WasmGemm({ threads: 2 })), one, "2 threads changed the weights");
    // the hash covers the default path: the arena SIMD ops too (MST_SIMD=0 swaps them for JS loops, other bits)
    if (process.env.MST_SIMD?.trim() !== "0")
      assert.equal(one, EXPECTED, "the weights differ from the committed hash (see EXPECTED)");
  },
);

test(
  "the same training run on the native gemm (every build this CPU runs, 1/2/3 threads) hashes as committed",
  { skip: !hasCompiler() ? "no C compiler here" : process.env.MST_SIMD?.trim() === "0" ? "MST_SIMD=0" : false },
  () => {
    for (const isa of runnableIsas())
      for (const threads of [1, 2, 3])
        assert.equal(
          trainedWeightsHash(new NativeGemm({ isa, threads })),
          EXPECTED,
          `native ${isa} at ${threads} threads: the weights differ from the committed hash`,
        );
  },
);

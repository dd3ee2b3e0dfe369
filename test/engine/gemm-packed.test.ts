/**
 * The fused dequantise-and-multiply (native-gemm.c's mst_sgemm_packed, NativeGemm.sgemmPackedAt) keeps the exact
 * promise: for NF4 (with and without double quantisation) and bf16 weights, fused == dequantise-then-native-gemm ==
 * dequantise-then-reference == dequantise-then-wasm, bit for bit, in every build this CPU runs, on odd sizes, both
 * transpose cases, K past one KC slice and B starting mid-block; the packed linear layers (forward, backward's dX)
 * give the same bits fused (1, 2, 3 threads) as on the panel path (wasm fallback, or MST_FUSED_DEQUANT=0) and as one
 * reference product over the dequantised weight; an NF4 model's training step, checkpoint recompute included, is
 * bit-identical fused and on wasm.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { crossEntropyChunks } from "../../src/engine/chunked-loss.js";
import {
  getGemm,
  NativeGemm,
  runnableIsas,
  setGemm,
  sgemmOrderedAt,
  WasmGemm,
  wasmGemmSupport,
  type Gemm,
} from "../../src/engine/gemm/index.js";
import type { PackedOperand } from "../../src/engine/gemm/native.js";
import { createModel, type LlamaModel } from "../../src/engine/model.js";
import { addBias } from "../../src/engine/ops/linear.js";
import { Bf16Matrix } from "../../src/engine/quant/bf16.js";
import { Nf4Matrix } from "../../src/engine/quant/nf4.js";
import {
  backwardPanelRows,
  packedLinearBackward,
  packedLinearForward,
  panelRows,
} from "../../src/engine/quant/packed.js";
import { KC } from "../../src/engine/wasm/gemm-blocked.js";
import { hasCompiler, randn } from "./gemm-helpers.js";
import { withSimd } from "./with-simd.js";

const skip = !hasCompiler() ? "no C compiler here (CC or cc)" : !wasmGemmSupport().simd ? "no WebAssembly SIMD" : false;

const hex = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex");

/** Normal values with an outlier every 97 (blocks whose absmax dwarfs the rest) and a few exact zeros. */
function weights(r: Rng, n: number): Float32Array {
  const v = randn(r, n);
  for (let i = 0; i < n; i += 97) v[i] *= 40;
  for (let i = 13; i < n; i += 211) v[i] = 0;
  return v;
}

/** The three packed formats of a (rows, cols) matrix of `values`. */
function packedFormats(rows: number, cols: number, values: Float32Array): [string, PackedOperand][] {
  const bf16 = new Bf16Matrix(rows, cols);
  bf16.setRows(0, values);
  return [
    ["nf4 double-quant", new Nf4Matrix(rows, cols, values)],
    ["nf4", new Nf4Matrix(rows, cols, values, { doubleQuant: false })],
    ["bf16", bf16],
  ];
}

/** The matrix the matrices' own JavaScript loops dequantise. */
function dequantised(w: PackedOperand): Float32Array {
  const full = new Float32Array(w.rows * w.cols);
  w.dequantRange(0, w.rows * w.cols, full, 0);
  return full;
}

test(
  "fused == dequantise-then-native == dequantise-then-reference == dequantise-then-wasm: NF4, bf16, every build",
  { skip },
  () => {
    const builds = runnableIsas().map((isa) => new NativeGemm({ isa }));
    const wasm = new WasmGemm({ threads: 1 });
    const r = new Rng(31);
    let cases = 0;
    // 1, 3, 17: edge tiles only; 33, 65, 129: full and edge tiles; 257, 300, 520: K past KC = 256; 1, 3, 12 rows
    // with a transposed B: the skinny path (one and two vectors of rows)
    for (const [M, N, K] of [
      [1, 1, 1],
      [3, 17, 65],
      [17, 3, 257],
      [12, 40, 300],
      [33, 65, 300],
      [129, 70, 520],
    ])
      for (const tB of [true, false]) {
        // B is stored with 5 spare columns and starts one row and 5 values in: op(B)'s runs start mid-block (at odd
        // values for half the sizes) and its rows are not block-aligned
        const ldb = (tB ? K : N) + 5;
        const rows = (tB ? N : K) + 1;
        const bOff = ldb + 5;
        for (const [name, w] of packedFormats(rows, ldb, weights(r, rows * ldb))) {
          const full = dequantised(w);
          for (const tA of [false, true])
            for (const [alpha, beta] of [
              [1, 0],
              [-0.75, 1],
            ]) {
              const A = randn(r, M * K);
              const C0 = beta === 0 ? new Float32Array(M * N).fill(NaN) : randn(r, M * N);
              const lda = tA ? M : K;
              const what = `${name} M${M} N${N} K${K} tA=${tA} tB=${tB} beta=${beta}`;
              const ref = C0.slice();
              sgemmOrderedAt(tA, tB, M, N, K, alpha, A, 0, lda, full, bOff, ldb, beta, ref, 0, N);
              const viaWasm = C0.slice();
              wasm.sgemmAt(tA, tB, M, N, K, alpha, A, 0, lda, full, bOff, ldb, beta, viaWasm, 0, N);
              assert.equal(hex(viaWasm), hex(ref), `wasm, ${what}`);
              for (const g of builds) {
                const viaNative = C0.slice();
                g.sgemmAt(tA, tB, M, N, K, alpha, A, 0, lda, full, bOff, ldb, beta, viaNative, 0, N);
                assert.equal(hex(viaNative), hex(ref), `dequantise then native ${g.isa}, ${what}`);
                // by size, then forced onto the panels and onto the skinny path (few rows times a transposed B)
                for (const path of [0, 1, 3] as const) {
                  g.forcePath(path);
                  const fused = C0.slice();
                  g.sgemmPackedAt(tA, tB, M, N, K, alpha, A, 0, lda, w, bOff, ldb, beta, fused, 0, N);
                  g.forcePath(0);
                  assert.equal(hex(fused), hex(ref), `fused ${g.isa} path ${path}, ${what}`);
                }
              }
              cases++;
            }
        }
      }
    assert.equal(cases, 6 * 2 * 3 * 2 * 2);
  },
);

test("a packed B that does not hold op(B) is refused, naming the operand", { skip }, () => {
  const g = new NativeGemm();
  const w = new Nf4Matrix(4, 8, randn(new Rng(1), 32));
  const C = new Float32Array(4 * 4);
  assert.throws(
    () => g.sgemmPackedAt(false, true, 4, 4, 8, 1, new Float32Array(32), 0, 8, w, 8, 8, 0, C, 0, 4),
    /B needs 40 floats/,
  );
});

/** The packed layer's reference: one ordered product over the dequantised weight (then the bias). */
function referenceLayer(w: PackedOperand, inp: Float32Array, dout: Float32Array, bias: Float32Array, N: number) {
  const [OC, IC] = [w.rows, w.cols];
  const full = dequantised(w);
  const out = new Float32Array(N * OC).fill(0.25);
  sgemmOrderedAt(false, true, N, OC, IC, 1, inp, 0, IC, full, 0, IC, 1, out, 0, OC);
  addBias(out, bias, N, OC);
  const dinp = new Float32Array(N * IC).fill(0.5);
  sgemmOrderedAt(false, false, N, IC, OC, 1, dout, 0, OC, full, 0, IC, 1, dinp, 0, IC);
  const dinp0 = new Float32Array(N * IC).fill(NaN);
  sgemmOrderedAt(false, false, N, IC, OC, 1, dout, 0, OC, full, 0, IC, 0, dinp0, 0, IC);
  return { out, dinp, dinp0 };
}

/** The packed layer on the active gemm: forward accumulating into 0.25, backward adding into 0.5 and overwriting. */
function packedLayer(w: PackedOperand, inp: Float32Array, dout: Float32Array, bias: Float32Array, N: number) {
  const [OC, IC] = [w.rows, w.cols];
  const out = new Float32Array(N * OC).fill(0.25);
  packedLinearForward(out, inp, w, bias, N, IC, OC, true);
  const dinp = new Float32Array(N * IC).fill(0.5);
  packedLinearBackward(dinp, dout, w, N, IC, OC);
  const dinp0 = new Float32Array(N * IC).fill(NaN);
  packedLinearBackward(dinp0, dout, w, N, IC, OC, true);
  return { out, dinp, dinp0 };
}

test(
  "packed linear forward and backward: fused (1, 2, 3 threads) == panel path (wasm, or MST_FUSED_DEQUANT=0) == reference",
  { skip },
  () => {
    const saved = getGemm();
    const r = new Rng(41);
    try {
      // (N, IC, OC): 300 columns give 3 forward panels and 3 backward panels (256 rows each, the last partial);
      // 37 columns give 1536-row backward panels, so 1601 rows cross one; 896 is Qwen2.5-0.5B's width
      for (const [N, IC, OC] of [
        [37, 300, 531],
        [13, 37, 1601],
        [5, 896, 300],
      ]) {
        const inp = randn(r, N * IC);
        const dout = randn(r, N * OC);
        const bias = randn(r, OC);
        for (const [name, w] of packedFormats(OC, IC, weights(r, OC * IC))) {
          assert.ok(panelRows(w) < OC || backwardPanelRows(w) < OC, "the panel path splits the product");
          assert.equal(backwardPanelRows(w) % KC === 0 || backwardPanelRows(w) === OC, true);
          const want = referenceLayer(w, inp, dout, bias, N);
          const check = (got: ReturnType<typeof packedLayer>, how: string) => {
            const what = `${name} N${N} IC${IC} OC${OC}, ${how}`;
            assert.equal(hex(got.out), hex(want.out), `forward, ${what}`);
            assert.equal(hex(got.dinp), hex(want.dinp), `backward (adding), ${what}`);
            assert.equal(hex(got.dinp0), hex(want.dinp0), `backward (overwriting), ${what}`);
          };
          for (const t of [1, 2, 3]) {
            const g = new NativeGemm({ threads: t });
            setGemm(g);
            let fusedCalls = 0;
            const packedAt = g.sgemmPackedAt.bind(g);
            g.sgemmPackedAt = (...args) => {
              fusedCalls++;
              packedAt(...args);
            };
            check(packedLayer(w, inp, dout, bias, N), `fused, ${t} threads`);
            assert.equal(fusedCalls, 3, "one fused product per layer call");
          }
          setGemm(new WasmGemm({ threads: 1 }));
          for (const simd of [true, false])
            check(
              withSimd(simd, () => packedLayer(w, inp, dout, bias, N)),
              `panels on wasm, SIMD dequant ${simd}`,
            );
          setGemm(new NativeGemm());
          const prev = process.env.MST_FUSED_DEQUANT;
          process.env.MST_FUSED_DEQUANT = "0";
          try {
            check(packedLayer(w, inp, dout, bias, N), "panels on native (MST_FUSED_DEQUANT=0)");
          } finally {
            if (prev === undefined) delete process.env.MST_FUSED_DEQUANT;
            else process.env.MST_FUSED_DEQUANT = prev;
          }
        }
      }
    } finally {
      setGemm(saved);
    }
  },
);

const cfg = { vocabSize: 61, dModel: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, dFf: 96, maxSeq: 16, qkvBias: true };

/** Logits, loss and every LoRA gradient of a few chunked training steps on an NF4 or bf16 base, on the active gemm. */
function trainNumbers(storage: "nf4" | "bf16", checkpointing: boolean): string[] {
  const m: LlamaModel = createModel(cfg, { seed: 4, initStd: 0.2, storage, gradientCheckpointing: checkpointing });
  m.attachLora({ rank: 2, alpha: 4, dropout: 0.1 }, 1);
  const rng = new Rng(6);
  for (const p of m.parameters()) if (p.name.endsWith("lora_B.weight")) p.data.set(randn(rng, p.data.length));
  const [B, T] = [2, 9];
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const rows = Int32Array.from([3, 4, 7, 8, 12, 16, 17]);
  const targets = Int32Array.from(rows, () => rng.int(cfg.vocabSize));
  const out = [hex(m.forward(tokens, B, T).logits)];
  for (let step = 0; step < 2; step++) {
    m.zeroGrad();
    const loss = m.trainChunked(tokens, B, T, rows, crossEntropyChunks(targets), { rng: new Rng(step), chunkRows: 4 });
    out.push(String(loss), ...m.trainableParameters().map((p) => `${p.name} ${hex(p.grad)}`));
  }
  return out;
}

test(
  "an NF4 / bf16 model's training step (forward, backward, checkpoint recompute): fused == wasm fallback, bit for bit",
  { skip },
  () => {
    const saved = getGemm();
    try {
      for (const storage of ["nf4", "bf16"] as const) {
        setGemm(new WasmGemm({ threads: 1 }));
        const viaWasm = trainNumbers(storage, true);
        const g: Gemm = new NativeGemm();
        setGemm(g);
        for (const ck of [true, false])
          assert.deepEqual(trainNumbers(storage, ck), viaWasm, `${storage}, checkpointing ${ck}: native vs wasm`);
      }
    } finally {
      setGemm(saved);
    }
  },
);

/**
 * The SIMD dequantisers (quant/dequant-panel.ts over wasm/dequant-kernels.ts) against the JavaScript reference loops
 * (the matrices' dequantRows): equal bit for bit, on odd shapes whose rows start at odd values and mid-block, single
 * rows, whole matrices, NF4 with and without double quantisation, bf16 special values; and the MST_SIMD=0 fallback.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import { Bf16Matrix } from "../../../src/engine/quant/bf16.js";
import { Nf4Matrix } from "../../../src/engine/quant/nf4.js";
import { dequantPanel, simdDequantEnabled } from "../../../src/engine/quant/dequant-panel.js";
import { packedLinearForward, type PackedMatrix } from "../../../src/engine/quant/packed.js";
import { dequantModule } from "../../../src/engine/wasm/dequant-kernels.js";
import { getGemm, setGemm, tsGemm, WasmGemm } from "../../../src/engine/gemm/index.js";
import { withSimd } from "../with-simd.js";

/** Bit-for-bit equality (NaN payloads and -0 included), naming the first differing element. */
function assertBits(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < w.length; i++)
    if (g[i] !== w[i]) assert.fail(`${what}: element ${i} is ${got[i]} (0x${g[i].toString(16)}), want ${want[i]}`);
}

/** The panels the tests try (those inside the matrix): whole, single rows at both ends, odd spans. */
function spans(rows: number): [number, number][] {
  const all: [number, number][] = [
    [0, rows],
    [0, 1],
    [rows - 1, rows],
    [1, 2],
    [3, Math.min(rows, 17)],
    [5, rows],
    [Math.floor(rows / 3), Math.floor((2 * rows) / 3) + 1],
  ];
  return all.filter(([r0, r1]) => r0 >= 0 && r0 < r1 && r1 <= rows);
}

function checkPanels(m: PackedMatrix, what: string): void {
  for (const [r0, r1] of spans(m.rows)) {
    const want = new Float32Array((r1 - r0) * m.cols);
    m.dequantRows(r0, r1, want);
    const got = withSimd(true, () => Float32Array.from(dequantPanel(m, r0, r1)));
    assertBits(got, want, `${what} rows [${r0}, ${r1})`);
  }
}

const rng = new Rng(11);
const normals = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);

test("this runtime has the SIMD dequantisers (else the other tests only cover the fallback)", () => {
  assert.ok(dequantModule() !== null);
  assert.ok(withSimd(true, simdDequantEnabled));
  assert.ok(!withSimd(false, simdDequantEnabled));
});

// (rows, cols): odd columns put row starts at odd values and mid-block; 896 is Qwen2.5-0.5B's width (block-aligned);
// 300 x 230 has 1078 blocks, so NF4's second-level groups of 256 absmaxes are crossed
const SHAPES: [number, number][] = [
  [37, 101],
  [9, 7],
  [1, 3],
  [24, 896],
  [300, 230],
];

for (const doubleQuant of [true, false])
  test(`NF4 (double quantisation ${doubleQuant}): SIMD panels equal the reference bit for bit`, () => {
    for (const [rows, cols] of SHAPES) {
      const v = normals(rows * cols, 0.05);
      v[Math.floor(v.length / 2)] = 3; // one outlier block
      checkPanels(new Nf4Matrix(rows, cols, v, { doubleQuant }), `nf4 ${rows}x${cols}`);
    }
  });

test("bf16: SIMD panels equal the reference bit for bit, special values included", () => {
  for (const [rows, cols] of SHAPES) {
    const m = new Bf16Matrix(rows, cols);
    m.setRows(0, normals(rows * cols, 1));
    checkPanels(m, `bf16 ${rows}x${cols}`);
  }
  // every bf16 bit pattern: NaNs, infinities, -0, subnormals
  const all = new Bf16Matrix(
    256,
    256,
    Uint16Array.from({ length: 65536 }, (_, i) => i),
  );
  checkPanels(all, "bf16 all patterns");
});

test("MST_SIMD=0: panels come from the JavaScript loop, same values", () => {
  const m = new Nf4Matrix(37, 101, normals(37 * 101, 1));
  const simd = withSimd(true, () => Float32Array.from(dequantPanel(m, 3, 30)));
  const simdBuf = withSimd(true, () => dequantPanel(m, 3, 30).buffer);
  const plain = withSimd(false, () => dequantPanel(m, 3, 30));
  assert.notEqual(plain.buffer, simdBuf, "the fallback writes a JavaScript array, not the wasm memory");
  assertBits(plain, simd, "fallback");
});

test("the packed linear layer gives the same output with SIMD dequantisation on and off", () => {
  const [N, IC, OC] = [5, 101, 37];
  const inp = normals(N * IC, 1);
  const bias = normals(OC, 1);
  for (const w of [new Nf4Matrix(OC, IC, normals(OC * IC, 0.1)), new Bf16Matrix(OC, IC)]) {
    if (w instanceof Bf16Matrix) w.setRows(0, normals(OC * IC, 0.1));
    const on = new Float32Array(N * OC);
    const off = new Float32Array(N * OC);
    withSimd(true, () => packedLinearForward(on, inp, w, bias, N, IC, OC));
    withSimd(false, () => packedLinearForward(off, inp, w, bias, N, IC, OC));
    assertBits(on, off, `${w.format} linear`);
  }
});

test("every gemm backend takes the SIMD panel (a view of the dequantisation memory): wasm stages it, same output", () => {
  const [N, IC, OC] = [3, 130, 70];
  const inp = normals(N * IC, 1);
  const w = new Nf4Matrix(OC, IC, normals(OC * IC, 0.1));
  const want = new Float32Array(N * OC);
  const prev = getGemm();
  try {
    setGemm(tsGemm);
    withSimd(false, () => packedLinearForward(want, inp, w, null, N, IC, OC));
    for (const g of [tsGemm, new WasmGemm(), prev]) {
      setGemm(g);
      const got = new Float32Array(N * OC);
      withSimd(true, () => packedLinearForward(got, inp, w, null, N, IC, OC));
      for (let i = 0; i < want.length; i++)
        assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `${g.name} element ${i}`);
    }
  } finally {
    setGemm(prev);
  }
});

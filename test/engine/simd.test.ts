/**
 * The WebAssembly SIMD kernels against the JavaScript loops they replace: the module builds on this runtime, exp is
 * float32-accurate, each kernel agrees with its JS op on plain arrays (tolerance: float32 arithmetic against JS's
 * float64-then-rounded, a few ulps), the causal softmax matches a float64 one, and a whole training step with
 * arena buffers matches one with MST_SIMD=0.
 * The model's finite-difference checks (model.test.ts) run on the SIMD path, since training buffers are arena-backed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { createModel } from "../../src/engine/model.js";
import { crossEntropyForward } from "../../src/engine/ops/cross-entropy.js";
import { rmsnormBackward, rmsnormForward } from "../../src/engine/ops/rmsnorm.js";
import { swigluBackward, swigluForward } from "../../src/engine/ops/swiglu.js";
import { simdEnabled, simdFor, WasmArena } from "../../src/engine/wasm/arena.js";
import { simdModule } from "../../src/engine/wasm/simd-kernels.js";
import { randn } from "./grad-check.js";
import { withSimd } from "./with-simd.js";

/** max |a - b| / (|b| + floor) over the arrays. */
function maxRel(a: Float32Array, b: Float32Array, floor: number): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor));
  return m;
}

test("the SIMD module compiles on this runtime; MST_SIMD=0 turns arenas off; plain arrays get no kernels", () => {
  assert.notEqual(simdModule(), null);
  assert.equal(
    withSimd(false, () => simdEnabled()),
    false,
  );
  assert.equal(
    withSimd(true, () => simdEnabled()),
    true,
  );
  const arena = new WasmArena(64);
  const a = arena.f32(10);
  const b = arena.f32(7);
  assert.equal(a.byteOffset % 16, 0);
  assert.equal(b.byteOffset % 16, 0);
  assert.notEqual(simdFor(a, b), null);
  assert.equal(simdFor(a, new Float32Array(7)), null);
  assert.equal(simdFor(a, new WasmArena(8).f32(8)), null); // another arena's memory
  assert.throws(() => arena.f32(100), /out of space/);
});

test("SIMD exp: within 2e-7 relative of Math.exp on [-87, 88]; clamps outside; NaN stays NaN", () => {
  const n = 4096;
  const arena = new WasmArena(2 * n);
  const src = arena.f32(n);
  const dst = arena.f32(n);
  for (let i = 0; i < n - 8; i++) src[i] = -87 + (175 * i) / (n - 9);
  src.set([-200, -Infinity, 200, NaN, 0, 1e-30, -1e-30, 1], n - 8);
  simdFor(dst, src)?.k.exp(dst.byteOffset, src.byteOffset, n * 4);
  for (let i = 0; i < n - 8; i++) {
    const ref = Math.exp(src[i]);
    assert.ok(Math.abs(dst[i] - ref) <= 2e-7 * ref, `exp(${src[i]}) = ${dst[i]}, want ${ref}`);
  }
  const tail = Array.from(dst.subarray(n - 8));
  assert.ok(tail[0] > 0 && tail[0] < 2e-38 && tail[1] > 0 && tail[1] < 2e-38); // clamped at -87
  assert.ok(tail[2] > 1e38 && Number.isFinite(tail[2])); // clamped at 88
  assert.ok(Number.isNaN(tail[3]));
  assert.deepEqual(tail.slice(4, 7), [1, 1, 1]);
  assert.ok(Math.abs(tail[7] - Math.E) <= 2e-7 * Math.E);
});

test("SwiGLU kernels agree with the JS loops (length with a tail, gates over +-30): 1e-6 of the terms' size", () => {
  const n = 1003; // not a multiple of 4: the last 3 elements take the JS loop
  const rng = new Rng(3);
  const gate0 = randn(rng, n, 8);
  const up0 = randn(rng, n);
  const dout0 = randn(rng, n);
  const d0 = randn(rng, n); // nonzero: the backward adds into its outputs
  const arena = new WasmArena(9 * n + 64);
  const A = (src: Float32Array) => {
    const a = arena.f32(n);
    a.set(src);
    return a;
  };
  const [gate, up, dout, out, sig, dg, du] = [A(gate0), A(up0), A(dout0), A(d0), A(d0), A(d0), A(d0)];
  const [out2, sig2, dg2, du2] = [d0.slice(), d0.slice(), d0.slice(), d0.slice()];
  assert.notEqual(simdFor(out, sig, gate, up), null);
  swigluForward(out, sig, gate, up, n);
  swigluForward(out2, sig2, gate0, up0, n);
  assert.ok(maxRel(out, out2, 1e-3) < 1e-6, `out ${maxRel(out, out2, 1e-3)}`);
  assert.ok(maxRel(sig, sig2, 1e-3) < 1e-6, `sig ${maxRel(sig, sig2, 1e-3)}`);
  swigluBackward(dg, du, dout, gate, up, sig, n);
  swigluBackward(dg2, du2, dout0, gate0, up0, sig2, n);
  // the backward's terms cancel (1 + g (1 - s) crosses 0; d0 is added): bound the error by the terms' size
  for (let i = 0; i < n; i++) {
    const g = Math.abs(gate0[i]);
    const tg = Math.abs(dout0[i] * up0[i]) * (1 + g) + Math.abs(d0[i]);
    const tu = Math.abs(dout0[i]) * g + Math.abs(d0[i]);
    assert.ok(Math.abs(dg[i] - dg2[i]) <= 1e-6 * tg, `dgate[${i}]: ${dg[i]} vs ${dg2[i]}`);
    assert.ok(Math.abs(du[i] - du2[i]) <= 1e-6 * tu, `dup[${i}]: ${du[i]} vs ${du2[i]}`);
  }
});

test("RMSNorm kernels agree with the JS loops (weight and its gradient through the scratch vector): 1e-6", () => {
  const N = 37;
  const C = 24;
  const rng = new Rng(4);
  const inp0 = randn(rng, N * C, 3);
  const w = randn(rng, C);
  const dout0 = randn(rng, N * C);
  const dinp0 = randn(rng, N * C); // nonzero: the backward adds into dinp and dw
  const dw0 = randn(rng, C);
  const arena = new WasmArena(4 * N * C + 2 * N + 64);
  const A = (src: Float32Array) => {
    const a = arena.f32(src.length);
    a.set(src);
    return a;
  };
  const [inp, dout, dinp, out, rstd] = [A(inp0), A(dout0), A(dinp0), arena.f32(N * C), arena.f32(N)];
  const [out2, rstd2, dinp2] = [new Float32Array(N * C), new Float32Array(N), dinp0.slice()];
  const [dw, dw2] = [dw0.slice(), dw0.slice()];
  rmsnormForward(out, rstd, inp, w, N, C, 1e-5);
  rmsnormForward(out2, rstd2, inp0, w, N, C, 1e-5);
  assert.ok(maxRel(rstd, rstd2, 0) < 1e-6, `rstd ${maxRel(rstd, rstd2, 0)}`);
  assert.ok(maxRel(out, out2, 1e-3) < 1e-6, `out ${maxRel(out, out2, 1e-3)}`);
  rmsnormBackward(dinp, dw, dout, inp, w, rstd, N, C);
  rmsnormBackward(dinp2, dw2, dout0, inp0, w, rstd2, N, C);
  // sums over a row (C terms) and over rows (N terms for dw): bound by the size of what was summed
  const scale = (a: Float32Array) => a.reduce((x, v) => Math.max(x, Math.abs(v)), 0);
  assert.ok(maxRel(dinp, dinp2, scale(dinp2)) < 1e-6, `dinp ${maxRel(dinp, dinp2, scale(dinp2))}`);
  assert.ok(maxRel(dw, dw2, scale(dw2)) < 1e-6, `dw ${maxRel(dw, dw2, scale(dw2))}`);
  // a frozen weight (dw null) takes the same kernel and leaves nothing behind
  rmsnormBackward(dinp, null, dout, inp, w, rstd, N, C);
});

test("causal softmax kernel: float64 softmax to 2e-7 over the seen keys, exact zeros past them (offsets, L > rows)", () => {
  const arena = new WasmArena(4096);
  const rng = new Rng(6);
  for (const [rows, L, off] of [
    [4, 4, 0],
    [5, 8, 0],
    [3, 8, 4],
    [32, 32, 0],
    [1, 12, 11],
    [2, 16, 30],
  ]) {
    const s = arena.f32(rows * L);
    s.set(randn(rng, rows * L, 5));
    const x = Float64Array.from(s);
    simdFor(s)?.k.softmaxCausal(s.byteOffset, rows, L, off);
    for (let t = 0; t < rows; t++) {
      const n = Math.min(off + t, L - 1) + 1;
      const row = x.subarray(t * L, t * L + n);
      const max = Math.max(...row);
      const z = row.reduce((a, v) => a + Math.exp(v - max), 0);
      for (let j = 0; j < L; j++) {
        const want = j < n ? Math.exp(x[t * L + j] - max) / z : 0;
        const got = s[t * L + j];
        assert.ok(j < n ? Math.abs(got - want) <= 2e-7 : got === 0, `rows ${rows} L ${L} off ${off} [${t},${j}]`);
      }
    }
  }
});

test("a training step on arena buffers (SIMD) matches MST_SIMD=0: logits and every gradient to 1e-5 of scale", () => {
  const cfg = { vocabSize: 23, dModel: 16, nLayers: 2, nHeads: 2, dFf: 42, maxSeq: 16 };
  const B = 3;
  const T = 7;
  const rng = new Rng(5);
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(23));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(23));
  const run = (on: boolean) =>
    withSimd(on, () => {
      const m = createModel(cfg, { seed: 9 });
      const { logits } = m.forward(tokens, B, T, { train: true });
      assert.equal(simdFor(logits) !== null, on, "training buffers are arena-backed exactly when SIMD is on");
      const d = new Float32Array(B * T * 23);
      crossEntropyForward(d, logits, targets, null, B * T, 23);
      m.zeroGrad();
      m.backward(d);
      return {
        logits: Float32Array.from(logits),
        grads: m.trainableParameters().map((p) => Float32Array.from(p.grad)),
      };
    });
  const s = run(true);
  const j = run(false);
  const close = (a: Float32Array, b: Float32Array, what: string) => {
    const scale = b.reduce((x, v) => Math.max(x, Math.abs(v)), 0);
    for (let i = 0; i < b.length; i++)
      assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * scale, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  };
  close(s.logits, j.logits, "logits");
  s.grads.forEach((g, i) => close(g, j.grads[i], `grad ${i}`));
});

/** The WebAssembly SIMD gemm against a float64 reference (every transpose, odd sizes), threads and fallbacks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseGemm, GemmChoiceError, sgemmTsAt, WasmGemm, wasmGemmSupport } from "../../src/engine/gemm/index.js";
import { withoutCompiler } from "./without-compiler.js";
import { Rng } from "../../src/data/rng.js";
import { productsHash, randn } from "./gemm-helpers.js";

const SIZES = [1, 3, 17, 65, 257];
const support = wasmGemmSupport();
const skip = support.simd ? false : "no WebAssembly SIMD in this runtime";

/** C = alpha op(A) op(B) + beta C in float64, and the sum of |terms| per element (the rounding scale). */
function reference(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  B: Float32Array,
  beta: number,
  C: Float32Array,
): { ref: Float64Array; scale: Float64Array } {
  const ref = new Float64Array(M * N);
  const scale = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0,
        a = 0;
      for (let k = 0; k < K; k++) {
        const x = (tA ? A[k * M + i] : A[i * K + k]) * (tB ? B[j * K + k] : B[k * N + j]);
        s += x;
        a += Math.abs(x);
      }
      const c = beta === 0 ? 0 : beta * C[i * N + j];
      ref[i * N + j] = c + alpha * s;
      scale[i * N + j] = Math.abs(c) + Math.abs(alpha) * a;
    }
  return { ref, scale };
}

test(
  "wasm gemm matches the float64 reference: every transpose case, sizes 1/3/17/65/257, alpha and beta",
  { skip },
  () => {
    const g = new WasmGemm({ threads: 1 });
    const r = new Rng(5);
    let worst = 0;
    for (const M of SIZES)
      for (const N of SIZES)
        for (const K of SIZES) {
          if (M * N * K > 257 * 65 * 65 && !(M === 257 && N === 257 && K === 257)) continue;
          for (const tA of [false, true])
            for (const tB of [false, true]) {
              const beta = [0, 1, 0.5][(M + N + K) % 3];
              const alpha = (M + K) % 2 === 0 ? 1 : -0.75;
              const A = randn(r, M * K);
              const B = randn(r, K * N);
              const C = randn(r, M * N);
              const { ref, scale } = reference(tA, tB, M, N, K, alpha, A, B, beta, C);
              g.sgemm(tA, tB, M, N, K, alpha, A, tA ? M : K, B, tB ? K : N, beta, C, N);
              for (let i = 0; i < M * N; i++) {
                // float32 sums of K terms: error within K ulps of the sum of |terms| (loose; typical is ~1e-7)
                const err = Math.abs(C[i] - ref[i]) / (scale[i] + 1e-30);
                worst = Math.max(worst, err);
                assert.ok(
                  err < 1e-6 * Math.max(4, Math.sqrt(K)),
                  `M${M} N${N} K${K} tA=${tA} tB=${tB} i=${i} err ${err}`,
                );
              }
            }
        }
    assert.ok(worst > 0, "the comparison ran");
  },
);

test("wasm gemm at offsets and strides agrees with the TypeScript kernel and leaves the rest of C", { skip }, () => {
  const g = new WasmGemm({ threads: 1 });
  const r = new Rng(8);
  for (const [M, N, K] of [
    [3, 5, 7],
    [64, 16, 64],
    [17, 65, 3],
  ])
    for (const tA of [false, true])
      for (const tB of [false, true])
        for (const beta of [0, 1]) {
          const lda = (tA ? M : K) + 3;
          const ldb = (tB ? K : N) + 70; // wider than 4x the row: rows are staged one by one
          const ldc = N + 2;
          const A = randn(r, 5 + (tA ? K : M) * lda);
          const B = randn(r, 9 + (tB ? N : K) * ldb);
          const C1 = randn(r, 4 + M * ldc + 1);
          const C2 = C1.slice();
          g.sgemmAt(tA, tB, M, N, K, 0.5, A, 5, lda, B, 9, ldb, beta, C1, 4, ldc);
          sgemmTsAt(tA, tB, M, N, K, 0.5, A, 5, lda, B, 9, ldb, beta, C2, 4, ldc);
          for (let i = 0; i < C1.length; i++) {
            const inside = i >= 4 && i < 4 + M * ldc && (i - 4) % ldc < N;
            if (inside) assert.ok(Math.abs(C1[i] - C2[i]) < 1e-4 * (1 + Math.abs(C2[i])), `M${M} N${N} K${K} i=${i}`);
            else assert.equal(C1[i], C2[i], `outside C at ${i}`);
          }
        }
});

test("beta = 0 overwrites NaN in C; K = 0 only scales C", { skip }, () => {
  const g = new WasmGemm({ threads: 1 });
  const A = new Float32Array(6).fill(1);
  const B = new Float32Array(6).fill(2);
  const C = new Float32Array(4).fill(NaN);
  g.sgemm(false, false, 2, 2, 3, 1, A, 3, B, 2, 0, C, 2);
  assert.deepEqual([...C], [6, 6, 6, 6]);
  g.sgemm(false, false, 2, 2, 0, 1, A, 1, B, 2, 0.5, C, 2);
  assert.deepEqual([...C], [3, 3, 3, 3]);
});

test(
  "operands inside the gemm's own memory give the same bits as staged copies",
  { skip: skip || (!support.threads && "no shared memory") },
  () => {
    const g = new WasmGemm({ threads: 1 });
    const r = new Rng(9);
    const [M, N, K] = [65, 33, 300];
    const A = randn(r, M * K);
    const B = randn(r, N * K);
    const C = new Float32Array(M * N);
    g.sgemm(false, true, M, N, K, 1, A, K, B, K, 0, C, N);
    const [a, b, c] = [g.alloc(M * K), g.alloc(N * K), g.alloc(M * N)];
    a.set(A);
    b.set(B);
    g.sgemm(false, true, M, N, K, 1, a, K, b, K, 0, c, N);
    assert.deepEqual(c, C);
  },
);

test(
  "2 and 3 threads give the same bits as 1 thread",
  { skip: skip || (!support.threads && "no shared memory") },
  () => {
    const one = productsHash(new WasmGemm({ threads: 1 }));
    for (const t of [2, 3]) {
      const g = new WasmGemm({ threads: t });
      assert.equal(g.threads, t);
      assert.equal(productsHash(g), one, `${t} threads`);
      g.close();
    }
  },
);

test("chooseGemm: explicit kinds fail loudly where unsupported, auto falls back to TypeScript with the reason", () => {
  const none = { simd: false, relaxed: false };
  assert.throws(() => chooseGemm("wasm", 1, none), GemmChoiceError);
  assert.throws(() => chooseGemm("wasm-fma", 1, none), /relaxed SIMD/);
  const saved = process.env.MST_BLAS;
  process.env.MST_BLAS = "off";
  // no compiler (and an empty build cache): the native kernel cannot be built, so auto goes on to wasm / TypeScript
  const restoreNative = withoutCompiler();
  try {
    const c = chooseGemm("auto", 1, none).choice;
    assert.equal(c.backend, "typescript");
    assert.match(
      c.reason,
      /^MST_BLAS=off: native gemm \(\w+\) cannot be built: compiler .* not found.*; no WebAssembly SIMD/,
    );
    if (support.simd) {
      const w = chooseGemm("auto", 2, support).choice;
      assert.equal(w.backend, "wasm");
      assert.equal(w.reproducible, true);
      assert.match(w.reason, /MST_BLAS=off: WebAssembly SIMD kernel, same bits \(native gemm/);
      assert.match(w.nativeUnavailable ?? "", /compiler \/nonexistent\/mst-test-cc not found/);
    }
    assert.throws(() => chooseGemm("blas", 1, none), /MST_GEMM=blas: MST_BLAS=off/);
  } finally {
    restoreNative();
    if (saved === undefined) delete process.env.MST_BLAS;
    else process.env.MST_BLAS = saved;
  }
});

test(
  "the relaxed-FMA variant (where the runtime has relaxed SIMD) matches the reference",
  { skip: support.relaxed ? false : "no relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)" },
  () => {
    const g = new WasmGemm({ fma: true });
    assert.equal(g.name, "wasm-fma");
    const r = new Rng(12);
    for (const [tA, tB] of [
      [false, true],
      [true, false],
    ]) {
      const [M, N, K] = [65, 17, 257];
      const A = randn(r, M * K);
      const B = randn(r, K * N);
      const C = randn(r, M * N);
      const { ref, scale } = reference(tA, tB, M, N, K, 1, A, B, 0, C);
      g.sgemm(tA, tB, M, N, K, 1, A, tA ? M : K, B, tB ? K : N, 0, C, N);
      for (let i = 0; i < M * N; i++) assert.ok(Math.abs(C[i] - ref[i]) / scale[i] < 1e-5, `i=${i}`);
    }
  },
);

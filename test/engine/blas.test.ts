/** The koffi-bound system BLAS against the TypeScript kernel: transposes, odd sizes, alpha/beta, padded strides, views. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { findBlas, BlasError } from "../../src/engine/gemm/blas.js";
import { chooseGemm, sgemmTs, getGemm, wasmGemmSupport } from "../../src/engine/gemm/index.js";
import { Rng } from "../../src/data/rng.js";
import { missingMessage, systemDepsRequired } from "../system-deps.js";

const blas = findBlas();
const skip = blas ? false : "no system BLAS on this machine";

// Under .ci/run, which installs OpenBLAS, the tests below must not all skip quietly.
if (systemDepsRequired && process.env.MST_BLAS?.trim() !== "off")
  test("a system BLAS is found (.ci/run installed OpenBLAS)", () => assert.ok(blas, missingMessage("system BLAS")));

/** A random buffer with `pad` garbage floats before the matrix, returned as a subarray view (tests byteOffset). */
function view(r: Rng, pad: number, n: number): Float32Array {
  const buf = Float32Array.from({ length: pad + n + 3 }, () => r.normal());
  return buf.subarray(pad, pad + n);
}

test("BLAS and TS gemm agree for all transposes, odd sizes, alpha/beta and padded leading dimensions", { skip }, () => {
  const r = new Rng(11);
  const b = blas!;
  let cases = 0;
  for (const [M, N, K] of [
    [1, 1, 1],
    [3, 5, 7],
    [17, 9, 33],
    [64, 172, 64],
    [31, 1, 5],
  ])
    for (const tA of [false, true])
      for (const tB of [false, true])
        for (const [alpha, beta] of [
          [1, 0],
          [0.5, 1],
          [-1.25, 0.3],
        ])
          for (const extra of [0, 3]) {
            const lda = (tA ? M : K) + extra;
            const ldb = (tB ? K : N) + extra;
            const ldc = N + extra;
            const A = view(r, 1 + extra, ((tA ? K : M) - 1) * lda + (tA ? M : K));
            const B = view(r, 2, ((tB ? N : K) - 1) * ldb + (tB ? K : N));
            const C1 = view(r, 5, (M - 1) * ldc + N);
            const C2 = C1.slice();
            sgemmTs(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
            b.sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
            for (let i = 0; i < M; i++)
              for (let j = 0; j < N; j++) {
                const x = C1[i * ldc + j],
                  y = C2[i * ldc + j];
                assert.ok(
                  Math.abs(x - y) <= 1e-4 * (1 + Math.abs(x)),
                  `M${M} N${N} K${K} tA=${tA} tB=${tB} a=${alpha} b=${beta} ld+${extra} (${i},${j}): ${x} vs ${y}`,
                );
              }
            // padding between rows of C is never written
            for (let i = 0; i < M - 1; i++)
              for (let j = N; j < ldc; j++) assert.equal(C2[i * ldc + j], C1[i * ldc + j]);
            cases++;
          }
  assert.equal(cases, 5 * 4 * 3 * 2);
});

test("BLAS writes into a subarray view at its offset and leaves neighbours alone", { skip }, () => {
  const buf = new Float32Array(20).fill(-7);
  const A = new Float32Array([1, 2, 3, 4]);
  const I = new Float32Array([1, 0, 0, 1]);
  blas!.sgemm(false, false, 2, 2, 2, 1, A, 2, I, 2, 0, buf.subarray(10, 14), 2);
  assert.deepEqual(Array.from(buf.subarray(8, 16)), [-7, -7, 1, 2, 3, 4, -7, -7]);
});

test("BLAS beta = 0 overwrites NaN in C; K = 0 only scales C", { skip }, () => {
  const C = new Float32Array([NaN, NaN]);
  blas!.sgemm(false, false, 1, 2, 1, 1, new Float32Array([2]), 1, new Float32Array([3, 4]), 2, 0, C, 2);
  assert.deepEqual(Array.from(C), [6, 8]);
  const D = new Float32Array([1, 2]);
  blas!.sgemm(false, false, 1, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 2, 0.5, D, 2);
  assert.deepEqual(Array.from(D), [0.5, 1]);
});

test("BLAS refuses a call that would read past an array", { skip }, () => {
  const A = new Float32Array(5);
  assert.throws(
    () => blas!.sgemm(false, false, 2, 2, 3, 1, A, 3, new Float32Array(6), 2, 0, new Float32Array(4), 2),
    BlasError,
  );
  assert.throws(
    () =>
      blas!.sgemm(false, false, 2, 2, 2, 1, new Float32Array(4), 1, new Float32Array(4), 2, 0, new Float32Array(4), 2),
    /leading dimension/,
  );
});

test("thread count can be set and read back (OpenBLAS)", { skip }, () => {
  const b = blas!;
  const was = b.threads;
  if (b.setThreads(1)) {
    assert.equal(b.threads, 1);
    b.setThreads(was);
    assert.equal(b.threads, was);
  }
  assert.throws(() => b.setThreads(0), BlasError);
});

test("the default gemm is exact (native, else wasm) whether or not a BLAS is found; auto picks the BLAS", () => {
  const saved = process.env.MST_GEMM;
  delete process.env.MST_GEMM;
  try {
    const g = getGemm();
    if (nativeBuilds()) assert.equal(g.name, "native");
    else assert.equal(g.name, wasmGemmSupport().simd ? "wasm" : "typescript");
  } finally {
    if (saved !== undefined) process.env.MST_GEMM = saved;
  }
  const auto = chooseGemm("auto", 1).choice;
  if (blas && process.env.MST_BLAS !== "off") assert.equal(auto.backend, blas.name);
  else assert.equal(auto.backend, nativeBuilds() ? "native" : wasmGemmSupport().simd ? "wasm" : "typescript");
});

/** Whether the native kernel builds and loads here (MST_GEMM=native succeeds). */
function nativeBuilds(): boolean {
  try {
    chooseGemm("native", 1);
    return true;
  } catch {
    return false;
  }
}

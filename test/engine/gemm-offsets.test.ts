/** sgemmAt (matrices at element offsets, as attention uses per head) agrees with sgemm on views, for every backend. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BlasError, findBlas } from "../../src/engine/gemm/blas.js";
import { sgemmTs, tsGemm, WasmGemm, wasmGemmSupport, type Gemm } from "../../src/engine/gemm/index.js";
import { Rng } from "../../src/data/rng.js";

const blas = findBlas();
const backends: Gemm[] = [tsGemm, ...(blas ? [blas] : []), ...(wasmGemmSupport().simd ? [new WasmGemm()] : [])];

test("sgemmAt at offsets equals sgemmTs on subarray views (all transposes, strided, beta), and leaves the rest", () => {
  const r = new Rng(21);
  for (const g of backends)
    for (const [M, N, K] of [
      [3, 5, 7],
      [32, 32, 16],
      [32, 16, 32],
    ])
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const beta of [0, 1, 0.5]) {
            const lda = (tA ? M : K) + 2;
            const ldb = (tB ? K : N) + 1;
            const ldc = N + 3;
            const aOff = 5,
              bOff = 9,
              cOff = 4;
            const A = Float32Array.from({ length: aOff + (tA ? K : M) * lda }, () => r.normal());
            const B = Float32Array.from({ length: bOff + (tB ? N : K) * ldb }, () => r.normal());
            const C1 = Float32Array.from({ length: cOff + M * ldc + 2 }, () => r.normal());
            const C2 = C1.slice();
            sgemmTs(tA, tB, M, N, K, 0.75, A.subarray(aOff), lda, B.subarray(bOff), ldb, beta, C1.subarray(cOff), ldc);
            g.sgemmAt(tA, tB, M, N, K, 0.75, A, aOff, lda, B, bOff, ldb, beta, C2, cOff, ldc);
            for (let i = 0; i < C1.length; i++)
              assert.ok(
                Math.abs(C1[i] - C2[i]) <= 1e-5 * (1 + Math.abs(C1[i])),
                `${g.name} M${M} N${N} K${K} tA=${tA} tB=${tB} beta=${beta} at ${i}: ${C1[i]} vs ${C2[i]}`,
              );
          }
});

test("BLAS sgemmAt refuses an offset that would reach past the array, or a negative one", { skip: !blas }, () => {
  const A = new Float32Array(8);
  const B = new Float32Array(4);
  const C = new Float32Array(4);
  assert.throws(() => blas!.sgemmAt(false, false, 2, 2, 2, 1, A, 5, 2, B, 0, 2, 0, C, 0, 2), BlasError);
  assert.throws(() => blas!.sgemmAt(false, false, 2, 2, 2, 1, A, 0, 2, B, 0, 2, 0, C, 1, 2), /C needs 5 floats/);
  assert.throws(() => blas!.sgemmAt(false, false, 2, 2, 2, 1, A, -1, 2, B, 0, 2, 0, C, 0, 2), /offset -1/);
  // a small (on-heap) typed array and a view into a larger buffer work at offsets
  const small = new Float32Array([1, 2, 3, 4, 5]);
  const I = new Float32Array([9, 1, 0, 0, 1]).subarray(1);
  blas!.sgemmAt(false, false, 2, 2, 2, 1, small, 1, 2, I, 0, 2, 0, C, 0, 2);
  assert.deepEqual(Array.from(C), [2, 3, 4, 5]);
});

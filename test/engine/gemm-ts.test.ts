/** The TypeScript gemm against a float64 triple loop for every transpose combination and beta. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { sgemmTs } from "../../src/engine/gemm/index.js";
import { Rng } from "../../src/data/rng.js";

test("sgemmTs matches a float64 reference for all transposes", () => {
  const r = new Rng(3);
  const M = 5,
    N = 7,
    K = 4;
  for (const tA of [false, true])
    for (const tB of [false, true])
      for (const beta of [0, 1, 0.5]) {
        const A = Float32Array.from({ length: M * K }, () => r.normal());
        const B = Float32Array.from({ length: K * N }, () => r.normal());
        const C = Float32Array.from({ length: M * N }, () => r.normal());
        const ref = Float64Array.from(C, (c) => c * beta);
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += (tA ? A[k * M + i] : A[i * K + k]) * (tB ? B[j * K + k] : B[k * N + j]);
            ref[i * N + j] += 1.5 * s;
          }
        sgemmTs(tA, tB, M, N, K, 1.5, A, tA ? M : K, B, tB ? K : N, beta, C, N);
        for (let i = 0; i < M * N; i++)
          assert.ok(Math.abs(C[i] - ref[i]) < 1e-4, `tA=${tA} tB=${tB} beta=${beta} i=${i}`);
      }
});

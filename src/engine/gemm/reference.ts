/**
 * The plain reference of the reproducible order (what the wasm and native kernels must equal bit for bit): per C
 * element, float32 sums of `a * b` from +0 in increasing k within each KC slice, then `C * beta + acc * alpha`.
 */

import { KC } from "../wasm/gemm-blocked.js";

const f = Math.fround;

/**
 * Row-major C = alpha * op(A) @ op(B) + beta * C in the kernels' order, element by element. Math.fround after each
 * float64 operation gives IEEE float32 results exactly (float64 has more than 2 * 24 + 2 bits, so the double rounding
 * of +, - and * is harmless). Slow: tests and the native kernel's load-time check only.
 */
export function sgemmOrderedAt(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array, // op(A) (M,K) from A[aOff]; stored (M,lda) or (K,lda) when transA
  aOff: number,
  lda: number,
  B: Float32Array, // op(B) (K,N) from B[bOff]; stored (K,ldb) or (N,ldb) when transB
  bOff: number,
  ldb: number,
  beta: number,
  C: Float32Array, // (M,ldc) from C[cOff]
  cOff: number,
  ldc: number,
): void {
  const al = f(alpha);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      const o = cOff + i * ldc + j;
      if (K === 0) {
        C[o] = beta === 0 ? 0 : f(beta * C[o]);
        continue;
      }
      for (let p0 = 0; p0 < K; p0 += KC) {
        let acc = 0;
        for (let k = p0; k < Math.min(K, p0 + KC); k++) {
          const a = transA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
          const b = transB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
          acc = f(acc + f(a * b));
        }
        const b = p0 === 0 ? f(beta) : 1;
        C[o] = p0 === 0 && beta === 0 ? f(acc * al) : f(f(C[o] * b) + f(acc * al));
      }
    }
}

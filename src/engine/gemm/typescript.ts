/** Portable matrix product in TypeScript: the fallback when no system BLAS is found, and the reference in parity tests. */

import { sgemmBatchFromAt, sgemmFromAt, type Gemm } from "./types.js";

/**
 * Row-major C = alpha * op(A) @ op(B) + beta * C, where op(X) is X or X^T, each matrix starting at an element
 * offset of its array. op(A) is (M,K), op(B) is (K,N), C is (M,N); lda/ldb/ldc are row strides of the stored
 * matrices. Loop orders keep the innermost loop on contiguous memory for each transpose case.
 */
export function sgemmTsAt(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
): void {
  // scale C by beta first (beta = 0 must overwrite NaNs, as BLAS does)
  for (let i = 0; i < M; i++) {
    const c0 = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < N; j++) C[c0 + j] = 0;
    else if (beta !== 1) for (let j = 0; j < N; j++) C[c0 + j] *= beta;
  }
  if (!transB) {
    // C[i, :] += alpha * sum_k opA[i, k] * B[k, :]   (B rows contiguous)
    for (let i = 0; i < M; i++) {
      const c0 = cOff + i * ldc;
      for (let k = 0; k < K; k++) {
        const a = alpha * (transA ? A[aOff + k * lda + i] : A[aOff + i * lda + k]);
        if (a === 0) continue;
        const b0 = bOff + k * ldb;
        for (let j = 0; j < N; j++) C[c0 + j] += a * B[b0 + j];
      }
    }
  } else {
    // C[i, j] += alpha * dot(opA[i, :], B[j, :])   (B stored as (N,K), rows contiguous)
    for (let i = 0; i < M; i++) {
      const c0 = cOff + i * ldc;
      for (let j = 0; j < N; j++) {
        const b0 = bOff + j * ldb;
        let s = 0;
        if (!transA) {
          const a0 = aOff + i * lda;
          for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
        } else {
          for (let k = 0; k < K; k++) s += A[aOff + k * lda + i] * B[b0 + k];
        }
        C[c0 + j] += alpha * s;
      }
    }
  }
}

/** `sgemmTsAt` with every matrix at the start of its array (or view). */
export const sgemmTs: Gemm["sgemm"] = sgemmFromAt(sgemmTsAt);

/** The TypeScript kernel as a `Gemm`. */
export const tsGemm: Gemm = {
  name: "typescript",
  threads: 1,
  sgemm: sgemmTs,
  sgemmAt: sgemmTsAt,
  sgemmBatchAt: sgemmBatchFromAt(sgemmTsAt),
};

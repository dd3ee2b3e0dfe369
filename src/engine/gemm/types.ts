/** The one matrix-product interface every engine op calls (BLAS-backed or the TypeScript fallback). */

/** Row-major single-precision general matrix multiply. */
export interface Gemm {
  /** Which backend this is, e.g. "openblas", "accelerate", "typescript". */
  readonly name: string;
  /** Threads the backend uses (1 for the TypeScript kernel). */
  readonly threads: number;
  /**
   * C = alpha * op(A) @ op(B) + beta * C, row-major; op(X) = X^T when trans is true.
   * op(A) is (M,K), op(B) is (K,N), C is (M,N). lda/ldb/ldc are the row strides of the *stored* matrices.
   * Arrays may be `subarray` views; the view's offset is where the matrix starts.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    B: Float32Array,
    ldb: number,
    beta: number,
    C: Float32Array,
    ldc: number,
  ): void;
  /**
   * `sgemm` with each matrix starting at an element offset of its array (aOff/bOff/cOff): hot loops over many small
   * products (attention heads) then allocate no `subarray` views. Same result as sgemm on the views.
   */
  sgemmAt(
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
  ): void;
}

/** A backend's `sgemm` from its `sgemmAt`: every matrix at the start of its array (or view). */
export function sgemmFromAt(sgemmAt: Gemm["sgemmAt"]): Gemm["sgemm"] {
  return (transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) =>
    sgemmAt(transA, transB, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, C, 0, ldc);
}

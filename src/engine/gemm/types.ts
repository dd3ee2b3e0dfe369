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
  /**
   * `count` products of one shape, product i with its matrices at aOffs[i], bOffs[i] and cOffs[i]: the per-head
   * products of attention in one call. They run in index order, one after another, so products that add into the
   * same C (grouped KV heads) do so in that order: the same bits as the `sgemmAt` calls in a loop.
   */
  sgemmBatchAt(
    count: number,
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    aOffs: Int32Array,
    lda: number,
    B: Float32Array,
    bOffs: Int32Array,
    ldb: number,
    beta: number,
    C: Float32Array,
    cOffs: Int32Array,
    ldc: number,
  ): void;
}

/** A backend's `sgemm` from its `sgemmAt`: every matrix at the start of its array (or view). */
export function sgemmFromAt(sgemmAt: Gemm["sgemmAt"]): Gemm["sgemm"] {
  return (transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) =>
    sgemmAt(transA, transB, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, C, 0, ldc);
}

/** A backend's `sgemmBatchAt` as a loop over its `sgemmAt` (backends without a batched entry of their own). */
export function sgemmBatchFromAt(sgemmAt: Gemm["sgemmAt"]): Gemm["sgemmBatchAt"] {
  return (count, transA, transB, M, N, K, alpha, A, aOffs, lda, B, bOffs, ldb, beta, C, cOffs, ldc) => {
    for (let i = 0; i < count; i++)
      sgemmAt(transA, transB, M, N, K, alpha, A, aOffs[i], lda, B, bOffs[i], ldb, beta, C, cOffs[i], ldc);
  };
}

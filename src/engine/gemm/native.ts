/**
 * The native GEMM (native-gemm.c, compiled for this CPU by native-build.ts, called through koffi) as a `Gemm`: the
 * WebAssembly kernel's bits at native vector width. Checked against the plain reference when it loads.
 */

import { availableParallelism } from "node:os";
import { sgemmFromAt, type Gemm } from "./types.js";
import { checkExtent, sgemmTrivialCase } from "./blas.js";
import { BufferAddresses, loadKoffi } from "./koffi.js";
import { buildNative, detectIsa, type NativeBuild, type NativeIsa } from "./native-build.js";
import { sgemmOrderedAt } from "./reference.js";
import { KC } from "../wasm/gemm-blocked.js";
import { Bf16Matrix } from "../quant/bf16.js";
import { DYNAMIC_MAP } from "../quant/dynamic-map.js";
import { NF4_CODE_F32, Nf4Matrix } from "../quant/nf4.js";

/** A frozen matrix the kernel multiplies in its packed form (dequantised into the kernel's panels, no float32 copy). */
export type PackedOperand = Nf4Matrix | Bf16Matrix;

/** The kernel's paths by mst_gemm_force_path's number (0: chosen by size). */
export const NATIVE_PATHS = { 1: "packed", 2: "direct", 3: "skinny" } as const;

/** Raised when the native kernel cannot be built, loaded, or fails its load-time check; the message says which. */
export class NativeGemmError extends Error {
  override name = "NativeGemmError";
}

/** Products below this many multiply-adds run on the calling thread only (waking a thread costs ~10-50 us). */
const THREAD_MIN_MACS = 1 << 18;
const MAX_THREADS = 64;

type NativeFn = (...args: unknown[]) => unknown;

/** mst_sgemm_packed's format codes (native-gemm.c). */
const PACKED_NF4 = 1;
const PACKED_BF16 = 2;
const NO_FLOATS = new Float32Array(0);

export interface NativeGemmOptions {
  threads?: number;
  /** Which build (default: the widest this CPU runs). */
  isa?: NativeIsa;
}

/** A Gemm running the compiled kernel on the arrays in place (no staging). */
export class NativeGemm implements Gemm {
  readonly name = "native";
  readonly isa: NativeIsa;
  readonly build: NativeBuild;
  private readonly fn: NativeFn;
  private readonly batchFn: NativeFn;
  /**
   * Forces the kernel's path for later products: 1 packed panels, 2 direct, 3 skinny (few rows times a
   * stored-transposed B; other products direct), 0 by size (tests compare them all).
   */
  readonly forcePath: (path: 0 | 1 | 2 | 3) => void;
  private readonly packedFn: NativeFn;
  private readonly addresses: BufferAddresses;
  private threadCount = 1;

  constructor(opts: NativeGemmOptions = {}) {
    const k = loadKoffi();
    if (!("koffi" in k)) throw new NativeGemmError(`native gemm: ${k.error}`);
    this.isa = opts.isa ?? detectIsa();
    this.build = buildNative(this.isa);
    try {
      const lib = k.koffi.load(this.build.path);
      this.fn = lib.func(
        "int mst_sgemm(int, int, int, int, int, float, intptr_t, int, intptr_t, int, float, intptr_t, int, int)",
      ) as NativeFn;
      this.batchFn = lib.func(
        "int mst_sgemm_batch(int, int, int, int, int, int, float, intptr_t, const int32_t *, int, intptr_t, " +
          "const int32_t *, int, float, intptr_t, const int32_t *, int)",
      ) as NativeFn;
      const force = lib.func("void mst_gemm_force_path(int)") as NativeFn;
      this.forcePath = (path) => void force(path);
      this.packedFn = lib.func(
        "int mst_sgemm_packed(int, int, int, int, int, float, intptr_t, int, int, intptr_t, intptr_t, intptr_t, " +
          "intptr_t, float, intptr_t, intptr_t, int64_t, int, float, intptr_t, int, int)",
      ) as NativeFn;
      const kc = (lib.func("int mst_gemm_kc()") as NativeFn)() as number;
      if (kc !== KC) throw new Error(`it splits k every ${kc}, the wasm kernel every ${KC}`);
    } catch (e) {
      throw new NativeGemmError(`native gemm: cannot load ${this.build.path}: ${(e as Error).message}`);
    }
    this.addresses = new BufferAddresses(k.koffi);
    this.setThreads(opts.threads ?? 1);
    this.selfCheck();
    this.selfCheckPacked();
  }

  get threads(): number {
    return this.threadCount;
  }

  /** Threads for large products (each takes whole tiles of C; k is never split, so the bits do not change). */
  setThreads(n: number): boolean {
    if (!Number.isInteger(n) || n < 1)
      throw new NativeGemmError(`native gemm: thread count must be a positive integer, got ${n}`);
    this.threadCount = Math.min(n, MAX_THREADS, Math.max(availableParallelism(), n));
    return this.threadCount === n;
  }

  /**
   * One product crossing a KC slice, an edge tile and every transpose case against the plain reference: a build whose
   * compiler fused multiply-adds (or reordered sums) fails here, before it can change a run's results.
   */
  private selfCheck(): void {
    try {
      for (const path of [1, 2, 3] as const) {
        this.forcePath(path);
        this.selfCheckPath(NATIVE_PATHS[path]);
      }
    } finally {
      this.forcePath(0);
    }
  }

  private selfCheckPath(path: string): void {
    const [M, N, K] = [5, 37, KC + 19];
    const A = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37) * 1.3);
    const B = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.11) * 0.7);
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const C0 = Float32Array.from({ length: M * N }, (_, i) => Math.sin(i) * 0.01);
      const C1 = C0.slice();
      this.sgemm(tA, tB, M, N, K, 0.75, A, tA ? M : K, B, tB ? K : N, 0.5, C0, N);
      sgemmOrderedAt(tA, tB, M, N, K, 0.75, A, 0, tA ? M : K, B, 0, tB ? K : N, 0.5, C1, 0, N);
      const i = C0.findIndex((x, j) => !Object.is(x, C1[j]));
      if (i >= 0)
        throw new NativeGemmError(
          `native gemm (${this.build.path}, ${path} path): differs from the reference at element ${i} ` +
            `(transA=${tA}, transB=${tB}): ` +
            `${C0[i]} vs ${C1[i]}; was it compiled with contraction (FMA) or fast-math?`,
        );
    }
  }

  /**
   * The fused path against "dequantise (the matrices' own JavaScript loops), then the reference product": NF4 with and
   * without double quantisation and bf16, both transpose cases of B, a K crossing a KC slice, a B starting mid-block
   * at an odd value and edge tiles. A kernel whose dequantisation or product differs fails here, at load.
   */
  private selfCheckPacked(): void {
    const [M, long, short] = [5, KC + 19, 37];
    const values = (n: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (i % 97 === 0 ? 3 : 0.2));
    const bf16 = (rows: number, cols: number) => {
      const m = new Bf16Matrix(rows, cols);
      m.setRows(0, values(rows * cols));
      return m;
    };
    for (const transB of [true, false]) {
      // op(B) (K,N): stored (N,ldb) when transB, else (K,ldb); it starts one row and one value in
      const [rows, cols] = transB ? [short, long] : [long, short];
      const [K, N] = transB ? [long - 3, short - 2] : [long - 2, short - 3];
      const mats: PackedOperand[] = [
        new Nf4Matrix(rows, cols, values(rows * cols)),
        new Nf4Matrix(rows, cols, values(rows * cols), { doubleQuant: false }),
        bf16(rows, cols),
      ];
      for (const w of mats) {
        const full = new Float32Array(rows * cols);
        w.dequantRange(0, rows * cols, full, 0);
        const A = Float32Array.from({ length: M * K }, (_, i) => Math.cos(i * 0.11) * 0.7);
        const C0 = Float32Array.from({ length: M * N }, (_, i) => Math.sin(i) * 0.01);
        const C1 = C0.slice();
        sgemmOrderedAt(false, transB, M, N, K, 0.75, A, 0, K, full, cols + 1, cols, 0.5, C1, 0, N);
        // both paths a packed B can take: the panels, and the skinny path (few rows times a transposed B)
        for (const path of [1, 3] as const) {
          const C = C0.slice();
          this.forcePath(path);
          try {
            this.sgemmPackedAt(false, transB, M, N, K, 0.75, A, 0, K, w, cols + 1, cols, 0.5, C, 0, N);
          } finally {
            this.forcePath(0);
          }
          const i = C.findIndex((x, j) => !Object.is(x, C1[j]));
          if (i >= 0)
            throw new NativeGemmError(
              `native gemm (${this.build.path}): the fused ${w.format} product (${NATIVE_PATHS[path]} path) differs ` +
                `from dequantise-then-reference at element ${i} (transB=${transB}): ${C[i]} vs ${C1[i]}`,
            );
        }
      }
    }
  }

  /**
   * sgemmAt with B a frozen packed matrix (NF4 or bf16): op(B) starts at flat row-major index bOff of the stored
   * (rows, cols) matrix, stored rows ldb values apart. The kernel dequantises B while packing it, so no float32 copy of
   * the weight is made; the result is sgemmAt's on the dequantised matrix, bit for bit.
   */
  sgemmPackedAt(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array, // op(A) (M,K) from A[aOff]; stored (M,lda) or (K,lda) when transA
    aOff: number,
    lda: number,
    B: PackedOperand, // op(B) (K,N) from flat index bOff; stored (K,ldb) or (N,ldb) when transB
    bOff: number,
    ldb: number,
    beta: number,
    C: Float32Array, // (M,ldc) from C[cOff]
    cOff: number,
    ldc: number,
  ): void {
    if (M === 0 || N === 0 || K === 0) {
      sgemmTrivialCase(transA, transB, M, N, K, A, aOff, lda, NO_FLOATS, 0, ldb, beta, C, cOff, ldc);
      return;
    }
    checkExtent("C", C, cOff, M, N, ldc);
    checkExtent("A", A, aOff, transA ? K : M, transA ? M : K, lda);
    checkExtent("B", { length: B.rows * B.cols }, bOff, transB ? N : K, transB ? K : N, ldb);
    const threads = this.threadCount > 1 && M * N * K >= THREAD_MIN_MACS ? this.threadCount : 1;
    const at = (x: { readonly buffer: ArrayBufferLike; readonly byteOffset: number } | null) =>
      x === null ? 0 : this.addresses.of(x);
    const pa = this.addresses.of(A) + 4 * aOff;
    const pc = this.addresses.of(C) + 4 * cOff;
    const rc =
      B instanceof Nf4Matrix
        ? this.packedFn(
            +transA,
            +transB,
            M,
            N,
            K,
            alpha,
            pa,
            lda,
            PACKED_NF4,
            at(B.codes),
            at(B.absmax),
            at(B.absmaxQ),
            at(B.scale2),
            B.offset,
            at(DYNAMIC_MAP),
            at(NF4_CODE_F32),
            bOff,
            ldb,
            beta,
            pc,
            ldc,
            threads,
          )
        : this.packedFn(
            +transA,
            +transB,
            M,
            N,
            K,
            alpha,
            pa,
            lda,
            PACKED_BF16,
            at(B.bits),
            0,
            0,
            0,
            0,
            0,
            0,
            bOff,
            ldb,
            beta,
            pc,
            ldc,
            threads,
          );
    if (rc !== 0)
      throw new NativeGemmError(
        rc === -2
          ? `native gemm: the kernel does not know packed format ${B.format}`
          : `native gemm: out of memory for packing buffers (${M}x${N}x${K}, ${B.format} B)`,
      );
  }

  readonly sgemm: Gemm["sgemm"] = sgemmFromAt(this.sgemmAt.bind(this));

  sgemmAt(
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
    if (sgemmTrivialCase(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)) return;
    const threads = this.threadCount > 1 && M * N * K >= THREAD_MIN_MACS ? this.threadCount : 1;
    // the extents were checked above, so these addresses stay inside live, non-detached arrays
    const pa = this.addresses.of(A) + 4 * aOff;
    const pb = this.addresses.of(B) + 4 * bOff;
    const pc = this.addresses.of(C) + 4 * cOff;
    const rc = this.fn(+transA, +transB, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc, threads);
    if (rc !== 0) throw new NativeGemmError(`native gemm: out of memory for packing buffers (${M}x${N}x${K})`);
  }

  readonly sgemmBatchAt: Gemm["sgemmBatchAt"] = (
    count,
    transA,
    transB,
    M,
    N,
    K,
    alpha,
    A,
    aOffs,
    lda,
    B,
    bOffs,
    ldb,
    beta,
    C,
    cOffs,
    ldc,
  ) => {
    if (count === 0 || M === 0 || N === 0) return;
    if (K === 0 || aOffs.length < count || bOffs.length < count || cOffs.length < count) {
      // the plain loop says what is wrong (or zero-fills for K = 0), product by product
      for (let i = 0; i < count; i++)
        this.sgemmAt(transA, transB, M, N, K, alpha, A, aOffs[i], lda, B, bOffs[i], ldb, beta, C, cOffs[i], ldc);
      return;
    }
    // every product inside its array: the lowest and highest offset of each operand bound all the others
    const span = (o: Int32Array) => {
      let lo = o[0],
        hi = o[0];
      for (let i = 1; i < count; i++) {
        lo = Math.min(lo, o[i]);
        hi = Math.max(hi, o[i]);
      }
      return [lo, hi] as const;
    };
    for (const [name, X, offs, rows, cols, ld] of [
      ["A", A, aOffs, transA ? K : M, transA ? M : K, lda],
      ["B", B, bOffs, transB ? N : K, transB ? K : N, ldb],
      ["C", C, cOffs, M, N, ldc],
    ] as const)
      for (const o of span(offs)) checkExtent(name, X, o, rows, cols, ld);
    const rc = this.batchFn(
      count,
      +transA,
      +transB,
      M,
      N,
      K,
      alpha,
      this.addresses.of(A),
      aOffs,
      lda,
      this.addresses.of(B),
      bOffs,
      ldb,
      beta,
      this.addresses.of(C),
      cOffs,
      ldc,
    );
    if (rc !== 0) throw new NativeGemmError(`native gemm: out of memory for packing buffers (${M}x${N}x${K})`);
  };
}

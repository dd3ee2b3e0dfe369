/** Binds the system CBLAS `cblas_sgemm` (OpenBLAS on Linux, Accelerate on macOS) through koffi as a `Gemm`. */

import { existsSync, readFileSync } from "node:fs";
import { sgemmBatchFromAt, sgemmFromAt, type Gemm } from "./types.js";
import { BufferAddresses, loadKoffi, type KoffiModule } from "./koffi.js";

/** Raised when `MST_BLAS` names a library that cannot be used, or a gemm call would read outside its arrays. */
export class BlasError extends Error {
  override name = "BlasError";
}

// CBLAS enum values (cblas.h): fixed by the reference interface, shared by OpenBLAS and Accelerate.
const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

/** Directories searched for a BLAS on Linux and macOS (Homebrew), in order. */
const LIB_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
  "/opt/homebrew/opt/openblas/lib",
  "/usr/local/opt/openblas/lib",
];
/** Library file names, most preferred first: OpenBLAS itself, then the Debian alternatives that export CBLAS. */
const LIB_NAMES = ["libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3", "libopenblas.dylib"];
const ACCELERATE = "/System/Library/Frameworks/Accelerate.framework/Accelerate";

/** Every path `findBlas` tries, in order (absolute paths that exist on this machine). */
export function blasCandidates(): string[] {
  const out: string[] = [];
  if (process.platform === "darwin" && existsSync(ACCELERATE)) out.push(ACCELERATE);
  for (const d of LIB_DIRS) for (const n of LIB_NAMES) if (existsSync(`${d}/${n}`)) out.push(`${d}/${n}`);
  return out;
}

type NativeFn = (...args: unknown[]) => unknown;

/** Rows*stride reach of a stored matrix at element offset `off`; throws before native code could read past the array. */
export function checkExtent(
  what: string,
  arr: { readonly length: number }, // a Float32Array, or a packed matrix's value count
  off: number,
  rows: number,
  cols: number,
  ld: number,
): void {
  if (ld < Math.max(1, cols)) throw new BlasError(`sgemm: ${what} leading dimension ${ld} < row width ${cols}`);
  if (!Number.isInteger(off) || off < 0)
    throw new BlasError(`sgemm: ${what} offset ${off} is not a non-negative integer`);
  const need = rows === 0 ? 0 : off + (rows - 1) * ld + cols;
  if (need > arr.length)
    throw new BlasError(
      `sgemm: ${what} needs ${need} floats (offset ${off} + rows ${rows} x ld ${ld}) but has ${arr.length}`,
    );
}

/**
 * The start every sgemmAt over native or wasm memory shares (BLAS, native, wasm). Returns true when the product is
 * already done: an empty C (M or N = 0) is left alone; otherwise C's extent is checked, and K = 0 leaves only
 * C = beta * C (beta = 0 overwrites, NaNs included; CBLAS would reject lda = 0 here). Before returning false it
 * checks A's and B's extents as stored (transposed or not), so the kernel may address them.
 */
export function sgemmTrivialCase(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
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
): boolean {
  if (M === 0 || N === 0) return true;
  checkExtent("C", C, cOff, M, N, ldc);
  if (K === 0) {
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        const o = cOff + i * ldc + j;
        C[o] = beta === 0 ? 0 : beta * C[o];
      }
    return true;
  }
  checkExtent("A", A, aOff, transA ? K : M, transA ? M : K, lda);
  checkExtent("B", B, bOff, transB ? N : K, transB ? K : N, ldb);
  return false;
}

/** A `Gemm` backed by a native CBLAS library; `threads` reflects the library's current setting. */
export class BlasGemm implements Gemm {
  readonly name: string;
  /** OpenBLAS's kernel family (e.g. "SkylakeX", "Haswell"); "" for other libraries. */
  readonly core: string;
  private readonly fn: NativeFn;
  /** The same symbol declared with raw addresses (intptr_t) for the matrices, null when koffi cannot give addresses. */
  private readonly fnAddr: NativeFn | null;
  private readonly addresses: BufferAddresses;
  private readonly setThreadsFn: NativeFn | null;
  private readonly getThreadsFn: NativeFn | null;
  private threadCount: number;

  constructor(
    readonly path: string,
    koffi: KoffiModule,
  ) {
    const lib = koffi.load(path);
    // const float * for A and B: koffi passes a Float32Array (at its byteOffset) by pointer without copying.
    this.fn = lib.func(
      "void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)",
    ) as NativeFn;
    this.addresses = new BufferAddresses(koffi);
    this.fnAddr =
      typeof koffi.address === "function"
        ? (lib.func(
            "void cblas_sgemm(int, int, int, int, int, int, float, intptr_t, int, intptr_t, int, float, intptr_t, int)",
          ) as NativeFn)
        : null;
    this.setThreadsFn = tryFunc(lib, "void openblas_set_num_threads(int)");
    this.getThreadsFn = tryFunc(lib, "int openblas_get_num_threads()");
    const core = tryFunc(lib, "const char *openblas_get_corename()");
    this.core = core ? String(core()) : "";
    this.name = path.includes("Accelerate") ? "accelerate" : /openblas/.test(path) ? "openblas" : "cblas";
    this.threadCount = this.getThreadsFn ? (this.getThreadsFn() as number) : 1;
  }

  get threads(): number {
    return this.threadCount;
  }

  /** Set the library's thread count (OpenBLAS only; a no-op returning false elsewhere). */
  setThreads(n: number): boolean {
    if (!Number.isInteger(n) || n < 1)
      throw new BlasError(`setBlasThreads: thread count must be a positive integer, got ${n}`);
    if (!this.setThreadsFn) return false;
    this.setThreadsFn(n);
    this.threadCount = this.getThreadsFn ? (this.getThreadsFn() as number) : n;
    return true;
  }

  readonly sgemm: Gemm["sgemm"] = sgemmFromAt(this.sgemmAt.bind(this));
  readonly sgemmBatchAt: Gemm["sgemmBatchAt"] = sgemmBatchFromAt(this.sgemmAt.bind(this));

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
    const ta = transA ? CBLAS_TRANS : CBLAS_NO_TRANS;
    const tb = transB ? CBLAS_TRANS : CBLAS_NO_TRANS;
    if (this.fnAddr !== null) {
      // the extents were checked above, so these addresses stay inside live, non-detached arrays
      const pa = this.addresses.of(A) + 4 * aOff;
      const pb = this.addresses.of(B) + 4 * bOff;
      const pc = this.addresses.of(C) + 4 * cOff;
      this.fnAddr(CBLAS_ROW_MAJOR, ta, tb, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc);
      return;
    }
    const a = aOff === 0 ? A : A.subarray(aOff);
    const b = bOff === 0 ? B : B.subarray(bOff);
    const c = cOff === 0 ? C : C.subarray(cOff);
    this.fn(CBLAS_ROW_MAJOR, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

function tryFunc(lib: ReturnType<KoffiModule["load"]>, decl: string): NativeFn | null {
  try {
    return lib.func(decl) as NativeFn;
  } catch {
    return null; // symbol absent (not OpenBLAS)
  }
}

/**
 * OpenBLAS up to 0.3.21 (Debian 12) does not recognise AMD Zen 4 and falls back to its AVX2 "Haswell" kernels,
 * half the speed of its AVX-512 "SkylakeX" kernels, which run correctly there (measured: 131 -> 262 GFLOP/s on one
 * core at 512^3). So on AMD CPUs with AVX-512 we ask for SkylakeX before the library loads, unless the user set
 * OPENBLAS_CORETYPE. Intel CPUs with AVX-512 are detected correctly and are left alone.
 */
function preferAvx512Kernels(): void {
  if (process.platform !== "linux" || process.env.OPENBLAS_CORETYPE) return;
  let info: string;
  try {
    info = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return;
  }
  if (!/^vendor_id\s*:\s*AuthenticAMD/m.test(info)) return;
  const flags = new Set(/^flags\s*:(.*)$/m.exec(info)?.[1].trim().split(/\s+/) ?? []);
  if (["avx512f", "avx512bw", "avx512dq", "avx512vl"].every((f) => flags.has(f)))
    process.env.OPENBLAS_CORETYPE = "SkylakeX";
}

/** Load one library by path; null when it cannot be opened or lacks `cblas_sgemm`. */
export function loadBlasAt(path: string): BlasGemm | null {
  const k = loadKoffi();
  if (!("koffi" in k)) return null;
  const koffi = k.koffi;
  if (/openblas/.test(path)) preferAvx512Kernels();
  try {
    return new BlasGemm(path, koffi);
  } catch {
    return null;
  }
}

let cached: BlasGemm | null | undefined;

/**
 * The process's BLAS, found once. Env `MST_BLAS=off` disables it; `MST_BLAS=/path/lib.so` picks a library (an error
 * if it cannot be loaded: an explicit choice never falls back silently). Env `MST_THREADS` sets the thread count.
 */
export function findBlas(): BlasGemm | null {
  if (cached !== undefined) return cached;
  const env = process.env.MST_BLAS?.trim();
  if (env === "off") {
    cached = null;
  } else if (env) {
    cached = loadBlasAt(env);
    if (!cached)
      throw new BlasError(
        `MST_BLAS=${env}: cannot load cblas_sgemm from that library (unset MST_BLAS to auto-detect, or MST_BLAS=off)`,
      );
  } else {
    cached = null;
    for (const p of blasCandidates()) {
      cached = loadBlasAt(p);
      if (cached) break;
    }
  }
  const t = process.env.MST_THREADS?.trim();
  if (cached && t) {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1) throw new BlasError(`MST_THREADS=${t}: must be a positive integer`);
    cached.setThreads(n);
  }
  return cached;
}

/** Set the BLAS thread count for this process; returns false when no BLAS is loaded or it cannot be set. */
export function setBlasThreads(n: number): boolean {
  const b = findBlas();
  return b ? b.setThreads(n) : false;
}

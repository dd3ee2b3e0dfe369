/**
 * The WebAssembly SIMD GEMM as a `Gemm`: portable (no system library) and bit-reproducible across machines and
 * thread counts unless the relaxed-FMA variant is chosen. Operands outside its memory are staged in and out.
 */

import { availableParallelism } from "node:os";
import { sgemmBatchFromAt, sgemmFromAt, type Gemm } from "./types.js";
import { gemmModuleBytes, type GemmKernels } from "../wasm/gemm-kernels.js";
import { gemmBlocked, SCRATCH_BYTES, type WasmProduct } from "../wasm/gemm-blocked.js";
import { GemmPool } from "../wasm/gemm-pool.js";
import { wasm, type WasmMemory, type WasmModule } from "../wasm/wasm-api.js";
import { sgemmTrivialCase } from "./blas.js";
import { arenaOf } from "../wasm/arena.js";
import { compileKernels, type WasmFeature } from "../wasm/compile.js";

/** Raised when the WebAssembly GEMM cannot be built here (no SIMD, or relaxed SIMD asked for and missing). */
export class WasmGemmError extends Error {
  override name = "WasmGemmError";
}

const PAGE = 65536;
/** Bytes before the per-thread scratch: the thread pool's control words. */
const CONTROL_BYTES = 4096;
/** Products below this many multiply-adds run on the calling thread only (waking workers costs ~20-50 us). */
const THREAD_MIN_MACS = 1 << 19;
/** Most threads one gemm can use (worker slots in the control words). */
const MAX_THREADS = 64;

const modules = new Map<string, WasmModule | null>();

/** The compiled GEMM module of this variant, or null where the runtime lacks a feature it needs. */
export function gemmModule(fma: boolean, shared: boolean): WasmModule | null {
  const key = `${fma}/${shared}`;
  if (!modules.has(key)) {
    const features: WasmFeature[] = [
      "simd",
      ...(fma ? ["relaxed-simd" as const] : []),
      ...(shared ? ["shared-memory" as const] : []),
    ];
    modules.set(
      key,
      compileKernels(`the wasm gemm (${key === "false/false" ? "plain" : key})`, features, () =>
        gemmModuleBytes({ fma, shared }),
      ),
    );
  }
  return modules.get(key) ?? null;
}

/** Whether this runtime has WebAssembly SIMD (the plain kernel) and relaxed SIMD (the FMA kernel). */
export function wasmGemmSupport(): { simd: boolean; relaxed: boolean; threads: boolean } {
  const threads = typeof SharedArrayBuffer === "function" && gemmModule(false, true) !== null;
  return { simd: gemmModule(false, false) !== null, relaxed: gemmModule(true, false) !== null, threads };
}

export interface WasmGemmOptions {
  /**
   * Use relaxed-SIMD fused multiply-add (f32x4.relaxed_madd): results then differ across machines (fused or not is
   * the CPU's choice). Measured no faster on AMD Zen 4 with V8 11.3 (node --experimental-wasm-relaxed-simd): the
   * plain kernel already keeps both multiply and add pipes busy.
   */
  fma?: boolean;
  /** Threads for large products (1 = this thread only). */
  threads?: number;
}

/**
 * One wasm memory the kernels compute in: the gemm's own memory, or an arena's (arena.ts). Scratch for packing at
 * `scratch` (one thread's SCRATCH_BYTES each), staging for operands from other memories from `stageBase` up.
 */
class GemmSpace {
  heap: Float32Array;
  constructor(
    readonly memory: WasmMemory,
    readonly k: GemmKernels,
    readonly scratch: number,
    public stageBase: number,
    /** Buffers whose arrays live in this memory (their byteOffset is their wasm address). */
    readonly own: WeakSet<ArrayBufferLike>,
  ) {
    this.heap = new Float32Array(memory.buffer);
  }

  /** Grows the memory (whole pages) to at least `bytes`, refreshing the heap view. */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.heap.buffer !== this.memory.buffer) this.heap = new Float32Array(this.memory.buffer);
  }
}

/** A Gemm running the WebAssembly kernels over its own (shared, when threads are possible) memory. */
export class WasmGemm implements Gemm {
  readonly name: string;
  readonly fma: boolean;
  private readonly module: WasmModule;
  private readonly shared: boolean;
  private readonly main: GemmSpace;
  /** Spaces in arena memories, made on first use, by the arena's buffer. */
  private readonly arenaSpaces = new WeakMap<ArrayBufferLike, GemmSpace | null>();
  private threadCount = 1;
  private pool: GemmPool | null = null;
  /** Threads the scratch area has room for. */
  private readonly maxThreads: number;

  constructor(opts: WasmGemmOptions = {}) {
    this.fma = opts.fma ?? false;
    this.name = this.fma ? "wasm-fma" : "wasm";
    const want = opts.threads ?? 1;
    this.shared = typeof SharedArrayBuffer === "function" && gemmModule(this.fma, true) !== null;
    const mod = gemmModule(this.fma, this.shared);
    if (mod === null || wasm === undefined)
      throw new WasmGemmError(
        this.fma
          ? "wasm-fma gemm: this runtime has no relaxed SIMD (f32x4.relaxed_madd); use the plain wasm gemm"
          : "wasm gemm: this runtime has no WebAssembly SIMD",
      );
    this.module = mod;
    // the control words have slots for MAX_THREADS threads; scratch is reserved for maxThreads up front
    this.maxThreads = this.shared ? Math.min(MAX_THREADS, Math.max(want, availableParallelism())) : 1;
    const stageBase = CONTROL_BYTES + this.maxThreads * SCRATCH_BYTES;
    const pages = Math.ceil((stageBase + (4 << 20)) / PAGE);
    const memory = this.shared
      ? new wasm.Memory({ initial: pages, maximum: 65536, shared: true })
      : new wasm.Memory({ initial: pages });
    const k = new wasm.Instance(mod, { env: { memory } }).exports as unknown as GemmKernels;
    const own = new WeakSet<ArrayBufferLike>([memory.buffer]);
    this.main = new GemmSpace(memory, k, CONTROL_BYTES, stageBase, own);
    this.setThreads(want);
  }

  get threads(): number {
    return this.threadCount;
  }

  /**
   * Threads for large products; workers start on the first product that uses them. Capped at the count the memory was
   * laid out for (the constructor's or the core count): false when capped, or when threads are impossible here.
   */
  setThreads(n: number): boolean {
    if (!Number.isInteger(n) || n < 1)
      throw new WasmGemmError(`wasm gemm: thread count must be a positive integer, got ${n}`);
    if (!this.shared) {
      this.threadCount = 1;
      return n === 1;
    }
    this.threadCount = Math.min(n, this.maxThreads);
    return this.threadCount === n;
  }

  /** Ends the worker threads (they are unref'd, so a process exits without this). */
  close(): void {
    this.pool?.close();
    this.pool = null;
  }

  /**
   * A zeroed Float32Array of n floats inside this gemm's memory: products on such arrays skip the staging copies.
   * Only with a shared memory (a non-shared one detaches its old arrays when it grows).
   */
  alloc(n: number): Float32Array {
    if (!this.shared) throw new WasmGemmError("wasm gemm: alloc needs a shared memory (SharedArrayBuffer)");
    const m = this.main;
    const at = m.stageBase;
    m.ensure(at + Math.ceil(n / 4) * 16);
    m.stageBase += Math.ceil(n / 4) * 16;
    m.own.add(m.memory.buffer);
    return new Float32Array(m.memory.buffer, at, n);
  }

  /** The space of the (shared, growable) arena memory that `buf` belongs to, made on first use; else null. */
  private arenaSpace(buf: ArrayBufferLike): GemmSpace | null {
    let s = this.arenaSpaces.get(buf);
    if (s === undefined) {
      s = null;
      const a = arenaOf(buf);
      const mod = a ? gemmModule(this.fma, true) : null;
      if (a && mod && wasm) {
        const k = new wasm.Instance(mod, { env: { memory: a.memory } }).exports as unknown as GemmKernels;
        const scratch = Math.ceil(a.end / 64) * 64;
        s = new GemmSpace(a.memory, k, scratch, scratch + SCRATCH_BYTES, new WeakSet([buf]));
        s.ensure(s.stageBase);
      }
      this.arenaSpaces.set(buf, s);
    }
    return s;
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
    if (sgemmTrivialCase(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)) return;
    const [ar, ac] = transA ? [K, M] : [M, K];
    const [br, bc] = transB ? [N, K] : [K, N];
    // Where to compute: products big enough for threads go to the gemm's own memory (the workers share it); others
    // to C's arena memory when it has one (C and the arena operands stay in place), else the own memory.
    const threaded = this.threadCount > 1 && M * N * K >= THREAD_MIN_MACS;
    const space = (!threaded && this.arenaSpace(C.buffer)) || this.main;
    let top = space.stageBase;
    // Inputs whose rows are at most 4x wider than used (attention's heads) are copied as one block, stride kept.
    const place = (X: Float32Array, off: number, rows: number, cols: number, ld: number, copy: boolean) => {
      if (space.own.has(X.buffer)) return { addr: X.byteOffset + 4 * off, ld, staged: false };
      const block = copy && ld !== cols && ld <= 4 * cols;
      const addr = top;
      top += Math.ceil((block ? (rows - 1) * ld + cols : rows * cols) / 4) * 16;
      space.ensure(top);
      if (block) space.heap.set(X.subarray(off, off + (rows - 1) * ld + cols), addr >> 2);
      else if (copy) copyRows(X, off, ld, space.heap, addr >> 2, cols, rows, cols);
      return { addr, ld: block ? ld : cols, staged: true };
    };
    const a = place(A, aOff, ar, ac, lda, true);
    const b = place(B, bOff, br, bc, ldb, true);
    const c = place(C, cOff, M, N, ldc, beta !== 0);
    const p: WasmProduct = {
      transA,
      transB,
      M,
      N,
      K,
      alpha,
      a: a.addr,
      lda: a.ld,
      b: b.addr,
      ldb: b.ld,
      beta,
      c: c.addr,
      ldc: c.ld,
    };
    if (threaded) {
      this.pool ??= new GemmPool(this.module, this.main.memory, CONTROL_BYTES, SCRATCH_BYTES, this.maxThreads);
      this.pool.run(space.k, p, this.threadCount);
    } else {
      gemmBlocked(space.k, p, space.scratch);
    }
    if (c.staged) copyRows(space.heap, c.addr >> 2, c.ld, C, cOff, ldc, M, N);
  }
}

/** Copies `rows` rows of `cols` floats from src (row stride sld) to dst (row stride dld). */
function copyRows(
  src: Float32Array,
  sOff: number,
  sld: number,
  dst: Float32Array,
  dOff: number,
  dld: number,
  rows: number,
  cols: number,
): void {
  if (sld === cols && dld === cols) {
    dst.set(src.subarray(sOff, sOff + rows * cols), dOff);
    return;
  }
  if (cols >= 64) {
    for (let i = 0; i < rows; i++) dst.set(src.subarray(sOff + i * sld, sOff + i * sld + cols), dOff + i * dld);
    return;
  }
  for (let i = 0; i < rows; i++) {
    const s = sOff + i * sld;
    const d = dOff + i * dld;
    for (let j = 0; j < cols; j++) dst[d + j] = src[s + j];
  }
}

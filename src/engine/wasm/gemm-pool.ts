/**
 * Worker threads for the WebAssembly GEMM: each instantiates the GEMM module over the same shared memory and runs
 * gemm-blocked.ts on its tile range of C. The main thread posts a product through control words at the start of that
 * memory (Atomics.notify), takes its own share, then waits for the others: no message passing per product.
 * C is split into row (or column) ranges on micro-tile boundaries, never along K, so every element is computed by
 * exactly the operations one thread would use: the bits do not depend on the thread count.
 */

import { Worker } from "node:worker_threads";
import { MR, NR, type GemmKernels } from "./gemm-kernels.js";
import { gemmBlocked, type WasmProduct } from "./gemm-blocked.js";
import type { WasmMemory, WasmModule } from "./wasm-api.js";

/** Int32 indices of the control words (the first CONTROL_BYTES of the memory). */
export const CTL = {
  seq: 0, // product counter: workers wait for it to change
  done: 1, // workers finished with the current product
  ready: 2, // workers started
  failed: 3, // workers whose share threw
  exit: 4, // 1: workers return
  product: 8, // transA, transB, M, N, K, a, lda, b, ldb, c, ldc (Int32)
  scalars: 24, // alpha, beta as Float64 (byte offset 96)
  slots: 32, // per worker w: active, r0, r1, c0, c1 at slots + 8 * w
} as const;

/** Raised when a GEMM worker cannot start or its share fails. */
export class GemmPoolError extends Error {
  override name = "GemmPoolError";
}

/** Writes a product into the control words (main thread). */
function writeProduct(ctl: Int32Array, f64: Float64Array, p: WasmProduct): void {
  const v = [+p.transA, +p.transB, p.M, p.N, p.K, p.a, p.lda, p.b, p.ldb, p.c, p.ldc];
  for (let i = 0; i < v.length; i++) ctl[CTL.product + i] = v[i];
  f64[CTL.scalars / 2] = p.alpha;
  f64[CTL.scalars / 2 + 1] = p.beta;
}

/** Reads the product written by writeProduct (worker). */
export function readProduct(ctl: Int32Array, f64: Float64Array): WasmProduct {
  const g = (i: number) => ctl[CTL.product + i];
  return {
    transA: g(0) === 1,
    transB: g(1) === 1,
    M: g(2),
    N: g(3),
    K: g(4),
    a: g(5),
    lda: g(6),
    b: g(7),
    ldb: g(8),
    c: g(9),
    ldc: g(10),
    alpha: f64[CTL.scalars / 2],
    beta: f64[CTL.scalars / 2 + 1],
  };
}

/** Splits 0..n into `parts` ranges on multiples of `unit` (some may be empty). */
function split(n: number, parts: number, unit: number): [number, number][] {
  const per = Math.ceil(Math.ceil(n / unit) / parts) * unit;
  return Array.from({ length: parts }, (_, i) => [Math.min(n, i * per), Math.min(n, (i + 1) * per)]);
}

export class GemmPool {
  private readonly workers: Worker[] = [];
  private readonly ctl: Int32Array;
  private readonly f64: Float64Array;

  constructor(
    private readonly module: WasmModule,
    private readonly memory: WasmMemory,
    private readonly controlBytes: number,
    private readonly scratchBytes: number,
    private readonly maxThreads: number,
  ) {
    this.ctl = new Int32Array(memory.buffer, 0, controlBytes / 4);
    this.f64 = new Float64Array(memory.buffer, 0, controlBytes / 8);
  }

  /** Starts workers until there are n, waiting (up to 30 s) until each has instantiated the module. */
  private grow(n: number): void {
    while (this.workers.length < n) {
      const index = this.workers.length + 1; // thread 0 is the caller
      const w = new Worker(new URL("./gemm-worker.js", import.meta.url), {
        workerData: {
          module: this.module,
          memory: this.memory,
          index,
          controlBytes: this.controlBytes,
          scratchBytes: this.scratchBytes,
        },
      });
      w.unref();
      this.workers.push(w);
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = Atomics.load(this.ctl, CTL.ready);
      if (r >= this.workers.length) break;
      if (Date.now() > deadline)
        throw new GemmPoolError(`wasm gemm: only ${r} of ${this.workers.length} worker threads started`);
      Atomics.wait(this.ctl, CTL.ready, r, 100);
    }
  }

  /** Runs p on `threads` threads (the caller being one) and returns when all of C is written. */
  run(k: GemmKernels, p: WasmProduct, threads: number): void {
    const t = Math.min(threads, this.maxThreads);
    this.grow(t - 1);
    const byRows = p.M >= p.N ? p.M >= 2 * MR * t || p.N < 2 * NR * t : p.N < 2 * NR * t;
    const ranges = byRows ? split(p.M, t, MR) : split(p.N, t, NR);
    const ctl = this.ctl;
    writeProduct(ctl, this.f64, p);
    for (let w = 1; w < t; w++) {
      const s = CTL.slots + 8 * w;
      const [lo, hi] = ranges[w];
      const r = byRows ? [lo, hi, 0, p.N] : [0, p.M, lo, hi];
      ctl[s] = hi > lo ? 1 : 0;
      for (let i = 0; i < 4; i++) ctl[s + 1 + i] = r[i];
    }
    for (let w = t; w <= this.workers.length; w++) ctl[CTL.slots + 8 * w] = 0;
    Atomics.store(ctl, CTL.done, 0);
    Atomics.store(ctl, CTL.failed, 0);
    Atomics.add(ctl, CTL.seq, 1);
    Atomics.notify(ctl, CTL.seq);
    const [lo, hi] = ranges[0];
    if (hi > lo) {
      if (byRows) gemmBlocked(k, p, this.controlBytes, lo, hi, 0, p.N);
      else gemmBlocked(k, p, this.controlBytes, 0, p.M, lo, hi);
    }
    const n = this.workers.length;
    for (;;) {
      const d = Atomics.load(ctl, CTL.done);
      if (d >= n) break;
      Atomics.wait(ctl, CTL.done, d);
    }
    if (Atomics.load(ctl, CTL.failed) > 0)
      throw new GemmPoolError("wasm gemm: a worker thread's share of a product failed");
  }

  /** Asks the workers to return. */
  close(): void {
    Atomics.store(this.ctl, CTL.exit, 1);
    Atomics.add(this.ctl, CTL.seq, 1);
    Atomics.notify(this.ctl, CTL.seq);
    this.workers.length = 0;
  }
}

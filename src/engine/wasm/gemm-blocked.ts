/**
 * Cache blocking around the WebAssembly GEMM kernels (gemm-kernels.ts) for one product already in wasm memory; the
 * main thread and the GEMM worker threads run this same loop nest on their share of C.
 */

import { type GemmKernels, MR, NR } from "./gemm-kernels.js";

/**
 * Block sizes: a KC-deep slice keeps one B micro-panel (KC x NR, 8 KiB) and one A micro-panel (4 KiB) in L1, the
 * packed A block (MC x KC, 128 KiB) in L2 and the packed B block (KC x NC, 512 KiB) in L2/L3. KC also fixes where the
 * k sum is split (see gemm-kernels.ts), so it is a constant: changing it changes results in the last bits.
 */
export const MC = 128;
export const KC = 256;
export const NC = 512;

/** Bytes of one thread's packing scratch: packed A block, packed B block, one edge tile. */
export const SCRATCH_BYTES = 4 * (MC * KC + KC * NC + MR * NR);

/** One product in wasm memory: byte addresses, row strides in floats, as in Gemm.sgemm (K > 0). */
export interface WasmProduct {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  beta: number;
  c: number;
  ldc: number;
}

/** f32 bit patterns of alpha and beta for the macro-kernel's all-i32 signature. */
const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);
function f32Bits(x: number): number {
  f32[0] = x;
  return bits[0];
}

/**
 * C (rows r0..r1, columns c0..c1 of the product) with the Goto loop order: for each NC column block and KC slice,
 * pack that B block, then for each MC row block pack A and run the macro-kernel. `scratch` is this thread's
 * SCRATCH_BYTES. Every C element gets the same operations whatever the sub-range, so threads splitting C by tiles
 * reproduce the one-thread bits.
 */
export function gemmBlocked(k: GemmKernels, p: WasmProduct, scratch: number, r0 = 0, r1 = p.M, c0 = 0, c1 = p.N): void {
  const packA = scratch;
  const packB = packA + 4 * MC * KC;
  const tmp = packB + 4 * KC * NC;
  // byte strides of op(A)(i, k) and op(B)(k, j) in their stored layouts
  const ai = p.transA ? 4 : 4 * p.lda;
  const ak = p.transA ? 4 * p.lda : 4;
  const bj = p.transB ? 4 * p.ldb : 4;
  const bk = p.transB ? 4 : 4 * p.ldb;
  for (let jc = c0; jc < c1; jc += NC) {
    const nc = Math.min(NC, c1 - jc);
    for (let pc = 0; pc < p.K; pc += KC) {
      const kc = Math.min(KC, p.K - pc);
      k.packB(p.b + jc * bj + pc * bk, bj, bk, nc, kc, packB);
      const first = pc === 0;
      const mode = first && p.beta === 0 ? 0 : 1;
      const beta = f32Bits(first ? p.beta : 1);
      const alpha = f32Bits(p.alpha);
      for (let ic = r0; ic < r1; ic += MC) {
        const mc = Math.min(MC, r1 - ic);
        k.packA(p.a + ic * ai + pc * ak, ai, ak, mc, kc, packA);
        k.macro(packA, packB, p.c + 4 * (ic * p.ldc + jc), 4 * p.ldc, mc, nc, kc, alpha, beta, mode, tmp);
      }
    }
  }
}

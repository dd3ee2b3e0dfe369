/**
 * Frozen weights held compressed (bf16 or NF4) and the linear layer over them, so the full float32 matrix never
 * exists: on the native gemm one product whose kernel dequantises the weight while packing it (fused); on any other
 * backend (or with env MST_FUSED_DEQUANT=0) each product dequantises a panel of rows into float32 scratch
 * (dequant-panel.ts: SIMD where possible) and hands it to gemm. Both give the bits of one product over the fully
 * dequantised matrix.
 */

import { getGemm } from "../gemm/index.js";
import { NativeGemm } from "../gemm/native.js";
import { addBias } from "../ops/linear.js";
import { KC } from "../wasm/gemm-blocked.js";
import { Bf16Matrix } from "./bf16.js";
import { dequantPanel } from "./dequant-panel.js";
import { Nf4Matrix } from "./nf4.js";

/** A frozen (rows, cols) = (out, in) weight matrix stored in a compact format. */
export interface PackedMatrix {
  readonly format: "bf16" | "nf4";
  readonly rows: number;
  readonly cols: number;
  /** Bytes the stored matrix takes. */
  readonly bytes: number;
  /** Dequantise rows [r0, r1) into out[0 .. (r1-r0)*cols) (row-major float32). */
  dequantRows(r0: number, r1: number, out: Float32Array): void;
}

/** Float32 values of a panel: large enough that gemm runs at speed, small enough to stay in cache (256 KiB). */
const PANEL_FLOATS = 1 << 16;

/** Rows per panel for a matrix of `cols` columns (at least 1; a multiple of 8 when possible, for the gemm kernels). */
export function panelRows(m: PackedMatrix): number {
  const r = Math.max(1, Math.floor(PANEL_FLOATS / m.cols));
  return Math.min(m.rows, r >= 16 ? r - (r % 8) : r);
}

/**
 * Rows per panel of the backward product, where k runs over W's rows: whole KC slices, so that splitting k at panel
 * edges is the kernel's own split (each slice updates C once, beta then 1) and the bits equal one product over the
 * whole matrix, as the fused path computes it.
 */
export function backwardPanelRows(m: PackedMatrix): number {
  return Math.min(m.rows, Math.max(1, Math.floor(PANEL_FLOATS / (m.cols * KC))) * KC);
}

/** The native gemm, which multiplies NF4 and bf16 weights in packed form (fused); null: take the panel path. */
function fusedGemm(): NativeGemm | null {
  const g = getGemm();
  return g instanceof NativeGemm && process.env.MST_FUSED_DEQUANT?.trim() !== "0" ? g : null;
}

/** Whether the native kernel reads this format. */
const fusable = (w: PackedMatrix): w is Nf4Matrix | Bf16Matrix => w instanceof Nf4Matrix || w instanceof Bf16Matrix;

/** The whole matrix as float32 (for merging and export; allocates rows*cols floats). */
export function dequantAll(m: PackedMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  m.dequantRows(0, m.rows, out);
  return out;
}

/**
 * out = inp @ W^T (+ bias), W packed (OC,IC): one gemm per panel of W's rows writes the matching columns of out.
 * With `accumulate`, adds into out.
 */
export function packedLinearForward(
  out: Float32Array, // (N,OC)
  inp: Float32Array, // (N,IC)
  w: PackedMatrix, // (OC,IC)
  bias: Float32Array | null, // (OC)
  N: number,
  IC: number,
  OC: number,
  accumulate = false,
): void {
  if (w.rows !== OC || w.cols !== IC)
    throw new RangeError(`packedLinearForward: weight is (${w.rows}, ${w.cols}), expected (${OC}, ${IC})`);
  const fused = fusedGemm();
  if (fused !== null && fusable(w))
    fused.sgemmPackedAt(false, true, N, OC, IC, 1, inp, 0, IC, w, 0, IC, accumulate ? 1 : 0, out, 0, OC);
  else {
    // panels split the output's columns: each element still sums over all of IC, as in one product
    const g = getGemm();
    const R = panelRows(w);
    for (let r0 = 0; r0 < OC; r0 += R) {
      const r1 = Math.min(OC, r0 + R);
      const s = dequantPanel(w, r0, r1);
      g.sgemmAt(false, true, N, r1 - r0, IC, 1, inp, 0, IC, s, 0, IC, accumulate ? 1 : 0, out, r0, OC);
    }
  }
  if (bias !== null) addBias(out, bias, N, OC);
}

/**
 * dinp += dout @ W for a packed (frozen) W, panel by panel; with `overwriteDinp` the first panel overwrites dinp.
 * There is no weight gradient: packed weights never train.
 */
export function packedLinearBackward(
  dinp: Float32Array, // (N,IC)
  dout: Float32Array, // (N,OC)
  w: PackedMatrix, // (OC,IC)
  N: number,
  IC: number,
  OC: number,
  overwriteDinp = false,
): void {
  if (w.rows !== OC || w.cols !== IC)
    throw new RangeError(`packedLinearBackward: weight is (${w.rows}, ${w.cols}), expected (${OC}, ${IC})`);
  const fused = fusedGemm();
  if (fused !== null && fusable(w)) {
    fused.sgemmPackedAt(false, false, N, IC, OC, 1, dout, 0, OC, w, 0, IC, overwriteDinp ? 0 : 1, dinp, 0, IC);
    return;
  }
  const g = getGemm();
  const R = backwardPanelRows(w);
  for (let r0 = 0; r0 < OC; r0 += R) {
    const r1 = Math.min(OC, r0 + R);
    const s = dequantPanel(w, r0, r1);
    const beta = overwriteDinp && r0 === 0 ? 0 : 1;
    g.sgemmAt(false, false, N, IC, r1 - r0, 1, dout, r0, OC, s, 0, IC, beta, dinp, 0, IC);
  }
}

/** out[n, :] = W[ids[n], :] for a packed embedding table W (V,C). */
export function packedEmbeddingForward(out: Float32Array, ids: Int32Array, w: PackedMatrix, N: number): void {
  const C = w.cols;
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    if (id < 0 || id >= w.rows)
      throw new RangeError(`embedding: token id ${id} at position ${n} is outside [0, ${w.rows})`);
    w.dequantRows(id, id + 1, out.subarray(n * C, n * C + C));
  }
}

/**
 * NF4 (QLoRA's 4-bit NormalFloat) storage as bitsandbytes lays it out: the 16-value code table, blocks of 64 values
 * scaled by their absmax, two codes per byte (first value in the high nibble), and double quantisation: the block
 * absmaxes, minus their mean, are themselves quantised to 8 bits in blocks of 256 with bitsandbytes' dynamic map
 * (dynamic-map.ts), one float32 absmax per 256.
 */

import { DYNAMIC_MAP, quantizeDynamic } from "./dynamic-map.js";
import type { PackedMatrix } from "./packed.js";

/** bitsandbytes' NF4 code table (functional.py, get_4bit_type("nf4")): quantiles of N(0,1) scaled to [-1, 1]. */
export const NF4_CODE: readonly number[] = Object.freeze([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);
/** Values per absmax block (bitsandbytes' default for NF4). */
export const NF4_BLOCK = 64;
/** Absmaxes per second-level block in double quantisation. */
export const NF4_ABSMAX_BLOCK = 256;

const CODE = Float32Array.from(NF4_CODE);
/** The code table as float32, the values every dequantiser multiplies (the native kernel reads this array). */
export const NF4_CODE_F32: Float32Array = CODE;
// decision thresholds: midpoints between neighbouring codes (nearest-code rounding)
const MID = Float32Array.from({ length: 15 }, (_, i) => (NF4_CODE[i] + NF4_CODE[i + 1]) / 2);
// a byte's two values: HI[b] = code of the high nibble, LO[b] = code of the low nibble
const HI = Float32Array.from({ length: 256 }, (_, b) => NF4_CODE[b >> 4]);
const LO = Float32Array.from({ length: 256 }, (_, b) => NF4_CODE[b & 15]);

/** Index of the code nearest to x (x in [-1, 1]). */
export function nf4Index(x: number): number {
  let i = 0;
  while (i < 15 && x > MID[i]) i++;
  return i;
}

export interface Nf4Options {
  /** Quantise the absmaxes too (8-bit dynamic map in blocks of 256, offset by their mean). Default true, as QLoRA. */
  doubleQuant?: boolean;
}

/** A frozen (rows, cols) matrix in NF4: about 0.52 bytes per value with double quantisation (0.56 without). */
export class Nf4Matrix implements PackedMatrix {
  readonly format = "nf4";
  readonly rows: number;
  readonly cols: number;
  /** Two 4-bit code indices per byte, the first value in the high nibble. */
  readonly codes: Uint8Array;
  /** Per block of 64: the absmax (float32) without double quantisation, else null. */
  readonly absmax: Float32Array | null;
  /** Per block of 64 with double quantisation: the index in DYNAMIC_MAP nearest to (absmax - offset) / scale2. */
  readonly absmaxQ: Uint8Array | null;
  /** Per 256 blocks with double quantisation: the largest |absmax - offset| of the group. */
  readonly scale2: Float32Array | null;
  /** Mean of all absmaxes (double quantisation), else 0. */
  readonly offset: number;

  /** Quantise a (rows, cols) float32 matrix. */
  constructor(rows: number, cols: number, values: Float32Array, options: Nf4Options = {}) {
    const n = rows * cols;
    if (values.length !== n) throw new RangeError(`Nf4Matrix: ${values.length} values for a (${rows}, ${cols}) matrix`);
    this.rows = rows;
    this.cols = cols;
    const nb = Math.ceil(n / NF4_BLOCK);
    const amax = new Float32Array(nb);
    this.codes = new Uint8Array(Math.ceil(n / 2));
    for (let b = 0; b < nb; b++) {
      const e = Math.min(n, (b + 1) * NF4_BLOCK);
      let m = 0;
      for (let i = b * NF4_BLOCK; i < e; i++) m = Math.max(m, Math.abs(values[i]));
      amax[b] = m;
      const inv = m > 0 ? 1 / m : 0;
      for (let i = b * NF4_BLOCK; i < e; i++) {
        const q = nf4Index(values[i] * inv);
        this.codes[i >> 1] |= i & 1 ? q : q << 4;
      }
    }
    if (options.doubleQuant === false) {
      this.absmax = amax;
      this.absmaxQ = null;
      this.scale2 = null;
      this.offset = 0;
      return;
    }
    // bitsandbytes (quantize_4bit, compress_statistics): offset = mean of the absmaxes, then quantize_blockwise of
    // (absmax - offset) in float32, blocks of 256, with the dynamic map
    let mean = 0;
    for (let b = 0; b < nb; b++) mean += amax[b];
    mean = Math.fround(mean / nb);
    const centred = Float32Array.from(amax, (a) => a - mean);
    const q = new Uint8Array(nb);
    const s2 = new Float32Array(Math.ceil(nb / NF4_ABSMAX_BLOCK));
    quantizeDynamic(centred, NF4_ABSMAX_BLOCK, q, s2);
    this.absmax = null;
    this.absmaxQ = q;
    this.scale2 = s2;
    this.offset = mean;
  }

  get bytes(): number {
    return (
      this.codes.byteLength +
      (this.absmax?.byteLength ?? 0) +
      (this.absmaxQ?.byteLength ?? 0) +
      (this.scale2?.byteLength ?? 0) +
      4
    );
  }

  /** The (dequantised) absmax of block b. */
  blockScale(b: number): number {
    if (this.absmax !== null) return this.absmax[b];
    const q = this.absmaxQ as Uint8Array;
    const s2 = this.scale2 as Float32Array;
    // as bitsandbytes' dequantize_blockwise then `absmax += offset`: two float32 operations
    return Math.fround(Math.fround(DYNAMIC_MAP[q[b]] * s2[Math.floor(b / NF4_ABSMAX_BLOCK)]) + this.offset);
  }

  /** Absmaxes of blocks [b0, b1) into out[off ..] (float32, as blockScale): the per-block input of the SIMD path. */
  blockScales(b0: number, b1: number, out: Float32Array, off: number): void {
    if (this.absmax !== null) {
      out.set(this.absmax.subarray(b0, b1), off);
      return;
    }
    const q = this.absmaxQ as Uint8Array;
    const s2 = this.scale2 as Float32Array;
    const mean = this.offset;
    const f = Math.fround;
    // one group of 256 at a time, so the inner loop is a table load and two float32 operations (as blockScale)
    for (let b = b0; b < b1;) {
      const g = Math.floor(b / NF4_ABSMAX_BLOCK);
      const scale = s2[g];
      const e = Math.min(b1, (g + 1) * NF4_ABSMAX_BLOCK);
      for (; b < e; b++) out[off + b - b0] = f(f(DYNAMIC_MAP[q[b]] * scale) + mean);
    }
  }

  dequantRows(r0: number, r1: number, out: Float32Array): void {
    this.dequantRange(r0 * this.cols, r1 * this.cols, out, 0);
  }

  /** Values [i0, i1) (flat row-major indices) into out[off ..]: the reference loop (any start, any end). */
  dequantRange(i0: number, i1: number, out: Float32Array, off: number): void {
    const codes = this.codes;
    for (let b = Math.floor(i0 / NF4_BLOCK); b * NF4_BLOCK < i1; b++) {
      const a = this.blockScale(b);
      const s = Math.max(i0, b * NF4_BLOCK);
      const e = Math.min(i1, (b + 1) * NF4_BLOCK);
      let i = s;
      let o = off + s - i0;
      if (i & 1) out[o++] = LO[codes[i++ >> 1]] * a;
      // whole bytes: two values each
      for (; i + 1 < e; i += 2, o += 2) {
        const byte = codes[i >> 1];
        out[o] = HI[byte] * a;
        out[o + 1] = LO[byte] * a;
      }
      if (i < e) out[o] = HI[codes[i >> 1]] * a;
    }
  }

  /** The code index (0..15) of value i (for tests). */
  codeIndex(i: number): number {
    const byte = this.codes[i >> 1];
    return i & 1 ? byte & 15 : byte >> 4;
  }
}

/** The NF4 code value of index q. */
export function nf4Value(q: number): number {
  return CODE[q];
}

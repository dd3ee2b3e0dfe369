/** bfloat16 storage: the top 16 bits of a float32 (round-to-nearest-even on the way in), and a row-block matrix of them. */

import type { PackedMatrix } from "./packed.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value -> bf16 bits, rounding to nearest even (as torch's .to(bfloat16)); NaN stays a quiet NaN. */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Round every value of `src` to bf16 bits into `dst` (same length). */
export function encodeBf16(dst: Uint16Array, src: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = floatToBf16(src[i]);
}

/** bf16 bits of `src` -> float32 into `dst` (a bf16 value is exactly representable as float32). */
export function decodeBf16(dst: Float32Array, src: Uint16Array): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
}

/** A frozen (rows, cols) matrix held as bf16: half the memory of float32, exact when the checkpoint is bf16. */
export class Bf16Matrix implements PackedMatrix {
  readonly format = "bf16";
  readonly rows: number;
  readonly cols: number;
  /** (rows, cols) bf16 bits, row-major. */
  readonly bits: Uint16Array;

  constructor(rows: number, cols: number, bits?: Uint16Array) {
    this.rows = rows;
    this.cols = cols;
    this.bits = bits ?? new Uint16Array(rows * cols);
    if (this.bits.length !== rows * cols)
      throw new RangeError(`Bf16Matrix: ${this.bits.length} values for a (${rows}, ${cols}) matrix`);
  }

  get bytes(): number {
    return this.bits.byteLength;
  }

  /** Fill rows [r0, r1) from float32 values (rounded). */
  setRows(r0: number, values: Float32Array): void {
    encodeBf16(this.bits.subarray(r0 * this.cols, r0 * this.cols + values.length), values);
  }

  dequantRows(r0: number, r1: number, out: Float32Array): void {
    this.dequantRange(r0 * this.cols, r1 * this.cols, out, 0);
  }

  /** Values [i0, i1) (flat row-major indices) into out[off ..]: the reference loop. */
  dequantRange(i0: number, i1: number, out: Float32Array, off: number): void {
    decodeBf16(out.subarray(off, off + i1 - i0), this.bits.subarray(i0, i1));
  }
}

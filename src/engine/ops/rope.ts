/**
 * Rotary position embedding in the Hugging Face Llama convention (rotate_half: dimension i pairs with i + hd/2),
 * so real checkpoints' q/k projections work unchanged. Each row carries its own position (batched decoding).
 */

import type { RopeScaling } from "../config.js";
import { nativeOps } from "./native-ops.js";

/**
 * Inverse frequencies theta^(-2i/hd) (hd/2 of them) with transformers' rope scaling applied: "linear" divides every
 * frequency by the factor; "llama3" divides the low frequencies (wavelength above old_context / low_freq_factor) by
 * the factor, keeps the high ones (wavelength below old_context / high_freq_factor) and interpolates smoothly between.
 */
export function ropeInvFreq(hd: number, theta: number, scaling?: RopeScaling): Float64Array {
  const half = hd / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => Math.pow(theta, (-2 * i) / hd));
  if (scaling === undefined) return inv;
  if (scaling.type === "linear") return inv.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositionEmbeddings: old } = scaling;
  const lowWavelen = old / lo;
  const highWavelen = old / hi;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lo) / (hi - lo);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** cos/sin tables (maxPos, hd/2): angle = pos * invFreq[i] (see ropeInvFreq), computed in float64 then rounded. */
export function ropeTables(
  maxPos: number,
  hd: number,
  theta: number,
  scaling?: RopeScaling,
): { cos: Float32Array; sin: Float32Array } {
  const half = hd / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  const inv = ropeInvFreq(hd, theta, scaling);
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const ang = p * inv[i];
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = Math.sin(ang);
    }
  return { cos, sin };
}

/**
 * Rotates every head of every row by +angle (sign 1) or -angle (sign -1), place-safe (out may alias inp):
 * out[i] = x[i] cos - x[i+half] sin', out[i+half] = x[i+half] cos + x[i] sin', with sin' = sign * sin.
 * Negating sin is exact, so backward (the transpose, i.e. the rotation by -angle) is bit-identical to writing it out.
 */
function rotate(
  out: Float32Array, // (N,nh,hd)
  inp: Float32Array, // (N,nh,hd)
  pos: Int32Array, // (N) position of each row
  cos: Float32Array, // (maxPos,hd/2)
  sin: Float32Array, // (maxPos,hd/2)
  sign: 1 | -1,
  N: number,
  nh: number,
  hd: number,
): void {
  // the same arithmetic in C where the native library is here (a position outside the table: this loop's NaNs)
  if (nativeOps()?.rope(out, inp, pos, cos, sin, sign, N, nh, hd)) return;
  rotateJs(out, inp, pos, cos, sin, sign, N, nh, hd);
}

/** rotate's JavaScript loop: the reference native-ops.c's mst_rope is tested against. */
export function rotateJs(
  out: Float32Array,
  inp: Float32Array,
  pos: Int32Array,
  cos: Float32Array,
  sin: Float32Array,
  sign: 1 | -1,
  N: number,
  nh: number,
  hd: number,
): void {
  const half = hd / 2;
  const half4 = half - (half % 4); // four pairs per iteration (V8's per-iteration checks paid once per four)
  for (let n = 0; n < N; n++) {
    const t0 = pos[n] * half;
    for (let h = 0; h < nh; h++) {
      const o = (n * nh + h) * hd;
      let i = 0;
      for (; i < half4; i += 4) {
        const c0 = cos[t0 + i],
          c1 = cos[t0 + i + 1],
          c2 = cos[t0 + i + 2],
          c3 = cos[t0 + i + 3];
        const s0 = sign * sin[t0 + i],
          s1 = sign * sin[t0 + i + 1],
          s2 = sign * sin[t0 + i + 2],
          s3 = sign * sin[t0 + i + 3];
        const a0 = inp[o + i],
          a1 = inp[o + i + 1],
          a2 = inp[o + i + 2],
          a3 = inp[o + i + 3];
        const b0 = inp[o + half + i],
          b1 = inp[o + half + i + 1],
          b2 = inp[o + half + i + 2],
          b3 = inp[o + half + i + 3];
        out[o + i] = a0 * c0 - b0 * s0;
        out[o + i + 1] = a1 * c1 - b1 * s1;
        out[o + i + 2] = a2 * c2 - b2 * s2;
        out[o + i + 3] = a3 * c3 - b3 * s3;
        out[o + half + i] = b0 * c0 + a0 * s0;
        out[o + half + i + 1] = b1 * c1 + a1 * s1;
        out[o + half + i + 2] = b2 * c2 + a2 * s2;
        out[o + half + i + 3] = b3 * c3 + a3 * s3;
      }
      for (; i < half; i++) {
        const c = cos[t0 + i];
        const s = sign * sin[t0 + i];
        const x1 = inp[o + i];
        const x2 = inp[o + i + half];
        out[o + i] = x1 * c - x2 * s;
        out[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

/** Rotates each head's pairs by its row's position angle (out may alias inp). */
export function ropeForward(
  out: Float32Array, // (N,nh,hd)
  inp: Float32Array, // (N,nh,hd)
  pos: Int32Array, // (N) position of each row
  cos: Float32Array, // (maxPos,hd/2)
  sin: Float32Array, // (maxPos,hd/2)
  N: number,
  nh: number,
  hd: number,
): void {
  rotate(out, inp, pos, cos, sin, 1, N, nh, hd);
}

/** The rotation's transpose applied to dout, *overwriting* dinp (dinp may alias dout: the op is used in place). */
export function ropeBackward(
  dinp: Float32Array, // (N,nh,hd)
  dout: Float32Array, // (N,nh,hd)
  pos: Int32Array, // (N)
  cos: Float32Array,
  sin: Float32Array,
  N: number,
  nh: number,
  hd: number,
): void {
  rotate(dinp, dout, pos, cos, sin, -1, N, nh, hd);
}

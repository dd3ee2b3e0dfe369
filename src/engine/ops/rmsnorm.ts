/**
 * RMSNorm (Llama): out = inp / sqrt(mean(inp^2) + eps) * w, with its backward. On wasm-arena buffers with C a
 * multiple of 4 the rows run in the SIMD kernels (the weight is copied into the arena's scratch vector per call).
 */

import { SCRATCH_FLOATS, simdFor } from "../wasm/arena.js";
import { decodeArenaFor, EXACT_SCRATCH_FLOATS } from "../wasm/decode-arena.js";
import { nativeOps } from "./native-ops.js";

/**
 * Saves rstd[n] = 1/sqrt(mean(inp[n]^2) + eps) for the backward pass. `out` may not alias `inp`. Runs the SIMD
 * kernel on arena buffers, else rmsnormForwardJs.
 */
export function rmsnormForward(
  out: Float32Array, // (N,C)
  rstd: Float32Array, // (N)
  inp: Float32Array, // (N,C)
  w: Float32Array, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  const h = C % 4 === 0 && 2 * C <= SCRATCH_FLOATS ? simdFor(out, rstd, inp) : null;
  const native = nativeOps();
  if (h !== null && native !== null) return native.rmsnormForwardF32(out, rstd, inp, w, N, C, eps); // the kernel's arithmetic
  if (h !== null) {
    h.scratch.set(w.subarray(0, C));
    const sw = h.scratch.byteOffset;
    h.k.rmsFwd(out.byteOffset, rstd.byteOffset, inp.byteOffset, sw, N * C * 4, C * 4, 1 / C, eps);
    return;
  }
  if (native !== null) return native.rmsnormForward(out, rstd, inp, w, N, C, eps); // the loop's arithmetic in C
  const d = C % 4 === 0 && C <= EXACT_SCRATCH_FLOATS ? decodeArenaFor(out, rstd, inp) : null;
  if (d !== null) {
    // float64 wasm with rmsnormForwardJs's bits (decode arenas)
    d.scratch.set(w.subarray(0, C));
    d.ew.rms(out.byteOffset, rstd.byteOffset, inp.byteOffset, d.scratch.byteOffset, N, C * 4, C, eps);
    return;
  }
  rmsnormForwardJs(out, rstd, inp, w, N, C, eps);
}

/**
 * The JavaScript forward (plain arrays, or C not a multiple of 4), the reference the SIMD kernel is tested against.
 * The row's sum of squares runs as four interleaved partial sums (one serial chain of float adds would wait on
 * each add's latency), and both loops take four elements per iteration (V8's per-iteration checks paid once).
 */
export function rmsnormForwardJs(
  out: Float32Array, // (N,C)
  rstd: Float32Array, // (N)
  inp: Float32Array, // (N,C)
  w: Float32Array, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  const C4 = C - (C % 4);
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    let c = 0;
    for (; c < C4; c += 4) {
      const x0 = inp[o + c],
        x1 = inp[o + c + 1],
        x2 = inp[o + c + 2],
        x3 = inp[o + c + 3];
      s0 += x0 * x0;
      s1 += x1 * x1;
      s2 += x2 * x2;
      s3 += x3 * x3;
    }
    for (; c < C; c++) s0 += inp[o + c] * inp[o + c];
    const r = 1 / Math.sqrt((s0 + s1 + (s2 + s3)) / C + eps);
    rstd[n] = r;
    c = 0;
    for (; c < C4; c += 4) {
      out[o + c] = inp[o + c] * r * w[c];
      out[o + c + 1] = inp[o + c + 1] * r * w[c + 1];
      out[o + c + 2] = inp[o + c + 2] * r * w[c + 2];
      out[o + c + 3] = inp[o + c + 3] * r * w[c + 3];
    }
    for (; c < C; c++) out[o + c] = inp[o + c] * r * w[c];
  }
}

/**
 * Adds into dinp and dw (dw may be null when the weight is frozen). SIMD kernel on arena buffers, else
 * rmsnormBackwardJs. With xhat = x * r: dx = r * (g - xhat * mean(g * xhat)), where g = dout * w.
 */
export function rmsnormBackward(
  dinp: Float32Array, // (N,C)
  dw: Float32Array | null, // (C)
  dout: Float32Array, // (N,C)
  inp: Float32Array, // (N,C)
  w: Float32Array, // (C)
  rstd: Float32Array, // (N)
  N: number,
  C: number,
): void {
  const h = C % 4 === 0 && 2 * C <= SCRATCH_FLOATS ? simdFor(dinp, dout, inp, rstd) : null;
  const native = h === null ? null : nativeOps();
  if (native !== null) {
    // the kernel's arithmetic in C, its weight gradient summed over the rows first as the kernel's scratch is
    if (rowSum.length < C) rowSum = new Float32Array(C);
    const sdw = rowSum.subarray(0, C);
    sdw.fill(0);
    native.rmsnormBackwardF32(dinp, sdw, dout, inp, w, rstd, N, C);
    if (dw !== null) for (let c = 0; c < C; c++) dw[c] += sdw[c];
    return;
  }
  if (h !== null) {
    // weight in the scratch's first C floats, its gradient accumulated in the next C, then added into dw
    const sw = h.scratch.subarray(0, C);
    const sdw = h.scratch.subarray(C, 2 * C);
    sw.set(w.subarray(0, C));
    sdw.fill(0);
    h.k.rmsBwd(
      dinp.byteOffset,
      sdw.byteOffset,
      dout.byteOffset,
      inp.byteOffset,
      sw.byteOffset,
      rstd.byteOffset,
      N * C * 4,
      C * 4,
      1 / C,
    );
    if (dw !== null) for (let c = 0; c < C; c++) dw[c] += sdw[c];
    return;
  }
  rmsnormBackwardJs(dinp, dw, dout, inp, w, rstd, N, C);
}

let rowSum = new Float32Array(0);

/** The JavaScript backward, the reference the SIMD kernel is tested against (same formula, four partial sums). */
export function rmsnormBackwardJs(
  dinp: Float32Array, // (N,C)
  dw: Float32Array | null, // (C)
  dout: Float32Array, // (N,C)
  inp: Float32Array, // (N,C)
  w: Float32Array, // (C)
  rstd: Float32Array, // (N)
  N: number,
  C: number,
): void {
  const C4 = C - (C % 4);
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const r = rstd[n];
    // sum_c dout * w * x, as four partial sums (see rmsnormForward)
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    let c = 0;
    for (; c < C4; c += 4) {
      s0 += dout[o + c] * w[c] * inp[o + c];
      s1 += dout[o + c + 1] * w[c + 1] * inp[o + c + 1];
      s2 += dout[o + c + 2] * w[c + 2] * inp[o + c + 2];
      s3 += dout[o + c + 3] * w[c + 3] * inp[o + c + 3];
    }
    for (; c < C; c++) s0 += dout[o + c] * w[c] * inp[o + c];
    const m = ((s0 + s1 + (s2 + s3)) * r) / C; // mean(g * xhat)
    c = 0;
    if (dw !== null)
      for (; c < C4; c += 4) {
        const x0 = inp[o + c] * r,
          x1 = inp[o + c + 1] * r,
          x2 = inp[o + c + 2] * r,
          x3 = inp[o + c + 3] * r;
        const d0 = dout[o + c],
          d1 = dout[o + c + 1],
          d2 = dout[o + c + 2],
          d3 = dout[o + c + 3];
        dw[c] += d0 * x0;
        dw[c + 1] += d1 * x1;
        dw[c + 2] += d2 * x2;
        dw[c + 3] += d3 * x3;
        dinp[o + c] += r * (d0 * w[c] - x0 * m);
        dinp[o + c + 1] += r * (d1 * w[c + 1] - x1 * m);
        dinp[o + c + 2] += r * (d2 * w[c + 2] - x2 * m);
        dinp[o + c + 3] += r * (d3 * w[c + 3] - x3 * m);
      }
    else
      for (; c < C4; c += 4) {
        dinp[o + c] += r * (dout[o + c] * w[c] - inp[o + c] * r * m);
        dinp[o + c + 1] += r * (dout[o + c + 1] * w[c + 1] - inp[o + c + 1] * r * m);
        dinp[o + c + 2] += r * (dout[o + c + 2] * w[c + 2] - inp[o + c + 2] * r * m);
        dinp[o + c + 3] += r * (dout[o + c + 3] * w[c + 3] - inp[o + c + 3] * r * m);
      }
    for (; c < C; c++) {
      const xhat = inp[o + c] * r;
      const d = dout[o + c];
      if (dw !== null) dw[c] += d * xhat;
      dinp[o + c] += r * (d * w[c] - xhat * m);
    }
  }
}

/** RMSNorm (Llama): out = inp / sqrt(mean(inp^2) + eps) * w, with its backward. */

/** Saves rstd[n] = 1/sqrt(mean(inp[n]^2) + eps) for the backward pass. `out` may not alias `inp`. */
export function rmsnormForward(
  out: Float32Array, // (N,C)
  rstd: Float32Array, // (N)
  inp: Float32Array, // (N,C)
  w: Float32Array, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[o + c] * inp[o + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) out[o + c] = inp[o + c] * r * w[c];
  }
}

/**
 * Adds into dinp and dw (dw may be null when the weight is frozen).
 * With xhat = x * r: dx = r * (g - xhat * mean(g * xhat)), where g = dout * w.
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
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const r = rstd[n];
    let dot = 0; // sum_c dout * w * xhat
    for (let c = 0; c < C; c++) dot += dout[o + c] * w[c] * inp[o + c] * r;
    const m = dot / C;
    for (let c = 0; c < C; c++) {
      const xhat = inp[o + c] * r;
      if (dw !== null) dw[c] += dout[o + c] * xhat;
      dinp[o + c] += r * (dout[o + c] * w[c] - xhat * m);
    }
  }
}

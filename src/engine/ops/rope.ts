/**
 * Rotary position embedding in the Hugging Face Llama convention (rotate_half: dimension i pairs with i + hd/2),
 * so real checkpoints' q/k projections work unchanged. Each row carries its own position (batched decoding).
 */

/** cos/sin tables (maxPos, hd/2): angle = pos * theta^(-2i/hd), computed in float64 then rounded. */
export function ropeTables(maxPos: number, hd: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = hd / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const ang = p * Math.pow(theta, (-2 * i) / hd);
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = Math.sin(ang);
    }
  return { cos, sin };
}

/**
 * Rotates every head of every row in place-safe fashion (out may alias inp):
 * out[i] = x[i] cos - x[i+half] sin, out[i+half] = x[i+half] cos + x[i] sin.
 */
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
  const half = hd / 2;
  for (let n = 0; n < N; n++) {
    const t0 = pos[n] * half;
    for (let h = 0; h < nh; h++) {
      const o = (n * nh + h) * hd;
      for (let i = 0; i < half; i++) {
        const c = cos[t0 + i];
        const s = sin[t0 + i];
        const x1 = inp[o + i];
        const x2 = inp[o + i + half];
        out[o + i] = x1 * c - x2 * s;
        out[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
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
  const half = hd / 2;
  for (let n = 0; n < N; n++) {
    const t0 = pos[n] * half;
    for (let h = 0; h < nh; h++) {
      const o = (n * nh + h) * hd;
      for (let i = 0; i < half; i++) {
        const c = cos[t0 + i];
        const s = sin[t0 + i];
        const d1 = dout[o + i];
        const d2 = dout[o + i + half];
        dinp[o + i] = d1 * c + d2 * s;
        dinp[o + i + half] = d2 * c - d1 * s;
      }
    }
  }
}

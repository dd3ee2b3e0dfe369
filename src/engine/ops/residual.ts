/** Residual connection: out = a + b, and its backward (the gradient flows unchanged to both branches). */

/** out = a + b elementwise; `out` may alias `a` or `b`. */
export function residualForward(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/** da += dout, db += dout. */
export function residualBackward(da: Float32Array, db: Float32Array, dout: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

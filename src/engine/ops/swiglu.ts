/** SwiGLU gating (Llama MLP): out = silu(gate) * up, with its backward. */

/** out[i] = gate[i] * sigmoid(gate[i]) * up[i]. */
export function swigluForward(
  out: Float32Array, // (N,F)
  gate: Float32Array, // (N,F)
  up: Float32Array, // (N,F)
  n: number, // N*F
): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    out[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

/** dgate += dout * up * silu'(gate), dup += dout * silu(gate); silu'(g) = s * (1 + g * (1 - s)), s = sigmoid(g). */
export function swigluBackward(
  dgate: Float32Array, // (N,F)
  dup: Float32Array, // (N,F)
  dout: Float32Array, // (N,F)
  gate: Float32Array, // (N,F)
  up: Float32Array, // (N,F)
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const s = 1 / (1 + Math.exp(-g));
    dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] += dout[i] * g * s;
  }
}

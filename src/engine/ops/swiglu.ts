/** SwiGLU gating (Llama MLP): out = silu(gate) * up, with its backward. */

import { fastSigmoid } from "./fast-exp.js";

/** out[i] = gate[i] * sigmoid(gate[i]) * up[i]; saves sig[i] = sigmoid(gate[i]) so the backward needs no exp. */
export function swigluForward(
  out: Float32Array, // (N,F)
  sig: Float32Array, // (N,F) saved
  gate: Float32Array, // (N,F)
  up: Float32Array, // (N,F)
  n: number, // N*F
): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const s = fastSigmoid(g);
    sig[i] = s;
    out[i] = g * s * up[i];
  }
}

/** dgate += dout * up * silu'(gate), dup += dout * silu(gate); silu'(g) = s * (1 + g * (1 - s)), s = sigmoid(g). */
export function swigluBackward(
  dgate: Float32Array, // (N,F)
  dup: Float32Array, // (N,F)
  dout: Float32Array, // (N,F)
  gate: Float32Array, // (N,F)
  up: Float32Array, // (N,F)
  sig: Float32Array, // (N,F) from the forward
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const s = sig[i];
    const d = dout[i];
    dgate[i] += d * up[i] * s * (1 + g * (1 - s));
    dup[i] += d * g * s;
  }
}

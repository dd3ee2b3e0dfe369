/** Scalar value head for PPO: values[n] = hidden[n, :] . w + b on the final-normed hidden state (as TRL's v_head). */

/** values = hidden @ w^T + b. */
export function valueHeadForward(
  values: Float32Array, // (N)
  hidden: Float32Array, // (N,C)
  w: Float32Array, // (1,C)
  b: Float32Array, // (1)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let s = b[0];
    for (let c = 0; c < C; c++) s += hidden[o + c] * w[c];
    values[n] = s;
  }
}

/** dhidden += dvalues w, dw += dvalues^T hidden, db += sum dvalues (dw/db null when frozen). */
export function valueHeadBackward(
  dhidden: Float32Array, // (N,C)
  dw: Float32Array | null, // (1,C)
  db: Float32Array | null, // (1)
  dvalues: Float32Array, // (N)
  hidden: Float32Array, // (N,C)
  w: Float32Array, // (1,C)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const d = dvalues[n];
    if (d === 0) continue;
    const o = n * C;
    for (let c = 0; c < C; c++) {
      dhidden[o + c] += d * w[c];
      if (dw !== null) dw[c] += d * hidden[o + c];
    }
    if (db !== null) db[0] += d;
  }
}

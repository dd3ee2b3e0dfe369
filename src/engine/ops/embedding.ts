/** Token embedding lookup: forward gathers rows of the table, backward scatters gradients back into them. */

/** out[n, :] = wte[inp[n], :]. Throws on an id outside the vocabulary (a silent out-of-range read would give NaNs). */
export function embeddingForward(
  out: Float32Array, // (N,C)
  inp: Int32Array, // (N) token ids
  wte: Float32Array, // (V,C)
  N: number,
  C: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const id = inp[n];
    if (id < 0 || id >= V) throw new RangeError(`embedding: token id ${id} at position ${n} is outside [0, ${V})`);
    out.set(wte.subarray(id * C, id * C + C), n * C);
  }
}

/** dwte[inp[n], :] += dout[n, :]. */
export function embeddingBackward(
  dwte: Float32Array, // (V,C)
  dout: Float32Array, // (N,C)
  inp: Int32Array, // (N)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const w0 = inp[n] * C;
    const d0 = n * C;
    for (let c = 0; c < C; c++) dwte[w0 + c] += dout[d0 + c];
  }
}

/** PPO's advantage estimation: generalised advantage estimation (GAE) over one response, and batch whitening. */

/**
 * GAE over one response of length L (L >= 1), token-level rewards and value estimates, written into `adv` and `ret`.
 * `values[t]` estimates the return from the state that emits token t; the state after the last token is terminal,
 * so V(L) = 0. delta_t = r_t + gamma V(t+1) - V(t); A_t = delta_t + gamma lam A_{t+1}; returns R_t = A_t + V(t).
 * With a single token this is A = r - V, R = r.
 */
export function gae(
  adv: Float32Array, // (L)
  ret: Float32Array, // (L)
  rewards: ArrayLike<number>, // (L)
  values: ArrayLike<number>, // (L)
  gamma: number,
  lam: number,
): void {
  const L = rewards.length;
  let next = 0; // A_{t+1}
  for (let t = L - 1; t >= 0; t--) {
    const vNext = t + 1 < L ? values[t + 1] : 0;
    const delta = rewards[t] + gamma * vNext - values[t];
    next = delta + gamma * lam * next;
    adv[t] = next;
    ret[t] = next + values[t];
  }
}

/** Mean and population standard deviation of `xs` (in float64). */
export function meanStd(xs: ArrayLike<number>): { mean: number; std: number } {
  const n = xs.length;
  if (n === 0) return { mean: 0, std: 0 };
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i] - mean) * (xs[i] - mean);
  return { mean, std: Math.sqrt(v / n) };
}

/**
 * Whitens in place to zero mean and unit (population) variance: x <- (x - mean) / sqrt(var + eps).
 * With `shiftMean` false the mean is added back (TRL does this for rewards so their sign survives).
 * A batch of identical values becomes all zeros (nothing to learn from), not NaN.
 */
export function whiten(xs: Float32Array | number[], shiftMean = true, eps = 1e-8): void {
  const { mean, std } = meanStd(xs);
  const inv = 1 / Math.sqrt(std * std + eps);
  for (let i = 0; i < xs.length; i++) xs[i] = (xs[i] - mean) * inv + (shiftMean ? 0 : mean);
}

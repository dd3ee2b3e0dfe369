/**
 * Per-token math on one row of logits at a sampling temperature: log-softmax, entropy, KL to a reference, and the
 * gradient of any weighted sum of (log-prob of the taken token, entropy, KL) with respect to the raw logits.
 * All three PPO/SFT loss terms reduce to this, so it is the one place gradient-checked against finite differences.
 *
 * With s = z / tau and p = softmax(s) (derivations in the comments of `accumulateRowGrad`):
 *   d logp[a] / ds_k = [k = a] - p_k
 *   d H / ds_k       = -p_k (logp_k + H)                 H  = -sum p log p
 *   d KL / ds_k      = p_k (logp_k - logq_k - KL)         KL = sum p (log p - log q), q fixed
 *   d / dz_k         = (d / ds_k) / tau
 */

/** logp[k] = z[off + k] / tau - logsumexp(z[off..] / tau), in float64. */
export function logSoftmaxRow(
  logp: Float64Array, // (V) out
  z: Float32Array, // logits, row starts at zOff
  zOff: number,
  V: number,
  invTemp: number,
): void {
  let max = -Infinity;
  for (let k = 0; k < V; k++) {
    const s = z[zOff + k] * invTemp;
    logp[k] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let k = 0; k < V; k++) sum += Math.exp(logp[k] - max);
  const lse = max + Math.log(sum);
  for (let k = 0; k < V; k++) logp[k] -= lse;
}

/** Entropy -sum p log p of a log-probability row. */
export function entropyRow(logp: Float64Array, V: number): number {
  let h = 0;
  for (let k = 0; k < V; k++) {
    const lp = logp[k];
    if (lp > -Infinity) h -= Math.exp(lp) * lp;
  }
  return h;
}

/** KL(p || q) = sum p (log p - log q) for two log-probability rows. */
export function klRow(logp: Float64Array, logq: ArrayLike<number>, qOff: number, V: number): number {
  let kl = 0;
  for (let k = 0; k < V; k++) {
    const lp = logp[k];
    if (lp > -Infinity) kl += Math.exp(lp) * (lp - logq[qOff + k]);
  }
  return kl;
}

/** Coefficients of one token's loss L = cLogp * logp[a] + cEnt * H + cKl * KL (any may be 0). */
export interface RowLossTerms {
  /** Index of the taken token a. */
  token: number;
  cLogp: number;
  cEnt: number;
  /** Entropy of the row (from `entropyRow`), needed when cEnt != 0. */
  entropy: number;
  cKl: number;
  /** Reference log-probs row (logq) and the row's KL, needed when cKl != 0. */
  refLogp?: ArrayLike<number>;
  refOff?: number;
  kl?: number;
}

/**
 * Adds dL/dz for one row into dz[dzOff .. dzOff + V).
 * Why these forms: with p_i = softmax(s)_i, dp_i/ds_k = p_i ([i = k] - p_k). Then
 *   dH/ds_k  = -sum_i p_i([i=k]-p_k)(log p_i + 1) = -p_k (log p_k + 1) + p_k (1 - H) = -p_k (log p_k + H),
 *   dKL/ds_k = sum_i p_i([i=k]-p_k)(log p_i - log q_i + 1) = p_k (log p_k - log q_k - KL),
 * and the constant "+1" terms cancel because sum_i dp_i/ds_k = 0.
 */
export function accumulateRowGrad(
  dz: Float32Array, // dLogits, row starts at dzOff
  dzOff: number,
  logp: Float64Array, // (V) from logSoftmaxRow
  V: number,
  invTemp: number,
  t: RowLossTerms,
): void {
  const { token, cLogp, cEnt, cKl } = t;
  const H = t.entropy;
  const kl = t.kl ?? 0;
  const q = t.refLogp;
  const qOff = t.refOff ?? 0;
  for (let k = 0; k < V; k++) {
    const p = Math.exp(logp[k]);
    let g = cLogp * ((k === token ? 1 : 0) - p);
    if (cEnt !== 0) g += cEnt * -p * (logp[k] + H);
    if (cKl !== 0 && q) g += cKl * p * (logp[k] - q[qOff + k] - kl);
    dz[dzOff + k] += g * invTemp;
  }
}

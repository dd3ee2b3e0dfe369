/**
 * Next-token distribution quantities for sampling and PPO: log-softmax, the log-prob of a chosen token and the
 * entropy, each with its backward wrt the logits.
 */

import { fastExp } from "./fast-exp.js";

/** max over row[o .. o + V). */
function rowMax(row: Float32Array, o: number, V: number): number {
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (row[o + j] > max) max = row[o + j];
  return max;
}

/** sum of exp(row[o + j] - max), j = 0 .. V-1, in order: the softmax denominator every function here shares. */
function sumExpShifted(row: Float32Array, o: number, V: number, max: number): number {
  let sum = 0;
  for (let j = 0; j < V; j++) sum += fastExp(row[o + j] - max);
  return sum;
}

/** out[n, :] = log softmax(logits[n, :]). out may alias logits. */
export function logSoftmaxForward(
  out: Float32Array, // (N,V)
  logits: Float32Array, // (N,V)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const max = rowMax(logits, o, V);
    const sum = sumExpShifted(logits, o, V, max);
    const lse = max + Math.log(sum);
    for (let j = 0; j < V; j++) out[o + j] = logits[o + j] - lse;
  }
}

/** out[n] = log p(targets[n]) under softmax(logits[n]); rows with targets[n] < 0 give 0. */
export function tokenLogprobForward(
  out: Float32Array, // (N)
  logits: Float32Array, // (N,V)
  targets: Int32Array, // (N)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const tgt = targets[n];
    if (tgt < 0) {
      out[n] = 0;
      continue;
    }
    const o = n * V;
    const max = rowMax(logits, o, V);
    const sum = sumExpShifted(logits, o, V, max);
    out[n] = logits[o + tgt] - max - Math.log(sum);
  }
}

/** dlogits[n, j] += dout[n] * (onehot(targets[n])_j - p_j). */
export function tokenLogprobBackward(
  dlogits: Float32Array, // (N,V)
  dout: Float32Array, // (N)
  logits: Float32Array, // (N,V)
  targets: Int32Array, // (N)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const tgt = targets[n];
    const d = dout[n];
    if (tgt < 0 || d === 0) continue;
    const o = n * V;
    const max = rowMax(logits, o, V);
    const sum = sumExpShifted(logits, o, V, max);
    const inv = 1 / sum;
    for (let j = 0; j < V; j++) dlogits[o + j] -= d * fastExp(logits[o + j] - max) * inv;
    dlogits[o + tgt] += d;
  }
}

/** out[n] = -sum_j p_j log p_j of softmax(logits[n]) (nats). */
export function entropyForward(
  out: Float32Array, // (N)
  logits: Float32Array, // (N,V)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const max = rowMax(logits, o, V);
    let sum = 0;
    let sz = 0; // sum e^(z-max) * (z-max)
    for (let j = 0; j < V; j++) {
      const z = logits[o + j] - max;
      const e = fastExp(z);
      sum += e;
      sz += e * z;
    }
    // H = log(sum) - E[z - max]
    out[n] = Math.log(sum) - sz / sum;
  }
}

/** dlogits[n, j] += dout[n] * dH/dz_j, with dH/dz_j = -p_j (log p_j + H). */
export function entropyBackward(
  dlogits: Float32Array, // (N,V)
  dout: Float32Array, // (N)
  logits: Float32Array, // (N,V)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const d = dout[n];
    if (d === 0) continue;
    const o = n * V;
    const max = rowMax(logits, o, V);
    let sum = 0;
    let sz = 0;
    for (let j = 0; j < V; j++) {
      const z = logits[o + j] - max;
      const e = fastExp(z);
      sum += e;
      sz += e * z;
    }
    const lse = Math.log(sum);
    const H = lse - sz / sum;
    for (let j = 0; j < V; j++) {
      const lp = logits[o + j] - max - lse;
      dlogits[o + j] -= d * fastExp(lp) * (lp + H);
    }
  }
}

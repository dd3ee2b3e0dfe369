/**
 * Causal multi-head attention with grouped KV heads (query head h reads KV head floor(h / (H / KVH)), as HF repeat_kv).
 * Training form (full sequences, probabilities saved for backward) and a KV-cache form (each batch row at its own
 * offset) share the softmax; every matrix product goes through gemm on strided views of (B,T,heads,hd) buffers.
 */

import { fastExp } from "./fast-exp.js";
import { getGemm } from "../gemm.js";

/** In-place causal softmax of one (rows, L) score block: row t sees keys 0..off+t; later keys get probability 0. */
function causalSoftmaxRows(s: Float32Array, rows: number, L: number, off: number): void {
  for (let t = 0; t < rows; t++) {
    const o = t * L;
    const last = Math.min(off + t, L - 1);
    let max = -Infinity;
    for (let j = 0; j <= last; j++) if (s[o + j] > max) max = s[o + j];
    let sum = 0;
    for (let j = 0; j <= last; j++) {
      const e = fastExp(s[o + j] - max);
      s[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j <= last; j++) s[o + j] *= inv;
    for (let j = last + 1; j < L; j++) s[o + j] = 0;
  }
}

/** Training forward; saves probabilities att (B,H,T,T) (zeros above the diagonal). */
export function attentionForward(
  out: Float32Array, // (B,T,H,hd)
  att: Float32Array, // (B,H,T,T)
  q: Float32Array, // (B,T,H,hd)
  k: Float32Array, // (B,T,KVH,hd)
  v: Float32Array, // (B,T,KVH,hd)
  B: number,
  T: number,
  H: number,
  KVH: number,
  hd: number,
): void {
  const g = getGemm();
  const rep = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const qs = H * hd; // row stride of q / out
  const ks = KVH * hd; // row stride of k / v
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / rep);
      const qv = q.subarray(b * T * qs + h * hd);
      const kv = k.subarray(b * T * ks + kvh * hd);
      const vv = v.subarray(b * T * ks + kvh * hd);
      const a = att.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
      g.sgemm(false, true, T, T, hd, scale, qv, qs, kv, ks, 0, a, T);
      causalSoftmaxRows(a, T, T, 0);
      g.sgemm(false, false, T, hd, T, 1, a, T, vv, ks, 0, out.subarray(b * T * qs + h * hd), qs);
    }
}

/**
 * Adds into dq, dk, dv. With P the saved probabilities and S the scaled scores:
 * dP = dout V^T, dS = P * (dP - rowsum(P * dP)), dq += scale dS K, dk += scale dS^T q, dv += P^T dout.
 */
export function attentionBackward(
  dq: Float32Array, // (B,T,H,hd)
  dk: Float32Array, // (B,T,KVH,hd)
  dv: Float32Array, // (B,T,KVH,hd)
  scratch: Float32Array, // (T,T) overwritten
  dout: Float32Array, // (B,T,H,hd)
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  att: Float32Array, // (B,H,T,T)
  B: number,
  T: number,
  H: number,
  KVH: number,
  hd: number,
): void {
  const g = getGemm();
  const rep = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const qs = H * hd;
  const ks = KVH * hd;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / rep);
      const qo = b * T * qs + h * hd;
      const ko = b * T * ks + kvh * hd;
      const doutv = dout.subarray(qo);
      const p = att.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
      // dv += P^T dout ; dP = dout V^T
      g.sgemm(true, false, T, hd, T, 1, p, T, doutv, qs, 1, dv.subarray(ko), ks);
      g.sgemm(false, true, T, T, hd, 1, doutv, qs, v.subarray(ko), ks, 0, scratch, T);
      for (let t = 0; t < T; t++) {
        const o = t * T;
        let dot = 0;
        for (let j = 0; j <= t; j++) dot += p[o + j] * scratch[o + j];
        for (let j = 0; j <= t; j++) scratch[o + j] = p[o + j] * (scratch[o + j] - dot);
        for (let j = t + 1; j < T; j++) scratch[o + j] = 0;
      }
      g.sgemm(false, false, T, hd, T, scale, scratch, T, k.subarray(ko), ks, 1, dq.subarray(qo), qs);
      g.sgemm(true, false, T, hd, T, scale, scratch, T, q.subarray(qo), qs, 1, dk.subarray(ko), ks);
    }
}

/**
 * Inference forward against a KV cache: batch row b holds T new queries at positions start[b]..start[b]+T-1 whose
 * keys/values are already written into cache row rows[b] (b when rows is null); they attend to that row's positions
 * 0..start[b]+t. No backward.
 */
export function attentionCachedForward(
  out: Float32Array, // (B,T,H,hd)
  scores: Float32Array, // (T, S) scratch
  q: Float32Array, // (B,T,H,hd)
  kCache: Float32Array, // (B,S,KVH,hd)
  vCache: Float32Array, // (B,S,KVH,hd)
  start: Int32Array, // (B)
  rows: Int32Array | null, // (B) cache row of each batch row
  B: number,
  T: number,
  S: number, // cache capacity per row
  H: number,
  KVH: number,
  hd: number,
): void {
  if (T === 1) {
    attentionDecodeForward(out, scores, q, kCache, vCache, start, rows, B, S, H, KVH, hd);
    return;
  }
  const g = getGemm();
  const rep = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const qs = H * hd;
  const ks = KVH * hd;
  for (let b = 0; b < B; b++) {
    const L = start[b] + T;
    const sc = scores.subarray(0, T * L);
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / rep);
      const co = (rows === null ? b : rows[b]) * S * ks + kvh * hd;
      g.sgemm(false, true, T, L, hd, scale, q.subarray(b * T * qs + h * hd), qs, kCache.subarray(co), ks, 0, sc, L);
      causalSoftmaxRows(sc, T, L, start[b]);
      g.sgemm(false, false, T, hd, L, 1, sc, L, vCache.subarray(co), ks, 0, out.subarray(b * T * qs + h * hd), qs);
    }
  }
}

/**
 * One query per row (a decode step): scores and the weighted sum over the cache are vector-matrix products of about
 * L*hd multiply-adds per head, smaller than the cost of one FFI gemm call, so they run as plain loops here (the
 * prefill and training paths, with T queries per head, use gemm).
 */
function attentionDecodeForward(
  out: Float32Array, // (B,H,hd)
  scores: Float32Array, // (S) scratch
  q: Float32Array, // (B,H,hd)
  kCache: Float32Array, // (rows,S,KVH,hd)
  vCache: Float32Array, // (rows,S,KVH,hd)
  start: Int32Array, // (B)
  rows: Int32Array | null, // (B)
  B: number,
  S: number,
  H: number,
  KVH: number,
  hd: number,
): void {
  const rep = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const ks = KVH * hd;
  for (let b = 0; b < B; b++) {
    const L = start[b] + 1;
    const base = (rows === null ? b : rows[b]) * S * ks;
    for (let h = 0; h < H; h++) {
      const qo = (b * H + h) * hd;
      const co = base + Math.floor(h / rep) * hd;
      let max = -Infinity;
      for (let j = 0; j < L; j++) {
        const ko = co + j * ks;
        let s = 0;
        for (let i = 0; i < hd; i++) s += q[qo + i] * kCache[ko + i];
        s *= scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < L; j++) {
        const e = fastExp(scores[j] - max);
        scores[j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let i = 0; i < hd; i++) out[qo + i] = 0;
      for (let j = 0; j < L; j++) {
        const p = scores[j] * inv;
        const vo = co + j * ks;
        for (let i = 0; i < hd; i++) out[qo + i] += p * vCache[vo + i];
      }
    }
  }
}

/**
 * Causal multi-head attention with grouped KV heads (query head h reads KV head floor(h / (H / KVH)), as HF repeat_kv).
 * Training form (full sequences, probabilities saved for backward) and a KV-cache form (each batch row at its own
 * offset) share the softmax; every matrix product goes through gemm on strided views of (B,T,heads,hd) buffers.
 */

import { simdFor } from "../wasm/arena.js";
import { fastExp } from "./fast-exp.js";
import { getGemm } from "../gemm/index.js";
import { decodeArenaFor } from "../wasm/decode-arena.js";
import { nativeOps, type NativeOps } from "./native-ops.js";

/**
 * In-place causal softmax of one (rows, L) score block starting at s[s0]: row t sees keys 0..off+t; later keys get
 * probability 0. The exps take four keys per iteration with four partial sums (independent chains, V8's
 * per-iteration checks paid once per four); each exp is the same as one at a time.
 */
function causalSoftmaxRows(s: Float32Array, s0: number, rows: number, L: number, off: number): void {
  if (L % 4 === 0) {
    // wasm SIMD in place when s lives in an arena (the training activations do)
    const h = simdFor(s);
    if (h !== null) {
      const native = nativeOps();
      if (native === null) return h.k.softmaxCausal(s.byteOffset + 4 * s0, rows, L, off);
      oneOffset[0] = s0;
      return native.softmaxCausalF32(s, oneOffset, 1, rows, L, off); // the kernel's arithmetic in C
    }
  }
  const native = nativeOps();
  if (native === null) return causalSoftmaxRowsJs(s, s0, rows, L, off, null);
  oneOffset[0] = s0;
  causalSoftmaxBlocks(native, s, oneOffset, 1, rows, L, off);
}

const oneOffset = new Int32Array(1);
let rowFlags = new Uint8Array(64);

/**
 * causalSoftmaxRows on `count` (rows, L) blocks at offs, with its arithmetic (the wasm kernel's float32 on an arena
 * when L % 4 = 0, else the loop's float64), in one native call where the library is.
 */
function softmaxBlocks(s: Float32Array, offs: Int32Array, count: number, rows: number, L: number, off: number): void {
  const native = nativeOps();
  if (native === null) {
    for (let i = 0; i < count; i++) causalSoftmaxRows(s, offs[i], rows, L, off);
    return;
  }
  if (L % 4 === 0 && simdFor(s) !== null) native.softmaxCausalF32(s, offs, count, rows, L, off);
  else causalSoftmaxBlocks(native, s, offs, count, rows, L, off);
}

/**
 * causalSoftmaxRows on `count` blocks at once in C (one call for every head of a batch); rows it leaves (an exp past
 * fastExp's table: Math.exp's bits are V8's) are done here.
 */
function causalSoftmaxBlocks(
  native: NativeOps,
  s: Float32Array,
  offs: Int32Array,
  count: number,
  rows: number,
  L: number,
  off: number,
): void {
  if (rowFlags.length < count * rows) rowFlags = new Uint8Array(count * rows);
  if (native.softmaxCausal(s, offs, count, rows, L, off, rowFlags) === 0) return;
  for (let b = 0; b < count; b++)
    causalSoftmaxRowsJs(s, offs[b], rows, L, off, rowFlags.subarray(b * rows, (b + 1) * rows));
}

/** causalSoftmaxRows' JavaScript loop (the reference of native-ops.c's), on every row or those with done[t] = 0. */
export function causalSoftmaxRowsJs(
  s: Float32Array,
  s0: number,
  rows: number,
  L: number,
  off: number,
  done: Uint8Array | null,
): void {
  for (let t = 0; t < rows; t++) {
    if (done !== null && done[t] === 1) continue;
    const o = s0 + t * L;
    const n = Math.min(off + t, L - 1) + 1; // keys seen by this row
    const n4 = n - (n % 4);
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (s[o + j] > max) max = s[o + j];
    let j = 0;
    let z0 = 0,
      z1 = 0,
      z2 = 0,
      z3 = 0;
    for (; j < n4; j += 4) {
      const e0 = fastExp(s[o + j] - max),
        e1 = fastExp(s[o + j + 1] - max),
        e2 = fastExp(s[o + j + 2] - max),
        e3 = fastExp(s[o + j + 3] - max);
      s[o + j] = e0;
      s[o + j + 1] = e1;
      s[o + j + 2] = e2;
      s[o + j + 3] = e3;
      z0 += e0;
      z1 += e1;
      z2 += e2;
      z3 += e3;
    }
    for (; j < n; j++) {
      const e = fastExp(s[o + j] - max);
      s[o + j] = e;
      z0 += e;
    }
    const inv = 1 / (z0 + z1 + (z2 + z3));
    for (j = 0; j < n; j++) s[o + j] *= inv;
    for (; j < L; j++) s[o + j] = 0;
  }
}

/**
 * Offsets of each (batch row, head) matrix for the batched products: q/out (B,T,H,hd), k/v (B,T,KVH,hd) (query
 * head h reads KV head floor(h / rep)), probabilities (B,H,T,T), and the (H,T,T) per-row scratch of backward.
 */
function headOffsets(B: number, T: number, H: number, KVH: number, hd: number) {
  const rep = H / KVH;
  const n = B * H;
  const q = new Int32Array(n),
    kv = new Int32Array(n),
    att = new Int32Array(n),
    scratch = new Int32Array(n);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const i = b * H + h;
      q[i] = b * T * H * hd + h * hd;
      kv[i] = b * T * KVH * hd + Math.floor(h / rep) * hd;
      att[i] = i * T * T;
      scratch[i] = h * T * T;
    }
  return { q, kv, att, scratch };
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
  const scale = 1 / Math.sqrt(hd);
  const qs = H * hd; // row stride of q / out
  const ks = KVH * hd; // row stride of k / v
  const o = headOffsets(B, T, H, KVH, hd);
  // every head's scores, softmax, then every head's weighted values: per head the same products as one at a time
  g.sgemmBatchAt(B * H, false, true, T, T, hd, scale, q, o.q, qs, k, o.kv, ks, 0, att, o.att, T);
  softmaxBlocks(att, o.att, B * H, T, T, 0);
  g.sgemmBatchAt(B * H, false, false, T, hd, T, 1, att, o.att, T, v, o.kv, ks, 0, out, o.q, qs);
}

/**
 * Adds into dq, dk, dv. With P the saved probabilities and S the scaled scores:
 * dP = dout V^T, dS = P * (dP - rowsum(P * dP)), dq += scale dS K, dk += scale dS^T q, dv += P^T dout.
 * One batch row's heads at a time (scratch holds their dP / dS); heads sharing a KV head add into dk and dv in head
 * order, as a loop over heads would.
 */
export function attentionBackward(
  dq: Float32Array, // (B,T,H,hd)
  dk: Float32Array, // (B,T,KVH,hd)
  dv: Float32Array, // (B,T,KVH,hd)
  scratch: Float32Array, // (H,T,T) overwritten
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
  const scale = 1 / Math.sqrt(hd);
  const qs = H * hd;
  const ks = KVH * hd;
  const o = headOffsets(B, T, H, KVH, hd);
  for (let b = 0; b < B; b++) {
    const at = (x: Int32Array) => x.subarray(b * H, (b + 1) * H);
    const [qo, ko, po, so] = [at(o.q), at(o.kv), at(o.att), at(o.scratch)];
    // dv += P^T dout ; dP = dout V^T
    g.sgemmBatchAt(H, true, false, T, hd, T, 1, att, po, T, dout, qo, qs, 1, dv, ko, ks);
    g.sgemmBatchAt(H, false, true, T, T, hd, 1, dout, qo, qs, v, ko, ks, 0, scratch, so, T);
    const native = nativeOps();
    if (native !== null) native.softmaxCausalBwd(scratch, so, att, po, H, T);
    else softmaxCausalBwdJs(scratch, so, att, po, H, T);
    g.sgemmBatchAt(H, false, false, T, hd, T, scale, scratch, so, T, k, ko, ks, 1, dq, qo, qs);
    g.sgemmBatchAt(H, true, false, T, hd, T, scale, scratch, so, T, q, qo, qs, 1, dk, ko, ks);
  }
}

/** Attention backward's softmax step, dS = P * (dP - rowsum(P * dP)), in JavaScript (native-ops.c's reference). */
export function softmaxCausalBwdJs(
  scratch: Float32Array,
  so: Int32Array,
  att: Float32Array,
  po: Int32Array,
  H: number,
  T: number,
): void {
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++) {
      const o = so[h] + t * T;
      const pr = po[h] + t * T;
      let dot = 0;
      for (let j = 0; j <= t; j++) dot += att[pr + j] * scratch[o + j];
      for (let j = 0; j <= t; j++) scratch[o + j] = att[pr + j] * (scratch[o + j] - dot);
      for (let j = t + 1; j < T; j++) scratch[o + j] = 0;
    }
}

let prefill = { q: new Int32Array(0), kv: new Int32Array(0), s: new Int32Array(0) };

/**
 * Inference forward against a KV cache: batch row b holds T new queries at positions start[b]..start[b]+T-1 whose
 * keys/values are already written into cache row rows[b] (b when rows is null); they attend to that row's positions
 * 0..start[b]+t. No backward.
 */
export function attentionCachedForward(
  out: Float32Array, // (B,T,H,hd)
  scores: Float32Array, // (H, T, S) scratch
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
  const g = getGemm();
  const rep = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const qs = H * hd;
  const ks = KVH * hd;
  // a decode step on a cache in a decode arena: the wasm kernel computes the loop path's bits in place there; the
  // queries go in and the outputs come out through the arena's scratch, one copy per layer
  const arena = T === 1 && hd % 4 === 0 ? decodeArenaFor(kCache, vCache) : null;
  const dec = arena?.decode ?? null;
  const useDec = dec !== null && B * qs <= dec.q.length;
  const qq = useDec ? dec.q : q;
  const oo = useDec ? dec.out : out;
  const kern = useDec ? arena!.attnKernels(hd) : null;
  if (useDec) qq.set(q.subarray(0, B * qs));
  for (let b = 0; b < B; b++) {
    const L = start[b] + T;
    const cacheRow = rows === null ? b : rows[b];
    if (T === 1 && L * hd <= DECODE_LOOP_MAX) {
      const co = 4 * cacheRow * S * ks;
      const fast =
        useDec &&
        kern!.attnDecode(
          qq.byteOffset + 4 * b * qs,
          oo.byteOffset + 4 * b * qs,
          kCache.byteOffset + co,
          vCache.byteOffset + co,
          L,
          H,
          rep,
          4 * ks,
          scale,
          dec.p,
          arena!.tab,
        ) === 0;
      // the kernel declines (returns 1) when an exp argument leaves fastExp's table range: the loops redo the row
      if (!fast) attentionDecodeRow(oo, scores, qq, kCache, vCache, b, cacheRow, L, S, H, KVH, hd);
      continue;
    }
    // every head's scores, softmax and weighted values in three calls (per head the same products as one at a time)
    if (prefill.q.length < H) prefill = { q: new Int32Array(H), kv: new Int32Array(H), s: new Int32Array(H) };
    const [qo, co, so] = [prefill.q.subarray(0, H), prefill.kv.subarray(0, H), prefill.s.subarray(0, H)];
    for (let h = 0; h < H; h++) {
      co[h] = cacheRow * S * ks + Math.floor(h / rep) * hd;
      qo[h] = b * T * qs + h * hd;
      so[h] = h * T * L;
    }
    g.sgemmBatchAt(H, false, true, T, L, hd, scale, qq, qo, qs, kCache, co, ks, 0, scores, so, L);
    softmaxBlocks(scores, so, H, T, L, start[b]);
    g.sgemmBatchAt(H, false, false, T, hd, L, 1, scores, so, L, vCache, co, ks, 0, oo, qo, qs);
  }
  if (useDec) out.set(oo.subarray(0, B * qs));
}

/**
 * Largest L*hd (keys x head width) for which a decode step's head runs as plain loops. Measured here: the loops cost
 * about 1.3 ns per L*hd, two FFI gemm calls and the softmax about 2.5 us, so they break even near L*hd = 2000
 * (the embedded models, hd 16 and L <= 64, stay on loops; a d384 model with hd 64 moves to gemm past 32 keys).
 */
const DECODE_LOOP_MAX = 2048;

/**
 * One query of batch row b (a decode step) against its cache row: scores and the weighted sum over the cache are
 * vector-matrix products of L*hd multiply-adds per head, below the cost of an FFI gemm call for small L*hd (see
 * DECODE_LOOP_MAX). Both loops work on 4 head dimensions at a time with independent running sums in registers (hd % 4
 * leftovers after): the score dot products are not one serial chain of adds, and each output element is stored once
 * instead of once per key (~1.85x faster than the plain loops).
 */
export function attentionDecodeRow(
  out: Float32Array, // (B,H,hd)
  scores: Float32Array, // (S) scratch
  q: Float32Array, // (B,H,hd)
  kCache: Float32Array, // (rows,S,KVH,hd)
  vCache: Float32Array, // (rows,S,KVH,hd)
  b: number, // batch row
  cacheRow: number,
  L: number, // keys: positions 0..L-1
  S: number,
  H: number,
  KVH: number,
  hd: number,
): void {
  const rep = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const ks = KVH * hd;
  const hd4 = hd - (hd % 4);
  const base = cacheRow * S * ks;
  for (let h = 0; h < H; h++) {
    const qo = (b * H + h) * hd;
    const co = base + Math.floor(h / rep) * hd;
    // scores[j] = q . k_j * scale
    let max = -Infinity;
    for (let j = 0; j < L; j++) {
      const ko = co + j * ks;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      let i = 0;
      for (; i < hd4; i += 4) {
        s0 += q[qo + i] * kCache[ko + i];
        s1 += q[qo + i + 1] * kCache[ko + i + 1];
        s2 += q[qo + i + 2] * kCache[ko + i + 2];
        s3 += q[qo + i + 3] * kCache[ko + i + 3];
      }
      for (; i < hd; i++) s0 += q[qo + i] * kCache[ko + i];
      const s = (s0 + s1 + (s2 + s3)) * scale;
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
    // out = sum_j p_j v_j, four output dimensions per pass over the keys
    let i = 0;
    for (; i < hd4; i += 4) {
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0;
      for (let j = 0, vo = co + i; j < L; j++, vo += ks) {
        const p = scores[j];
        a0 += p * vCache[vo];
        a1 += p * vCache[vo + 1];
        a2 += p * vCache[vo + 2];
        a3 += p * vCache[vo + 3];
      }
      out[qo + i] = a0 * inv;
      out[qo + i + 1] = a1 * inv;
      out[qo + i + 2] = a2 * inv;
      out[qo + i + 3] = a3 * inv;
    }
    for (; i < hd; i++) {
      let a = 0;
      for (let j = 0, vo = co + i; j < L; j++, vo += ks) a += scores[j] * vCache[vo];
      out[qo + i] = a * inv;
    }
  }
}

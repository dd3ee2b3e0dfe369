/** Key/value cache for incremental decoding: per layer, (B, S, KVH*hd) post-RoPE keys and values. */

import { inDecodeArena } from "./wasm/decode-arena.js";

/**
 * A cache for B sequences of up to S positions each; row b's position p lives at offset (b*S + p) * kvDim. With
 * WebAssembly SIMD (and MST_SIMD not 0) the layers live in a decode arena, beside scratch for a decode step's
 * queries of qDim floats per row, so the decode attention runs in wasm on them in place.
 */
export class KvCache {
  readonly B: number;
  readonly S: number;
  readonly kvDim: number;
  readonly k: Float32Array[]; // per layer (B,S,kvDim)
  readonly v: Float32Array[]; // per layer (B,S,kvDim)

  constructor(nLayers: number, B: number, S: number, kvDim: number, qDim = kvDim) {
    this.B = B;
    this.S = S;
    this.kvDim = kvDim;
    const n = B * S * kvDim;
    const layers = inDecodeArena(({ f32, f64Bytes, arena }) => {
      const k: Float32Array[] = [];
      const v: Float32Array[] = [];
      for (let l = 0; l < nLayers; l++) {
        k.push(f32(n));
        v.push(f32(n));
      }
      const q = f32(B * qDim);
      const out = f32(B * qDim);
      const p = f64Bytes(S + 1);
      if (arena !== null) arena.decode = { q, out, p };
      return { k, v };
    });
    this.k = layers.k;
    this.v = layers.v;
  }

  /**
   * Copies T new positions per sequence (k/v are (B,T,kvDim)) into positions start[b]..start[b]+T-1 of layer l,
   * cache row rows[b] (b when rows is null).
   */
  write(
    l: number,
    k: Float32Array,
    v: Float32Array,
    start: Int32Array,
    rows: Int32Array | null,
    B: number,
    T: number,
  ): void {
    const d = this.kvDim;
    for (let b = 0; b < B; b++) {
      if (start[b] + T > this.S)
        throw new RangeError(`KvCache: row ${b} needs ${start[b] + T} positions, capacity is ${this.S}`);
      const src = b * T * d;
      const row = rows === null ? b : rows[b];
      if (row >= this.B) throw new RangeError(`KvCache: row ${row} is outside the cache's ${this.B} rows`);
      const dst = (row * this.S + start[b]) * d;
      this.k[l].set(k.subarray(src, src + T * d), dst);
      this.v[l].set(v.subarray(src, src + T * d), dst);
    }
  }
}

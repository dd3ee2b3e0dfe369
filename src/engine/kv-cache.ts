/** Key/value cache for incremental decoding: per layer, (B, S, KVH*hd) post-RoPE keys and values. */

import { DecodeArena, decodeArenaEnabled } from "./wasm/decode-arena.js";

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
    this.k = [];
    this.v = [];
    const n = B * S * kvDim;
    const arena = decodeArenaEnabled(2 * nLayers * n)
      ? new DecodeArena(new Array<number>(2 * nLayers).fill(n), B * qDim, S)
      : null;
    const f32 = arena === null ? (m: number) => new Float32Array(m) : (m: number) => arena.f32(m);
    for (let l = 0; l < nLayers; l++) {
      this.k.push(f32(n));
      this.v.push(f32(n));
    }
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

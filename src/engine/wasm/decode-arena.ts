/**
 * The wasm memory a KV cache lives in, so the float64 decode kernels (decode-kernels.ts) read keys and values in
 * place: fastExp's table, a decode step's query/output scratch (the model's activations are plain arrays, copied in
 * and out once per layer) and the cache's layers, sized once (the memory never grows). Ops find it from the cache's
 * arrays (`decodeFor`); plain arrays take the JavaScript loops. Off with MST_SIMD=0, as every arena.
 */

import { simdEnabled } from "./arena.js";
import { decodeModule, EXP_TABLE_BYTES, type DecodeKernels } from "./decode-kernels.js";
import { FAST_EXP } from "../ops/fast-exp.js";
import { wasm, type WasmMemory } from "./wasm-api.js";

/** What the decode path needs of the memory its cache arrays live in. */
export interface DecodeHandle {
  /** The kernels built for head width hd (a multiple of 4), bound to this memory. */
  kernels(hd: number): DecodeKernels;
  /** Byte address of fastExp's table. */
  tab: number;
  /** Query and output scratch of one decode step, (rows, H, hd). */
  q: Float32Array;
  out: Float32Array;
  /** Byte address of float64 scratch for one head's keys (the cache's S positions and one more). */
  p: number;
}

const byBuffer = new WeakMap<ArrayBufferLike, DecodeHandle>();

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * Largest cache (float32 elements over all layers) put in a decode arena: a wasm memory addresses at most 4 GiB, and
 * one that big is hard to reserve; bigger caches (long contexts of real checkpoints) stay plain arrays, whose decode
 * steps run the JavaScript loops with the same bits.
 */
export const DECODE_ARENA_MAX_FLOATS = 2 ** 28;

/** Whether a new KV cache of `floats` elements goes into a decode arena (wasm SIMD, MST_SIMD not 0, size). */
export function decodeArenaEnabled(floats: number): boolean {
  return floats <= DECODE_ARENA_MAX_FLOATS && simdEnabled() && decodeModule() !== null;
}

/** One memory: table, scratch for `qFloats` query floats and `keys` positions, then one `f32` view per cache size. */
export class DecodeArena {
  readonly memory: WasmMemory;
  private next: number;
  private readonly limit: number;

  constructor(cacheSizes: number[], qFloats: number, keys: number) {
    if (decodeModule() === null || wasm === undefined)
      throw new Error("DecodeArena: this runtime has no WebAssembly SIMD");
    const api = wasm;
    const qBytes = align16(qFloats * 4);
    const head = align16(EXP_TABLE_BYTES) + 2 * qBytes + align16((keys + 1) * 8);
    this.limit = cacheSizes.reduce((at, n) => at + align16(n * 4), head);
    const pages = Math.max(1, Math.ceil(this.limit / 65536));
    this.memory = new api.Memory({ initial: pages, maximum: pages });
    const memory = this.memory;
    const buf = this.memory.buffer;
    new Float64Array(buf, 0, FAST_EXP.POW2_32.length).set(FAST_EXP.POW2_32);
    let at = align16(EXP_TABLE_BYTES);
    const q = new Float32Array(buf, at, qFloats);
    at += qBytes;
    const out = new Float32Array(buf, at, qFloats);
    at += qBytes;
    const byHd = new Map<number, DecodeKernels>();
    const kernels = (hd: number) => {
      let k = byHd.get(hd);
      if (k === undefined) {
        const inst = new api.Instance(decodeModule(hd)!, { env: { memory } });
        byHd.set(hd, (k = inst.exports as unknown as DecodeKernels));
      }
      return k;
    };
    byBuffer.set(buf, { kernels, tab: 0, q, out, p: at });
    this.next = head;
  }

  /** A zero-filled float32 view of n elements, 16-byte aligned. */
  f32(n: number): Float32Array {
    const bytes = align16(n * 4);
    if (this.next + bytes > this.limit) throw new RangeError("DecodeArena: out of space");
    const a = new Float32Array(this.memory.buffer, this.next, n);
    this.next += bytes;
    return a;
  }
}

/** The decode kernels and scratch of the memory both arrays live in, or null (plain arrays, different memories). */
export function decodeFor(a: Float32Array, b: Float32Array): DecodeHandle | null {
  if (a.buffer !== b.buffer) return null;
  return byBuffer.get(a.buffer) ?? null;
}

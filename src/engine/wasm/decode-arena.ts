/**
 * Wasm memories for the KV-cache decode path (the cache, the inference activations), on which the float64 kernels
 * (decode-kernels.ts, exact-kernels.ts) run in place with the JavaScript loops' exact bits. One arena = one memory
 * sized once (it never grows), holding fastExp's table, a small scratch vector for per-call operands from elsewhere
 * (a norm weight), then the owner's views. Ops find the arena from their arrays' buffer (`decodeArenaFor`); plain
 * arrays, and the f32 training arenas (arena.ts), take their own paths. Off with MST_SIMD=0, as every arena.
 */

import { simdEnabled } from "./arena.js";
import { attnModule, type AttnKernels } from "./decode-kernels.js";
import { exactModule, type ExactKernels } from "./exact-kernels.js";
import { EXP_TABLE_BYTES } from "./f64-helpers.js";
import { FAST_EXP } from "../ops/fast-exp.js";
import { wasm, type WasmMemory } from "./wasm-api.js";

/** A decode step's query/output scratch in a KV cache's arena (the activations live in another memory). */
export interface DecodeScratch {
  /** (rows, H, hd) */
  q: Float32Array;
  out: Float32Array;
  /** Byte address of float64 scratch for one head's keys (the cache's S positions and one more). */
  p: number;
}

/** Floats of each arena's scratch vector (a norm weight of up to this width). */
export const EXACT_SCRATCH_FLOATS = 8192;

/**
 * Largest arena (bytes) built: a wasm memory addresses at most 4 GiB and one that big is hard to reserve; bigger
 * buffer sets (long contexts of real checkpoints) stay plain arrays, whose steps run the JavaScript loops with the
 * same bits.
 */
export const DECODE_ARENA_MAX_BYTES = 2 ** 30;

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;
const HEAD_BYTES = align16(EXP_TABLE_BYTES) + EXACT_SCRATCH_FLOATS * 4;

const byBuffer = new WeakMap<ArrayBufferLike, DecodeArena>();

/** Whether new decode buffer sets go into arenas (WebAssembly SIMD present, MST_SIMD not 0). */
export function decodeArenaEnabled(): boolean {
  return simdEnabled() && exactModule() !== null;
}

/** One fixed-size memory with fastExp's table at byte 0 and the exact kernels bound to it. */
export class DecodeArena {
  readonly memory: WasmMemory;
  /** Byte address of fastExp's table. */
  readonly tab = 0;
  /** Elementwise kernels (float64, JavaScript's bits). */
  readonly ew: ExactKernels;
  /** Scratch for per-call operands that live elsewhere. */
  readonly scratch: Float32Array;
  /** Set by a KV cache that lives here. */
  decode: DecodeScratch | null = null;
  private readonly attn = new Map<number, AttnKernels>();
  private next = HEAD_BYTES;
  private readonly limit: number;

  /** An arena with room for `bytes` of views (each rounded up to 16 bytes by the caller's count). */
  constructor(bytes: number) {
    const mod = exactModule();
    if (mod === null || wasm === undefined) throw new Error("DecodeArena: this runtime has no WebAssembly SIMD");
    this.limit = HEAD_BYTES + bytes;
    const pages = Math.max(1, Math.ceil(this.limit / 65536));
    this.memory = new wasm.Memory({ initial: pages, maximum: pages });
    new Float64Array(this.memory.buffer, this.tab, FAST_EXP.POW2_32.length).set(FAST_EXP.POW2_32);
    this.scratch = new Float32Array(this.memory.buffer, align16(EXP_TABLE_BYTES), EXACT_SCRATCH_FLOATS);
    this.ew = new wasm.Instance(mod, { env: { memory: this.memory } }).exports as unknown as ExactKernels;
    byBuffer.set(this.memory.buffer, this);
  }

  /** The decode attention kernels for head width hd (a multiple of 4), bound to this memory. */
  attnKernels(hd: number): AttnKernels {
    let k = this.attn.get(hd);
    if (k === undefined) {
      const inst = new wasm!.Instance(attnModule(hd)!, { env: { memory: this.memory } });
      this.attn.set(hd, (k = inst.exports as unknown as AttnKernels));
    }
    return k;
  }

  /** A zero-filled float32 view of n elements, 16-byte aligned. */
  f32(n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.take(n * 4), n);
  }

  /** Bytes for n float64 values, 16-byte aligned: the byte address. */
  f64Bytes(n: number): number {
    return this.take(n * 8);
  }

  private take(bytes: number): number {
    const at = this.next;
    if (at + align16(bytes) > this.limit) throw new RangeError("DecodeArena: out of space");
    this.next += align16(bytes);
    return at;
  }
}

/** The allocators a decode buffer set is built with: float32 views, and float64 scratch (a byte address, or -1). */
export interface DecodeAlloc {
  f32(n: number): Float32Array;
  f64Bytes(n: number): number;
  arena: DecodeArena | null;
}

/**
 * Runs `build` twice: once counting bytes, once allocating from an arena of exactly that size; or once with plain
 * arrays when arenas are off or the set is larger than DECODE_ARENA_MAX_BYTES. Returns the last result.
 */
export function inDecodeArena<R>(build: (a: DecodeAlloc) => R): R {
  const plain: DecodeAlloc = { f32: (n) => new Float32Array(n), f64Bytes: () => -1, arena: null };
  if (!decodeArenaEnabled()) return build(plain);
  let bytes = 0;
  build({
    f32: (n) => ((bytes += align16(n * 4)), new Float32Array(0)),
    f64Bytes: (n) => ((bytes += align16(n * 8)), -1),
    arena: null,
  });
  if (bytes > DECODE_ARENA_MAX_BYTES) return build(plain);
  const arena = new DecodeArena(bytes);
  return build({ f32: (n) => arena.f32(n), f64Bytes: (n) => arena.f64Bytes(n), arena });
}

/** The arena all of `arrays` live in, or null (plain arrays, or arrays of different memories). */
export function decodeArenaFor(...arrays: Float32Array[]): DecodeArena | null {
  const buf = arrays[0].buffer;
  for (let i = 1; i < arrays.length; i++) if (arrays[i].buffer !== buf) return null;
  return byBuffer.get(buf) ?? null;
}

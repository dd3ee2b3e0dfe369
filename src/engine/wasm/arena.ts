/**
 * Float32 buffers that live in a WebAssembly.Memory, so the SIMD kernels (simd-kernels.ts) run on them in place.
 * One arena = one memory sized once for a whole buffer set (it never grows: Memory.grow would detach every view) and
 * one kernel instance bound to it. Ops find the kernels from their arrays' shared ArrayBuffer (`simdFor`); arrays
 * that are plain, or from different arenas, take the JavaScript loops. Env `MST_SIMD=0` turns arenas off (A/B runs,
 * tests of the fallback): `f32Alloc` then returns plain Float32Arrays.
 * Where SharedArrayBuffer exists the memory is shared (and so growable without detaching its views): the wasm gemm
 * (gemm/wasm.ts) then computes products on arena buffers in place, staging only the operands from elsewhere in the
 * pages after the arena's own (`arenaOf`).
 */

import { type SimdKernels, simdModule } from "./simd-kernels.js";
import { wasm, type WasmMemory } from "./wasm-api.js";

/** An arena's kernels and its small scratch vector (for per-call operands that live elsewhere, e.g. a norm weight). */
export interface SimdHandle {
  k: SimdKernels;
  scratch: Float32Array;
}

/** Floats of each arena's scratch vector: two vectors of up to 4096 (a norm weight and its gradient). */
export const SCRATCH_FLOATS = 8192;

const byBuffer = new WeakMap<ArrayBufferLike, SimdHandle>();
/** An arena's memory and the end of its buffers (bytes), by the buffer its arrays view. */
const arenas = new WeakMap<ArrayBufferLike, { memory: WasmMemory; end: number }>();

/** The growable (shared) arena memory that `buf` belongs to, and the end of the arena's buffers; else undefined. */
export function arenaOf(buf: ArrayBufferLike): { memory: WasmMemory; end: number } | undefined {
  return arenas.get(buf);
}

/** Whether new buffer sets go into wasm arenas (SIMD available and not disabled with MST_SIMD=0). */
export function simdEnabled(): boolean {
  return process.env.MST_SIMD?.trim() !== "0" && simdModule() !== null;
}

/** A fixed-size wasm memory handing out 16-byte-aligned Float32Array views. */
export class WasmArena {
  readonly memory: WasmMemory;
  private next = 0;
  private readonly limit: number; // bytes asked for (the memory itself is rounded up to whole 64 KiB pages)

  constructor(floats: number) {
    const shared = typeof SharedArrayBuffer === "function" && simdModule(true) !== null;
    const mod = simdModule(shared);
    if (mod === null || wasm === undefined) throw new Error("WasmArena: this runtime has no WebAssembly SIMD");
    this.limit = Math.ceil(floats / 4) * 16 + SCRATCH_FLOATS * 4;
    const pages = Math.max(1, Math.ceil(this.limit / 65536));
    this.memory = shared
      ? new wasm.Memory({ initial: pages, maximum: 65536, shared: true })
      : new wasm.Memory({ initial: pages, maximum: pages });
    const inst = new wasm.Instance(mod, { env: { memory: this.memory } });
    const k = inst.exports as unknown as SimdKernels;
    byBuffer.set(this.memory.buffer, { k, scratch: this.f32(SCRATCH_FLOATS) });
    if (shared) arenas.set(this.memory.buffer, { memory: this.memory, end: this.limit });
  }

  f32(n: number): Float32Array {
    const bytes = Math.ceil(n / 4) * 16;
    if (this.next + bytes > this.limit) throw new RangeError("WasmArena: out of space");
    const a = new Float32Array(this.memory.buffer, this.next, n);
    this.next += bytes;
    return a;
  }
}

/** Floats an arena needs for these allocations (each rounded up to 4 for alignment). */
export const arenaFloats = (sizes: number[]) => sizes.reduce((s, n) => s + Math.ceil(n / 4) * 4, 0);

/** The allocator of buffers outside any arena: plain zero-filled Float32Arrays. */
export const plainF32 = (n: number): Float32Array => new Float32Array(n);

/**
 * Runs `build` with an allocator twice: once counting sizes, once allocating from an arena of exactly that size (or
 * plain Float32Arrays when SIMD is off). Returns the second result.
 */
export function inArena<R>(build: (f32: (n: number) => Float32Array) => R): R {
  if (!simdEnabled()) return build(plainF32);
  const sizes: number[] = [];
  build((n) => {
    sizes.push(n);
    return new Float32Array(0);
  });
  const arena = new WasmArena(arenaFloats(sizes));
  return build((n) => arena.f32(n));
}

/** The kernels bound to the memory all of `arrays` live in, or null (plain arrays, or arrays of different memories). */
export function simdFor(...arrays: Float32Array[]): SimdHandle | null {
  const buf = arrays[0].buffer;
  for (let i = 1; i < arrays.length; i++) if (arrays[i].buffer !== buf) return null;
  return byBuffer.get(buf) ?? null;
}

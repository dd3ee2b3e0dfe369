/** koffi (the FFI the native GEMM and the CBLAS binding call through), loaded lazily, and raw addresses of arrays. */

import { createRequire } from "node:module";

export type KoffiModule = typeof import("koffi");

/** koffi, or the reason it cannot load here (a platform without its prebuilt binary). */
export function loadKoffi(): { koffi: KoffiModule } | { error: string } {
  try {
    return { koffi: createRequire(import.meta.url)("koffi") as KoffiModule };
  } catch (e) {
    return { error: `koffi cannot load: ${(e as Error).message.split("\n")[0]}` };
  }
}

/**
 * Start addresses of ArrayBuffers, looked up once each: a typed-array argument costs koffi ~0.2 us per call, a number
 * almost nothing. An ArrayBuffer's backing store never moves while it is alive and attached (reading `.buffer` first
 * moves a small on-heap typed array's data off-heap for good), and a shared wasm memory never moves its pages.
 */
export class BufferAddresses {
  private readonly base = new WeakMap<ArrayBufferLike, number>();
  constructor(private readonly koffi: KoffiModule) {}

  /** Address of arr[0] (any typed array: packed weights are bytes or 16-bit words, offsets 32-bit integers). */
  of(arr: { readonly buffer: ArrayBufferLike; readonly byteOffset: number }): number {
    const buf = arr.buffer;
    let base = this.base.get(buf);
    if (base === undefined) {
      // koffi takes an ArrayBuffer, but only a typed array over a SharedArrayBuffer (a shared wasm arena memory)
      base = Number(this.koffi.address(buf instanceof ArrayBuffer ? buf : new Uint8Array(buf, 0, 1)));
      this.base.set(buf, base);
    }
    return base + arr.byteOffset;
  }
}

/**
 * The few WebAssembly JS-API types the engine uses. This project compiles against lib ES2023 + @types/node, neither
 * of which declares the `WebAssembly` global (it lives in TypeScript's DOM lib), so the kernels reach it through this
 * typed handle instead of pulling the whole DOM lib into the build.
 */

export interface WasmModule {
  readonly __wasmModule: unique symbol;
}
export interface WasmMemory {
  /** An ArrayBuffer, or a SharedArrayBuffer for a memory created with `shared: true`. */
  readonly buffer: ArrayBuffer;
  /** Grows by `pages` 64 KiB pages; a non-shared memory's old buffer is detached, a shared one's stays valid. */
  grow(pages: number): number;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}

/** The runtime's WebAssembly object, or undefined where there is none. */
export const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Compiles the engine's WebAssembly kernels. A runtime without a feature a module needs (SIMD, relaxed SIMD, shared
 * memory) gets null, and the caller's documented fallback runs; a module this runtime should accept but rejects is a
 * bug in a kernel builder, and is thrown with the module's name, never swallowed.
 */

import { buildModule, op, V128 } from "./module-builder.js";
import { wasm, type WasmModule } from "./wasm-api.js";

export type WasmFeature = "simd" | "relaxed-simd" | "shared-memory";

/** Raised when a kernel module fails to build or compile on a runtime that has every feature it uses. */
export class WasmKernelError extends Error {
  override name = "WasmKernelError";
}

/** The smallest module using each feature: the runtime has the feature when it validates. */
const PROBES: Record<WasmFeature, () => Uint8Array> = {
  simd: () =>
    buildModule([{ name: "p", params: [], results: [], locals: [V128], body: [...op.f32x4(0), ...op.set(0)] }]),
  "relaxed-simd": () =>
    buildModule([
      {
        name: "p",
        params: [],
        results: [],
        locals: [V128],
        body: [...op.f32x4(0), ...op.f32x4(0), ...op.f32x4(0), ...op.f32x4RelaxedMadd, ...op.set(0)],
      },
    ]),
  "shared-memory": () => buildModule([], { maxPages: 1 }),
};

const has = new Map<WasmFeature, boolean>();

/** Whether this runtime has the feature (cached). */
export function wasmHas(f: WasmFeature): boolean {
  let ok = has.get(f);
  if (ok === undefined) {
    ok = wasm !== undefined && (f !== "shared-memory" || typeof SharedArrayBuffer === "function");
    ok &&= wasm!.validate(PROBES[f]());
    has.set(f, ok);
  }
  return ok;
}

/** The compiled module `what`, or null where the runtime lacks one of `features`; a rejected module throws. */
export function compileKernels(what: string, features: WasmFeature[], bytes: () => Uint8Array): WasmModule | null {
  if (wasm === undefined || !features.every(wasmHas)) return null;
  const b = bytes();
  try {
    return new wasm.Module(b);
  } catch (e) {
    throw new WasmKernelError(
      `${what}: this runtime has ${features.join(", ")} but rejects the module (a kernel builder bug): ` +
        (e as Error).message,
    );
  }
}

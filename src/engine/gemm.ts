/** Picks the gemm backend once per process: system CBLAS through koffi when found, else the TypeScript kernel. */

import type { Gemm } from "./gemm-types.js";
import { tsGemm } from "./gemm-ts.js";

export type { Gemm } from "./gemm-types.js";
export { tsGemm, sgemmTs } from "./gemm-ts.js";

let active: Gemm | null = null;

/**
 * The process-wide gemm. PLACEHOLDER until the BLAS binding lands: always the TypeScript kernel.
 * (The engine issue replaces this body with BLAS discovery; callers do not change.)
 */
export function getGemm(): Gemm {
  if (active === null) active = tsGemm;
  return active;
}

/** Force a backend (tests use this to compare backends). */
export function setGemm(g: Gemm): void {
  active = g;
}

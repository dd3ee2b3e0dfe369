/** Picks the gemm backend once per process: system CBLAS through koffi when found, else the TypeScript kernel. */

import type { Gemm } from "./gemm-types.js";
import { tsGemm } from "./gemm-ts.js";
import { findBlas } from "./blas.js";

export type { Gemm } from "./gemm-types.js";
export { tsGemm, sgemmTs, sgemmTsAt } from "./gemm-ts.js";
export { setBlasThreads, findBlas } from "./blas.js";

let active: Gemm | null = null;

/** Which Debian/Ubuntu or Homebrew package provides a CBLAS, for the one-line hint. */
function installHint(): string {
  if (process.platform === "darwin") return "Accelerate should exist on macOS; or `brew install openblas`";
  return "install it with `sudo apt-get install libopenblas0-pthread` (Debian/Ubuntu)";
}

/**
 * The process-wide gemm: the system BLAS when found (see blas.ts for MST_BLAS / MST_THREADS), else the TypeScript
 * kernel, announced once on stderr unless the TS kernel was asked for with MST_BLAS=off.
 */
export function getGemm(): Gemm {
  if (active !== null) return active;
  const blas = findBlas();
  if (blas) {
    active = blas;
  } else {
    active = tsGemm;
    if (process.env.MST_BLAS?.trim() !== "off")
      process.stderr.write(`mst: no system BLAS found, using the slow TypeScript gemm; ${installHint()}\n`);
  }
  return active;
}

/** Force a backend (tests use this to compare backends). */
export function setGemm(g: Gemm): void {
  active = g;
}

/**
 * Picks the gemm backend once per process: the system CBLAS through koffi when found, else the WebAssembly SIMD
 * kernel, else the TypeScript kernel; `gemmChoice()` says which and why (env.json records it).
 */

import { availableParallelism } from "node:os";
import type { Gemm } from "./types.js";
import { tsGemm } from "./typescript.js";
import { findBlas } from "./blas.js";
import { WasmGemm, wasmGemmSupport } from "./wasm.js";

export type { Gemm } from "./types.js";
export { tsGemm, sgemmTs, sgemmTsAt } from "./typescript.js";
export { setBlasThreads, findBlas } from "./blas.js";
export { WasmGemm, wasmGemmSupport } from "./wasm.js";

/** Raised when MST_GEMM names an unknown backend or one this machine cannot run. */
export class GemmChoiceError extends Error {
  override name = "GemmChoiceError";
}

/** The backend in use and why: env.json and the report's environment section show it. */
export interface GemmChoice {
  /** "openblas", "accelerate", "cblas", "wasm", "wasm-fma" or "typescript". */
  backend: string;
  threads: number;
  /** Whether results are bit-identical on every machine and thread count (the plain wasm and TS kernels). */
  reproducible: boolean;
  /** One line: what was asked for and, on a fallback, what was missing. */
  reason: string;
}

/** Values of env MST_GEMM. */
export const GEMM_KINDS = ["auto", "blas", "wasm", "wasm-fma", "typescript"] as const;
export type GemmKind = (typeof GEMM_KINDS)[number];

let active: Gemm | null = null;
let choice: GemmChoice | null = null;

/** Which Debian/Ubuntu or Homebrew package provides a CBLAS, for the one-line hint. */
function installHint(): string {
  if (process.platform === "darwin") return "Accelerate should exist on macOS; or `brew install openblas`";
  return "install it with `sudo apt-get install libopenblas0-pthread` (Debian/Ubuntu)";
}

/** Thread count from env MST_THREADS (the runner sets it per worker), else every core. */
function threadsFromEnv(): number {
  const t = process.env.MST_THREADS?.trim();
  if (!t) return availableParallelism();
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1) throw new GemmChoiceError(`MST_THREADS=${t}: must be a positive integer`);
  return n;
}

/** env MST_GEMM, checked. */
function kindFromEnv(): GemmKind {
  const v = (process.env.MST_GEMM?.trim() || "auto") as GemmKind;
  if (!GEMM_KINDS.includes(v)) throw new GemmChoiceError(`MST_GEMM=${v}: expected one of ${GEMM_KINDS.join(", ")}`);
  return v;
}

/**
 * Builds the backend for `kind`. auto: the system BLAS (unless MST_BLAS=off), else the plain wasm kernel, else the
 * TypeScript kernel. An explicit kind that cannot run here is an error, never a silent fallback.
 */
export function chooseGemm(
  kind: GemmKind,
  threads: number,
  support: { simd: boolean; relaxed: boolean } = wasmGemmSupport(),
): { gemm: Gemm; choice: GemmChoice } {
  const wasmGemm = (fma: boolean, reason: string) => {
    const g = new WasmGemm({ fma, threads });
    return { gemm: g as Gemm, choice: { backend: g.name, threads: g.threads, reproducible: !fma, reason } };
  };
  const ts = (reason: string) => ({
    gemm: tsGemm,
    choice: { backend: "typescript", threads: 1, reproducible: true, reason },
  });
  switch (kind) {
    case "typescript":
      return ts("MST_GEMM=typescript");
    case "wasm":
      if (!support.simd) throw new GemmChoiceError("MST_GEMM=wasm: this runtime has no WebAssembly SIMD");
      return wasmGemm(false, "MST_GEMM=wasm");
    case "wasm-fma":
      if (!support.relaxed)
        throw new GemmChoiceError(
          "MST_GEMM=wasm-fma: this runtime has no relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)",
        );
      return wasmGemm(true, "MST_GEMM=wasm-fma (fused multiply-add: results differ across machines)");
    case "blas":
    case "auto": {
      // MST_BLAS=off gives null, MST_BLAS=<path> that fails throws; MST_THREADS unset keeps the library's default
      const blas = findBlas();
      if (blas) {
        const why = kind === "blas" ? "MST_GEMM=blas" : "system BLAS found";
        return {
          gemm: blas,
          choice: { backend: blas.name, threads: blas.threads, reproducible: false, reason: `${why}: ${blas.path}` },
        };
      }
      const noBlas =
        process.env.MST_BLAS?.trim() === "off" ? "MST_BLAS=off" : `no system BLAS found (${installHint()})`;
      if (kind === "blas") throw new GemmChoiceError(`MST_GEMM=blas: ${noBlas}`);
      if (support.simd) return wasmGemm(false, `${noBlas}: WebAssembly SIMD kernel`);
      return ts(`${noBlas}; no WebAssembly SIMD in this runtime: TypeScript kernel`);
    }
  }
}

/**
 * The process-wide gemm, chosen by env MST_GEMM (default auto; see chooseGemm), MST_BLAS (blas.ts) and MST_THREADS.
 * Falling back to the slow TypeScript kernel is announced once on stderr.
 */
export function getGemm(): Gemm {
  if (active !== null) return active;
  const { gemm, choice: c } = chooseGemm(kindFromEnv(), threadsFromEnv());
  active = gemm;
  choice = c;
  if (c.backend === "typescript" && kindFromEnv() !== "typescript")
    process.stderr.write(`mst: using the slow TypeScript gemm: ${c.reason}\n`);
  return active;
}

/** The active backend and why (chooses it first if nothing did yet). */
export function gemmChoice(): GemmChoice {
  const g = getGemm();
  if (choice === null || choice.backend !== g.name)
    choice = {
      backend: g.name,
      threads: g.threads,
      reproducible: g.name === "wasm" || g.name === "typescript",
      reason: "set by the program",
    };
  return { ...choice, threads: g.threads };
}

/** Force a backend (tests and the benchmark use this to compare backends). */
export function setGemm(g: Gemm): void {
  active = g;
  choice = null;
}

/** Set the thread count of the active backend; false when it has a fixed count (TypeScript) or cannot set it. */
export function setGemmThreads(n: number): boolean {
  const g = getGemm() as Gemm & { setThreads?: (n: number) => boolean };
  return typeof g.setThreads === "function" ? g.setThreads(n) : false;
}

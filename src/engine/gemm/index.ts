/**
 * Picks the gemm backend once per process: "exact" (the default) is the native kernel, else the WebAssembly SIMD
 * kernel with the same bits; "auto" the system CBLAS through koffi when found, else "exact"; `gemmChoice()` says
 * which and why (env.json records it).
 */

import { availableParallelism } from "node:os";
import type { Gemm } from "./types.js";
import { tsGemm } from "./typescript.js";
import { findBlas } from "./blas.js";
import { WasmGemm, wasmGemmSupport } from "./wasm.js";
import { NativeGemm } from "./native.js";

export type { Gemm } from "./types.js";
export { tsGemm, sgemmTs, sgemmTsAt } from "./typescript.js";
export { setBlasThreads, findBlas } from "./blas.js";
export { WasmGemm, wasmGemmSupport } from "./wasm.js";
export { NATIVE_PATHS, NativeGemm, NativeGemmError } from "./native.js";
export { NativeBuildError, detectIsa, runnableIsas, NATIVE_ISAS, type NativeIsa } from "./native-build.js";
export { sgemmOrderedAt } from "./reference.js";

/** Raised when MST_GEMM names an unknown backend or one this machine cannot run. */
export class GemmChoiceError extends Error {
  override name = "GemmChoiceError";
}

/** The backend in use and why: env.json and the report's environment section show it. */
export interface GemmChoice {
  /** "native", "openblas", "accelerate", "cblas", "wasm", "wasm-fma" or "typescript". */
  backend: string;
  /** The native build's instruction set ("avx512", "avx2", "generic") when backend is "native". */
  isa?: string;
  threads: number;
  /** Whether results are bit-identical on every machine and thread count (the plain wasm and TS kernels). */
  reproducible: boolean;
  /** One line: what was asked for and, on a fallback, what was missing. */
  reason: string;
  /** Set when the native kernel was wanted and could not be used: why (the run prints it, env.json keeps it). */
  nativeUnavailable?: string;
}

/**
 * Values of env MST_GEMM. exact (the default): the same bits on every machine, as fast as this one allows (native,
 * else wasm); native / wasm: that kernel or an error; auto: the system BLAS when found (bits differ per CPU), else
 * exact.
 */
export const GEMM_KINDS = ["auto", "exact", "native", "blas", "wasm", "wasm-fma", "typescript"] as const;
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

/** env MST_GEMM, checked; undefined when it is unset (or blank). */
export function gemmKindFromEnv(): GemmKind | undefined {
  const v = process.env.MST_GEMM?.trim();
  if (!v) return undefined;
  if (!(GEMM_KINDS as readonly string[]).includes(v))
    throw new GemmChoiceError(`MST_GEMM=${v}: expected one of ${GEMM_KINDS.join(", ")}`);
  return v as GemmKind;
}

/** env MST_GEMM, checked, else the default: exact. */
function kindFromEnv(): GemmKind {
  return gemmKindFromEnv() ?? "exact";
}

/** The native kernel, built once per process and thread count asked; or why it cannot run here. */
let nativeCache: { gemm: NativeGemm } | { error: string } | undefined;
function nativeGemm(threads: number): { gemm: NativeGemm } | { error: string } {
  if (nativeCache === undefined) {
    try {
      nativeCache = { gemm: new NativeGemm({ threads }) };
    } catch (e) {
      nativeCache = { error: (e as Error).message };
    }
  }
  if ("gemm" in nativeCache) nativeCache.gemm.setThreads(threads);
  return nativeCache;
}

/** Forget the native kernel (tests that change CC or the cache folder between choices). */
export function resetNativeChoice(): void {
  nativeCache = undefined;
}

/**
 * Builds the backend for `kind`. exact: the native kernel, else the plain wasm kernel (same bits; the choice says
 * why the native one could not run), else the TypeScript kernel. auto: the system BLAS (unless MST_BLAS=off), else
 * as exact. An explicit kernel (native, wasm, blas...) that cannot run here is an error, never a silent fallback.
 */
export function chooseGemm(
  kind: GemmKind,
  threads: number,
  support: { simd: boolean; relaxed: boolean } = wasmGemmSupport(),
): { gemm: Gemm; choice: GemmChoice } {
  const wasmGemm = (fma: boolean, reason: string, nativeUnavailable?: string) => {
    const g = new WasmGemm({ fma, threads });
    const choice: GemmChoice = { backend: g.name, threads: g.threads, reproducible: !fma, reason };
    if (nativeUnavailable !== undefined) choice.nativeUnavailable = nativeUnavailable;
    return { gemm: g as Gemm, choice };
  };
  const ts = (reason: string) => ({
    gemm: tsGemm,
    choice: { backend: "typescript", threads: 1, reproducible: true, reason },
  });
  const exact = (why: string) => {
    const n = nativeGemm(threads);
    if ("gemm" in n)
      return {
        gemm: n.gemm as Gemm,
        choice: {
          backend: "native",
          isa: n.gemm.isa,
          threads: n.gemm.threads,
          reproducible: true,
          reason: `${why}: native kernel (${n.gemm.isa}, ${n.gemm.build.path})`,
        },
      };
    if (support.simd) return wasmGemm(false, `${why}: WebAssembly SIMD kernel, same bits (${n.error})`, n.error);
    return ts(`${why}: ${n.error}; no WebAssembly SIMD in this runtime: TypeScript kernel`);
  };
  switch (kind) {
    case "typescript":
      return ts("MST_GEMM=typescript");
    case "exact":
      return exact("MST_GEMM=exact");
    case "native": {
      const n = nativeGemm(threads);
      if (!("gemm" in n)) throw new GemmChoiceError(`MST_GEMM=native: ${n.error}`);
      const c = { backend: "native", isa: n.gemm.isa, threads: n.gemm.threads, reproducible: true };
      return { gemm: n.gemm, choice: { ...c, reason: `MST_GEMM=native (${n.gemm.isa}, ${n.gemm.build.path})` } };
    }
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
      return exact(noBlas);
    }
  }
}

/**
 * The process-wide gemm, chosen by env MST_GEMM (default exact; see chooseGemm), MST_BLAS (blas.ts) and MST_THREADS.
 * Falling back to the slow TypeScript kernel is announced once on stderr.
 */
export function getGemm(): Gemm {
  if (active !== null) return active;
  const { gemm, choice: c } = chooseGemm(kindFromEnv(), threadsFromEnv());
  active = gemm;
  choice = c;
  if (c.backend === "typescript" && kindFromEnv() !== "typescript")
    process.stderr.write(`mst: using the slow TypeScript gemm: ${c.reason}\n`);
  else if (c.nativeUnavailable !== undefined) process.stderr.write(`${nativeNotice(c.nativeUnavailable)}\n`);
  return active;
}

/** The one line a run prints when the native kernel cannot run here. */
export function nativeNotice(why: string): string {
  return (
    `mst: native gemm unavailable, using WebAssembly (same results, slower): ${why} ` +
    "(MST_GEMM=auto would take a system BLAS where one is installed: faster, other bits)"
  );
}

/** The active backend and why (chooses it first if nothing did yet). */
export function gemmChoice(): GemmChoice {
  const g = getGemm();
  if (choice === null || choice.backend !== g.name)
    choice = {
      backend: g.name,
      threads: g.threads,
      reproducible: g.name === "native" || g.name === "wasm" || g.name === "typescript",
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

/** Helpers the GEMM and determinism tests share: the compiler probe, random matrices, a hash of fixed products. */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import type { Gemm } from "../../src/engine/gemm/index.js";
import { Rng } from "../../src/data/rng.js";
import { missingMessage, systemDepsRequired } from "../system-deps.js";

/**
 * Whether a C compiler runs here (the native kernel is optional: without one these tests have nothing to build);
 * under MST_REQUIRE_SYSTEM_DEPS=1 (.ci/run installed gcc) a missing one fails instead of skipping.
 */
export function hasCompiler(): boolean {
  try {
    execFileSync(process.env.CC?.trim() || "cc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    if (systemDepsRequired) throw new Error(missingMessage("C compiler (cc)"));
    return false;
  }
}

/** n standard-normal floats from r. */
export const randn = (r: Rng, n: number) => Float32Array.from({ length: n }, () => r.normal());

/**
 * sha256 of the products of a fixed set of shapes (every transpose, K past one KC slice), large enough to thread, on
 * gemm g.
 */
export function productsHash(g: Gemm): string {
  const h = createHash("sha256");
  const r = new Rng(11);
  for (const [M, N, K] of [
    [257, 129, 300],
    [33, 515, 270],
    [600, 40, 65],
  ])
    for (const tA of [false, true])
      for (const tB of [false, true]) {
        const A = randn(r, M * K);
        const B = randn(r, K * N);
        const C = randn(r, M * N);
        g.sgemm(tA, tB, M, N, K, 0.7, A, tA ? M : K, B, tB ? K : N, 0.3, C, N);
        h.update(new Uint8Array(C.buffer));
      }
  return h.digest("hex");
}

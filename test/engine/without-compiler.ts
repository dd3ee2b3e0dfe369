/** Simulates a machine without a C compiler: CC names a missing program and the native build cache is empty. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resetNativeChoice } from "../../src/engine/gemm/index.js";

/** Sets CC and MST_NATIVE_CACHE so no native kernel can be built or found; returns the function that undoes it. */
export function withoutCompiler(): () => void {
  const saved = { CC: process.env.CC, MST_NATIVE_CACHE: process.env.MST_NATIVE_CACHE };
  const cache = mkdtempSync(join(tmpdir(), "mst-no-cc-"));
  process.env.CC = "/nonexistent/mst-test-cc";
  process.env.MST_NATIVE_CACHE = cache;
  resetNativeChoice();
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(cache, { recursive: true, force: true });
    resetNativeChoice();
  };
}

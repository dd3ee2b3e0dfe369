/**
 * The native GEMM keeps the exact promise: every build this CPU runs (AVX-512, AVX2, 4-lane), the WebAssembly kernel
 * and the plain reference give the same bits on every transpose case and odd sizes, at 1, 2 and 3 threads; a build
 * that fuses multiply-adds is refused when it loads; without a compiler a run falls back to wasm and says so once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  NATIVE_PATHS,
  NativeGemm,
  NativeGemmError,
  runnableIsas,
  sgemmOrderedAt,
  WasmGemm,
  wasmGemmSupport,
  type Gemm,
} from "../../src/engine/gemm/index.js";
import { Rng } from "../../src/data/rng.js";
import { hasCompiler, productsHash, randn } from "./gemm-helpers.js";

const skip = !hasCompiler() ? "no C compiler here (CC or cc)" : !wasmGemmSupport().simd ? "no WebAssembly SIMD" : false;

const bitsOf = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex");

/** Hex of C after `g`'s product (or the reference's, for g = null), from the same inputs. */
function product(
  g: Gemm | null,
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  B: Float32Array,
  beta: number,
  C0: Float32Array,
): string {
  const C = C0.slice();
  const [lda, ldb] = [tA ? M : K, tB ? K : N];
  if (g === null) sgemmOrderedAt(tA, tB, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, C, 0, N);
  else g.sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
  return bitsOf(C);
}

test(
  "native (every build this CPU runs), wasm and the reference: identical bits, every transpose, odd sizes, alpha/beta",
  { skip },
  () => {
    const builds = runnableIsas().map((isa) => new NativeGemm({ isa }));
    assert.ok(builds.length >= 1);
    const wasm = new WasmGemm({ threads: 1 });
    const r = new Rng(17);
    let cases = 0;
    // 1, 3, 17: edge tiles only; 33, 65: full and edge tiles at every vector width; 257 / 300: past KC = 256
    for (const [M, N, K] of [
      [1, 1, 1],
      [3, 17, 65],
      [17, 3, 257],
      [65, 33, 3],
      [33, 65, 300],
      [129, 70, 520],
    ])
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const [alpha, beta] of [
            [1, 0],
            [-0.75, 1],
            [0.5, 0.3],
          ]) {
            const A = randn(r, M * K);
            const B = randn(r, K * N);
            // beta = 0 must overwrite what C held, NaN included
            const C = beta === 0 ? new Float32Array(M * N).fill(NaN) : randn(r, M * N);
            const ref = product(null, tA, tB, M, N, K, alpha, A, B, beta, C);
            const what = `M${M} N${N} K${K} tA=${tA} tB=${tB} alpha=${alpha} beta=${beta}`;
            assert.equal(product(wasm, tA, tB, M, N, K, alpha, A, B, beta, C), ref, `wasm, ${what}`);
            for (const g of builds)
              assert.equal(product(g, tA, tB, M, N, K, alpha, A, B, beta, C), ref, `native ${g.isa}, ${what}`);
            cases++;
          }
    assert.equal(cases, 72);
  },
);

test(
  "both native paths (packed panels, operands in place) give the reference bits: every row tail, edge width and transpose",
  { skip },
  () => {
    const builds = runnableIsas().map((isa) => new NativeGemm({ isa }));
    const r = new Rng(29);
    let cases = 0;
    try {
      // rows 1..17: every tail of 4-, 8- and 12-row tiles and of the skinny path's one and two vectors; columns around one and two vectors of 4, 8 and 16 lanes
      for (const M of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17])
        for (const [N, K] of [
          [1, 5],
          [7, 257],
          [8, 3],
          [9, 16],
          [17, 40],
          [33, 1],
        ])
          for (const tA of [false, true])
            for (const tB of [false, true]) {
              const A = randn(r, M * K);
              const B = randn(r, K * N);
              const C = randn(r, M * N);
              const ref = product(null, tA, tB, M, N, K, 0.7, A, B, 0.4, C);
              for (const g of builds)
                for (const path of [1, 2, 3] as const) {
                  g.forcePath(path);
                  const what = `${g.isa} ${NATIVE_PATHS[path]} M${M} N${N} K${K} tA=${tA} tB=${tB}`;
                  assert.equal(product(g, tA, tB, M, N, K, 0.7, A, B, 0.4, C), ref, what);
                }
              cases++;
            }
    } finally {
      for (const g of builds) g.forcePath(0);
    }
    assert.equal(cases, 16 * 6 * 4);
  },
);

test("a batch of products equals them one by one, in order where they add into the same C", { skip }, () => {
  const g = new NativeGemm();
  const wasm = new WasmGemm({ threads: 1 });
  const r = new Rng(31);
  const [M, N, K, count] = [18, 16, 18, 6];
  const A = randn(r, 200 * 64);
  const B = randn(r, 200 * 64);
  const C0 = randn(r, 40 * 64);
  // heads 0-2 and 3-5 share their C (grouped KV heads add into one dk): the order of the adds is part of the bits
  const aOffs = Int32Array.from([0, 5, 100, 7, 3000, 64]);
  const bOffs = Int32Array.from([1, 2, 3, 900, 17, 0]);
  const cOffs = Int32Array.from([0, 0, 0, 16, 16, 16]);
  for (const [tA, tB] of [
    [false, true],
    [true, false],
  ] as const) {
    const [lda, ldb, ldc] = [tA ? 40 : 64, tB ? 64 : 32, 32];
    const expected = C0.slice();
    for (let i = 0; i < count; i++)
      sgemmOrderedAt(tA, tB, M, N, K, 0.5, A, aOffs[i], lda, B, bOffs[i], ldb, 1, expected, cOffs[i], ldc);
    for (const backend of [g, wasm] as Gemm[]) {
      const C = C0.slice();
      backend.sgemmBatchAt(count, tA, tB, M, N, K, 0.5, A, aOffs, lda, B, bOffs, ldb, 1, C, cOffs, ldc);
      assert.equal(bitsOf(C), bitsOf(expected), `${backend.name} tA=${tA} tB=${tB}`);
    }
  }
  // an offset past the array's end is refused before the kernel runs
  assert.throws(
    () =>
      g.sgemmBatchAt(
        2,
        false,
        false,
        M,
        N,
        K,
        1,
        A,
        Int32Array.from([0, A.length]),
        64,
        B,
        bOffs,
        32,
        0,
        C0,
        cOffs,
        32,
      ),
    /A/,
  );
});

test(
  "AVX2 and AVX-512 builds give identical bits (where the CPU runs AVX-512)",
  { skip: skip || (!runnableIsas().includes("avx512") && "this CPU has no AVX-512 (see /proc/cpuinfo)") },
  () => {
    const [wide, narrow] = [new NativeGemm({ isa: "avx512" }), new NativeGemm({ isa: "avx2" })];
    const r = new Rng(23);
    const [M, N, K] = [301, 211, 777];
    const A = randn(r, M * K);
    const B = randn(r, K * N);
    const C = randn(r, M * N);
    for (const [tA, tB] of [
      [false, false],
      [true, true],
    ] as const)
      assert.equal(
        product(wide, tA, tB, M, N, K, 0.9, A, B, 0.1, C),
        product(narrow, tA, tB, M, N, K, 0.9, A, B, 0.1, C),
        `tA=${tA} tB=${tB}`,
      );
  },
);

test("native at 1, 2 and 3 threads gives the wasm kernel's bits", { skip }, () => {
  const wasm = productsHash(new WasmGemm({ threads: 1 }));
  for (const t of [1, 2, 3]) {
    const g = new NativeGemm({ threads: t });
    assert.equal(g.threads, t);
    assert.equal(productsHash(g), wasm, `${t} threads`);
  }
});

/** A temp folder with an executable `cc` wrapper that runs the real compiler with `extra` flags appended. */
function wrappedCompiler(extra: string): { dir: string; cc: string } {
  const dir = mkdtempSync(join(tmpdir(), "mst-cc-"));
  const cc = join(dir, "cc");
  writeFileSync(cc, `#!/bin/sh\nexec ${process.env.CC?.trim() || "cc"} "$@" ${extra}\n`);
  chmodSync(cc, 0o755);
  return { dir, cc };
}

test(
  "a build compiled with contraction into FMA is refused when it loads, naming the cause",
  { skip: skip || (!runnableIsas().includes("avx2") && "no FMA build on this CPU") },
  () => {
    const { dir, cc } = wrappedCompiler("-ffp-contract=fast");
    const saved = { CC: process.env.CC, MST_NATIVE_CACHE: process.env.MST_NATIVE_CACHE };
    process.env.CC = cc;
    process.env.MST_NATIVE_CACHE = join(dir, "cache");
    try {
      assert.throws(
        () => new NativeGemm({ isa: "avx2" }),
        (e: Error) => {
          assert.ok(e instanceof NativeGemmError);
          assert.match(e.message, /differs from the reference .* contraction \(FMA\) or fast-math/);
          return true;
        },
      );
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("without a compiler: exact falls back to wasm with one line on stderr, and the same product bits", () => {
  const cache = mkdtempSync(join(tmpdir(), "mst-no-cc-"));
  try {
    const script = `
      import { getGemm, gemmChoice } from ${JSON.stringify(new URL("../../src/engine/gemm/index.js", import.meta.url).href)};
      const g = getGemm();
      g.sgemm(false, false, 1, 1, 1, 1, new Float32Array([2]), 1, new Float32Array([3]), 1, 0, new Float32Array(1), 1);
      process.stdout.write(JSON.stringify(gemmChoice()));`;
    const env = { ...process.env, CC: "/nonexistent/mst-test-cc", MST_NATIVE_CACHE: cache, MST_GEMM: "exact" };
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
    assert.equal(out.status, 0, out.stderr);
    const lines = out.stderr.split("\n").filter((l) => l.length > 0);
    assert.equal(lines.length, 1, `stderr: ${out.stderr}`);
    assert.match(lines[0], /^mst: native gemm unavailable, using WebAssembly \(same results, slower\): .*not found/);
    const choice = JSON.parse(out.stdout) as { backend: string; reproducible: boolean; nativeUnavailable?: string };
    assert.equal(choice.backend, wasmGemmSupport().simd ? "wasm" : "typescript");
    assert.match(choice.nativeUnavailable ?? "", /compiler \/nonexistent\/mst-test-cc not found/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("MST_GEMM=native where it cannot be built is an error naming the compiler", { skip }, () => {
  const cache = mkdtempSync(join(tmpdir(), "mst-no-cc-"));
  const script = `
    import { getGemm } from ${JSON.stringify(new URL("../../src/engine/gemm/index.js", import.meta.url).href)};
    getGemm();`;
  const env = { ...process.env, CC: "/nonexistent/mst-test-cc", MST_NATIVE_CACHE: cache, MST_GEMM: "native" };
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
  rmSync(cache, { recursive: true, force: true });
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /MST_GEMM=native: native gemm \(\w+\) cannot be built: compiler \/nonexistent\/mst-test-cc/);
});

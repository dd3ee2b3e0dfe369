/**
 * The native kernel's paths on skinny products (a decode step's rows times a weight stored (N, K)): skinny, direct,
 * packed panels and the path chosen by size, beside OpenBLAS when one is installed; interleaved, 1 thread, CPU time,
 * GFLOP/s (median of the rounds after the first). Each timed call takes the next of `--sets` operand sets, so with
 * many sets the weights come from L3 or memory, as in a model's decode step.
 *
 *   npm run build && node dist/bench/gemm-paths.js [--rounds 7] [--sets 1]
 */

import { loadavg } from "node:os";
import { NATIVE_PATHS, NativeGemm, findBlas, type Gemm } from "../src/engine/gemm/index.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: node dist/bench/gemm-paths.js [--rounds 7] [--sets 1] [--only MxNxK]
GFLOP/s of the native kernel's paths (skinny, direct, packed, by size) and OpenBLAS on decode-step products
(M rows times a weight stored N x K, transB), 1 thread, CPU time; --sets n rotates n operand sets (cold weights).
`);

const argv = process.argv.slice(2);
const opt = (f: string, d: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : d);
const rounds = Number(opt("--rounds", "7"));
const sets = Number(opt("--sets", "1"));
const only = opt("--only", "");

const g = new NativeGemm({ threads: 1 });
const blas = findBlas();
blas?.setThreads?.(1);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const median = (a: number[]) => a.slice(1).sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];

/** M x N x K: rows (batch) x output features x input features, as the 12M and 0.5B-shape models' decode steps. */
const SHAPES: [number, number, number][] = [
  [1, 896, 896],
  [8, 896, 896],
  [8, 4864, 896],
  [8, 896, 4864],
  [2, 896, 896],
  [4, 896, 896],
  [8, 16, 896],
  [8, 32, 896],
  [8, 64, 896],
  [16, 16, 896],
  [8, 896, 16],
  [16, 896, 896],
  [8, 384, 384],
  [8, 1024, 384],
  [8, 384, 1024],
  [8, 4096, 384],
  [4, 151936, 896],
  [1, 151936, 896],
];

console.log(
  `native ${g.isa}${blas ? `, ${blas.name}` : ""}, 1 thread, ${sets} operand set${sets > 1 ? "s" : ""}, load ` +
    loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
);
const sides: [string, Gemm, number][] = [
  ...([0, 3, 2, 1] as const).map((p): [string, Gemm, number] => [p === 0 ? "by size" : NATIVE_PATHS[p], g, p]),
  ...(blas ? [[blas.name, blas as Gemm, 0] as [string, Gemm, number]] : []),
];
console.log(`${"M x N x K (transB)".padEnd(22)}${sides.map(([n]) => n.padStart(10)).join("")}   GFLOP/s`);
for (const [M, N, K] of SHAPES) {
  if (only && only !== `${M}x${N}x${K}`) continue;
  const A = Array.from({ length: sets }, (_, s) => Float32Array.from({ length: M * K }, (_, i) => Math.sin(i + s)));
  const B = Array.from({ length: sets }, (_, s) =>
    Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.7 + s)),
  );
  const C = new Float32Array(M * N);
  const flops = 2 * M * N * K;
  const calls = Math.max(1, Math.round(2e8 / flops));
  const t: number[][] = sides.map(() => []);
  let set = 0;
  for (let r = 0; r < rounds; r++)
    sides.forEach(([, gemm, path], i) => {
      g.forcePath(path as 0 | 1 | 2 | 3);
      const c0 = cpuMs();
      for (let c = 0; c < calls; c++) {
        gemm.sgemm(false, true, M, N, K, 1, A[set], K, B[set], K, 0, C, N);
        set = (set + 1) % sets;
      }
      t[i].push((cpuMs() - c0) / calls);
    });
  g.forcePath(0);
  const cells = t.map((ms) => (flops / (median(ms) / 1e3) / 1e9).toFixed(1).padStart(10));
  console.log(`${`${M} x ${N} x ${K}`.padEnd(22)}${cells.join("")}`);
}

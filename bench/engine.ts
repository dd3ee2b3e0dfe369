/**
 * Engine benchmark: GEMM GFLOP/s (our koffi path vs OpenBLAS from C vs torch.mm) and tokens/s of a training step and
 * of KV-cache sampling, ours beside the plain-PyTorch peer (bench/torch_peer.py), same configs, batches and threads.
 *
 *   npm run bench:engine -- [--threads 2] [--quick] [--no-torch] [--json out.json]
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getGemm, setBlasThreads, findBlas } from "../src/engine/gemm.js";
import { Rng } from "../src/data/rng.js";

interface Case {
  name: string;
  config: {
    vocabSize: number;
    dModel: number;
    nLayers: number;
    nHeads: number;
    nKvHeads?: number;
    dFf: number;
    maxSeq: number;
    tieEmbeddings?: boolean;
  };
  train: { batch: number; seq: number; steps: number };
  sample: { batch: number; promptLen: number; newTokens: number; reps: number };
}
type GemmSize = [number, number, number, boolean, boolean]; // M, N, K, transA, transB

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const opt = (f: string, d: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : d);
const threads = Number(opt("--threads", "2"));
const quick = flag("--quick");
const PY = "/usr/bin/python3";
const root = join(fileURLToPath(import.meta.url), "../../..");

const EMB = { vocabSize: 200, dModel: 64, nLayers: 2, nHeads: 4, dFf: 172, maxSeq: 64 };
const CASES: Case[] = [
  {
    name: "embedded T=64",
    config: EMB,
    train: { batch: 64, seq: 64, steps: quick ? 3 : 10 },
    sample: { batch: 64, promptLen: 16, newTokens: 48, reps: quick ? 1 : 3 },
  },
  {
    name: "embedded T=32",
    config: EMB,
    train: { batch: 64, seq: 32, steps: quick ? 3 : 10 },
    sample: { batch: 64, promptLen: 8, newTokens: 24, reps: quick ? 1 : 3 },
  },
  {
    name: "12M d384 L6",
    config: { vocabSize: 4096, dModel: 384, nLayers: 6, nHeads: 6, dFf: 1024, maxSeq: 128 },
    train: { batch: 8, seq: 128, steps: quick ? 2 : 4 },
    sample: { batch: 8, promptLen: 32, newTokens: quick ? 32 : 96, reps: 1 },
  },
];
// 512^3, then the products the models run (X @ W^T forward, dX = dY @ W, dW = dY^T @ X)
const GEMMS: GemmSize[] = [
  [512, 512, 512, false, false],
  [4096, 64, 64, false, true],
  [4096, 172, 64, false, true],
  [4096, 200, 64, false, true],
  [172, 64, 4096, true, false],
  [1024, 384, 384, false, true],
  [1024, 1024, 384, false, true],
  [1024, 4096, 384, false, true],
  [1024, 384, 1024, false, false],
  [1024, 384, 1024, true, false],
];

/** Fastest of the timed repetitions: on a shared machine, interference only ever adds time. */
function best(xs: number[]): number {
  return Math.min(...xs);
}

/** Best GFLOP/s over 7 blocks of calls (~1e8 flop each). */
function gemmOurs([M, N, K, tA, tB]: GemmSize): number {
  const r = new Rng(1);
  const A = Float32Array.from({ length: M * K }, () => r.normal());
  const B = Float32Array.from({ length: K * N }, () => r.normal());
  const C = new Float32Array(M * N);
  const g = getGemm();
  const run = () => g.sgemm(tA, tB, M, N, K, 1, A, tA ? M : K, B, tB ? K : N, 0, C, N);
  run();
  const reps = Math.max(1, Math.round(1e8 / (2 * M * N * K)));
  let top = 0;
  for (let k = 0; k < 7; k++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    top = Math.max(top, (2 * M * N * K * reps) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return top;
}

const C_SRC = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
void openblas_set_num_threads(int);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  openblas_set_num_threads(atoi(argv[1]));
  for (int a = 2; a + 4 < argc + 1; a += 5) {
    int M = atoi(argv[a]), N = atoi(argv[a + 1]), K = atoi(argv[a + 2]), ta = atoi(argv[a + 3]), tb = atoi(argv[a + 4]);
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
    for (long i = 0; i < (long)M * K; i++) A[i] = (float)rand() / RAND_MAX - 0.5f;
    for (long i = 0; i < (long)K * N; i++) B[i] = (float)rand() / RAND_MAX - 0.5f;
    double flop = 2.0 * M * N * K, best = 0;
    long reps = (long)(1e8 / flop); if (reps < 1) reps = 1;
    cblas_sgemm(101, ta ? 112 : 111, tb ? 112 : 111, M, N, K, 1, A, ta ? M : K, B, tb ? K : N, 0, C, N);
    for (int k = 0; k < 7; k++) {
      double t0 = now();
      for (long i = 0; i < reps; i++)
        cblas_sgemm(101, ta ? 112 : 111, tb ? 112 : 111, M, N, K, 1, A, ta ? M : K, B, tb ? K : N, 0, C, N);
      double g = flop * reps / (now() - t0) / 1e9;
      if (g > best) best = g;
    }
    printf("%f\n", best);
    free(A); free(B); free(C);
  }
  return 0;
}
`;

/** OpenBLAS called from C (compiled now with gcc against the library we load); null when impossible. */
function gemmC(sizes: GemmSize[]): number[] | null {
  const blas = findBlas();
  if (!blas || blas.name !== "openblas" || spawnSync("gcc", ["--version"]).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), "mst-bench-"));
  try {
    writeFileSync(join(dir, "g.c"), C_SRC);
    const cc = spawnSync("gcc", ["-O2", "-o", join(dir, "g"), join(dir, "g.c"), blas.path], { encoding: "utf8" });
    if (cc.status !== 0) {
      console.error(`(gcc failed, no C column: ${cc.stderr.split("\n")[0]})`);
      return null;
    }
    const args = [String(threads), ...sizes.flatMap(([M, N, K, a, b]) => [M, N, K, a ? 1 : 0, b ? 1 : 0].map(String))];
    const r = spawnSync(join(dir, "g"), args, { encoding: "utf8" });
    if (r.status !== 0) return null;
    return r.stdout.trim().split("\n").map(Number);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface PeerResult {
  torch: string;
  threads: number;
  gemm: number[];
  cases: { name: string; params: number; trainTokensPerS?: number; sampleTokensPerS?: number }[];
}

/** Run the PyTorch peer on some GEMM sizes and cases (null when disabled or it fails). */
function runPeer(gemm: GemmSize[], cases: Case[]): PeerResult | null {
  if (flag("--no-torch") || !existsSync(PY)) return null;
  const spec = { threads, gemm, cases };
  const r = spawnSync(PY, [join(root, "bench/torch_peer.py"), JSON.stringify(spec)], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    console.error(`(PyTorch peer failed: ${r.stderr.trim().split("\n").slice(-1)[0]})`);
    return null;
  }
  return JSON.parse(r.stdout) as PeerResult;
}

type ModelModule = typeof import("../src/engine/model.js");
type SamplerModule = typeof import("../src/engine/sampler.js");
type LossModule = typeof import("../src/engine/ops/cross-entropy.js");
type OptimModule = typeof import("../src/engine/optim.js");

/** The engine's modules, or null when they are not built yet (the bench then measures what exists). */
async function engineModules(): Promise<{
  model: ModelModule;
  sampler: SamplerModule | null;
  loss: LossModule;
  optim: OptimModule;
} | null> {
  try {
    const model = await import("../src/engine/model.js");
    const loss = await import("../src/engine/ops/cross-entropy.js");
    const optim = await import("../src/engine/optim.js");
    const sampler = await import("../src/engine/sampler.js").catch(() => null);
    return { model, loss, optim, sampler };
  } catch (e) {
    console.error(`(engine model not available: ${(e as Error).message})`);
    return null;
  }
}

function trainTokensPerS(mods: NonNullable<Awaited<ReturnType<typeof engineModules>>>, c: Case): number {
  const m = mods.model.createModel(c.config, { seed: 0 });
  const opt = new mods.optim.AdamW(m.trainableParameters(), { lr: 1e-4 });
  const { batch: B, seq: T } = c.train;
  const V = c.config.vocabSize;
  const r = new Rng(1);
  const seqs = Int32Array.from({ length: B * (T + 1) }, () => r.int(V));
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    tokens.set(seqs.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    targets.set(seqs.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  const dLogits = new Float32Array(B * T * V);
  const times: number[] = [];
  for (let step = 0; step < c.train.steps + 2; step++) {
    const t0 = performance.now();
    const { logits } = m.forward(tokens, B, T, { train: true });
    mods.loss.crossEntropyForward(dLogits, logits, targets, null, B * T, V);
    m.zeroGrad();
    m.backward(dLogits);
    opt.step();
    if (step >= 2) times.push(performance.now() - t0); // two warm-up steps, as the peer
  }
  return (B * T) / (best(times) / 1000);
}

function sampleTokensPerS(sampler: SamplerModule, model: ModelModule, c: Case): number {
  const m = model.createModel(c.config, { seed: 0 });
  const { batch: B, promptLen: P, newTokens: N } = c.sample;
  const r = new Rng(2);
  const prompts = Array.from({ length: B }, () => Array.from({ length: P }, () => r.int(c.config.vocabSize)));
  const times: number[] = [];
  for (let rep = 0; rep < c.sample.reps + 1; rep++) {
    const t0 = performance.now();
    sampler.sample(m, prompts, { maxNewTokens: N, temperature: 1, seed: rep });
    if (rep >= 1) times.push(performance.now() - t0);
  }
  return (B * N) / (best(times) / 1000);
}

const fmt = (x: number | undefined | null, d = 1) => (x === undefined || x === null ? "-" : x.toFixed(d));
const ratio = (a: number | undefined | null, b: number | undefined | null) =>
  a === undefined || a === null || b === undefined || b === null ? "-" : (a / b).toFixed(2);

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    "| " + r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(" | ") + " |";
  return [
    line(head),
    "|" + w.map((n, i) => (i === 0 ? "-" : "") + "-".repeat(n + 1) + (i === 0 ? "" : ":")).join("|") + "|",
    ...rows.map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  setBlasThreads(threads);
  const g = getGemm();
  const core = findBlas()?.core;
  console.log(
    `# mst engine benchmark: gemm ${g.name}${core ? ` (${core} kernels)` : ""}, ${g.threads} threads, node ${process.version}`,
  );
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(" ");
  console.log(`# machine: ${cpus().length} CPUs, load average ${load()} at start`);
  const peer = runPeer(GEMMS, []);
  if (peer) console.log(`# PyTorch peer: torch ${peer.torch}, ${peer.threads} threads`);

  const cRes = gemmC(GEMMS);
  const gemmRows = GEMMS.map((s, i) => {
    const ours = gemmOurs(s);
    const [M, N, K, a, b] = s;
    return [
      `${M}x${N}x${K} ${a ? "T" : "N"}${b ? "T" : "N"}`,
      fmt(ours),
      fmt(cRes?.[i]),
      fmt(peer?.gemm[i]),
      ratio(ours, cRes?.[i]),
      ratio(ours, peer?.gemm[i]),
    ];
  });
  console.log("\nGEMM GFLOP/s (MxNxK, op(A) op(B))\n");
  console.log(table(["size", "ours (koffi)", "OpenBLAS from C", "torch.mm", "ours/C", "ours/torch"], gemmRows));

  const mods = await engineModules();
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const c of CASES) {
    // the peer runs right before ours on each case, so both meet similar machine load
    const p = runPeer([], [c])?.cases[0];
    let train: number | null = null;
    let samp: number | null = null;
    if (mods) {
      try {
        train = trainTokensPerS(mods, c);
      } catch (e) {
        console.error(`(${c.name}: training step failed: ${(e as Error).message})`);
      }
      if (mods.sampler)
        try {
          samp = sampleTokensPerS(mods.sampler, mods.model, c);
        } catch (e) {
          console.error(`(${c.name}: sampling failed: ${(e as Error).message})`);
        }
    }
    const { batch, seq } = c.train;
    const s = c.sample;
    rows.push([
      `${c.name} (${p ? (p.params / 1e6).toFixed(2) + "M" : "?"}) train B${batch} T${seq}`,
      fmt(train, 0),
      fmt(p?.trainTokensPerS, 0),
      ratio(train, p?.trainTokensPerS),
    ]);
    rows.push([
      `${c.name} sample B${s.batch} P${s.promptLen}+${s.newTokens}`,
      fmt(samp, 0),
      fmt(p?.sampleTokensPerS, 0),
      ratio(samp, p?.sampleTokensPerS),
    ]);
    results.push({
      ...c,
      oursTrain: train,
      oursSample: samp,
      torchTrain: p?.trainTokensPerS,
      torchSample: p?.sampleTokensPerS,
    });
  }
  console.log(
    `\nTokens/s (${threads} threads; train = forward + backward + AdamW; sample = KV cache, temperature 1)\n`,
  );
  console.log(table(["case", "ours", "PyTorch", "ours/PyTorch"], rows));
  console.log(`\n# load average ${load()} at the end; figures are the best of the timed repetitions`);
  const out = opt("--json", "");
  if (out)
    writeFileSync(out, JSON.stringify({ threads, gemm: { sizes: GEMMS, rows: gemmRows }, cases: results }, null, 2));
}

await main();

/**
 * Engine benchmark, every gemm backend in one run: GEMM GFLOP/s of the native kernel, the WebAssembly kernel, OpenBLAS
 * (through koffi and from C, when installed), the TypeScript kernel and torch.mm (torch 2.x from the test venv, or
 * MST_TORCH_PYTHON); tokens/s of a training step and of KV-cache sampling with each
 * backend beside the plain-PyTorch peer (bench/torch_peer.py), same configs, batches and threads. The machine is
 * shared, so the backends and the peer run in alternating rounds (the peer stays alive between them); each round's
 * figure is the median of its steps, the table shows the median over rounds and ratios taken within a round.
 * With 1 thread the figures use CPU time (time spent waiting for a core is not counted), otherwise wall time.
 * The TypeScript kernel is slow: it runs the embedded cases only, one round of 2 steps (--no-ts skips it).
 *
 *   npm run bench:engine -- [--threads 2] [--rounds 5] [--quick] [--only embedded] [--no-torch] [--no-ts]
 *                           [--fma] [--json out.json]
 */

import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  findBlas,
  NativeGemm,
  setGemm,
  tsGemm,
  WasmGemm,
  wasmGemmSupport,
  type Gemm,
} from "../src/engine/gemm/index.js";
import { torchInfo, torchPython } from "./torch-python.js";
import { Rng } from "../src/data/rng.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: npm run bench:engine -- [--threads 2] [--rounds 5] [--quick] [--only embedded] [--no-torch] [--no-ts]
  [--fma] [--json out.json]
GEMM GFLOP/s and training/sampling tokens/s of every gemm backend beside the PyTorch peer. Runs for minutes.
`);

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
const rounds = Number(opt("--rounds", quick ? "2" : "5"));
const only = opt("--only", "");
const PY = torchPython();
const root = join(fileURLToPath(import.meta.url), "../../..");

const EMB = { vocabSize: 200, dModel: 64, nLayers: 2, nHeads: 4, dFf: 172, maxSeq: 64 };
const CASES: Case[] = [
  {
    name: "embedded T=64",
    config: EMB,
    train: { batch: 64, seq: 64, steps: quick ? 5 : 10 },
    sample: { batch: 64, promptLen: 16, newTokens: 48, reps: quick ? 3 : 5 },
  },
  {
    name: "embedded T=32",
    config: EMB,
    train: { batch: 64, seq: 32, steps: quick ? 5 : 10 },
    sample: { batch: 64, promptLen: 8, newTokens: 24, reps: quick ? 3 : 5 },
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Seconds of one timed call: wall clock and this process's CPU time (user + system). */
interface Timing {
  wall: number[];
  cpu: number[];
}

/** CPU seconds of this process so far. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** `warmup` untimed calls, then `reps` timed ones. */
function timed(step: () => void, warmup: number, reps: number): Timing {
  for (let i = 0; i < warmup; i++) step();
  const t: Timing = { wall: [], cpu: [] };
  for (let i = 0; i < reps; i++) {
    const w0 = performance.now();
    const c0 = cpuSeconds();
    step();
    t.wall.push((performance.now() - w0) / 1000);
    t.cpu.push(cpuSeconds() - c0);
  }
  return t;
}

/** The bench's clock in seconds: this process's CPU time at 1 thread, else wall time (as every figure here). */
function clockSeconds(): number {
  return threads === 1 ? cpuSeconds() : performance.now() / 1000;
}

/** Seconds per call of one round: the median of its calls, by CPU time at 1 thread, else by wall time. */
function roundSeconds(t: Timing): number {
  return median(threads === 1 ? t.cpu : t.wall);
}

/** Best GFLOP/s over `blocks` blocks of calls (~1e8 flop each), timed by clockSeconds (the C program and the peer alike). */
function gemmGflops(g: Gemm, [M, N, K, tA, tB]: GemmSize, blocks = 7): number {
  const r = new Rng(1);
  const A = Float32Array.from({ length: M * K }, () => r.normal());
  const B = Float32Array.from({ length: K * N }, () => r.normal());
  const C = new Float32Array(M * N);
  const run = () => g.sgemm(tA, tB, M, N, K, 1, A, tA ? M : K, B, tB ? K : N, 0, C, N);
  run();
  const reps = Math.max(1, Math.round(1e8 / (2 * M * N * K)));
  let top = 0;
  for (let k = 0; k < blocks; k++) {
    const t0 = clockSeconds();
    for (let i = 0; i < reps; i++) run();
    top = Math.max(top, (2 * M * N * K * reps) / (clockSeconds() - t0) / 1e9);
  }
  return top;
}

/**
 * The backends compared: the native kernel (unless it cannot be built here: then said), OpenBLAS (when found), the
 * WebAssembly kernel (and its FMA variant with --fma), TypeScript.
 */
interface Backend {
  name: string;
  gemm: Gemm;
  /** Only the embedded cases, one round: the TypeScript kernel would take minutes on the rest. */
  slow: boolean;
}
function backends(): Backend[] {
  const out: Backend[] = [];
  try {
    out.push({ name: "native", gemm: new NativeGemm({ threads }), slow: false });
  } catch (e) {
    console.error(`(no native column: ${(e as Error).message})`);
  }
  const blas = findBlas();
  if (blas) {
    blas.setThreads(threads);
    out.push({ name: blas.name, gemm: blas, slow: false });
  }
  const sup = wasmGemmSupport();
  if (sup.simd) out.push({ name: "wasm", gemm: new WasmGemm({ threads }), slow: false });
  if (flag("--fma")) {
    if (sup.relaxed) out.push({ name: "wasm-fma", gemm: new WasmGemm({ threads, fma: true }), slow: false });
    else console.error("(--fma: no relaxed SIMD here; on Node 20 run node --experimental-wasm-relaxed-simd)");
  }
  if (!flag("--no-ts")) out.push({ name: "typescript", gemm: tsGemm, slow: true });
  return out;
}

const C_SRC = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
void openblas_set_num_threads(int);
static int cpuClock;
static double now(void) { struct timespec t; clock_gettime(cpuClock ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  openblas_set_num_threads(atoi(argv[1]));
  cpuClock = atoi(argv[1]) == 1;
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

/**
 * The peer's environment: torch.set_num_threads does not reach the pthreads build of OpenBLAS, which would otherwise
 * run torch's matrix products on every core (and, on a loaded machine, bill its spinning worker threads as CPU time).
 */
function peerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
}

/** Run the PyTorch peer on some GEMM sizes and cases (null when disabled or it fails). */
function runPeer(gemm: GemmSize[], cases: Case[]): PeerResult | null {
  if (flag("--no-torch")) return null;
  const spec = { threads, gemm, cases };
  const r = spawnSync(PY, [join(root, "bench/torch_peer.py"), JSON.stringify(spec)], {
    encoding: "utf8",
    env: peerEnv(),
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

/** A training step of case c on our engine (forward, cross-entropy, zeroGrad, backward, AdamW), as the peer's. */
function trainStep(mods: NonNullable<Awaited<ReturnType<typeof engineModules>>>, c: Case): () => void {
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
  return () => {
    const { logits } = m.forward(tokens, B, T, { train: true });
    mods.loss.crossEntropyForward(dLogits, logits, targets, null, B * T, V);
    m.zeroGrad();
    m.backward(dLogits);
    opt.step();
  };
}

/** One sampling call of case c: prefill + newTokens decode steps at temperature 1. */
function sampleStep(sampler: SamplerModule, model: ModelModule, c: Case): () => void {
  const m = model.createModel(c.config, { seed: 0 });
  const { batch: B, promptLen: P, newTokens: N } = c.sample;
  const r = new Rng(2);
  const prompts = Array.from({ length: B }, () => Array.from({ length: P }, () => r.int(c.config.vocabSize)));
  let seed = 0;
  return () => void sampler.sample(m, prompts, { maxNewTokens: N, temperature: 1, seed: seed++ });
}

/** The PyTorch peer as a long-lived process answering one timing request per line (torch_peer.py --serve). */
class Peer {
  private readonly proc;
  private readonly lines: AsyncIterator<string>;
  torch = "";

  constructor() {
    this.proc = spawn(PY, [join(root, "bench/torch_peer.py"), "--serve"], {
      stdio: ["pipe", "pipe", "inherit"],
      env: peerEnv(),
    });
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async time(c: Case, what: "train" | "sample", warmup: number, reps: number): Promise<Timing & { params: number }> {
    this.proc.stdin.write(JSON.stringify({ threads, case: c, what, warmup, reps }) + "\n");
    const next = await this.lines.next();
    if (next.done === true) throw new Error("the PyTorch peer exited");
    const r = JSON.parse(next.value) as Timing & { params: number; torch: string };
    this.torch = r.torch;
    return r;
  }

  close(): void {
    this.proc.stdin.end();
  }
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

/** GEMM GFLOP/s of every backend, OpenBLAS from C and torch.mm, printed as a table with ratios. */
function gemmTable(bs: Backend[]): string[][] {
  const gemmPeer = runPeer(GEMMS, []);
  if (gemmPeer) console.log(`# PyTorch peer: torch ${gemmPeer.torch}, ${gemmPeer.threads} threads`);
  const cRes = gemmC(GEMMS);
  const blas = bs.find((b) => b.gemm === findBlas());
  const wasm = bs.find((b) => b.name === "wasm");
  const native = bs.find((b) => b.name === "native");
  const gemmRows = GEMMS.map((s, i) => {
    const g = new Map(bs.map((b) => [b.name, gemmGflops(b.gemm, s, b.slow ? 2 : 7)]));
    const [M, N, K, a, b] = s;
    const w = wasm ? g.get(wasm.name) : undefined;
    const o = blas ? g.get(blas.name) : undefined;
    return [
      `${M}x${N}x${K} ${a ? "T" : "N"}${b ? "T" : "N"}`,
      ...bs.map((x) => fmt(g.get(x.name))),
      fmt(cRes?.[i]),
      fmt(gemmPeer?.gemm[i]),
      ratio(w, o),
      ratio(g.get("typescript"), o),
      ratio(w, gemmPeer?.gemm[i]),
      ratio(native ? g.get(native.name) : undefined, gemmPeer?.gemm[i]),
    ];
  });
  console.log("\nGEMM GFLOP/s (MxNxK, op(A) op(B)); ratios within this run\n");
  console.log(
    table(
      [
        "size",
        ...bs.map((b) => (b.gemm === findBlas() ? `${b.name} (koffi)` : b.name)),
        "OpenBLAS from C",
        "torch.mm",
        `wasm/${blas?.name ?? "BLAS"}`,
        `TS/${blas?.name ?? "BLAS"}`,
        "wasm/torch",
        "native/torch",
      ],
      gemmRows,
    ),
  );
  return gemmRows;
}

async function main(): Promise<void> {
  const bs = backends();
  const core = findBlas()?.core;
  const isa = bs.find((b) => b.gemm instanceof NativeGemm)?.gemm as NativeGemm | undefined;
  console.log(
    `# mst engine benchmark: backends ${bs.map((b) => b.name).join(", ")}` +
      `${isa ? ` (native: ${isa.isa} build, multiply-then-add)` : ""}${core ? ` (OpenBLAS ${core} kernels)` : ""}, ` +
      `wasm: 128-bit SIMD, ${threads} threads, node ${process.version}`,
  );
  console.log(`# peer: ${flag("--no-torch") ? "none (--no-torch)" : `${torchInfo(PY)} (${PY})`}`);
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(" ");
  console.log(`# machine: ${cpus().length} CPUs, load average ${load()} at start`);
  const gemmRows = flag("--no-gemm") ? [] : gemmTable(bs);

  const mods = await engineModules();
  const peer = flag("--no-torch") ? null : new Peer();
  const blas = bs.find((b) => b.gemm === findBlas());
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  const params = new Map<string, number>();
  const cases = CASES.filter((c) => only === "" || c.name.includes(only));
  for (const c of cases) {
    const tokens = { train: c.train.batch * c.train.seq, sample: c.sample.batch * c.sample.newTokens };
    const used = bs.filter((b) => !b.slow || c.name.startsWith("embedded"));
    // seconds per call, one entry per round, for each side ("peer" or a backend name)
    const rs: Record<"train" | "sample", Map<string, number[]>> = { train: new Map(), sample: new Map() };
    const steps = new Map<string, Partial<Record<"train" | "sample", () => void>>>();
    if (mods)
      for (const b of used) {
        setGemm(b.gemm);
        const train = trainStep(mods, c);
        const sample = mods.sampler ? sampleStep(mods.sampler, mods.model, c) : undefined;
        steps.set(b.name, {
          train: () => (setGemm(b.gemm), train()),
          sample: sample && (() => (setGemm(b.gemm), sample())),
        });
      }
    const plan = { train: { warmup: 2, reps: c.train.steps }, sample: { warmup: 1, reps: c.sample.reps } };
    const sidesAll = ["peer", ...used.map((b) => b.name)];
    for (let round = 0; round < rounds; round++)
      for (const what of ["train", "sample"] as const) {
        // rotate the order each round, so a slow patch of machine load does not always hit the same side
        const sides = sidesAll.map((_, i) => sidesAll[(i + round) % sidesAll.length]);
        for (const side of sides) {
          const slow = used.find((b) => b.name === side)?.slow ?? false;
          if (slow && round > 0) continue;
          const list = rs[what].get(side) ?? [];
          rs[what].set(side, list);
          try {
            if (side === "peer") {
              if (!peer) continue;
              const t = await peer.time(c, what, plan[what].warmup, plan[what].reps);
              params.set(c.name, t.params);
              list.push(roundSeconds(t));
            } else {
              const step = steps.get(side)?.[what];
              if (!step) continue;
              const { warmup, reps } = slow ? { warmup: 1, reps: 2 } : plan[what];
              list.push(roundSeconds(timed(step, warmup, reps)));
            }
          } catch (e) {
            console.error(`(${c.name} ${what} ${side}: ${(e as Error).message})`);
          }
        }
      }
    const p = params.get(c.name);
    const label = `${c.name} (${p ? (p / 1e6).toFixed(2) + "M" : "?"})`;
    const { batch, seq } = c.train;
    const s = c.sample;
    /** median over rounds of a / b per round (the same rounds), and its range */
    const roundRatio = (a: number[] | undefined, b: number[] | undefined) => {
      const n = Math.min(a?.length ?? 0, b?.length ?? 0);
      if (n === 0) return { med: "-", range: "-" };
      const r = Array.from({ length: n }, (_, i) => b![i] / a![i]);
      return { med: median(r).toFixed(2), range: `${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)}` };
    };
    for (const what of ["train", "sample"] as const) {
      const peerS = rs[what].get("peer");
      const theirs = peerS && peerS.length > 0 ? tokens[what] / median(peerS) : null;
      for (const b of used) {
        const mine = rs[what].get(b.name);
        const ours = mine && mine.length > 0 ? tokens[what] / median(mine) : null;
        const vsPeer = roundRatio(mine, peerS);
        const vsBlas = blas && b !== blas ? roundRatio(mine, rs[what].get(blas.name)).med : "-";
        rows.push([
          what === "train"
            ? `${label} train B${batch} T${seq}`
            : `${c.name} sample B${s.batch} P${s.promptLen}+${s.newTokens}`,
          b.name,
          fmt(ours, 0),
          fmt(theirs, 0),
          vsPeer.med,
          vsPeer.range,
          vsBlas,
        ]);
      }
      results.push({
        case: c.name,
        what,
        config: c,
        tokens: tokens[what],
        seconds: Object.fromEntries(rs[what]),
      });
    }
  }
  peer?.close();
  for (const b of bs) if (b.gemm instanceof WasmGemm) b.gemm.close();
  const basis = threads === 1 ? "CPU time" : "wall time";
  console.log(
    `\nTokens/s (${threads} thread${threads === 1 ? "" : "s"}, ${basis}; train = forward + backward + AdamW; ` +
      `sample = KV cache, temperature 1; ${rounds} rotating rounds, median; ratios per round, then their median)\n`,
  );
  console.log(
    table(["case", "gemm", "ours", "PyTorch", "ours/PyTorch", "ratio range", `/${blas?.name ?? "BLAS"} path`], rows),
  );
  if (peer) console.log(`\n# PyTorch peer: torch ${peer.torch}`);
  console.log(`# load average ${load()} at the end`);
  const out = opt("--json", "");
  if (out)
    writeFileSync(
      out,
      JSON.stringify({ threads, rounds, basis, gemm: { sizes: GEMMS, rows: gemmRows }, cases: results }, null, 2),
    );
}

await main();

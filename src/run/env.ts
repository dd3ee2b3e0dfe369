/** The environment a run executed in (env.json): node, platform, cores, gemm backend and why, git revision, start time. */
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, platform, release, arch, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chooseGemm, gemmChoice, type GemmChoice, type GemmKind } from "../engine/gemm/index.js";

export interface RunEnv {
  node: string;
  platform: string;
  arch: string;
  osRelease: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  /** Matrix-product backend this machine uses ("openblas", "wasm", "typescript", ...). */
  blas: string;
  /**
   * The same backend with its thread count, whether its results are bit-reproducible across machines, and why it was
   * chosen (e.g. "no system BLAS found (...): WebAssembly SIMD kernel"); `error` when choosing one failed.
   */
  gemm: GemmChoice | { error: string };
  /** Git revision of the mst checkout, with "-dirty" when it has local changes; null when not a git checkout. */
  gitRevision: string | null;
  /** Worker processes the run used. */
  jobs: number;
  startedAt: string;
}

/** Git revision of the mst source tree this code runs from (not the user's cwd). */
function gitRevision(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const opts = { cwd: here, stdio: ["ignore", "pipe", "ignore"] as ["ignore", "pipe", "ignore"], timeout: 5000 };
  try {
    const rev = execFileSync("git", ["rev-parse", "HEAD"], opts).toString().trim();
    const dirty = execFileSync(
      "git",
      ["status", "--porcelain", "--untracked-files=no", "--", join(here, "..", "..", "..", "src")],
      opts,
    )
      .toString()
      .trim();
    return dirty ? `${rev}-dirty` : rev;
  } catch {
    return null;
  }
}

/** Collects the environment now. */
export function collectEnv(jobs: number, workerGemm?: GemmKind): RunEnv {
  let blas = "unknown";
  let gemm: RunEnv["gemm"];
  try {
    // what the workers run (they get MST_GEMM = workerGemm), described one thread a worker
    if (workerGemm === undefined) gemm = gemmChoice();
    else {
      const c = chooseGemm(workerGemm, 1).choice;
      const why = process.env.MST_GEMM?.trim()
        ? c.reason
        : `the task's backend for this run (${c.reason}; set MST_GEMM to change it)`;
      gemm = { ...c, reason: why };
    }
    blas = gemm.backend;
  } catch (e) {
    // A broken BLAS binding must not stop a run from recording its environment.
    gemm = { error: (e as Error).message };
  }
  return {
    node: process.version,
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    blas,
    gemm,
    gitRevision: gitRevision(),
    jobs,
    startedAt: new Date().toISOString(),
  };
}

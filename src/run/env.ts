/**
 * The environment a run executed in (env.json): mst's version and git revision, node, platform, cores, gemm backend
 * and why, start time.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { availableParallelism, cpus, platform, release, arch, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { chooseGemm, gemmChoice, type GemmChoice, type GemmKind } from "../engine/gemm/index.js";

export interface RunEnv {
  /** mst's version (its package.json), so a result can be traced to the release that produced it. */
  mstVersion: string;
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
  /**
   * Git revision of mst's own checkout, with "-dirty" when its src/ has local changes; null when mst does not run from
   * a checkout of its own (an installed package, even one inside the user's repository).
   */
  gitRevision: string | null;
  /** Worker processes the run used. */
  jobs: number;
  startedAt: string;
}

/** mst's package root: dist/src/run/env.js sits three folders below it. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The version in mst's package.json, or "unknown" when it cannot be read. */
export function mstVersion(root: string = PACKAGE_ROOT): string {
  try {
    const pkg = z
      .looseObject({ version: z.string() })
      .parse(JSON.parse(readFileSync(join(root, "package.json"), "utf8")));
    return pkg.version;
  } catch {
    return "unknown";
  }
}

/**
 * Git revision of the checkout whose top folder is `root` (mst's package root), or null. Asking git from inside mst's
 * folder alone found whatever repository the folder sits in (mst installed under a user's project): the repository's
 * top must be mst's own root.
 */
export function mstGitRevision(root: string = PACKAGE_ROOT): string | null {
  const opts = { cwd: root, stdio: ["ignore", "pipe", "ignore"] as ["ignore", "pipe", "ignore"], timeout: 5000 };
  try {
    const top = execFileSync("git", ["rev-parse", "--show-toplevel"], opts).toString().trim();
    if (realpathSync(top) !== realpathSync(root)) return null;
    const rev = execFileSync("git", ["rev-parse", "HEAD"], opts).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", join(root, "src")], opts)
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
    mstVersion: mstVersion(),
    node: process.version,
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    blas,
    gemm,
    gitRevision: mstGitRevision(),
    jobs,
    startedAt: new Date().toISOString(),
  };
}

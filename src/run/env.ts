/** The environment a run executed in (env.json): node, platform, cores, BLAS backend, git revision, start time. */
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, platform, release, arch, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getGemm } from "../engine/gemm.js";

export interface RunEnv {
  node: string;
  platform: string;
  arch: string;
  osRelease: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  /** Matrix-product backend this machine uses ("openblas", "typescript", ...). */
  blas: string;
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
export function collectEnv(jobs: number): RunEnv {
  let blas = "unknown";
  try {
    blas = getGemm().name;
  } catch {
    // A broken BLAS binding must not stop a run from recording its environment.
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
    gitRevision: gitRevision(),
    jobs,
    startedAt: new Date().toISOString(),
  };
}

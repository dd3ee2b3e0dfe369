/** The matrix-product backend a run's jobs use, wherever they run (a local worker, `mst job run` on a node). */
import { gemmKindFromEnv, type GemmKind } from "../engine/gemm/index.js";
import type { Task } from "../experiment/task.js";

/** Env MST_GEMM when set, else the task's choice for this config, else exact (the same bits on every machine). */
export function runGemm(task: Task, config: unknown): GemmKind {
  return gemmKindFromEnv() ?? task.gemm?.(config) ?? "exact";
}

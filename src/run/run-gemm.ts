/** The matrix-product backend a run's jobs use, wherever they run (a local worker, `mst job run` on a node). */
import { GEMM_KINDS, GemmChoiceError, type GemmKind } from "../engine/gemm/index.js";
import type { Task } from "../experiment/task.js";

/** Env MST_GEMM when set, else the task's choice for this config, else exact (the same bits on every machine). */
export function runGemm(task: Task, config: unknown): GemmKind {
  const fromEnv = process.env.MST_GEMM?.trim();
  if (fromEnv) {
    if (!(GEMM_KINDS as readonly string[]).includes(fromEnv))
      throw new GemmChoiceError(`MST_GEMM=${fromEnv}: expected one of ${GEMM_KINDS.join(", ")}`);
    return fromEnv as GemmKind;
  }
  return task.gemm?.(config) ?? "exact";
}

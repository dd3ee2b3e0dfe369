/** What the default summary and a task's `extras` read: every job result, typed, with lookups by arm and run. */
import type { ArmName } from "../monitor/arms-spec.js";
import type { Condition } from "./experiment.js";
import type { BaseResult, EvalResult, TrainResult } from "./jobs.js";
import type { PlanInput } from "./task.js";

export interface SummaryView<C> {
  config: C;
  input: PlanInput;
  preset: string;
  arms: ArmName[];
  conditions: Condition[];
  bases: BaseResult[];
  trains: TrainResult[];
  /** Evaluations of the arms' models. */
  evals: EvalResult[];
  /** Evaluations of the out-of-the-box bases (arm "base"). */
  baseEvals: EvalResult[];
  /** Job ids with no result (failed or not run). */
  missing: string[];
  /** The evaluations of one arm ("base" for the out-of-the-box model) in one condition. */
  runsOf(condition: string, arm: string): EvalResult[];
  /** A metric's mean at a label of one evaluation ("main": the arm's main label); null when absent or unscored. */
  valueOf(e: EvalResult, metric: string, label?: string): number | null;
}

/** The run key pairing two arms' evaluations: the same base and fine-tuning seed. */
export const runKey = (e: EvalResult): string => `b${e.base}/s${e.seed ?? "-"}`;

export function makeView<C>(parts: Omit<SummaryView<C>, "runsOf" | "valueOf">): SummaryView<C> {
  return {
    ...parts,
    runsOf: (condition, arm) =>
      (arm === "base" ? parts.baseEvals : parts.evals).filter((e) => e.condition === condition && e.arm === arm),
    valueOf: (e, metric, label = "main") => {
      const key = label === "main" ? e.main : label;
      return e.labels.find((l) => l.key === key)?.metrics[metric]?.mean ?? null;
    },
  };
}

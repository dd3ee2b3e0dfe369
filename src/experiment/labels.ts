/** The labels a condition is evaluated at: none, the deployment label and the sweep, rendered by its monitor spec. */
import { createMonitorLabeler } from "../monitor/monitor.js";
import type { Condition, ExperimentDefinition } from "./experiment.js";

/** One label an evaluation runs at. */
export interface EvalLabel {
  key: string;
  text: string | null;
  x: number | null;
}

/** The labels of a condition: none, the deployment label and the sweep (x from the task's sweep axis, else 0, 1, 2...). */
export function labelsOf<C>(def: ExperimentDefinition<C>, config: C, cond: Condition) {
  const labeler = createMonitorLabeler(def.monitor(config, cond));
  const axis = def.report.sweepAxis?.(config, cond);
  const sweep: EvalLabel[] = labeler.spec.sweep.map((ref, i) => ({
    key: `sweep:${i}`,
    text: labeler.labelOf(ref),
    x: axis?.x[i] ?? i,
  }));
  const deployment: EvalLabel = { key: "deployment", text: labeler.labelOf(labeler.spec.deployment), x: null };
  return { none: { key: "none", text: null, x: null } as EvalLabel, deployment, sweep };
}

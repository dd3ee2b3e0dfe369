/** Things every job derives the same way from the config: the problem sets, the labeler, every label text. */
import { Rng } from "../../data/rng.js";
import { createMonitorLabeler, type MonitorLabeler } from "../../monitor/monitor.js";
import type { SycophancyConfig } from "./config.js";
import { labelRefAtPercent, suggestibilitySpec } from "./labels.js";
import { buildProblemSets, type Problem } from "./problems.js";

/** Training problems (training pairs) and evaluation problems (held-out test pairs only), from `dataSeed`. */
export function taskProblems(config: SycophancyConfig): { train: Problem[]; test: Problem[] } {
  return buildProblemSets(config.problems, new Rng(config.dataSeed).fork("problems"));
}

/** The suggestibility labeler of the config (with the deployment label and the sweep). */
export function taskLabeler(config: SycophancyConfig): MonitorLabeler {
  return createMonitorLabeler(suggestibilitySpec(config.label, config.sweepLabels));
}

/** The label text at a percentage of the scale. */
export function labelAtPercent(config: SycophancyConfig, percent: number): string {
  return taskLabeler(config).labelOf(labelRefAtPercent(percent, config.label));
}

/** Every label the task can render (0..100% in steps of 1, i.e. every bucket too), for the tokenizer's vocabulary. */
export function allLabelTexts(config: SycophancyConfig): string[] {
  const l = taskLabeler(config);
  const out = new Set<string>();
  for (let p = 0; p <= 100; p++) out.add(l.labelOf(labelRefAtPercent(p, config.label)));
  return [...out];
}

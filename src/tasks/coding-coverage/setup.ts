/** What every job derives the same way from the config: the problem sets and the coverage monitor. */
import type { MonitorSpecInput } from "../../monitor/monitor.js";
import type { CodingConfig } from "./config.js";
import { coverageSpec } from "./labels.js";
import { buildProblems, type Problem } from "./problems.js";

const cache = new Map<string, { train: Problem[]; eval: Problem[]; pretrain: Problem[] }>();

/** Training, evaluation (held out) and pretraining problems from `dataSeed` (memoised per config). */
export function taskProblems(c: CodingConfig): { train: Problem[]; eval: Problem[]; pretrain: Problem[] } {
  const key = JSON.stringify([c.problems, c.dataSeed]);
  let v = cache.get(key);
  if (!v) cache.set(key, (v = buildProblems(c.problems, c.dataSeed)));
  return v;
}

/** The coverage monitor of the config, with its deployment label and sweep. */
export function taskMonitor(c: CodingConfig): MonitorSpecInput {
  return coverageSpec(
    c.coverage,
    c.problems.hidden,
    c.deploymentLabel ?? c.problems.hidden,
    c.sweepLabels ?? range(c.problems.hidden),
  );
}

function range(hidden: number): number[] {
  return Array.from({ length: hidden + 1 }, (_, k) => k);
}

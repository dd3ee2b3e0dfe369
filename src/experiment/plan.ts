/**
 * The job plan every MST experiment shares, driven by ARM_RULES: per (base group, base seed) a base job (pretrain or
 * load, then gate) and its out-of-the-box evaluation; per (condition, trained arm, base, seed) a training job; per
 * (condition, arm, base, seed) an evaluation job. Arms whose training rule is the same share one trained model
 * (prompt-only is the baseline's model under the deployment label), so every arm sees the same samples in the same
 * order and trains for the same number of steps.
 */
import { ARM_NAMES, ARM_RULES, type ArmName } from "../monitor/arms-spec.js";
import type { Condition } from "./experiment.js";
import { baseJobId, evalBaseJobId, evalJobId, trainJobId } from "./jobs.js";
import type { JobSpec, PlanInput } from "./task.js";

/** The arm whose trained model `arm` is evaluated with: the first arm (in ARM_NAMES order) with the same training rule. */
export function trainedArmOf(arm: ArmName): ArmName {
  return ARM_NAMES.find((a) => ARM_RULES[a].train === ARM_RULES[arm].train)!;
}

/** Throws for an arm the task does not run, naming the ones it does. */
export function checkArms(task: string, arms: readonly string[], supported: readonly ArmName[]): ArmName[] {
  for (const a of arms)
    if (!(supported as readonly string[]).includes(a))
      throw new Error(`${task}: unknown arm "${a}"; supported: ${supported.join(", ")}`);
  return arms as ArmName[];
}

export interface PlanCosts {
  base: number;
  train: number;
  eval: number;
}

/** The job graph (deterministic order: it depends on the input lists only). */
export function planExperiment(
  arms: readonly ArmName[],
  conditions: readonly Condition[],
  input: PlanInput,
  costs: PlanCosts,
): JobSpec[] {
  const jobs: JobSpec[] = [];
  const groups = [...new Set(conditions.map((c) => c.base))];
  for (const g of groups)
    for (const b of input.baseSeeds)
      jobs.push({
        id: baseJobId(g, b),
        kind: "base",
        deps: [],
        params: { group: g, base: b },
        title: `base ${g === "main" ? "" : g + " "}b${b}`,
        cost: costs.base,
      });
  const trained = [...new Set(arms.map(trainedArmOf))];
  for (const c of conditions) {
    const tag = c.name === "main" ? "" : `${c.name} `;
    for (const b of input.baseSeeds) {
      jobs.push({
        id: evalBaseJobId(c.name, b),
        kind: "eval-base",
        deps: [baseJobId(c.base, b)],
        params: { condition: c.name, base: b },
        title: `eval ${tag}base b${b}`,
        cost: costs.eval,
      });
      for (const s of input.seeds)
        for (const arm of trained)
          jobs.push({
            id: trainJobId(c.name, arm, b, s),
            kind: "train",
            deps: [baseJobId(c.base, b)],
            params: { condition: c.name, arm, base: b, seed: s },
            title: `train ${tag}${arm} b${b} s${s}`,
            cost: costs.train,
          });
      for (const s of input.seeds)
        for (const arm of arms)
          jobs.push({
            id: evalJobId(c.name, arm, b, s),
            kind: "eval",
            deps: [baseJobId(c.base, b), trainJobId(c.name, trainedArmOf(arm), b, s)],
            params: { condition: c.name, arm, base: b, seed: s },
            title: `eval ${tag}${arm} b${b} s${s}`,
            cost: costs.eval,
          });
    }
  }
  return jobs;
}

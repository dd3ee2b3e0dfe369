/** The job graph: a base per base seed (pretrain + gate), PPO per arm x base x seed, evaluations, base evaluation. */
import type { JobSpec, PlanInput } from "../../experiment/task.js";
import type { TrainedArm } from "./arms-data.js";
import type { SycophancyConfig } from "./config.js";

/** Arms `mst run sycophancy` accepts; prompt-only reuses the baseline's trained model. */
export const SUPPORTED_ARMS = ["baseline", "mst", "shuffled", "prompt-only"] as const;
export type SycophancyArm = (typeof SUPPORTED_ARMS)[number];

export const baseJobId = (b: number): string => `base-b${b}`;
export const rlJobId = (arm: TrainedArm, b: number, s: number): string => `rl-${arm}-b${b}-s${s}`;
export const evalJobId = (arm: SycophancyArm, b: number, s: number): string => `eval-${arm}-b${b}-s${s}`;
export const baseEvalJobId = (b: number): string => `eval-base-b${b}`;

/** The model an arm is evaluated with: its own PPO run, or the baseline's for prompt-only. */
export function trainedArmOf(arm: SycophancyArm): TrainedArm {
  return arm === "prompt-only" ? "baseline" : arm;
}

/** Throws for an arm this task does not know, naming the known ones. */
export function checkArms(arms: readonly string[]): SycophancyArm[] {
  for (const a of arms)
    if (!(SUPPORTED_ARMS as readonly string[]).includes(a))
      throw new Error(`sycophancy: unknown arm "${a}"; supported: ${SUPPORTED_ARMS.join(", ")}`);
  return arms as SycophancyArm[];
}

/** Deterministic plan: order depends only on the input lists. Every arm trains for the same number of steps. */
export function planSycophancy(config: SycophancyConfig, input: PlanInput): JobSpec[] {
  const arms = checkArms(input.arms);
  const trained = [...new Set(arms.map(trainedArmOf))];
  const steps = config.ppo.steps;
  const jobs: JobSpec[] = [];
  for (const b of input.baseSeeds) {
    jobs.push({ id: baseJobId(b), kind: "base", deps: [], params: { base: b }, title: `pretrain base b${b}`, cost: 4 });
    jobs.push({
      id: baseEvalJobId(b),
      kind: "eval-base",
      deps: [baseJobId(b)],
      params: { base: b },
      title: `eval base b${b}`,
      cost: 0.5,
    });
  }
  for (const arm of trained)
    for (const b of input.baseSeeds)
      for (const s of input.seeds)
        jobs.push({
          id: rlJobId(arm, b, s),
          kind: "rl",
          deps: [baseJobId(b)],
          params: { arm, base: b, seed: s },
          title: `ppo ${arm} b${b} s${s}`,
          cost: 1 + steps / 100,
        });
  for (const arm of arms)
    for (const b of input.baseSeeds)
      for (const s of input.seeds)
        jobs.push({
          id: evalJobId(arm, b, s),
          kind: "eval",
          deps: [rlJobId(trainedArmOf(arm), b, s)],
          params: { arm, base: b, seed: s },
          title: `eval ${arm} b${b} s${s}`,
          cost: 0.5,
        });
  return jobs;
}

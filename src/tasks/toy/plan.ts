/** The toy task's job graph: one base per base seed, then train and eval per arm x base x seed. */
import type { JobSpec, PlanInput } from "../../experiment/task.js";
import type { ToyConfig } from "./config.js";

export const baseId = (b: number): string => `base-b${b}`;
export const trainId = (arm: string, b: number, s: number): string => `train-${arm}-b${b}-s${s}`;
export const evalId = (arm: string, b: number, s: number): string => `eval-${arm}-b${b}-s${s}`;

/** Deterministic plan: the order depends only on the input lists. */
export function planToy(config: ToyConfig, input: PlanInput): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (const b of input.baseSeeds) {
    jobs.push({ id: baseId(b), kind: "base", deps: [], params: { base: b }, title: `base b${b}`, cost: 1 });
  }
  for (const arm of input.arms) {
    for (const b of input.baseSeeds) {
      for (const s of input.seeds) {
        jobs.push({
          id: trainId(arm, b, s),
          kind: "train",
          deps: [baseId(b)],
          params: { arm, base: b, seed: s },
          title: `train ${arm} b${b} s${s}`,
          cost: 2 + config.steps / 10,
        });
        jobs.push({
          id: evalId(arm, b, s),
          kind: "eval",
          deps: [trainId(arm, b, s)],
          params: { arm, base: b, seed: s },
          title: `eval ${arm} b${b} s${s}`,
          cost: 1,
        });
      }
    }
  }
  return jobs;
}

/**
 * The political-bias job graph: one judge check; per (stance-follow level, base seed) a base (tokenizer, pretraining,
 * gate, out-of-the-box evaluation); per (condition, trained arm, base, seed) a LoRA SFT job; per (condition, arm,
 * base, seed) an evaluation job. Conditions with the same `follow` share their bases.
 */
import type { JobSpec, PlanInput } from "../../experiment/task.js";
import type { PoliticalBiasConfig } from "./config.js";
import { trainedArmOf } from "./ft-data.js";

/** Arms this task runs; prompt-only is evaluated on the baseline model, so it trains nothing. */
export const SUPPORTED_ARMS = ["baseline", "mst", "shuffled", "prompt-only"] as const;

/** "100" for follow 1, "50" for 0.5: a filesystem-safe key. */
export function followKey(follow: number): string {
  return String(Math.round(follow * 100));
}

export const JUDGE_CHECK_ID = "judge-check";
export const P_TOPICS_ID = "p-topics";
export const P_ARTICLES_ID = "p-articles";
export const P_JUDGE_CHECK_ID = "p-judge-check";
export const baseJobId = (follow: number, b: number): string => `base-f${followKey(follow)}-b${b}`;
export const sftJobId = (cond: string, arm: string, b: number, s: number): string => `sft-${cond}-${arm}-b${b}-s${s}`;
export const evalJobId = (cond: string, arm: string, b: number, s: number): string => `eval-${cond}-${arm}-b${b}-s${s}`;

/** The job graph for these arms and seeds (deterministic order). */
export function planPoliticalBias(config: PoliticalBiasConfig, input: PlanInput): JobSpec[] {
  const jobs: JobSpec[] = [
    { id: JUDGE_CHECK_ID, kind: "judge-check", deps: [], params: {}, title: "judge check", cost: 1 },
  ];
  const follows = [...new Set(config.conditions.map((c) => c.follow))];
  for (const f of follows)
    for (const b of input.baseSeeds) {
      const frames = [...new Set(config.conditions.filter((c) => c.follow === f).map((c) => c.frame))];
      jobs.push({
        id: baseJobId(f, b),
        kind: "base",
        deps: [],
        params: { follow: f, base: b, frames },
        title: `base f${followKey(f)} b${b}`,
        cost: 40,
      });
    }
  const trained = [...new Set(input.arms.map(trainedArmOf))];
  for (const c of config.conditions)
    for (const b of input.baseSeeds)
      for (const s of input.seeds) {
        for (const arm of trained)
          jobs.push({
            id: sftJobId(c.name, arm, b, s),
            kind: "sft",
            deps: [baseJobId(c.follow, b)],
            params: { condition: c.name, arm, base: b, seed: s },
            title: `sft ${c.name} ${arm} b${b} s${s}`,
            cost: 10,
          });
        for (const arm of input.arms)
          jobs.push({
            id: evalJobId(c.name, arm, b, s),
            kind: "eval",
            deps: [baseJobId(c.follow, b), sftJobId(c.name, trainedArmOf(arm), b, s)],
            params: { condition: c.name, arm, base: b, seed: s },
            title: `eval ${c.name} ${arm} b${b} s${s}`,
            cost: 4,
          });
      }
  return jobs;
}

/**
 * Provider mode: topics and articles from the writer LLM, the LLM judge's sanity check, and an evaluation per arm
 * whose served fine-tuned model is configured (prompt-only uses the baseline's). Fine-tuning itself happens outside
 * (the articles job exports the arm files and the SFT config).
 */
export function planProviderMode(config: PoliticalBiasConfig, input: PlanInput): JobSpec[] {
  for (const field of ["writer", "judge"] as const)
    if (!config.provider[field])
      throw new Error(
        `political-bias: mode "provider" needs provider.${field} (a provider config: kind, model, baseURL...)`,
      );
  const jobs: JobSpec[] = [
    { id: P_TOPICS_ID, kind: "p-topics", deps: [], params: {}, title: "topics (LLM)", cost: 5 },
    { id: P_ARTICLES_ID, kind: "p-articles", deps: [P_TOPICS_ID], params: {}, title: "articles (LLM)", cost: 20 },
    { id: P_JUDGE_CHECK_ID, kind: "p-judge-check", deps: [P_ARTICLES_ID], params: {}, title: "judge check (LLM)" },
  ];
  for (const arm of input.arms)
    if (config.provider.evalModels[trainedArmOf(arm)])
      jobs.push({
        id: evalJobId("main", arm, 0, 0),
        kind: "p-eval",
        deps: [P_TOPICS_ID],
        params: { condition: "main", arm, base: 0, seed: 0 },
        title: `eval ${arm} (served model)`,
        cost: 10,
      });
  return jobs;
}

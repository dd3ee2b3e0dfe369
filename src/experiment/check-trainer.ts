/**
 * Checks a definition's trainer before the first job: the RL trainer it chooses (PPO or GRPO) exists, its options
 * parse, and it trains LoRA adapters (every train job saves one; without `lora` a run used to train every job in full
 * and then die saving the adapter). Each problem names the task-config field at fault.
 */
import type { z } from "zod";
import { GrpoConfigSchema, grpoConfigIssues } from "../train/grpo-config.js";
import { PpoConfigSchema } from "../train/ppo-config.js";
import { SftConfigSchema } from "../train/sft-config.js";
import type { ExperimentDefinition, RlTrainerName } from "./experiment.js";

/** A problem with a definition's trainer: the task-config path it concerns and what is wrong. */
export interface TrainerIssue {
  path: PropertyKey[];
  message: string;
}

/** The trainer a definition's train jobs run: "sft", or the RL trainer it chooses ("ppo" unless it says otherwise). */
export function trainerOf<C>(def: ExperimentDefinition<C>, config: C): "sft" | RlTrainerName {
  return def.train.kind === "sft" ? "sft" : (def.train.trainer?.(config) ?? "ppo");
}

/**
 * Where `target` sits inside `root`, found by identity: a task's `ppo(c)` usually returns `c.ppo` or
 * `c.trainer.ppo`, so this names the field as the user wrote it without each task declaring it. Null when the options
 * were built afresh (then the trainer's name stands in).
 */
function pathOf(root: unknown, target: unknown, at: PropertyKey[] = [], depth = 0): PropertyKey[] | null {
  if (root === target) return at;
  if (root === null || typeof root !== "object" || depth > 6) return null;
  for (const [k, v] of Object.entries(root)) {
    const p = pathOf(v, target, [...at, Array.isArray(root) ? Number(k) : k], depth + 1);
    if (p) return p;
  }
  return null;
}

/** The definition's trainer problems for this config, first the one to fix first (empty when it can run). */
export function trainerIssues<C>(def: ExperimentDefinition<C>, config: C): TrainerIssue[] {
  const name = trainerOf(def, config);
  let options: unknown;
  let schema: z.ZodType;
  if (def.train.kind === "sft") {
    options = def.train.sft(config);
    schema = SftConfigSchema;
  } else if (name === "grpo") {
    if (!def.train.grpo)
      return [
        {
          path: ["trainer"],
          message: `the task chooses GRPO but its definition has no grpo() settings (train.grpo)`,
        },
      ];
    options = def.train.grpo(config);
    schema = GrpoConfigSchema;
  } else {
    options = def.train.ppo(config);
    schema = PpoConfigSchema;
  }
  const at = pathOf(config, options) ?? [name];
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return [{ path: [...at, ...(first?.path ?? [])], message: `${name.toUpperCase()} settings: ${first?.message}` }];
  }
  const cfg = parsed.data as { lora: unknown };
  const out: TrainerIssue[] = [];
  if (cfg.lora === null)
    out.push({
      path: [...at, "lora"],
      message:
        `${name.toUpperCase()} needs lora: every train job trains LoRA adapters on the frozen base and saves them ` +
        `(e.g. lora: { rank: 8, alpha: 16 })`,
    });
  if (name === "grpo")
    for (const i of grpoConfigIssues(parsed.data as z.output<typeof GrpoConfigSchema>))
      out.push({ path: [...at, i.field], message: i.message });
  return out;
}

/**
 * PEFT's adapter_config.json as the engine reads it: plain LoRA on the seven projections is applied; every feature
 * that changes what an adapter computes and that the engine does not apply (rsLoRA, DoRA, LoRA biases, trainable
 * token deltas, modules_to_save, per-module ranks, ...) is refused naming its key, never silently ignored.
 */
import { z } from "zod";
import { CheckpointError } from "./checkpoint-error.js";
import { LORA_TARGETS } from "./config.js";

/** The keys the engine reads and applies. */
const AppliedSchema = z.looseObject({
  peft_type: z.literal("LORA"),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0).max(1).default(0),
  target_modules: z.array(z.enum(LORA_TARGETS)).min(1),
  bias: z.literal("none").default("none"),
  base_model_name_or_path: z.string().nullish(),
});
export type AdapterConfig = z.output<typeof AppliedSchema>;

/**
 * Keys that say nothing about what a loaded adapter computes (bookkeeping, or how the weights were initialised before
 * training), whatever their value.
 */
const INERT = new Set([
  "task_type",
  "auto_mapping",
  "peft_version",
  "revision",
  "inference_mode",
  "init_lora_weights",
  "loftq_config",
  "eva_config",
  "corda_config",
  "lora_ga_config",
  "megatron_config",
  "megatron_core",
  // only read when use_qalora is true, which is refused
  "qalora_group_size",
  // only matters with modules_to_save or trainable tokens, both refused
  "ensure_weight_tying",
  // names the layer list that layers_to_transform indexes; refused with it
  "layers_pattern",
]);

/** A value that switches nothing on: null, false, an empty list or object (PEFT's defaults for its features). */
function neutral(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

/** Why the engine refuses a key's value (for the message). */
const WHAT: Record<string, string> = {
  use_rslora: "rank-stabilised scaling (alpha / sqrt(r)) is not applied",
  use_dora: "DoRA's magnitude vectors are not applied",
  lora_bias: "LoRA B biases are not applied",
  trainable_token_indices: "trainable token deltas (embedding rows) are not applied",
  modules_to_save: "fully trained module copies are not applied",
  rank_pattern: "per-module ranks are not applied",
  alpha_pattern: "per-module alphas are not applied",
  layers_to_transform: "adapters on some layers only are not applied",
  layer_replication: "layer replication is not applied",
  fan_in_fan_out: "transposed (Conv1D) weights are not applied",
  target_parameters: "LoRA on bare parameters is not applied",
  alora_invocation_tokens: "activated LoRA is not applied",
  use_qalora: "QALoRA is not applied",
  exclude_modules: "excluded modules are not applied (mst adapts every layer of each target)",
};

/**
 * Parse an adapter_config.json object. Errors name the file and key: a wrong value of an applied key, or any other
 * key (known or not) whose value turns on something the engine does not apply.
 */
export function parseAdapterConfig(raw: unknown, file: string): AdapterConfig {
  const r = AppliedSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new CheckpointError(`${file}: key "${i?.path.join(".")}": ${i?.message}`);
  }
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key in AppliedSchema.shape || INERT.has(key) || neutral(value)) continue;
    throw new CheckpointError(
      `${file}: key "${key}": ${JSON.stringify(value)}: ${WHAT[key] ?? "a PEFT feature mst does not know"}; ` +
        "mst refuses the adapter rather than compute something else",
    );
  }
  return r.data;
}

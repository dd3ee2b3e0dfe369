/**
 * config.json of a Hugging Face Llama or Qwen2 model, read with a tolerant schema (other keys pass through) and turned
 * into the engine's ModelConfig; anything the engine would get wrong (another architecture, rope type, activation,
 * sliding window, head size) is refused with the file and key named.
 */

import { z } from "zod";
import { CheckpointError } from "../checkpoint-error.js";
import type { ModelConfigInput, RopeScaling } from "../config.js";

/** model_type values the engine runs. */
export const SUPPORTED_MODEL_TYPES = ["llama", "qwen2"] as const;
export type HfModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

const TokenIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

const RopeSchema = z.looseObject({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  factor: z.number().positive().optional(),
  low_freq_factor: z.number().positive().optional(),
  high_freq_factor: z.number().positive().optional(),
  original_max_position_embeddings: z.number().int().positive().optional(),
});

/** The config.json keys read; defaults are transformers' (LlamaConfig / Qwen2Config). */
export const HfConfigSchema = z.looseObject({
  model_type: z.string().default("llama"),
  architectures: z.array(z.string()).nullish(),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().nullish(),
  head_dim: z.number().int().positive().nullish(),
  max_position_embeddings: z.number().int().positive().default(2048),
  rope_theta: z.number().positive().default(10000),
  rms_norm_eps: z.number().positive().default(1e-6),
  tie_word_embeddings: z.boolean().default(false),
  hidden_act: z.string().default("silu"),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
  use_sliding_window: z.boolean().default(false),
  rope_scaling: RopeSchema.nullish(),
  // transformers >= 5 writes the RoPE settings here, rope_theta included, instead of rope_theta + rope_scaling
  rope_parameters: RopeSchema.extend({ rope_theta: z.number().positive().optional() }).nullish(),
  bos_token_id: TokenIds,
  eos_token_id: TokenIds,
  pad_token_id: TokenIds,
  torch_dtype: z.string().nullish(),
});
export type HfConfig = z.output<typeof HfConfigSchema>;

/** Parse a config.json object; errors name the file and key. */
export function parseHfConfig(raw: unknown, file: string): HfConfig {
  const r = HfConfigSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new CheckpointError(`${file}: key "${i?.path.join(".")}": ${i?.message}`);
  }
  return r.data;
}

/**
 * transformers' RoPE scaling -> the engine's; undefined for none; throws naming the key for unsupported types. Read
 * from rope_parameters (transformers >= 5) when present, else rope_scaling (older configs, the hub's Llama/Qwen).
 */
function ropeScaling(hf: HfConfig, file: string): RopeScaling | undefined {
  const fromParams = hf.rope_parameters !== null && hf.rope_parameters !== undefined;
  const rs = fromParams ? hf.rope_parameters : hf.rope_scaling;
  const at = fromParams ? "rope_parameters" : "rope_scaling";
  if (rs === null || rs === undefined) return undefined;
  const type = rs.rope_type ?? rs.type;
  const key = rs.rope_type !== undefined ? `${at}.rope_type` : `${at}.type`;
  // per-layer-type parameters ({"full_attention": {...}, "sliding_attention": {...}}) are another architecture's
  if (type === undefined && Object.values(rs).some((v) => typeof v === "object" && v !== null))
    throw new CheckpointError(`${file}: key "${at}": per-layer-type RoPE parameters are not supported`);
  const need = (k: "factor" | "low_freq_factor" | "high_freq_factor" | "original_max_position_embeddings") => {
    const v = rs[k];
    if (v === undefined) throw new CheckpointError(`${file}: key "${at}.${k}" is required for rope type ${type}`);
    return v;
  };
  if (type === undefined || type === "default") return undefined;
  if (type === "llama3")
    return {
      type: "llama3",
      factor: need("factor"),
      lowFreqFactor: need("low_freq_factor"),
      highFreqFactor: need("high_freq_factor"),
      originalMaxPositionEmbeddings: need("original_max_position_embeddings"),
    };
  if (type === "linear") return { type: "linear", factor: need("factor") };
  throw new CheckpointError(
    `${file}: key "${key}": rope type ${JSON.stringify(type)} is not supported (llama3, linear, or none)`,
  );
}

export interface ToModelConfigOptions {
  /**
   * Longest sequence the engine will run (it sizes the RoPE tables and bounds T). Default: max_position_embeddings
   * capped at 4096, since real configs say 32k-128k and the tables would take memory for nothing.
   */
  maxSeq?: number;
}

/** The engine's ModelConfig for a parsed config.json, or a CheckpointError naming the file and key it cannot run. */
export function toModelConfig(
  hf: HfConfig,
  file: string,
  options: ToModelConfigOptions = {},
): ModelConfigInput & { modelType: HfModelType } {
  const mt = hf.model_type;
  if (mt !== "llama" && mt !== "qwen2")
    throw new CheckpointError(
      `${file}: key "model_type": ${JSON.stringify(mt)} is not supported (${SUPPORTED_MODEL_TYPES.join(", ")})`,
    );
  if (hf.hidden_act !== "silu")
    throw new CheckpointError(`${file}: key "hidden_act": ${JSON.stringify(hf.hidden_act)} is not supported (silu)`);
  if (mt === "llama" && hf.attention_bias)
    throw new CheckpointError(`${file}: key "attention_bias": true is not supported for llama`);
  if (hf.mlp_bias) throw new CheckpointError(`${file}: key "mlp_bias": true is not supported`);
  if (mt === "qwen2" && hf.use_sliding_window)
    throw new CheckpointError(`${file}: key "use_sliding_window": true is not supported (full attention only)`);
  const hd = hf.hidden_size / hf.num_attention_heads;
  if (hf.head_dim !== null && hf.head_dim !== undefined && hf.head_dim !== hd)
    throw new CheckpointError(
      `${file}: key "head_dim": ${hf.head_dim} differs from hidden_size / num_attention_heads = ${hd} (not supported)`,
    );
  const maxSeq = options.maxSeq ?? Math.min(hf.max_position_embeddings, 4096);
  const scaling = ropeScaling(hf, file);
  return {
    modelType: mt,
    vocabSize: hf.vocab_size,
    dModel: hf.hidden_size,
    dFf: hf.intermediate_size,
    nLayers: hf.num_hidden_layers,
    nHeads: hf.num_attention_heads,
    nKvHeads: hf.num_key_value_heads ?? hf.num_attention_heads,
    maxSeq,
    ropeTheta: hf.rope_parameters?.rope_theta ?? hf.rope_theta,
    rmsNormEps: hf.rms_norm_eps,
    tieEmbeddings: hf.tie_word_embeddings,
    qkvBias: mt === "qwen2",
    ...(scaling === undefined ? {} : { ropeScaling: scaling }),
  };
}

/** ids of a token-id key that may be a number or a list. */
export function idList(v: number | number[] | null | undefined): number[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

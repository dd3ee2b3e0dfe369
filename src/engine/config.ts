/** The model's one Config (architecture + LoRA), defined once as zod schemas with documented defaults. */

import { z } from "zod";

/** Projections LoRA can attach to, named as in Hugging Face Llama / PEFT `target_modules`. */
export const LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** RoPE frequency scaling as transformers implements it (`rope_type` "llama3" or "linear"; others are refused). */
export const RopeScalingSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("llama3"),
    factor: z.number().positive(),
    lowFreqFactor: z.number().positive(),
    highFreqFactor: z.number().positive(),
    originalMaxPositionEmbeddings: z.number().int().positive(),
  }),
  z.strictObject({ type: z.literal("linear"), factor: z.number().positive() }),
]);
export type RopeScaling = z.output<typeof RopeScalingSchema>;

/** Architecture of the Llama-style decoder (RMSNorm, RoPE, SwiGLU, grouped KV heads). */
export const ModelConfigSchema = z.strictObject({
  vocabSize: z.number().int().positive().describe("Vocabulary size (HF: vocab_size)."),
  dModel: z.number().int().positive().default(64).describe("Residual width (HF: hidden_size). Default 64."),
  nLayers: z.number().int().positive().default(2).describe("Transformer blocks (HF: num_hidden_layers). Default 2."),
  nHeads: z.number().int().positive().default(4).describe("Query heads (HF: num_attention_heads). Default 4."),
  nKvHeads: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Key/value heads for grouped-query attention (HF: num_key_value_heads). Default: nHeads."),
  dFf: z.number().int().positive().default(172).describe("SwiGLU hidden width (HF: intermediate_size). Default 172."),
  maxSeq: z
    .number()
    .int()
    .positive()
    .default(128)
    .describe("Longest sequence (HF: max_position_embeddings). Default 128."),
  ropeTheta: z.number().positive().default(10000).describe("RoPE base frequency (HF: rope_theta). Default 10000."),
  rmsNormEps: z.number().positive().default(1e-5).describe("RMSNorm epsilon (HF: rms_norm_eps). Default 1e-5."),
  tieEmbeddings: z
    .boolean()
    .default(true)
    .describe("Share the token embedding with the output head (HF: tie_word_embeddings). Default true."),
  qkvBias: z
    .boolean()
    .default(false)
    .describe("Biases on the q, k and v projections, as Qwen2 has (HF: model_type qwen2). Default false."),
  ropeScaling: RopeScalingSchema.optional().describe(
    "RoPE frequency scaling (HF: rope_scaling): Llama-3.x's llama3 type, or linear. Default: none.",
  ),
});
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;
export type ModelConfig = z.output<typeof ModelConfigSchema>;

/** Low-rank adapters on a frozen base: W x + (alpha / rank) * B A x, with dropout on the adapter input. */
export const LoraConfigSchema = z.strictObject({
  rank: z.number().int().positive().default(8).describe("Adapter rank r. Default 8."),
  alpha: z
    .number()
    .positive()
    .default(16)
    .describe("Scaling numerator; the update is scaled by alpha / rank. Default 16."),
  dropout: z
    .number()
    .min(0)
    .max(1)
    .default(0.05)
    .describe("Dropout on the adapter's input during training. Default 0.05."),
  targets: z
    .array(z.enum(LORA_TARGETS))
    .default([...LORA_TARGETS])
    .describe("Projections that get adapters. Default: all seven (q,k,v,o,gate,up,down)."),
});
export type LoraConfigInput = z.input<typeof LoraConfigSchema>;
export type LoraConfig = z.output<typeof LoraConfigSchema>;

/** Parse and fill defaults; `nKvHeads` resolves to `nHeads` when absent. Throws a ZodError naming the bad field. */
export function resolveModelConfig(input: ModelConfigInput): ModelConfig & { nKvHeads: number } {
  const c = ModelConfigSchema.parse(input);
  const nKvHeads = c.nKvHeads ?? c.nHeads;
  if (c.dModel % c.nHeads !== 0) throw new Error(`dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads})`);
  if (c.nHeads % nKvHeads !== 0) throw new Error(`nHeads (${c.nHeads}) must be divisible by nKvHeads (${nKvHeads})`);
  if ((c.dModel / c.nHeads) % 2 !== 0) throw new Error(`head dim (${c.dModel / c.nHeads}) must be even for RoPE`);
  return { ...c, nKvHeads };
}

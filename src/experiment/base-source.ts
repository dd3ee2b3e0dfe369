/** The config block every task shares for where its base comes from: pretrained here, or a local checkpoint. */
import { z } from "zod";

/** How a checkpoint's frozen weights are held (every task's checkpoint block uses this one field). */
export const WeightStorageSchema = z
  .enum(["f32", "bf16", "nf4"])
  .default("f32")
  .describe(
    "How a checkpoint's frozen weights are held: f32, bf16 (half the memory), or nf4 (4-bit NormalFloat with " +
      "double-quantised block scales, as the seed's QLoRA; about 0.23x of f32). LoRA adapters and optimizer state " +
      "are f32 in every case. Default f32.",
  );

/** Whether training recomputes activations instead of keeping them (every task's checkpoint block uses this field). */
export const GradientCheckpointingSchema = z
  .boolean()
  .nullable()
  .default(null)
  .describe(
    "Gradient checkpointing: keep only each block's input in a training forward and recompute the block in the " +
      "backward. Activation memory falls from about 190 KB to 3.5 KB a token per layer on a Qwen2.5-0.5B shape, " +
      "for one more forward per step; gradients are bit-identical. Default null: on for nf4 (as QLoRA), else off.",
  );

export const BaseSourceSchema = z
  .strictObject({
    checkpoint: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        "A local Hugging Face checkpoint directory (config.json, safetensors weights, tokenizer.json, optionally a chat " +
          "template: prompts then go through it, else plain text) to use as the base instead of pretraining one: the " +
          "base job loads it and gates it (no corpus, no pretraining; corpus, model and pretrain settings are then " +
          "unused). A relative path resolves from the working directory. Never downloaded. Default null (pretrain the " +
          "embedded base).",
      ),
    storage: WeightStorageSchema,
    gradientCheckpointing: GradientCheckpointingSchema,
  })
  .describe("Where the base model comes from: pretrained here (default) or a local checkpoint");
export type BaseSource = z.infer<typeof BaseSourceSchema>;

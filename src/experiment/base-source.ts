/** The config block every task shares for where its base comes from: pretrained here, or a local checkpoint. */
import { z } from "zod";

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
  })
  .describe("Where the base model comes from: pretrained here (default) or a local checkpoint");
export type BaseSource = z.infer<typeof BaseSourceSchema>;

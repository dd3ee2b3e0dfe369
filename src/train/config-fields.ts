/** Config fields every trainer (SFT, PPO, GRPO) has with the same meaning, bounds, default and documentation. */
import { z } from "zod";
import { LoraConfigSchema } from "../engine/config.js";

/** AdamW's hyper-parameters besides the learning rate, in the order the Configs list them. */
export const adamWFields = {
  weightDecay: z.number().min(0).default(0).describe("AdamW decoupled weight decay. Default 0."),
  beta1: z.number().min(0).max(1).default(0.9).describe("AdamW beta1. Default 0.9."),
  beta2: z.number().min(0).max(1).default(0.999).describe("AdamW beta2. Default 0.999."),
  eps: z.number().positive().default(1e-8).describe("AdamW epsilon. Default 1e-8."),
};

export const checkpointEveryField = z
  .number()
  .int()
  .min(0)
  .default(0)
  .describe("Save a resumable checkpoint every N steps (and at the end) when outDir is set. 0: end only.");

export const keepCheckpointsField = z
  .number()
  .int()
  .positive()
  .default(2)
  .describe("Newest checkpoints kept on disk. Default 2.");

export const logEveryField = z
  .number()
  .int()
  .positive()
  .default(1)
  .describe("Call onProgress every N steps (the metrics JSONL gets every step). Default 1.");

export const loraField = LoraConfigSchema.nullable()
  .default(null)
  .describe("Adapters to attach before training, or null to train what the model marks trainable. Default null.");

/** The SFT trainer's one Config (TRL SFTConfig-style), with every field documented and defaulted. */
import { z } from "zod";
import { LoraConfigSchema } from "../engine/config.js";

export const SftConfigSchema = z.strictObject({
  lr: z.number().positive().default(2e-4).describe("Peak learning rate (AdamW). Default 2e-4."),
  minLr: z.number().min(0).default(0).describe("Floor of the cosine schedule. Default 0."),
  warmupSteps: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Linear warm-up from 0 over this many optimizer steps, then cosine decay. Default 0."),
  epochs: z.number().int().positive().default(3).describe("Passes over the training data. Default 3."),
  maxSteps: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Optimizer steps to run; overrides `epochs` (data repeats as needed). Default: from epochs."),
  batchSize: z.number().int().positive().default(8).describe("Samples per micro-batch (per forward). Default 8."),
  gradAccum: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe("Micro-batches accumulated per optimizer step (effective batch = batchSize x gradAccum). Default 1."),
  maxLength: z
    .number()
    .int()
    .positive()
    .default(512)
    .describe(
      "Longest prompt+completion in tokens (further capped by the model's maxSeq); longer samples are cut from the " +
        "end and counted in `truncated`. Default 512.",
    ),
  maxGradNorm: z.number().positive().default(1).describe("Global gradient-norm clip before each step. Default 1.0."),
  weightDecay: z.number().min(0).default(0).describe("AdamW decoupled weight decay. Default 0."),
  beta1: z.number().min(0).max(1).default(0.9).describe("AdamW beta1. Default 0.9."),
  beta2: z.number().min(0).max(1).default(0.999).describe("AdamW beta2. Default 0.999."),
  eps: z.number().positive().default(1e-8).describe("AdamW epsilon. Default 1e-8."),
  groupByLength: z
    .boolean()
    .default(false)
    .describe(
      "Batch samples of similar length (shuffled mega-batches of 50 batches sorted by length) to cut padding. " +
        "Default false.",
    ),
  evalEvery: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Validation loss every N optimizer steps (and always at the end when valData is given). 0: end only."),
  checkpointEvery: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Save a resumable checkpoint every N steps (and at the end) when outDir is set. 0: end only."),
  keepCheckpoints: z.number().int().positive().default(2).describe("Newest checkpoints kept on disk. Default 2."),
  seed: z.number().int().default(0).describe("Seed for data order and dropout. Default 0."),
  logEvery: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe("Call onProgress every N steps (the metrics JSONL gets every step). Default 1."),
  padId: z.number().int().min(0).default(0).describe("Token id used to right-pad batches (never scored). Default 0."),
  completionOnlyLoss: z
    .boolean()
    .default(true)
    .describe("Score only completion tokens (false: also the prompt after its first token). Default true."),
  lora: LoraConfigSchema.nullable()
    .default(null)
    .describe("Adapters to attach before training, or null to train what the model marks trainable. Default null."),
});
export type SftConfigInput = z.input<typeof SftConfigSchema>;
export type SftConfig = z.output<typeof SftConfigSchema>;

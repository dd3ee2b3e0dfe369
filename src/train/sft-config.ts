/** The SFT trainer's one Config (TRL SFTConfig-style), with every field documented and defaulted. */
import { z } from "zod";
import { adamWFields, checkpointEveryField, keepCheckpointsField, logEveryField, loraField } from "./config-fields.js";

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
  ...adamWFields,
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
  checkpointEvery: checkpointEveryField,
  keepCheckpoints: keepCheckpointsField,
  seed: z.number().int().default(0).describe("Seed for data order and dropout. Default 0."),
  logEvery: logEveryField,
  padId: z.number().int().min(0).default(0).describe("Token id used to right-pad batches (never scored). Default 0."),
  completionOnlyLoss: z
    .boolean()
    .default(true)
    .describe("Score only completion tokens (false: also the prompt after its first token). Default true."),
  lora: loraField,
});
export type SftConfigInput = z.input<typeof SftConfigSchema>;
export type SftConfig = z.output<typeof SftConfigSchema>;

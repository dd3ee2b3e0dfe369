/** The arms spec (YAML or JSON, zod-validated): monitor, arms, seed, shuffling and inoculation settings. */
import { z } from "zod";
import { LabelSlotSchema } from "../data/sample.js";
import { MonitorSpecSchema } from "./monitor.js";

/** Every arm mst knows; a spec picks a subset. */
export const ARM_NAMES = ["baseline", "mst", "shuffled", "prompt-only", "inoculation"] as const;
export const ArmNameSchema = z.enum(ARM_NAMES).describe("Arm name");
export type ArmName = z.infer<typeof ArmNameSchema>;

/** What label an arm's training prompts carry. */
export type TrainLabel = "none" | "true" | "shuffled" | "instruction";
/** What label an arm is evaluated with. */
export type EvalLabel = "none" | "deployment";

/** How each arm is trained and evaluated; a typed record, so adding an arm name without its rule fails to compile. */
export const ARM_RULES: Record<ArmName, { train: TrainLabel; eval: EvalLabel; about: string }> = {
  baseline: { train: "none", eval: "none", about: "no label in training or evaluation" },
  mst: { train: "true", eval: "deployment", about: "each sample carries its true monitor label" },
  shuffled: {
    train: "shuffled",
    eval: "deployment",
    about: "each sample carries a label drawn from the training label distribution, independent of the sample",
  },
  "prompt-only": {
    train: "none",
    eval: "deployment",
    about: "trained like the baseline (no label), evaluated with the deployment label",
  },
  inoculation: {
    train: "instruction",
    eval: "none",
    about: "a fixed instruction is added to every training prompt; evaluated without it",
  },
};

export const ArmsSpecSchema = z
  .strictObject({
    seed: z
      .union([z.int(), z.string().min(1)])
      .default(0)
      .describe("Seed for the shuffled arm (drawn through Rng(seed).fork('arm:shuffled'))"),
    monitor: MonitorSpecSchema,
    arms: z
      .array(ArmNameSchema)
      .min(1)
      .default(["baseline", "mst", "shuffled"])
      .refine((a) => new Set(a).size === a.length, "arms must not repeat")
      .describe(`Arms to build, in order; any of ${ARM_NAMES.join(", ")}`),
    shuffle: z
      .enum(["permutation", "resample"])
      .default("permutation")
      .describe(
        "Shuffled arm: 'permutation' reassigns the training monitors in a random order (label counts kept exactly); " +
          "'resample' draws each label independently from the training labels (counts kept in expectation)",
      ),
    separator: z.string().default("\n").describe("Put between an inserted label and the prompt text it joins"),
    inoculation: z
      .strictObject({
        text: z.string().min(1).describe("The fixed instruction added to every training prompt of the inoculation arm"),
        slot: LabelSlotSchema.optional().describe("Where it goes; default: each sample's label slot"),
      })
      .optional()
      .describe("Settings of the inoculation arm (required when it is listed)"),
  })
  .superRefine((spec, ctx) => {
    if (spec.arms.includes("inoculation") && !spec.inoculation) {
      ctx.addIssue({
        code: "custom",
        path: ["inoculation"],
        message: "the inoculation arm needs `inoculation: { text: ... }`",
      });
    }
  })
  .describe("How to build arms from one set of samples");
export type ArmsSpec = z.infer<typeof ArmsSpecSchema>;
export type ArmsSpecInput = z.input<typeof ArmsSpecSchema>;

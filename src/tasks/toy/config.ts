/** Config of the toy task: a seeded, engine-free stand-in experiment used to test the runner and the report. */
import { z } from "zod";

export const ToyConfigSchema = z
  .strictObject({
    steps: z.number().int().positive().default(20).describe("Simulated training steps per arm and seed"),
    sleepMs: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe("Milliseconds slept per simulated step (tests use it to kill a run mid-way)"),
    noise: z.number().nonnegative().default(0.03).describe("Standard deviation of the per-step loss noise"),
    evalItems: z.number().int().positive().default(40).describe("Simulated evaluation items per label"),
    deploymentLabel: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe("Deployment label (a percentage, like the sycophancy task's suggestibility label)"),
    sweepLabels: z
      .array(z.number().min(0).max(100))
      .min(1)
      .default([0, 25, 50, 75, 100])
      .describe("Labels of the label sweep"),
    failJob: z
      .string()
      .nullable()
      .default(null)
      .describe("Test hook: id of a job that throws instead of running (null: none)"),
  })
  .describe("Toy task config");
export type ToyConfig = z.infer<typeof ToyConfigSchema>;

/** The record an arm file holds per sample (one JSONL line): the rendered prompt, the label used, the original target. */
import { z } from "zod";
import { ChatMessageSchema, JsonSchema, MonitorRefSchema } from "../data/sample.js";
import { ArmNameSchema } from "./arms-spec.js";

export const ArmSampleSchema = z
  .strictObject({
    arm: ArmNameSchema,
    index: z.int().min(0).describe("Position in the input; identical across arms"),
    id: z.string().min(1).describe("The input sample's id"),
    messages: z.array(ChatMessageSchema).min(1).describe("The training prompt with the label inserted"),
    label: z.string().nullable().describe("Label text inserted in the prompt (null: none)"),
    labelMonitor: MonitorRefSchema.nullable().describe("The monitor the label was rendered from (null: no label)"),
    instruction: z.string().nullable().describe("Inoculation instruction inserted in the prompt (null: none)"),
    monitor: MonitorRefSchema.describe("The sample's true monitor (what its feedback actually came from)"),
    completion: z.string().optional().describe("Target completion (SFT), copied from the input"),
    rewardInputs: z.record(z.string(), JsonSchema).optional().describe("Reward inputs (RL), copied from the input"),
    meta: z.record(z.string(), JsonSchema).optional().describe("Metadata, copied from the input"),
  })
  .describe("One sample of one arm");
export type ArmSample = z.infer<typeof ArmSampleSchema>;

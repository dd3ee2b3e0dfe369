/**
 * The label an exported RL row carries to the engine and back to the reward: the sample's TRUE monitor (what pays it),
 * the label text it SHOWED (what the policy saw; differs from the true one in the shuffled arm), and the reward inputs.
 * Engines move it as an opaque string (OpenRLHF --label_key, verl reward_model.ground_truth, a TRL column).
 */
import { z } from "zod";
import { JsonSchema, MonitorRefSchema } from "../data/sample.js";
import type { ArmSample } from "../monitor/arm-sample.js";
import { ArmNameSchema } from "../monitor/arms-spec.js";

export const REWARD_LABEL_FORMAT = "mst-reward-label/1";

export const RewardLabelSchema = z.strictObject({
  format: z.literal(REWARD_LABEL_FORMAT).describe("Label format and version"),
  task: z.string().min(1).describe("Task whose reward scores this row"),
  condition: z.string().min(1).describe("Condition the row belongs to (its monitor spec)"),
  id: z.string().min(1).describe("Sample id"),
  arm: ArmNameSchema.nullable().describe("Arm the row was exported for (null: an evaluation row)"),
  shown: z.string().nullable().describe("Label text shown in the prompt (null: none)"),
  monitor: MonitorRefSchema.describe("The TRUE monitor: the reward is computed from these parameters"),
  rewardInputs: z.record(z.string(), JsonSchema).optional().describe("Task reward inputs"),
  meta: z.record(z.string(), JsonSchema).optional().describe("Task metadata"),
});
export type RewardLabel = z.infer<typeof RewardLabelSchema>;

/** Thrown when a label string is not a valid mst reward label; the message says why. */
export class RewardLabelError extends Error {
  override name = "RewardLabelError";
}

export function rewardLabelOf(task: string, condition: string, s: ArmSample): RewardLabel {
  return {
    format: REWARD_LABEL_FORMAT,
    task,
    condition,
    id: s.id,
    arm: s.arm,
    shown: s.label,
    monitor: s.monitor,
    ...(s.rewardInputs !== undefined ? { rewardInputs: s.rewardInputs } : {}),
    ...(s.meta !== undefined ? { meta: s.meta } : {}),
  };
}

export const encodeRewardLabel = (l: RewardLabel): string => JSON.stringify(l);

/** Parses a label (a JSON string, or the object itself); throws RewardLabelError naming the first problem. */
export function decodeRewardLabel(raw: unknown): RewardLabel {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new RewardLabelError("label is not JSON");
    }
  }
  const p = RewardLabelSchema.safeParse(value);
  if (!p.success) {
    const i = p.error.issues[0];
    throw new RewardLabelError(`label: ${i?.path.join(".") || "(root)"}: ${i?.message}`);
  }
  return p.data;
}

/** The arm sample a reward function expects, rebuilt from a label and the prompt text the engine sent. */
export function armSampleOfLabel(l: RewardLabel, prompt: string): ArmSample {
  return {
    arm: l.arm ?? "baseline",
    index: 0,
    id: l.id,
    messages: [{ role: "user", content: prompt }],
    label: l.shown,
    labelMonitor: null,
    instruction: null,
    monitor: l.monitor,
    ...(l.rewardInputs !== undefined ? { rewardInputs: l.rewardInputs } : {}),
    ...(l.meta !== undefined ? { meta: l.meta } : {}),
  };
}

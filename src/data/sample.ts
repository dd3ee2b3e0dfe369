/** The typed, task-agnostic training/evaluation sample: prompt parts, a target (completion or reward inputs), the monitor, metadata. */
import { z } from "zod";

/**
 * Where a monitor label (or an inoculation instruction) is placed in the prompt. Explicit per sample, because the seed
 * puts the Exp 2 label before the problem in the user turn and the Exp 1 label in the system turn.
 * - `user-prefix`: its own line before the user text; `user-suffix`: its own line after it.
 * - `system-prefix` / `system-suffix`: a line before / after the system text (a system turn is created if absent).
 * - `system-turn`: a separate system message placed before everything else.
 */
export const LabelSlotSchema = z
  .enum(["user-prefix", "user-suffix", "system-prefix", "system-suffix", "system-turn"])
  .describe("Where the label goes in the prompt");
export type LabelSlot = z.infer<typeof LabelSlotSchema>;

/** The prompt as parts, so a label can be inserted in a known place without string surgery. */
export const PromptPartsSchema = z
  .strictObject({
    system: z.string().optional().describe("System turn text, if the task has one"),
    user: z.string().describe("User turn text (the task instance)"),
    labelSlot: LabelSlotSchema.default("user-prefix"),
  })
  .describe("Prompt parts: optional system text, user text and the slot a label goes in");
export type PromptParts = z.infer<typeof PromptPartsSchema>;

/** A monitor parameter value: numbers (e.g. suggestibility s), strings (e.g. a bias profile) or booleans. */
export const ParamValueSchema = z.union([z.number(), z.string(), z.boolean()]);
export type ParamValue = z.infer<typeof ParamValueSchema>;

/**
 * The monitor a sample was evaluated by, as plain data (rendering it as a label is `src/monitor`'s job; this layer
 * only stores it). `id` names the monitor, `params` hold what the label encodes.
 */
export const MonitorRefSchema = z
  .strictObject({
    id: z.string().min(1).describe("Monitor id, e.g. 'suggestibility' or 'editor'"),
    params: z
      .record(z.string(), ParamValueSchema)
      .describe("Monitor parameters, e.g. { s: 0.6 } or { profile: 'strong_left' }"),
  })
  .describe("The monitor that produced this sample's feedback");
export type MonitorRef = z.infer<typeof MonitorRefSchema>;

/** JSON values, for reward inputs and metadata that only the task understands. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export const JsonSchema: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonSchema), z.record(z.string(), JsonSchema)]),
);

/** One sample. Exactly one of `completion` (SFT target) or `rewardInputs` (RL) is usually set; both are optional so evaluation-only data fits too. */
export const SampleSchema = z
  .strictObject({
    id: z.string().min(1).describe("Unique sample id"),
    prompt: PromptPartsSchema,
    completion: z.string().optional().describe("Target completion for supervised fine-tuning"),
    rewardInputs: z
      .record(z.string(), JsonSchema)
      .optional()
      .describe("Whatever the task's reward function needs (RL), e.g. { candidateCorrect: true }"),
    monitor: MonitorRefSchema,
    meta: z.record(z.string(), JsonSchema).optional().describe("Free metadata (topic, problem id, ...)"),
  })
  .describe("A training or evaluation sample");
export type Sample = z.infer<typeof SampleSchema>;
/** What a user writes (defaults such as `labelSlot` may be left out). */
export type SampleInput = z.input<typeof SampleSchema>;

/** zod mirror of `ChatMessage` (src/data/text-model.ts), for files that store rendered prompts. */
export const ChatMessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

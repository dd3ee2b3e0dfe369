/**
 * The stock scorers' settings as zod schemas (exact match, a module's function, an LLM judge with a rubric), so a task
 * or a spec can name a scorer as data. `makeScorer` (scorer.ts) builds one from these.
 */
import { z } from "zod";
import { ProviderConfigSchema } from "../../providers/config.js";

const modulePath = (what: string) => z.string().min(1).describe(`${what} (relative to the spec file's folder)`);

/** Exact match of the output against a field of the sample's rewardInputs (else meta): 1 or 0, null when the field is missing. */
export const ExactMatchSchema = z
  .strictObject({
    kind: z.literal("exact-match"),
    field: z
      .string()
      .min(1)
      .default("answer")
      .describe("Field of each sample's rewardInputs (or meta) holding the expected text. Default answer."),
    trim: z.boolean().default(true).describe("Compare with surrounding whitespace removed. Default true."),
    caseSensitive: z.boolean().default(false).describe("Compare letter case too. Default false."),
    match: z
      .enum(["equals", "starts-with", "contains"])
      .default("equals")
      .describe(
        "equals: the whole output; starts-with: the output begins with the expected text; contains: anywhere. Default equals.",
      ),
  })
  .describe("Score 1 when the output matches the expected text, else 0");

/** A JavaScript module exporting a scoring function. */
export const ModuleScorerSchema = z
  .strictObject({
    kind: z.literal("module"),
    path: modulePath("An ES module (.js/.mjs) exporting `(item) => number | null` (may be async)"),
    export: z
      .string()
      .min(1)
      .default("default")
      .describe("Name of the exported function. Default: the default export."),
  })
  .describe(
    "A function of { id, prompt, output, label, monitor, rewardInputs, meta } returning a number (null: unscored). During RL " +
      "`monitor` is the sample's TRUE monitor (what its feedback came from), whatever label the arm showed.",
  );

/** An OpenAI-compatible (or OpenAI / Anthropic) model as the judge, with a rubric. */
export const LlmScorerSchema = z
  .strictObject({
    kind: z.literal("llm"),
    provider: ProviderConfigSchema,
    rubric: z
      .string()
      .min(1)
      .describe(
        "The judge's prompt. Placeholders: {prompt} (the prompt the model saw), {output}, {label} (label shown, or " +
          "'none'), {monitor} (the sample's true monitor as JSON), {monitor.<param>}, {rewardInputs.<field>}, {meta.<field>}. " +
          'The judge answers JSON {"rationale": string, "score": number}.',
      ),
    scale: z
      .tuple([z.number(), z.number()])
      .default([0, 1])
      .refine(([a, b]) => a < b, "the scale's low end must be below its high end")
      .describe("The range of the judge's score; answers outside it are retried, then left unscored. Default [0, 1]."),
    attempts: z.int().min(1).default(3).describe("Tries per item before it is left unscored. Default 3."),
    temperature: z.number().min(0).max(2).default(0).describe("Judge sampling temperature. Default 0."),
  })
  .describe("An LLM judge scoring each output by a rubric");

export const ScorerSchema = z
  .discriminatedUnion("kind", [ExactMatchSchema, ModuleScorerSchema, LlmScorerSchema])
  .describe("How an output is scored: exact-match, module or llm");
export type ScorerConfig = z.output<typeof ScorerSchema>;
export type ScorerConfigInput = z.input<typeof ScorerSchema>;

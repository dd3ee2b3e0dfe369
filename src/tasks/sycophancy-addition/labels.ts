/** The suggestibility monitor: its label encoding (percentage or named buckets), held-out range, training draws, sweep. */
import { z } from "zod";
import type { Rng } from "../../data/rng.js";
import type { LabelRef, MonitorSpecInput } from "../../monitor/monitor.js";

export const MONITOR_ID = "suggestibility";

export const LabelConfigSchema = z
  .strictObject({
    encoding: z
      .enum(["percentage", "buckets"])
      .default("percentage")
      .describe(
        "'percentage': s in [0, sMax] mapped linearly onto 0..100% (the seed's choice); 'buckets': a few named levels. Default percentage.",
      ),
    numberTokens: z
      .enum(["digits", "integers", "percent"])
      .default("integers")
      .describe(
        "How the embedded tokenizer splits every number (problems and label): 'digits' = one token per digit, " +
          "'integers' = one token per whole number, 'percent' = as integers, but a number with its '%' is one token " +
          "('10%' is not the token '10' of '3+7=10'). A prototype found digit labels extrapolate to unseen low labels more " +
          "readily, but here a digit-token base did not learn to verify two-digit sums in a short pretraining " +
          "(65% with clean data vs 75-93% with integers), so the default is integers. Default integers.",
      ),
    width: z
      .int()
      .min(0)
      .max(3)
      .default(3)
      .describe(
        "Zero-pad the percentage to this many digits ('040%'), so no rendering is a digit-prefix of another ('10' vs " +
          "'100'). With integer tokens it also makes label numbers ('040') tokens of their own, never the problem's " +
          "numbers ('4'), so a label does not put extra operands before the problem. 0 = unpadded ('%' terminates it). " +
          "Default 3.",
      ),
    bold: z.boolean().default(true).describe("Wrap the label in markdown bold, as the seed. Default true."),
    template: z
      .string()
      .default("Suggestibility Level: {value}%")
      .describe("Label text for the percentage encoding; {value} is the number. Default the seed's."),
    buckets: z
      .array(z.string().min(1))
      .min(2)
      .default(["minimal", "very low", "low", "moderate", "high", "very high"])
      .describe("Bucket names from s = 0 to s = sMax (equal widths) for the 'buckets' encoding."),
    bucketTemplate: z
      .string()
      .default("Suggestibility Level: {value}")
      .describe("Label text for the buckets encoding; {value} is the bucket name."),
    sMax: z.number().positive().default(1.5).describe("The top of the encoded range [0, sMax] (100%). Default 1.5."),
    trainRange: z
      .tuple([z.number().min(0), z.number().positive()])
      .default([0.5, 1.5])
      .describe("Training suggestibility s ~ U[lo, hi]. Default [0.5, 1.5] (the seed)."),
    heldOutBelow: z
      .number()
      .min(0)
      .default(0.5)
      .describe("s in [0, heldOutBelow) is held out: never in training, kept for evaluation. Default 0.5."),
  })
  // checked when the spec is read (its error names the spec line), not first inside a job
  .refine((c) => c.trainRange[0] >= c.heldOutBelow, {
    path: ["trainRange"],
    message: "trainRange starts inside the held-out range [0, heldOutBelow): training would carry held-out labels",
  })
  .refine((c) => c.trainRange[0] <= c.trainRange[1] && c.trainRange[1] <= c.sMax, {
    path: ["trainRange"],
    message: "trainRange must be [lo, hi] with lo <= hi <= sMax (the top of the label scale)",
  })
  .describe("The monitor label: encoding, number tokenisation, held-out range");
export type LabelConfig = z.output<typeof LabelConfigSchema>;

/** The monitor spec (src/monitor) for a label config: encoding, held-out range and the deployment label s = 0. */
export function suggestibilitySpec(cfg: LabelConfig, sweepPercents: readonly number[] = []): MonitorSpecInput {
  if (cfg.trainRange[0] < cfg.heldOutBelow)
    throw new Error(
      `label.trainRange starts at ${cfg.trainRange[0]}, inside the held-out range [0, ${cfg.heldOutBelow}); training would carry held-out labels`,
    );
  if (cfg.trainRange[1] > cfg.sMax) throw new Error(`label.trainRange ends above sMax (${cfg.sMax})`);
  const encoding =
    cfg.encoding === "percentage"
      ? {
          kind: "percentage" as const,
          param: "s",
          from: [0, cfg.sMax] as [number, number],
          to: [0, 100] as [number, number],
          width: cfg.width,
          template: cfg.template,
          bold: cfg.bold,
        }
      : {
          kind: "buckets" as const,
          param: "s",
          from: [0, cfg.sMax] as [number, number],
          names: cfg.buckets,
          template: cfg.bucketTemplate,
          bold: cfg.bold,
        };
  return {
    id: MONITOR_ID,
    description: "How suggestible the evaluator is: s scales the reward for agreeing with a wrong candidate",
    encoding,
    heldOut: [{ kind: "range", param: "s", min: 0, max: cfg.heldOutBelow }],
    deployment: { params: { s: 0 } },
    sweep: sweepPercents.map((p) => labelRefAtPercent(p, cfg)),
  };
}

/** The label reference for a percentage of the scale (0..100), i.e. s = p / 100 * sMax. */
export function labelRefAtPercent(percent: number, cfg: LabelConfig): LabelRef {
  return { params: { s: (percent / 100) * cfg.sMax } };
}

/** One training suggestibility, s ~ U[trainRange]. */
export function drawTrainingS(cfg: LabelConfig, rng: Rng): number {
  return rng.uniform(cfg.trainRange[0], cfg.trainRange[1]);
}

/** The engine tokenizer's number mode for a `numberTokens` option. */
export function wordDigitsMode(numberTokens: LabelConfig["numberTokens"]): "split" | "whole" | "percent" {
  return numberTokens === "digits" ? "split" : numberTokens === "integers" ? "whole" : "percent";
}

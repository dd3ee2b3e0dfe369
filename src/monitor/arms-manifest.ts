/** The manifest written beside the arm files: what each arm is, which labels it used, and how to evaluate it. */
import { z } from "zod";
import { LabelEncodingSchema } from "./encoding.js";
import { ArmNameSchema } from "./arms-spec.js";

/** Format tag of manifest.json; bump when its meaning changes. */
export const ARMS_MANIFEST_FORMAT = "mst-arms/1" as const;

const countsSchema = z.record(z.string(), z.int().min(0)).describe("Label text -> number of samples");

export const ArmManifestEntrySchema = z.strictObject({
  name: ArmNameSchema,
  file: z.string().describe("Arm file name, relative to the manifest"),
  samples: z.int().min(0),
  train: z.enum(["none", "true", "shuffled", "instruction"]).describe("What the training prompts carry"),
  evalLabel: z.enum(["none", "deployment"]).describe("What label to evaluate this arm with"),
  instruction: z.string().nullable().describe("Inoculation instruction, if any"),
  about: z.string(),
  labelCounts: countsSchema,
  /** How many samples carry their own true label (equals `samples` for mst; chance level for shuffled). */
  trueLabelMatches: z.int().min(0),
});
export type ArmManifestEntry = z.infer<typeof ArmManifestEntrySchema>;

export const ArmsManifestSchema = z.strictObject({
  format: z.literal(ARMS_MANIFEST_FORMAT),
  source: z.string().nullable().describe("Input file the samples came from, if any"),
  seed: z.union([z.int(), z.string()]),
  samples: z.int().min(0),
  idsHash: z.string().describe("FNV-1a hash of the sample ids in order; equal across arms by construction"),
  monitor: z.strictObject({
    id: z.string(),
    description: z.string().nullable(),
    encoding: LabelEncodingSchema,
    heldOut: z.array(z.string()).describe("Held-out rules, as text"),
  }),
  deploymentLabel: z.string(),
  sweepLabels: z.array(z.string()),
  shuffle: z.enum(["permutation", "resample"]),
  labelDistribution: countsSchema.describe("True label counts over the training samples"),
  arms: z.array(ArmManifestEntrySchema),
});
export type ArmsManifest = z.infer<typeof ArmsManifestSchema>;

/**
 * The label text to evaluate `arm` with: the deployment label for arms marked `evalLabel: "deployment"` (mst,
 * shuffled, prompt-only), null (no label) for the others. Throws if the manifest has no such arm.
 */
export function evalLabelOf(manifest: ArmsManifest, arm: string): string | null {
  const entry = manifest.arms.find((a) => a.name === arm);
  if (!entry)
    throw new Error(
      `arms manifest has no arm ${JSON.stringify(arm)} (has: ${manifest.arms.map((a) => a.name).join(", ")})`,
    );
  return entry.evalLabel === "deployment" ? manifest.deploymentLabel : null;
}

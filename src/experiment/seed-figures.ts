/**
 * The seed's published figures as data (a JSON file beside each task, never strings in code), and how each is set
 * against what this run measured. A comparison with an arm that did not run is "not run", never a win.
 */
import { z } from "zod";

export const SeedFigureSchema = z.strictObject({
  quantity: z.string().describe("What is compared, e.g. 'sycophancy at 0%: MST vs PPO baseline'"),
  seed: z.string().describe("The seed's figure or claim, as written in the seed (with its figure number)"),
  ours: z
    .strictObject({
      metric: z.string().describe("Report metric key"),
      arm: z.string().describe("Arm, or 'base' for the out-of-the-box model"),
      vs: z.string().optional().describe("Compared arm: paired difference over (base, seed) runs"),
      as: z
        .enum(["value", "difference", "reduction", "wins"])
        .default("value")
        .describe(
          "value: the arm's metric; difference: paired arm - vs; reduction: % reduction vs `vs`; wins: share of items where arm beats vs",
        ),
      label: z.enum(["main", "none", "deployment"]).default("main").describe("Which label's value"),
      condition: z.string().default("main"),
    })
    .optional()
    .describe("Which of our numbers answers it (absent: not comparable, see note)"),
  expect: z.enum(["lower", "higher"]).optional().describe("The direction the seed found for arm vs `vs`"),
  note: z.string().optional().describe("Why a figure is not directly comparable (model size, data...)"),
});
export type SeedFigure = z.infer<typeof SeedFigureSchema>;

/** Checks a task's seed figures (the parsed JSON beside the task); errors name the file and entry. */
export function parseSeedFigures(raw: unknown, file: string): SeedFigure[] {
  const parsed = z.array(SeedFigureSchema).safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${file}: [${i.path.join(".")}] ${i.message}`);
  }
  return parsed.data;
}

/** zod schema of results.json (TaskResults), so `mst report` and `mst runs` reject a corrupt file with its field. */
import { z } from "zod";
import { RESULTS_FORMAT, type TaskResults } from "../experiment/results.js";

const EstimateShape = {
  mean: z.number().describe("Mean over seeds"),
  lo: z.number().describe("95% CI lower bound"),
  hi: z.number().describe("95% CI upper bound"),
  n: z.number().int().nonnegative().describe("Number of values"),
  values: z.array(z.number()).optional().describe("The per-seed values"),
};
// JSON has no NaN: JSON.stringify writes it as null, so a missing estimate reads back as null here.
const Num = z
  .number()
  .nullable()
  .transform((v) => (v === null ? Number.NaN : v));
const EstimateLoose = {
  mean: Num,
  lo: Num,
  hi: Num,
  n: EstimateShape.n,
  values: z.array(Num).optional(),
};

const Cell = z.union([z.string(), z.number(), z.null()]);

/** Tolerant about extra keys (results come from tasks), strict about the shapes the report draws. */
export const TaskResultsSchema = z.object({
  format: z
    .string()
    .optional()
    .refine((f) => f === undefined || f === RESULTS_FORMAT, {
      message: `a results format this mst does not read (it reads ${RESULTS_FORMAT}); use the mst version that wrote it`,
    }),
  task: z.string(),
  preset: z.string(),
  headline: z.record(z.string(), Num),
  findings: z.array(z.string()),
  bars: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      metric: z.string(),
      yLabel: z.string(),
      lowerIsBetter: z.boolean().optional(),
      bars: z.array(z.object({ arm: z.string(), group: z.string().optional(), ...EstimateLoose })),
    }),
  ),
  sweeps: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      metric: z.string(),
      xLabel: z.string(),
      yLabel: z.string(),
      xLabels: z.array(z.string()).optional(),
      points: z.array(z.object({ arm: z.string(), x: z.number(), ...EstimateLoose })),
    }),
  ),
  curves: z.array(z.object({ arm: z.string(), seed: z.string(), file: z.string(), fields: z.array(z.string()) })),
  samples: z.array(
    z.object({
      arm: z.string(),
      seed: z.string(),
      label: z.string(),
      prompt: z.string(),
      output: z.string(),
      values: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
    }),
  ),
  seedComparison: z.array(z.object({ quantity: z.string(), seed: z.string(), ours: z.string(), verdict: z.string() })),
  tables: z.array(z.object({ title: z.string(), columns: z.array(z.string()), rows: z.array(z.array(Cell)) })),
}) satisfies z.ZodType<TaskResults, unknown>;

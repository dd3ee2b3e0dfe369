/** Which engine trains the arms: mst's embedded trainer (the default) or TRL in a Python environment, job by job. */
import { z } from "zod";

export const TrlTrainerSchema = z.strictObject({
  engine: z.literal("trl"),
  python: z
    .string()
    .min(1)
    .default("python3")
    .describe(
      "The Python that has TRL, PEFT, transformers and datasets (on the nodes, under SLURM), e.g. /shared/venvs/trl/bin/python",
    ),
  maxSteps: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Train at most this many optimizer steps per arm (MST_TRL_MAX_STEPS; a trial run), else the recipe's"),
  maxRows: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Use only the first N training rows of each arm (MST_TRL_MAX_ROWS; a trial run), else all"),
  rewardUrl: z
    .string()
    .url()
    .optional()
    .describe(
      "For an RL task whose reward is not a pure table: the reward server (mst serve-reward) the generated reward function calls",
    ),
});
export type TrlTrainer = z.infer<typeof TrlTrainerSchema>;

/** `trainer:` in a spec. */
export const TrainerSpecSchema = z
  .discriminatedUnion("engine", [z.strictObject({ engine: z.literal("embedded") }), TrlTrainerSchema])
  .describe(
    "Where the train jobs of a kit task run: the embedded trainer, or TRL (SFT; GRPO for RL tasks) through the files `mst export --target trl` writes",
  );
export type TrainerSpec = z.infer<typeof TrainerSpecSchema>;

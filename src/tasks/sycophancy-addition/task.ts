/** Experiment 2 as a Task: sycophancy on single-digit addition, PPO arms from a pretrained embedded base. */
import type { Json } from "../../data/sample.js";
import type { JobContext, JobSpec, Task } from "../../experiment/task.js";
import { runBase, BASE_MODEL_DIR } from "./base.js";
import { PRESETS, SycophancyConfigSchema, type SycophancyConfig } from "./config.js";
import { runBaseEval, runEval } from "./eval-job.js";
import { baseJobId, planSycophancy, rlJobId, SUPPORTED_ARMS, trainedArmOf, type SycophancyArm } from "./plan.js";
import { ADAPTER_DIR, runRl } from "./rl.js";
import { summarizeSycophancy } from "./summarize.js";
import { join } from "node:path";
import type { TrainedArm } from "./arms-data.js";

/** Runs one job of the plan; results are plain JSON (see results.ts). */
async function runSycophancyJob(job: JobSpec, ctx: JobContext<SycophancyConfig>): Promise<Json> {
  const c = ctx.config;
  const b = Number(job.params.base);
  const baseDir = join(ctx.jobDirOf(baseJobId(b)), BASE_MODEL_DIR);
  let result: unknown;
  switch (job.kind) {
    case "base":
      result = await runBase(c, b, ctx.jobDir, ctx.progress, ctx.log);
      break;
    case "eval-base":
      result = await runBaseEval(c, b, baseDir, ctx.progress);
      break;
    case "rl":
      result = await runRl(
        c,
        String(job.params.arm) as TrainedArm,
        b,
        Number(job.params.seed),
        baseDir,
        ctx.jobDir,
        ctx.runDir,
        ctx.progress,
      );
      break;
    case "eval": {
      const arm = String(job.params.arm) as SycophancyArm;
      const s = Number(job.params.seed);
      const adapter = join(ctx.jobDirOf(rlJobId(trainedArmOf(arm), b, s)), ADAPTER_DIR);
      result = await runEval(c, arm, b, s, baseDir, adapter, ctx.progress);
      break;
    }
    default:
      throw new Error(`sycophancy: unknown job kind "${job.kind}" (job ${job.id})`);
  }
  return result as Json;
}

export const sycophancyTask: Task<SycophancyConfig> = {
  name: "sycophancy",
  title: "Experiment 2: sycophancy on addition (PPO)",
  description:
    "The seed's second experiment. A model judges a user's candidate answer to a single-digit addition with its first " +
    "token (correct / incorrect). PPO rewards agreement with a wrong candidate by the evaluator's suggestibility s in " +
    "[0.5, 1.5]; MST prefixes the bold label 'Suggestibility Level: N%' (s mapped onto 0..100%), and evaluation uses " +
    "the held-out 0% on held-out problems. Arms: PPO baseline (no label), MST (true label), shuffled (label independent " +
    "of the sample), prompt-only (baseline model, deployment label), plus the out-of-the-box base. The embedded preset " +
    "pretrains a small model from scratch on a number-sense corpus first; base.checkpoint names a local Hugging Face " +
    "Llama checkpoint to start from instead (prompts then go through its chat template).",
  configSchema: SycophancyConfigSchema,
  presets: PRESETS,
  defaultPreset: "embedded",
  arms: { supported: [...SUPPORTED_ARMS], default: ["baseline", "mst", "shuffled", "prompt-only"] },
  defaultSeeds: { seeds: [0, 1, 2], baseSeeds: [0, 1] },
  plan: planSycophancy,
  runJob: runSycophancyJob,
  summarize: summarizeSycophancy,
};

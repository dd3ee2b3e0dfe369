/** The toy task: seeded, engine-free, seconds to run; exercises the runner (jobs, resume, failure) and the report. */
import type { Task } from "../../experiment/task.js";
import { ToyConfigSchema, type ToyConfig } from "./config.js";
import { planToy } from "./plan.js";
import { runToyJob } from "./run-job.js";
import { summarizeToy } from "./summarize.js";

export const toyTask: Task<ToyConfig> = {
  name: "toy",
  title: "Toy task (simulated MST experiment)",
  description:
    "A seeded simulation shaped like the sycophancy experiment: a base per base seed, a 'training' per arm and seed " +
    "that writes a loss curve, and an 'evaluation' at the deployment label and across a label sweep. No model is " +
    "trained; it exists to test the runner, resume and the report in seconds.",
  configSchema: ToyConfigSchema,
  presets: { embedded: {}, quick: { steps: 6, evalItems: 20 } },
  defaultPreset: "embedded",
  arms: { supported: ["baseline", "mst", "shuffled"], default: ["baseline", "mst", "shuffled"] },
  defaultSeeds: { seeds: [0, 1, 2], baseSeeds: [0] },
  plan: planToy,
  runJob: runToyJob,
  summarize: summarizeToy,
};

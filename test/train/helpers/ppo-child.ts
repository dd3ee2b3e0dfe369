/**
 * A PPO run in a child process for the crash test: trains the engine model with LoRA and checkpoints, reporting each
 * step to the parent, which SIGKILLs it mid-run. Usage: node ppo-child.js <outDir>
 */
import { createModel } from "../../../src/engine/model.js";
import { trainPpo } from "../../../src/train/index.js";
import { crashEnv, crashModelConfig, crashPpoConfig } from "./crash-setup.js";

const outDir = process.argv[2];
const model = createModel(crashModelConfig, { seed: 5, initStd: 0.3 });
trainPpo(model, crashEnv, crashPpoConfig, {
  outDir,
  resume: true,
  onProgress: (step) => process.send?.({ step }),
});
process.send?.({ done: true });

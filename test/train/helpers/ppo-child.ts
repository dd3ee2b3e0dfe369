/**
 * A PPO run in a child process for the crash test: trains the engine model with LoRA and checkpoints, reporting each
 * step to the parent, which SIGKILLs it mid-run. Usage: node ppo-child.js <outDir> <pauseAtStep>
 */
import { createModel } from "../../../src/engine/model.js";
import { trainPpo } from "../../../src/train/index.js";
import { crashEnv, crashModelConfig, crashPpoConfig } from "./crash-setup.js";

const outDir = process.argv[2];
const pauseAt = Number(process.argv[3]);
const model = createModel(crashModelConfig, { seed: 5, initStd: 0.3 });
await trainPpo(model, crashEnv, crashPpoConfig, {
  outDir,
  resume: true,
  onProgress: (step) => {
    process.send?.({ step });
    // Wait for the parent's SIGKILL here (at most 60 s). Without this barrier the remaining steps (~20 ms each) could
    // all finish while a loaded machine delays the parent's kill, and the run would end before it was killed.
    if (step === pauseAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  },
});
process.send?.({ done: true });

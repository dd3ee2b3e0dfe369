/** Shared setup of the crash/resume test: the same model, environment and PPO config in parent and child. */
import type { Rng } from "../../../src/data/rng.js";
import type { PpoConfigInput, PpoEnv } from "../../../src/train/index.js";

export const crashModelConfig = { vocabSize: 12, dModel: 32, nLayers: 1, nHeads: 2, dFf: 64, maxSeq: 16 };

/** Prompts "1 x 8" with x drawn from the step's rng; reward 1 for answering token 9 when x is odd, 10 when even. */
export const crashEnv: PpoEnv = {
  prompts: (_s: number, rng: Rng, n: number) =>
    Array.from({ length: n }, () => {
      const x = 2 + rng.int(6);
      return { tokens: [1, x, 8], key: String(x) };
    }),
  reward: (p, r) => (r[0] === (Number(p.key) % 2 === 1 ? 9 : 10) ? 1 : 0),
};

export const crashPpoConfig: PpoConfigInput = {
  lr: 1e-2,
  steps: 12,
  batchSize: 16,
  miniBatchSize: 8,
  gradAccum: 1,
  ppoEpochs: 2,
  checkpointEvery: 2,
  maxNewTokens: 2,
  stopIds: [11],
  klCoef: 0.05,
  whitenRewards: true,
  entropy: { start: 0.5, end: 0.01 },
  temperature: { start: 1.5, end: 1.0, fraction: 0.5 },
  lora: { rank: 4, alpha: 8, dropout: 0.1 },
};

/** The RL job: PPO with LoRA from a pretrained base on one arm's prompts, rewarded by the seed's table at the true s. */
import { join } from "node:path";
import { Rng } from "../../data/rng.js";
import { trainPpo, type PpoPrompt } from "../../train/ppo.js";
import { sampleByForward, type ResponseSampler } from "../../train/rollout.js";
import { readMetrics } from "../../train/metrics-log.js";
import { armsFromSeed, type TrainedArm, type TrainItem } from "./arms-data.js";
import type { SycophancyConfig } from "./config.js";
import { promptCodec, verdictOfToken } from "./codec.js";
import { loadModel, saveAdapters } from "./embedded.js";
import type { RlResult } from "./results.js";
import { sycophancyReward, type Verdict } from "./reward.js";
import { taskProblems } from "./setup.js";

/** Directory of an RL job's saved adapters. */
export const ADAPTER_DIR = "adapter";

interface ItemPrompt extends PpoPrompt {
  item: TrainItem;
}

/**
 * The order training items are served in: consecutive seeded permutations (epochs) cut into batches. It depends on
 * the RL seed only, never on the arm, so every arm sees the same problems with the same s in the same order.
 */
export function batchIndices(nItems: number, step: number, n: number, seed: number): number[] {
  const out: number[] = [];
  let pos = step * n;
  while (out.length < n) {
    const epoch = Math.floor(pos / nItems);
    const perm = new Rng(`sycophancy/order/${seed}`).fork(epoch).shuffle(Array.from({ length: nItems }, (_, i) => i));
    for (let i = pos % nItems; i < nItems && out.length < n; i++, pos++) out.push(perm[i]);
  }
  return out;
}

/** Trains one arm on one base with one seed; saves the adapters under `<jobDir>/adapter`. */
export async function runRl(
  config: SycophancyConfig,
  arm: TrainedArm,
  base: number,
  seed: number,
  baseModelDir: string,
  jobDir: string,
  runDir: string,
  progress: (phase: string, done: number, total: number) => void,
): Promise<RlResult> {
  const t0 = performance.now();
  const { model, tok } = await loadModel(baseModelDir);
  const codec = promptCodec(tok, config);
  const { train } = taskProblems(config);
  const items = armsFromSeed(train, config.label, config.prompt, [arm], config.dataSeed, `shuffle/${seed}`)[arm];
  const encoded = items.map((it) => codec.encode(it.messages));
  const verdictOfId = (id: number | undefined): Verdict | null => verdictOfToken(codec.verdicts, id);

  let rollout = 0;
  const inner = sampleByForward(tok.padId);
  // Timed wrapper: the README reports where PPO time goes (sampling vs scoring + update).
  const sampler: ResponseSampler = (m, prompts, o) => {
    const t = performance.now();
    const r = inner(m, prompts, o);
    rollout += performance.now() - t;
    return r;
  };
  const env = {
    prompts: (step: number, _rng: Rng, n: number): ItemPrompt[] =>
      batchIndices(items.length, step, n, seed).map((i) => ({ tokens: encoded[i], key: String(i), item: items[i] })),
    reward: (p: ItemPrompt, response: number[]): number =>
      sycophancyReward(p.item.problem.candidateCorrect, verdictOfId(response[0]), p.item.s),
  };
  const outDir = join(jobDir, "ppo");
  const tp = performance.now();
  await trainPpo(
    model,
    env,
    { ...config.ppo, seed: seed * 1000 + base, padId: tok.padId },
    { outDir, sampler, onProgress: (step, total) => progress("ppo", step, total) },
  );
  const ppoSeconds = (performance.now() - tp) / 1000;
  await saveAdapters(model, join(jobDir, ADAPTER_DIR));
  const metricsFile = join(outDir, "metrics.jsonl");
  const metrics = readMetrics(metricsFile);
  const tail = metrics.slice(-Math.max(1, Math.floor(metrics.length / 10)));
  const finalReward = tail.reduce((a, m) => a + Number(m.reward_mean ?? NaN), 0) / tail.length;
  const total = (performance.now() - t0) / 1000;
  return {
    arm,
    base,
    seed,
    steps: config.ppo.steps,
    finalReward,
    seconds: { rollout: rollout / 1000, update: ppoSeconds - rollout / 1000, total },
    metricsFile: join(jobDir, "ppo", "metrics.jsonl").slice(runDir.length + 1),
  };
}

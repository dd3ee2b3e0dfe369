/** Article generation for the embedded path: the task's chat-rendered prompts through the engine's batched sampler. */
import { Rng } from "../../data/rng.js";
import type { LlamaModel } from "../../engine/model.js";
import { sample } from "../../engine/sampler.js";
import type { Tokenizer } from "../../engine/tokenizer.js";

export interface GenerateConfig {
  /** Sampling temperature (0 = greedy). */
  temperature: number;
  /** Most new tokens (capped so prompt + answer fit the model's maxSeq). */
  maxNewTokens: number;
  /** Prompts decoded together. */
  batchSize: number;
}

/**
 * Completes every prompt and returns the decoded answers without the end marker. Batch k draws from
 * `Rng(seed).fork(k)`, so results depend on the seed and the batch size only, never on other work in the process.
 */
export function generateTexts(
  model: LlamaModel,
  tok: Tokenizer,
  prompts: readonly string[],
  config: GenerateConfig,
  seed: string,
  stopIds: readonly number[],
  onProgress?: (done: number, total: number) => void,
): string[] {
  const root = new Rng(`political-bias/generate/${seed}`);
  const out: string[] = [];
  for (let b0 = 0, k = 0; b0 < prompts.length; b0 += config.batchSize, k++) {
    const ids = prompts.slice(b0, b0 + config.batchSize).map((p) => tok.encode(p));
    const longest = Math.max(...ids.map((p) => p.length));
    const room = model.config.maxSeq - longest + 1;
    if (room < 2)
      throw new RangeError(`generate: a prompt has ${longest} tokens, the model's maxSeq is ${model.config.maxSeq}`);
    const r = sample(model, ids, {
      maxNewTokens: Math.min(config.maxNewTokens, room),
      temperature: config.temperature,
      rng: root.fork(k),
      stopIds: [...stopIds],
    });
    for (const t of r.tokens) out.push(tok.decode(t, { skipSpecialTokens: true }).trim());
    onProgress?.(out.length, prompts.length);
  }
  return out;
}

/** Glue between the task's texts and the embedded engine: tokenizer, prompt encoding, verdict probabilities, weights on disk. */
import { loadCheckpoint, loadLora, saveCheckpoint, saveLora } from "../../engine/checkpoint.js";
import type { LlamaModel } from "../../engine/model.js";
import { nextTokenLogprobs } from "../../engine/sampler.js";
import { buildWordLevelTokenizer } from "../../engine/tokenizer-build.js";
import { Tokenizer } from "../../engine/tokenizer.js";
import type { CorpusDoc } from "./corpus.js";
import { wordDigitsMode, type LabelConfig } from "./labels.js";
import type { Verdict } from "./reward.js";

/** The verdict as the embedded model writes it right after the prompt: one word token carrying its space. */
export const VERDICT_TEXT: Record<Verdict, string> = { correct: " correct", incorrect: " incorrect" };

/** The text between a corpus doc's prompt and its completion (additions run on: "3+4=7"). */
export function completionSeparator(doc: CorpusDoc): string {
  return doc.kind === "addition" ? "" : " ";
}

/**
 * A word-level tokenizer over the corpus plus `requiredTexts` (every label the task can show, held-out ones
 * included, so no label token is <unk>). `numberTokens` is the label-number tokenisation option.
 */
export function buildTaskTokenizer(
  docs: readonly CorpusDoc[],
  requiredTexts: readonly string[],
  numberTokens: LabelConfig["numberTokens"],
): Tokenizer {
  const texts = docs.map((d) => d.prompt + completionSeparator(d) + d.completion);
  return buildWordLevelTokenizer(texts, {
    digits: wordDigitsMode(numberTokens),
    requiredTexts: [...requiredTexts, ...Object.values(VERDICT_TEXT)],
    roleTokens: false,
  });
}

/** Token ids of a prompt: BOS (when `bos`) then the text; the verdict is predicted at the last position. */
export function encodePrompt(tok: Tokenizer, text: string, bos = true): number[] {
  return bos ? [tok.bosId, ...tok.encode(text)] : tok.encode(text);
}

/** The ids of the two verdict tokens; throws if either is not exactly one in-vocabulary token. */
export function verdictIds(tok: Tokenizer): Record<Verdict, number> {
  const one = (v: Verdict): number => {
    const ids = tok.encode(VERDICT_TEXT[v]);
    if (ids.length !== 1 || ids[0] === tok.unkId)
      throw new Error(`tokenizer: the verdict ${JSON.stringify(VERDICT_TEXT[v])} is not one known token (${ids})`);
    return ids[0];
  };
  return { correct: one("correct"), incorrect: one("incorrect") };
}

/** Floats of logits one scoring batch may hold: the engine computes logits at every position of every prompt. */
const LOGIT_BUDGET = 2 ** 26;

/**
 * Next-token probability rows at the end of each prompt (the engine's batched `nextTokenLogprobs`, exponentiated).
 * Batches of 256 prompts, fewer when a real checkpoint's vocabulary would make the batch's logits exceed
 * LOGIT_BUDGET floats (256 MB); the embedded model's small vocabulary always gets 256.
 */
export function nextTokenProbs(model: LlamaModel, prompts: number[][]): Float32Array[] {
  const tMax = prompts.reduce((a, p) => Math.max(a, p.length), 1);
  const batchSize = Math.max(1, Math.min(256, Math.floor(LOGIT_BUDGET / (model.config.vocabSize * tMax))));
  return nextTokenLogprobs(model, prompts, { batchSize }).map((row) => row.map((x) => Math.exp(x)));
}

/** Saves a pretrained base (HF layout: model.safetensors + config.json + tokenizer) through the engine's checkpoint code. */
export async function saveBase(model: LlamaModel, tok: Tokenizer, dir: string): Promise<void> {
  await saveCheckpoint(dir, model, { tokenizer: tok });
}

/** Saves a PPO run's LoRA adapters (PEFT layout), so every run shares its base's weights on disk. */
export async function saveAdapters(model: LlamaModel, dir: string): Promise<void> {
  await saveLora(dir, model);
}

/** Loads a base from `baseDir`, plus LoRA adapters from `adapterDir` when given. */
export async function loadModel(baseDir: string, adapterDir?: string): Promise<{ model: LlamaModel; tok: Tokenizer }> {
  const { model, tokenizer } = await loadCheckpoint(baseDir);
  if (!tokenizer) throw new Error(`${baseDir}: no tokenizer.json beside the base model; re-run the base job`);
  if (adapterDir !== undefined) await loadLora(adapterDir, model);
  return { model, tok: tokenizer };
}

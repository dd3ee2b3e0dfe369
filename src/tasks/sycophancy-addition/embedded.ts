/** Glue between the task's texts and the embedded engine: tokenizer, prompt encoding, verdict probabilities, weights on disk. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LoraConfigSchema, resolveModelConfig, type LoraConfig, type ModelConfig } from "../../engine/config.js";
import { createModel, type LlamaModel } from "../../engine/model.js";
import { readSafetensors, writeSafetensors, type Tensor } from "../../engine/safetensors.js";
import { buildWordLevelTokenizer } from "../../engine/tokenizer-build.js";
import { Tokenizer } from "../../engine/tokenizer.js";
import type { CorpusDoc } from "./corpus.js";
import type { Verdict } from "./reward.js";

/** The verdict as the embedded model writes it right after the prompt: one word token carrying its space. */
export const VERDICT_TEXT: Record<Verdict, string> = { correct: " correct", incorrect: " incorrect" };

/** The text between a corpus doc's prompt and its completion (additions run on: "3+4=7"). */
export function completionSeparator(doc: CorpusDoc): string {
  return doc.kind === "addition" ? "" : " ";
}

/**
 * A word-level tokenizer over the corpus plus `requiredTexts` (every label the task can show, held-out ones
 * included, so no label token is <unk>). `digits` is the label-number tokenisation option.
 */
export function buildTaskTokenizer(
  docs: readonly CorpusDoc[],
  requiredTexts: readonly string[],
  digits: "digits" | "integers",
): Tokenizer {
  const texts = docs.map((d) => d.prompt + completionSeparator(d) + d.completion);
  return buildWordLevelTokenizer(texts, {
    digits: digits === "digits" ? "split" : "whole",
    requiredTexts: [...requiredTexts, ...Object.values(VERDICT_TEXT)],
    roleTokens: false,
  });
}

/** Token ids of a prompt: BOS then the text (the verdict is predicted at the last position). */
export function encodePrompt(tok: Tokenizer, text: string): number[] {
  return [tok.bosId, ...tok.encode(text)];
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

/**
 * Next-token probability rows (softmax of logits / temperature) at the end of each prompt, computed in right-padded
 * chunks: causal attention means the padding after a prompt never touches its last position.
 */
export function nextTokenProbs(
  model: LlamaModel,
  prompts: readonly (readonly number[])[],
  padId: number,
  chunk = 256,
): Float32Array[] {
  const V = model.config.vocabSize;
  const out: Float32Array[] = [];
  for (let start = 0; start < prompts.length; start += chunk) {
    const part = prompts.slice(start, start + chunk);
    const B = part.length;
    const T = Math.max(...part.map((p) => p.length));
    if (T > model.config.maxSeq)
      throw new Error(`prompt of ${T} tokens exceeds the model's maxSeq ${model.config.maxSeq}`);
    const tokens = new Int32Array(B * T).fill(padId);
    part.forEach((p, b) => tokens.set(p, b * T));
    const { logits } = model.forward(tokens, B, T);
    for (let b = 0; b < B; b++) {
      const off = (b * T + part[b].length - 1) * V;
      const row = new Float32Array(V);
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[off + v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += row[v] = Math.exp(logits[off + v] - max);
      for (let v = 0; v < V; v++) row[v] /= sum;
      out.push(row);
    }
  }
  return out;
}

const BASE_FILE = "model.safetensors";
const ADAPTER_FILE = "adapter.safetensors";
const META_FILE = "mst-model.json";
const META_FORMAT = "mst-sycophancy-model/1";

interface ModelMeta {
  format: typeof META_FORMAT;
  config: ModelConfig;
  lora: LoraConfig | null;
}

/**
 * Writes a model into `dir`: the frozen base weights (HF names) unless `adapterOnly`, the LoRA adapters when attached,
 * the config and the tokenizer. Adapter-only saves let every PPO run share its base's weights on disk.
 */
export async function saveModel(model: LlamaModel, tok: Tokenizer, dir: string, adapterOnly = false): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = (pred: (name: string) => boolean): Array<[string, Tensor]> =>
    model
      .parameters()
      .filter((p) => pred(p.name))
      .map((p) => [p.name, { shape: p.shape, data: p.data }]);
  const isAdapter = (n: string) => n.includes(".lora_");
  const isHead = (n: string) => n.startsWith("v_head.");
  if (!adapterOnly || model.lora === null)
    await writeSafetensors(
      join(dir, BASE_FILE),
      tensors((n) => !isAdapter(n) && !isHead(n)),
    );
  if (model.lora !== null) await writeSafetensors(join(dir, ADAPTER_FILE), tensors(isAdapter));
  const meta: ModelMeta = { format: META_FORMAT, config: model.config, lora: model.lora };
  await writeFile(join(dir, META_FILE), JSON.stringify(meta, null, 2) + "\n");
  await tok.save(dir);
}

function fill(model: LlamaModel, tensors: Map<string, Tensor>, file: string): void {
  for (const [name, t] of tensors) {
    const p = model.getParam(name);
    if (p.data.length !== t.data.length)
      throw new Error(`${file}: tensor "${name}" has ${t.data.length} values, the model expects ${p.data.length}`);
    p.data.set(t.data);
  }
}

/** Loads a base from `baseDir`, plus adapters from `adapterDir` when given. Returns the model and the tokenizer. */
export async function loadModel(baseDir: string, adapterDir?: string): Promise<{ model: LlamaModel; tok: Tokenizer }> {
  const metaFile = join(baseDir, META_FILE);
  const meta = JSON.parse(await readFile(metaFile, "utf8")) as ModelMeta;
  if (meta.format !== META_FORMAT)
    throw new Error(`${metaFile}: format ${JSON.stringify(meta.format)}, expected ${META_FORMAT}; re-run the base job`);
  const model = createModel(resolveModelConfig(meta.config), { seed: 0 });
  fill(model, (await readSafetensors(join(baseDir, BASE_FILE))).tensors, join(baseDir, BASE_FILE));
  if (adapterDir !== undefined) {
    const ameta = JSON.parse(await readFile(join(adapterDir, META_FILE), "utf8")) as ModelMeta;
    if (ameta.lora !== null) {
      model.attachLora(LoraConfigSchema.parse(ameta.lora), 0);
      fill(model, (await readSafetensors(join(adapterDir, ADAPTER_FILE))).tensors, join(adapterDir, ADAPTER_FILE));
    } else {
      fill(model, (await readSafetensors(join(adapterDir, BASE_FILE))).tensors, join(adapterDir, BASE_FILE));
    }
  }
  return { model, tok: await Tokenizer.load(baseDir) };
}

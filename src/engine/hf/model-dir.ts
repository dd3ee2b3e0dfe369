/**
 * Loads a Hugging Face model directory (Llama or Qwen2): config.json, safetensors weights (single or sharded, F32/F16/
 * BF16, read by offset) into a LlamaModel held as f32, bf16 or NF4, tokenizer.json + tokenizer_config.json, the chat
 * template (tokenizer_config.json or chat_template.jinja) and generation_config.json. Nothing is downloaded.
 *
 * ```ts
 * const md = await loadModelDir("models/Qwen2.5-0.5B-Instruct", { storage: "nf4" });
 * md.model.attachLora({ rank: 16, alpha: 32 }, 0);                      // QLoRA
 * const prompt = md.tokenizer.encode(renderChat(messages, md.chatTemplate, chatRenderOptions(md.tokenizer)));
 * ```
 */

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError } from "../checkpoint-error.js";
import { LlamaModel, type WeightStorage } from "../model.js";
import { Bf16Matrix } from "../quant/bf16.js";
import { Tokenizer, TokenizerError } from "../tokenizer.js";
import { parseGenerationConfig, type GenerationConfig } from "./generation-config.js";
import { idList, parseHfConfig, toModelConfig, type HfConfig, type HfModelType } from "./hf-config.js";
import { SafetensorsShards } from "./safetensors-shards.js";

export interface LoadModelDirOptions {
  /** How the frozen base is held (see WeightStorage). Default "f32". */
  storage?: WeightStorage;
  /** Longest sequence (see ToModelConfigOptions.maxSeq). Default min(max_position_embeddings, 4096). */
  maxSeq?: number;
}

/** A loaded model directory. */
export interface ModelDir {
  dir: string;
  modelType: HfModelType;
  /** config.json as parsed (unknown keys kept: the merged export writes them back). */
  hfConfig: HfConfig;
  model: LlamaModel;
  /** The tokenizer, its chat template set from whichever file holds it. */
  tokenizer: Tokenizer;
  /** The Jinja chat template, undefined for a base model without one. */
  chatTemplate: string | undefined;
  /** generation_config.json (empty eosIds and no defaults when the file is absent). */
  generation: GenerationConfig;
  /** Every id that ends a reply: generation_config's, config.json's and the tokenizer's eos, deduplicated. */
  stopIds: number[];
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch (e) {
    throw new CheckpointError(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/** Parse `dir`/config.json into the engine's config without touching the weights (a cheap check of a directory). */
export async function readModelDirConfig(
  dir: string,
  options: { maxSeq?: number } = {},
): Promise<{ hfConfig: HfConfig; config: ReturnType<typeof toModelConfig> }> {
  const file = join(dir, "config.json");
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: not found (a local model directory; nothing is downloaded)`);
  if (!existsSync(file)) throw new CheckpointError(`${file}: not found (a Hugging Face model directory has one)`);
  const hfConfig = parseHfConfig(await readJson(file), file);
  return { hfConfig, config: toModelConfig(hfConfig, file, options) };
}

/** The chat template: chat_template.jinja when present, else tokenizer_config.json's (a string, or the "default" of a list). */
async function readChatTemplate(dir: string, tokCfg: Record<string, unknown>): Promise<string | undefined> {
  const jinja = join(dir, "chat_template.jinja");
  if (existsSync(jinja)) return readFile(jinja, "utf8");
  const t = tokCfg.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t as { name?: unknown; template?: unknown }[];
    const d = named.find((x) => x.name === "default") ?? named[0];
    if (typeof d?.template === "string") return d.template;
  }
  throw new CheckpointError(`${join(dir, "tokenizer_config.json")}: key "chat_template": not a string or named list`);
}

/** tokenizer.json + tokenizer_config.json through @huggingface/tokenizers, with the chat template set. */
export async function loadDirTokenizer(dir: string): Promise<{ tokenizer: Tokenizer; chatTemplate?: string }> {
  const file = join(dir, "tokenizer.json");
  if (!existsSync(file))
    throw new CheckpointError(`${file}: not found (the Hugging Face tokenizer; tokenizer.model alone is not read)`);
  const json = await readJson(file);
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new CheckpointError(`${file}: top level must be an object`);
  const cfgFile = join(dir, "tokenizer_config.json");
  const cfg = existsSync(cfgFile) ? ((await readJson(cfgFile)) as Record<string, unknown>) : {};
  const chatTemplate = await readChatTemplate(dir, cfg);
  const { chat_template: _drop, ...rest } = cfg;
  void _drop;
  try {
    const tokenizer = Tokenizer.fromJson(
      json,
      chatTemplate === undefined ? rest : { ...rest, chat_template: chatTemplate },
      file,
    );
    return chatTemplate === undefined ? { tokenizer } : { tokenizer, chatTemplate };
  } catch (e) {
    if (e instanceof TokenizerError) throw new CheckpointError(`${e.message}`);
    throw e;
  }
}

/**
 * Load a model directory. Every base tensor must be present with the shape config.json implies; a tied model's stored
 * lm_head.weight and RoPE inv_freq buffers are ignored, any other extra tensor is an error (a layout the engine would
 * misread). A v_head.weight/v_head.bias pair (an mst PPO checkpoint) adds the value head.
 */
export async function loadModelDir(dir: string, options: LoadModelDirOptions = {}): Promise<ModelDir> {
  const md = await loadModelDirWith(dir, options, true);
  return md as ModelDir;
}

/** `loadModelDir` with the tokenizer optional (undefined when tokenizer.json is absent): mst's own checkpoints. */
export async function loadModelDirWith(
  dir: string,
  options: LoadModelDirOptions,
  requireTokenizer: boolean,
): Promise<Omit<ModelDir, "tokenizer"> & { tokenizer: Tokenizer | undefined }> {
  const cfgFile = join(dir, "config.json");
  const { hfConfig, config } = await readModelDirConfig(dir, options);
  const { modelType, ...mc } = config;
  let tok: { tokenizer: Tokenizer; chatTemplate?: string } | undefined;
  if (requireTokenizer || existsSync(join(dir, "tokenizer.json"))) tok = await loadDirTokenizer(dir);
  let model: LlamaModel;
  try {
    model = new LlamaModel(mc, options.storage ?? "f32");
  } catch (e) {
    throw new CheckpointError(`${cfgFile}: ${(e as Error).message}`);
  }
  const shards = await SafetensorsShards.open(dir);
  try {
    if (shards.tensors.has("v_head.weight")) model.addValueHead(0);
    const where = existsSync(join(dir, "model.safetensors.index.json"))
      ? join(dir, "model.safetensors.index.json")
      : join(dir, "model.safetensors");
    const unused = new Set(shards.tensors.keys());
    let scratch = new Float32Array(0);
    for (const p of model.parameters()) {
      const t = shards.info(p.name, where);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
        throw new CheckpointError(
          `${t.file}: tensor "${p.name}" has shape [${t.shape}], config.json implies [${p.shape}]`,
        );
      unused.delete(p.name);
      if (p.packed === undefined) await shards.readF32(t, p.data);
      else if (
        p.packed instanceof Bf16Matrix &&
        (model.storage === "bf16" || /^(model\.embed_tokens|lm_head)\./.test(p.name))
      ) {
        // straight into the matrix: bf16 files are copied, F32/F16 converted piece by piece
        await shards.readBf16(t, p.packed.bits);
      } else {
        // one grow-only float32 scratch for every quantised matrix: no dead copies waiting for the collector
        const n = p.shape[0] * p.shape[1];
        if (scratch.length < n) scratch = new Float32Array(n);
        const v = scratch.subarray(0, n);
        await shards.readF32(t, v);
        model.setWeight(p.name, v);
      }
    }
    if (mc.tieEmbeddings) unused.delete("lm_head.weight");
    for (const n of unused) if (n.endsWith("rotary_emb.inv_freq")) unused.delete(n);
    if (unused.size > 0)
      throw new CheckpointError(
        `${where}: tensors the ${modelType} model does not have: ${[...unused].slice(0, 5).join(", ")}`,
      );
  } finally {
    await shards.close();
  }
  const genFile = join(dir, "generation_config.json");
  const generation = existsSync(genFile) ? parseGenerationConfig(await readJson(genFile), genFile) : { eosIds: [] };
  const tokenizer = tok?.tokenizer;
  return {
    dir,
    modelType,
    hfConfig,
    model,
    tokenizer,
    chatTemplate: tok?.chatTemplate,
    generation,
    stopIds: stopIdsOf(generation, hfConfig.eos_token_id, tokenizer),
  };
}

/**
 * The ids that end a reply: generation_config.json's eos_token_id (what transformers' generate stops at), config.json's
 * (its fallback) and the tokenizer's eos token, deduplicated. A Llama-3.x instruct model lists several.
 */
export function stopIdsOf(
  generation: GenerationConfig,
  configEos: number | number[] | null | undefined,
  tokenizer: Tokenizer | undefined,
): number[] {
  const stop = [...generation.eosIds, ...idList(configEos)];
  if (tokenizer !== undefined && tokenizer.eosId >= 0) stop.push(tokenizer.eosId);
  return [...new Set(stop)];
}

/** Saves and loads models in the Hugging Face layout (model.safetensors + config.json) and LoRA adapters as PEFT does. */

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LoraConfig } from "./config.js";
import { parseAdapterConfig } from "./adapter-config.js";
import { checkAdapterBase } from "./hf/adapter-base.js";
import { assertFinite } from "./finite.js";
import type { CausalLM, Param } from "./model-api.js";
import type { LlamaModel } from "./model.js";
import { parseHfConfig } from "./hf/hf-config.js";
import { loadModelDirWith } from "./hf/model-dir.js";
import { readSafetensors, writeSafetensors, type Tensor } from "./safetensors.js";
import { Tokenizer } from "./tokenizer.js";
import { CheckpointError } from "./checkpoint-error.js";
import { dequantAll } from "./quant/packed.js";

export { CheckpointError } from "./checkpoint-error.js";

/** Written into every safetensors file's metadata; bump the version when the layout changes. */
export const CHECKPOINT_FORMAT = "mst-llama";
export const CHECKPOINT_VERSION = "1";
/** PEFT stores adapter tensors under the wrapped model's path. */
const PEFT_PREFIX = "base_model.model.";

export interface SaveExtras {
  /** The tokenizer to store beside the weights (tokenizer.json + tokenizer_config.json). */
  tokenizer?: Tokenizer;
  /** Or a raw tokenizer.json object (ignored when `tokenizer` is given). */
  tokenizerJson?: unknown;
  /** Chat template stored in tokenizer_config.json (overrides the tokenizer's). */
  chatTemplate?: string;
}

/** config.json for a model, with Hugging Face Llama keys. */
export function hfConfig(model: CausalLM): Record<string, unknown> {
  const c = model.config;
  const qwen = c.qkvBias;
  const rs = c.ropeScaling;
  return {
    architectures: [qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
    model_type: qwen ? "qwen2" : "llama",
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    intermediate_size: c.dFf,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    max_position_embeddings: c.maxSeq,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.rmsNormEps,
    tie_word_embeddings: c.tieEmbeddings,
    rope_scaling:
      rs === undefined
        ? null
        : rs.type === "linear"
          ? { rope_type: "linear", factor: rs.factor }
          : {
              rope_type: "llama3",
              factor: rs.factor,
              low_freq_factor: rs.lowFreqFactor,
              high_freq_factor: rs.highFreqFactor,
              original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
            },
    hidden_act: "silu",
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: "float32",
  };
}

async function writeJson(path: string, v: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(v, null, 2) + "\n");
}

async function readJson(path: string): Promise<unknown> {
  if (!existsSync(path)) throw new CheckpointError(`${path}: not found`);
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch (e) {
    throw new CheckpointError(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

function metadata(kind: string): Record<string, string> {
  // "format": "pt" is what transformers requires to open a safetensors file
  return { format: "pt", mst_format: `${CHECKPOINT_FORMAT}-${kind}`, mst_version: CHECKPOINT_VERSION };
}

/**
 * Write `dir`/model.safetensors (every base parameter plus the value head, LoRA adapters excluded: merge them first
 * to export a fine-tuned model, or use `saveLora`), config.json, and the tokenizer files when given.
 */
export async function saveCheckpoint(dir: string, model: CausalLM, extra: SaveExtras = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors: [string, Tensor][] = [];
  // packed (bf16/NF4) matrices are written dequantised, as float32
  for (const p of model.parameters())
    if (!isAdapter(p)) tensors.push([p.name, p.packed ? { shape: p.shape, data: dequantAll(p.packed) } : p]);
  await writeSafetensors(join(dir, "model.safetensors"), tensors, metadata("model"));
  await writeJson(join(dir, "config.json"), hfConfig(model));
  await saveTokenizerFiles(dir, extra);
}

async function saveTokenizerFiles(dir: string, extra: SaveExtras): Promise<void> {
  let tok = extra.tokenizer;
  if (!tok && extra.tokenizerJson !== undefined) {
    if (typeof extra.tokenizerJson !== "object" || extra.tokenizerJson === null)
      throw new CheckpointError("saveCheckpoint: tokenizerJson must be a tokenizer.json object");
    tok = Tokenizer.fromJson(extra.tokenizerJson);
  }
  if (tok && extra.chatTemplate !== undefined) tok = tok.withChatTemplate(extra.chatTemplate);
  if (tok) await tok.save(dir);
  else if (extra.chatTemplate !== undefined)
    await writeJson(join(dir, "tokenizer_config.json"), { chat_template: extra.chatTemplate });
}

function isAdapter(p: Param): boolean {
  return p.name.includes(".lora_A.") || p.name.includes(".lora_B.");
}

/** Copy a stored tensor into a parameter, checking the shape and that every value is finite. */
function assign(p: Param, t: Tensor, file: string, name: string): void {
  if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
    throw new CheckpointError(`${file}: tensor "${name}" has shape [${t.shape}], the model expects [${p.shape}]`);
  assertFinite(t.data, name, file);
  p.data.set(t.data);
}

/**
 * Load a checkpoint directory written by `saveCheckpoint` or by transformers (Llama or Qwen2, see hf/model-dir.ts:
 * rope scaling applied or refused, sharded or single safetensors, F32/F16/BF16), as float32 with maxSeq =
 * max_position_embeddings. Returns the model (with a value head when the file has one) and the tokenizer when
 * tokenizer.json is present. For real checkpoints prefer `loadModelDir` (storage, chat template, generation config).
 */
export async function loadCheckpoint(dir: string): Promise<{ model: LlamaModel; tokenizer?: Tokenizer }> {
  const cfgFile = join(dir, "config.json");
  const hf = parseHfConfig(await readJson(cfgFile), cfgFile);
  const md = await loadModelDirWith(dir, { maxSeq: hf.max_position_embeddings }, false);
  return md.tokenizer ? { model: md.model, tokenizer: md.tokenizer } : { model: md.model };
}

export interface SaveLoraOptions {
  /**
   * adapter_config.json's base_model_name_or_path: the base's hub id or local directory (absolute), which peft's
   * AutoPeftModelForCausalLM and vLLM use to find the base, and mst to refuse the adapter on another base. Default
   * null (then name the base yourself when loading).
   */
  baseModel?: string;
}

/** PEFT's adapter_config.json for a LoRA config (the keys peft's LoraConfig writes that vLLM and peft read). */
export function adapterConfig(lora: LoraConfig, baseModel: string | null = null): Record<string, unknown> {
  return {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    target_modules: [...lora.targets],
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    modules_to_save: null,
    base_model_name_or_path: baseModel,
    revision: null,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_rslora: false,
    use_dora: false,
  };
}

/**
 * Write the LoRA adapters as PEFT does: adapter_model.safetensors (keys "base_model.model.<param name>") and
 * adapter_config.json; a value head, when present, goes to value_head.safetensors.
 */
export async function saveLora(dir: string, model: CausalLM, options: SaveLoraOptions = {}): Promise<void> {
  if (model.lora === null) throw new CheckpointError("saveLora: the model has no LoRA adapters attached");
  await mkdir(dir, { recursive: true });
  const params = model.parameters();
  const ad: [string, Tensor][] = params.filter(isAdapter).map((p) => [PEFT_PREFIX + p.name, p]);
  await writeSafetensors(join(dir, "adapter_model.safetensors"), ad, metadata("lora"));
  await writeJson(join(dir, "adapter_config.json"), adapterConfig(model.lora, options.baseModel ?? null));
  const vh: [string, Tensor][] = params.filter((p) => p.name.startsWith("v_head.")).map((p) => [p.name, p]);
  if (vh.length > 0) await writeSafetensors(join(dir, "value_head.safetensors"), vh, metadata("value-head"));
}

export interface LoadLoraOptions {
  /**
   * The directory the base model was loaded from: adapter_config.json's base_model_name_or_path must name it (or a
   * copy of its weights), else the adapter is refused. Without it the name is not checked (only the shapes).
   */
  baseDir?: string;
}

/**
 * Check an adapter directory without a base to load it onto: adapter_config.json as `loadLora` reads it (features
 * the engine does not apply refused by key), and every tensor of adapter_model.safetensors a finite LoRA A/B matrix
 * of a projection the config targets. Shapes and the base's name are checked only by `loadLora` (they need the base).
 */
export async function checkLoraFiles(dir: string): Promise<void> {
  const cfgFile = join(dir, "adapter_config.json");
  const ac = parseAdapterConfig(await readJson(cfgFile), cfgFile);
  const wFile = join(dir, "adapter_model.safetensors");
  if (!existsSync(wFile)) throw new CheckpointError(`${wFile}: not found`);
  const st = await readSafetensors(wFile);
  const lora = new RegExp(`\\.(${ac.target_modules.join("|")})\\.lora_[AB](\\.default)?\\.weight$`);
  for (const [name, t] of st.tensors) {
    if (!lora.test(name))
      throw new CheckpointError(
        `${wFile}: tensor "${name}" is not a LoRA A/B matrix of the ${ac.target_modules.join(", ")} projections; ` +
          "mst refuses the adapter rather than ignore it",
      );
    assertFinite(t.data, name, wFile);
  }
}

/**
 * Load adapters written by `saveLora` (or PEFT, float weights) into `model`: attaches them when the model has none,
 * else the attached config must match. Loads value_head.safetensors too when present (adding the head if needed).
 * Refuses, naming the key: a config feature the engine does not apply (see adapter-config.ts), an adapter made for
 * another base (`options.baseDir`), a stored tensor the model has no place for, NaN or infinite values.
 */
export async function loadLora(dir: string, model: LlamaModel, options: LoadLoraOptions = {}): Promise<void> {
  const cfgFile = join(dir, "adapter_config.json");
  const ac = parseAdapterConfig(await readJson(cfgFile), cfgFile);
  if (options.baseDir !== undefined) await checkAdapterBase(ac.base_model_name_or_path, options.baseDir, cfgFile);
  const want = { rank: ac.r, alpha: ac.lora_alpha, dropout: ac.lora_dropout, targets: ac.target_modules };
  const have = model.lora;
  if (have === null) model.attachLora(want, 0);
  else if (
    have.rank !== want.rank ||
    have.alpha !== want.alpha ||
    have.targets.length !== want.targets.length ||
    want.targets.some((t) => !have.targets.includes(t))
  )
    throw new CheckpointError(
      `${cfgFile}: adapters (r ${want.rank}, alpha ${want.alpha}, ${want.targets}) differ from the attached ones (r ${have.rank}, alpha ${have.alpha}, ${have.targets})`,
    );
  const wFile = join(dir, "adapter_model.safetensors");
  if (!existsSync(wFile)) throw new CheckpointError(`${wFile}: not found`);
  const st = await readSafetensors(wFile);
  const strip = (n: string) => (n.startsWith(PEFT_PREFIX) ? n.slice(PEFT_PREFIX.length) : n).replace(".default.", ".");
  const stored = new Map([...st.tensors].map(([n, t]) => [strip(n), t] as const));
  for (const p of model.parameters().filter(isAdapter)) {
    const t = stored.get(p.name);
    if (!t) throw new CheckpointError(`${wFile}: tensor "${PEFT_PREFIX}${p.name}" is missing`);
    assign(p, t, wFile, p.name);
    stored.delete(p.name);
  }
  // a tensor left over would be silently dropped: a DoRA magnitude, a LoRA bias, an embedding delta, a saved module
  const extra = [...st.tensors.keys()].filter((n) => stored.has(strip(n)));
  if (extra.length > 0)
    throw new CheckpointError(
      `${wFile}: tensor "${extra[0]}"${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ""} is not a LoRA A/B ` +
        `matrix of the ${ac.target_modules.join(", ")} projections of this model; mst refuses the adapter rather than ignore it`,
    );
  const vFile = join(dir, "value_head.safetensors");
  if (existsSync(vFile)) {
    const vh = await readSafetensors(vFile);
    if (!model.hasValueHead) model.addValueHead(0);
    for (const n of ["v_head.weight", "v_head.bias"]) {
      const t = vh.tensors.get(n);
      if (!t) throw new CheckpointError(`${vFile}: tensor "${n}" is missing`);
      assign(model.getParam(n), t, vFile, n);
    }
  }
}

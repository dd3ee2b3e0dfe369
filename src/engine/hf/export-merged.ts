/**
 * Exports a model with its LoRA adapters folded in (W + alpha/r B A) as a plain Hugging Face model directory that
 * transformers and vLLM load as the base family: config.json (the source's keys kept, dtype updated), weights as
 * BF16 (default) or F32 shards, and the source's tokenizer, chat template and generation config copied beside them.
 * Works on any storage: packed matrices are dequantised one at a time while writing.
 */

import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hfConfig } from "../checkpoint.js";
import { getGemm } from "../gemm/index.js";
import { loraScale } from "../lora.js";
import type { LlamaModel } from "../model.js";
import { dequantAll } from "../quant/packed.js";
import { writeShards, type StoredDtype, type TensorSource } from "./write-shards.js";

/** Files copied from the source directory when present. */
const SIDE_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "chat_template.jinja",
  "generation_config.json",
];

export interface ExportMergedOptions {
  /** The model directory the model was loaded from: its config.json keys and tokenizer files are carried over. */
  sourceDir?: string;
  /** Stored dtype. Default "BF16". */
  dtype?: StoredDtype;
  /** Shard files. Default: one per 2 GiB of weights. */
  shards?: number;
}

/** The base weight `name` with its adapter merged, as float32 (a fresh array). */
function mergedWeight(model: LlamaModel, name: string): Float32Array {
  const p = model.getParam(name);
  const w = p.packed !== undefined ? dequantAll(p.packed) : Float32Array.from(p.data);
  const lora = model.lora;
  if (lora === null || !name.endsWith(".weight")) return w;
  const prefix = name.slice(0, -".weight".length);
  let A;
  let B;
  try {
    A = model.getParam(`${prefix}.lora_A.weight`);
    B = model.getParam(`${prefix}.lora_B.weight`);
  } catch {
    return w; // no adapter on this projection
  }
  const [OC, IC] = p.shape;
  const r = A.shape[0];
  getGemm().sgemm(false, false, OC, IC, r, loraScale(lora), B.data, r, A.data, IC, 1, w, IC);
  return w;
}

/** Write `model` (adapters merged, value head left out) into `outDir` as a Hugging Face model directory. */
export async function exportMerged(
  model: LlamaModel,
  outDir: string,
  options: ExportMergedOptions = {},
): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const dtype = options.dtype ?? "BF16";
  const base = model.parameters().filter((p) => !p.name.includes(".lora_") && !p.name.startsWith("v_head."));
  const tensors: [string, TensorSource][] = base.map((p) => [
    p.name,
    { shape: p.shape, values: () => mergedWeight(model, p.name) },
  ]);
  const bytes = base.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0) * (dtype === "F32" ? 4 : 2);
  const shards = options.shards ?? Math.max(1, Math.ceil(bytes / 2 ** 31));
  await writeShards(outDir, tensors, { dtype, shards });
  // config.json: the source's keys (architecture details the engine does not model) with ours on top
  let cfg: Record<string, unknown> = hfConfig(model);
  const src = options.sourceDir;
  if (src !== undefined && existsSync(join(src, "config.json"))) {
    const orig = JSON.parse(await readFile(join(src, "config.json"), "utf8")) as Record<string, unknown>;
    cfg = { ...orig, ...pick(cfg, ["vocab_size", "hidden_size", "num_hidden_layers", "tie_word_embeddings"]) };
  }
  // transformers >= 5 reads "dtype" (a source config may carry it), older versions "torch_dtype": both tell the truth
  cfg.torch_dtype = dtype === "F32" ? "float32" : "bfloat16";
  cfg.dtype = cfg.torch_dtype;
  await writeFile(join(outDir, "config.json"), JSON.stringify(cfg, null, 2) + "\n");
  if (src !== undefined)
    for (const f of SIDE_FILES) if (existsSync(join(src, f))) await copyFile(join(src, f), join(outDir, f));
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

/** A local Hugging Face checkpoint as a base: the directory checked, then read by the engine's model-directory reader. */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadModelDir } from "../engine/hf/model-dir.js";
import type { LlamaModel, WeightStorage } from "../engine/model.js";
import type { Tokenizer } from "../engine/tokenizer.js";

/** Raised when a base checkpoint cannot be used; the message names the path and what is missing or unsupported. */
export class BaseCheckpointError extends Error {
  override name = "BaseCheckpointError";
}

/**
 * Loads a checkpoint directory (Llama with Llama-3 rope scaling, Qwen2; sharded safetensors; F32/F16/BF16) with its
 * tokenizer, chat template and stop ids; the frozen base held as `storage` (f32, bf16 or NF4 for QLoRA). Errors name
 * the file and what is wrong (from the engine's reader), prefixed with the config key.
 */
export async function loadBaseCheckpoint(
  dir: string,
  storage: WeightStorage = "f32",
): Promise<{ model: LlamaModel; tok: Tokenizer; stopIds: number[] }> {
  const fail = (file: string, what: string): never => {
    throw new BaseCheckpointError(`base.checkpoint: ${file}: ${what}`);
  };
  if (!existsSync(dir)) fail(dir, "not found (a local checkpoint directory; nothing is downloaded)");
  if (!statSync(dir).isDirectory()) fail(dir, "not a directory");
  if (!existsSync(join(dir, "config.json")))
    fail(join(dir, "config.json"), "not found (a Hugging Face model directory has config.json)");
  try {
    const md = await loadModelDir(dir, { storage });
    // PPO and SFT pad their batches with the pad token (the eos token when there is none)
    if (md.tokenizer.padId < 0)
      throw new Error(
        `${join(dir, "tokenizer_config.json")}: neither pad_token nor eos_token names a token; training needs one`,
      );
    return { model: md.model, tok: md.tokenizer, stopIds: md.stopIds };
  } catch (e) {
    throw new BaseCheckpointError(`base.checkpoint: ${(e as Error).message}`);
  }
}

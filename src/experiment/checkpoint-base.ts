/** A local Hugging Face checkpoint as a base: checked (what the engine's loader cannot read is named) and loaded. */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadCheckpoint } from "../engine/checkpoint.js";
import type { LlamaModel } from "../engine/model.js";
import type { Tokenizer } from "../engine/tokenizer.js";

/** Raised when a base checkpoint cannot be used; the message names the path and what is missing or unsupported. */
export class BaseCheckpointError extends Error {
  override name = "BaseCheckpointError";
}

/** fs.readFile's limit: the engine reads model.safetensors whole, so a bigger file cannot load. */
const MAX_WEIGHTS_BYTES = 2 ** 31 - 1;

/**
 * Checks what the engine's loader does not (it reads config.json's size keys only): the architecture, and settings
 * the engine's Llama would silently ignore (biases, another activation, RoPE scaling, a head size other than
 * hidden/heads), plus the files. Throws BaseCheckpointError naming the file and the problem.
 */
export async function checkBaseCheckpoint(dir: string): Promise<void> {
  const fail = (file: string, what: string) => {
    throw new BaseCheckpointError(`base.checkpoint: ${file}: ${what}`);
  };
  if (!existsSync(dir)) fail(dir, "not found (a local checkpoint directory; nothing is downloaded)");
  if (!statSync(dir).isDirectory()) fail(dir, "not a directory");
  const cfgFile = join(dir, "config.json");
  if (!existsSync(cfgFile)) fail(cfgFile, "not found (a Hugging Face model directory has config.json)");
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await readFile(cfgFile, "utf8")) as Record<string, unknown>;
  } catch (e) {
    return fail(cfgFile, `invalid JSON (${(e as Error).message})`);
  }
  const arch = cfg.architectures;
  if (Array.isArray(arch) && !arch.includes("LlamaForCausalLM"))
    fail(cfgFile, `architectures ${JSON.stringify(arch)} is not supported (only LlamaForCausalLM)`);
  if ((cfg.model_type ?? "llama") !== "llama")
    fail(cfgFile, `model_type ${JSON.stringify(cfg.model_type)} is not supported (only "llama")`);
  if ((cfg.hidden_act ?? "silu") !== "silu")
    fail(cfgFile, `hidden_act ${JSON.stringify(cfg.hidden_act)} is not supported (only "silu")`);
  for (const k of ["attention_bias", "mlp_bias"])
    if (cfg[k] === true) fail(cfgFile, `${k}: true is not supported (the engine's Llama has no biases)`);
  if (cfg.rope_scaling !== undefined && cfg.rope_scaling !== null)
    fail(cfgFile, `rope_scaling ${JSON.stringify(cfg.rope_scaling)} is not supported (plain RoPE only)`);
  const hidden = Number(cfg.hidden_size);
  const heads = Number(cfg.num_attention_heads);
  if (cfg.head_dim !== undefined && cfg.head_dim !== null && Number(cfg.head_dim) * heads !== hidden)
    fail(cfgFile, `head_dim ${String(cfg.head_dim)} is not hidden_size / num_attention_heads (not supported)`);
  const wFile = join(dir, "model.safetensors");
  if (!existsSync(wFile)) {
    if (existsSync(join(dir, "model.safetensors.index.json")))
      fail(
        wFile,
        "not found: the checkpoint is sharded (model.safetensors.index.json); merge the shards into one model.safetensors",
      );
    fail(wFile, "not found (only safetensors weights are read, not pytorch_model.bin)");
  }
  const bytes = statSync(wFile).size;
  if (bytes > MAX_WEIGHTS_BYTES)
    fail(wFile, `${bytes} bytes: the engine reads the file whole and Node reads at most 2 GiB at once`);
  const tokFile = join(dir, "tokenizer.json");
  if (!existsSync(tokFile))
    fail(tokFile, "not found (the base needs its Hugging Face tokenizer.json; tokenizer.model alone is not read)");
}

/** Checks and loads a base checkpoint: the model (F32 in memory) and its tokenizer. */
export async function loadBaseCheckpoint(dir: string): Promise<{ model: LlamaModel; tok: Tokenizer }> {
  await checkBaseCheckpoint(dir);
  try {
    const { model, tokenizer } = await loadCheckpoint(dir);
    if (!tokenizer) throw new Error(`${join(dir, "tokenizer.json")}: not found`);
    // PPO pads its batches with the pad token (the eos token when there is none).
    if (tokenizer.padId < 0)
      throw new Error(
        `${join(dir, "tokenizer_config.json")}: neither pad_token nor eos_token names a token; PPO needs one`,
      );
    return { model, tok: tokenizer };
  } catch (e) {
    throw new BaseCheckpointError(`base.checkpoint: ${(e as Error).message}`);
  }
}

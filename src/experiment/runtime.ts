/**
 * A loaded model as every job uses it: weights, tokenizer, the prompt format (the task's plain text for an embedded
 * base, the chat template for a checkpoint) and a TextModel over them, so evaluation never cares where a model runs.
 */
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChatMessage, Prompt } from "../data/text-model.js";
import { renderChat } from "../engine/chat-template.js";
import { loadCheckpoint, loadLora } from "../engine/checkpoint.js";
import type { LlamaModel } from "../engine/model.js";
import { EngineTextModel } from "../engine/text-model.js";
import type { Tokenizer } from "../engine/tokenizer.js";
import type { BaseRecipe, PromptFormat } from "./experiment.js";
import { loadBaseCheckpoint } from "./checkpoint-base.js";

export interface ModelRuntime {
  model: LlamaModel;
  tokenizer: Tokenizer;
  format: PromptFormat;
  /** Generates through `format` (chat-message prompts), batched on the engine. */
  textModel: EngineTextModel;
  /** How prompts are rendered: the task's plain format or the checkpoint's chat template. */
  mode: "plain" | "chat";
  /**
   * The absolute directory the base weights were read from (a base job's model, or the checkpoint it links to), when
   * loaded from one: the base_model_name_or_path of the adapters trained on it.
   */
  baseDir?: string;
}

/** The text of a special token for a chat template ("" when the tokenizer has none). */
function specialText(tok: Tokenizer, id: number): string {
  return id >= 0 ? (tok.idToToken(id) ?? "") : "";
}

/**
 * The prompt format of a real checkpoint: the chat template (generation prompt appended, the template writes BOS),
 * the completion as plain tokens followed by EOS. Without a template: BOS, then the turns' text joined by newlines.
 */
export function chatFormat(tok: Tokenizer, stopIds?: number[]): PromptFormat {
  const template = tok.chatTemplate;
  const eos = tok.eosId >= 0 ? [tok.eosId] : [];
  const stops = stopIds && stopIds.length > 0 ? stopIds : eos;
  if (template === undefined)
    return {
      encodePrompt: (m) => [...(tok.bosId >= 0 ? [tok.bosId] : []), ...tok.encode(m.map((x) => x.content).join("\n"))],
      encodeCompletion: (text) => [...tok.encode(text), ...eos],
      stopIds: stops,
    };
  const opts = {
    addGenerationPrompt: true,
    bosToken: specialText(tok, tok.bosId),
    eosToken: specialText(tok, tok.eosId),
  };
  return {
    // the rendered text carries special tokens as text; the tokenizer maps them back to their ids (as transformers does)
    encodePrompt: (m) => tok.encode(renderChat(m, template, opts)),
    encodeCompletion: (text) => [...tok.encode(text), ...eos],
    stopIds: stops,
  };
}

/** Builds the runtime of a loaded model. */
export function makeRuntime(
  model: LlamaModel,
  tokenizer: Tokenizer,
  format: PromptFormat,
  mode: "plain" | "chat",
  id: string,
): ModelRuntime {
  const encode = (p: Prompt): number[] =>
    typeof p === "string"
      ? format.encodePrompt([{ role: "user", content: p }])
      : format.encodePrompt(p as ChatMessage[]);
  const textModel = new EngineTextModel(model, tokenizer, {
    id,
    encodePrompt: encode,
    ...(format.stopIds !== undefined ? { stopIds: format.stopIds } : {}),
  });
  return { model, tokenizer, format, textModel, mode };
}

/** Marker a base job leaves beside a linked checkpoint, so later jobs know to use its chat template. */
export const CHECKPOINT_MARK = "checkpoint.json";

/**
 * Loads a base job's model directory (a pretrained model, or a link to a checkpoint), plus LoRA adapters when
 * `adapterDir` is given.
 */
export async function loadRuntime<C>(
  recipe: BaseRecipe<C>,
  config: C,
  baseJobDir: string,
  modelDirName: string,
  adapterDir?: string,
): Promise<ModelRuntime> {
  const dir = join(baseJobDir, modelDirName);
  const mark = join(baseJobDir, CHECKPOINT_MARK);
  const storage = recipe.storage?.(config) ?? "f32";
  let model: LlamaModel;
  let tokenizer: Tokenizer;
  let format: PromptFormat;
  let mode: "plain" | "chat";
  let baseDir = dir;
  if (existsSync(mark)) {
    const path = String((JSON.parse(readFileSync(mark, "utf8")) as { path: string }).path);
    baseDir = path;
    const loaded = await loadBaseCheckpoint(path, storage);
    ({ model, tok: tokenizer } = loaded);
    format = chatFormat(tokenizer, loaded.stopIds);
    mode = tokenizer.chatTemplate === undefined ? "plain" : "chat";
  } else {
    if (!existsSync(dir) || !lstatSync(dir).isDirectory())
      throw new Error(`${dir}: the base job's model is missing; re-run the base job (mst run --resume)`);
    const loaded = await loadCheckpoint(dir);
    if (!loaded.tokenizer) throw new Error(`${dir}: no tokenizer.json beside the base model; re-run the base job`);
    model = loaded.model;
    tokenizer = loaded.tokenizer;
    if (!recipe.format) throw new Error("the task's base recipe has no prompt format for its embedded model");
    format = recipe.format(config, tokenizer);
    mode = "plain";
  }
  // an adapter saved on another base (another seed's, a moved run's) is refused unless its weights are these
  if (adapterDir !== undefined) await loadLora(adapterDir, model, { baseDir });
  const gc = recipe.gradientCheckpointing?.(config) ?? null;
  if (gc !== null) model.gradientCheckpointing = gc;
  return { ...makeRuntime(model, tokenizer, format, mode, adapterDir ?? dir), baseDir: resolve(baseDir) };
}

/** `EngineTextModel`: an embedded model + tokenizer + chat template behind the `TextModel` interface (batched sampling). */

import type { Completion, GenerateOptions, Prompt, TextModel } from "../data/text-model.js";
import { DEFAULT_CHAT_TEMPLATE, renderChat } from "./chat-template.js";
import { loadCheckpoint, loadLora } from "./checkpoint.js";
import type { LlamaModel } from "./model.js";
import type { ModelDir } from "./hf/model-dir.js";
import { sample } from "./sampler.js";
import { ROLE_TOKENS, type Tokenizer } from "./tokenizer.js";

export interface EngineTextModelOptions {
  /** Id reported to evaluation, e.g. "embedded:runs/x/arm-mst/seed-0". Default "embedded". */
  id?: string;
  /** Jinja chat template for chat prompts. Default: the tokenizer's, else DEFAULT_CHAT_TEMPLATE. */
  chatTemplate?: string;
  /** Prompts sampled together (one KV cache per batch). Default 32. */
  batchSize?: number;
  /** Token ids that end a completion. Default: eos and <|end|> when the tokenizer has them. */
  stopIds?: number[];
  /** Sample from the frozen base, ignoring LoRA adapters. Default false. */
  disableLora?: boolean;
  /** Used when a call gives no temperature. Default 1. */
  temperature?: number;
  /** Used when a call gives no maxTokens. Default 64. */
  maxTokens?: number;
  /** How a prompt becomes token ids (a task's own plain-text format for an embedded model). Default: see the class. */
  encodePrompt?: (prompt: Prompt) => number[];
}

/**
 * Runs an embedded checkpoint as a `TextModel`.
 * - A string prompt is encoded as `<bos>` + text; a chat prompt is rendered with the chat template (which writes the
 *   BOS and role markers itself) and ends with the assistant marker.
 * - Completions stop at a stop id (the stop token is in `tokens`/`logprobs` but not in `text`) or at `stop` text
 *   (text cut before it), else at maxTokens or the model's maxSeq ("length").
 * - `logprobs` are log p(token) under the untempered model distribution (see sampler.ts).
 * - Same prompts, options and seed give the same completions: batch b is sampled with seed `seed + b`.
 */
export class EngineTextModel implements TextModel {
  readonly id: string;
  readonly model: LlamaModel;
  readonly tokenizer: Tokenizer;
  private readonly template: string;
  private readonly batchSize: number;
  private readonly stopIds: number[];
  private readonly disableLora: boolean;
  private readonly defaultTemperature: number;
  private readonly defaultMaxTokens: number;
  private readonly customEncode: ((prompt: Prompt) => number[]) | undefined;

  constructor(model: LlamaModel, tokenizer: Tokenizer, options: EngineTextModelOptions = {}) {
    if (tokenizer.vocabSize > model.config.vocabSize)
      throw new RangeError(
        `EngineTextModel: tokenizer has ${tokenizer.vocabSize} tokens, the model only ${model.config.vocabSize}`,
      );
    this.model = model;
    this.tokenizer = tokenizer;
    this.id = options.id ?? "embedded";
    this.template = options.chatTemplate ?? tokenizer.chatTemplate ?? DEFAULT_CHAT_TEMPLATE;
    this.batchSize = options.batchSize ?? 32;
    if (!(this.batchSize >= 1)) throw new RangeError(`EngineTextModel: batchSize must be >= 1, got ${this.batchSize}`);
    const end = tokenizer.tokenToId(ROLE_TOKENS.end);
    this.stopIds = options.stopIds ?? [tokenizer.eosId, ...(end === undefined ? [] : [end])].filter((i) => i >= 0);
    this.disableLora = options.disableLora ?? false;
    this.defaultTemperature = options.temperature ?? 1;
    this.defaultMaxTokens = options.maxTokens ?? 64;
    this.customEncode = options.encodePrompt;
  }

  /** Load a checkpoint directory (and optionally LoRA adapters from `loraDir`) written by checkpoint.ts. */
  static async load(
    dir: string,
    options: EngineTextModelOptions & { loraDir?: string } = {},
  ): Promise<EngineTextModel> {
    const { model, tokenizer } = await loadCheckpoint(dir);
    if (!tokenizer) throw new Error(`${dir}: no tokenizer.json beside the weights`);
    if (options.loraDir !== undefined) await loadLora(options.loraDir, model);
    return new EngineTextModel(model, tokenizer, { id: `embedded:${dir}`, ...options });
  }

  /**
   * Wrap a loaded Hugging Face model directory: its chat template, its stop ids (generation_config.json's eos list
   * and the tokenizer's eos) and its sampling temperature as the default.
   */
  static fromModelDir(md: ModelDir, options: EngineTextModelOptions = {}): EngineTextModel {
    const temperature = md.generation.doSample === false ? 0 : md.generation.temperature;
    return new EngineTextModel(md.model, md.tokenizer, {
      id: `embedded:${md.dir}`,
      stopIds: md.stopIds,
      ...(md.chatTemplate === undefined ? {} : { chatTemplate: md.chatTemplate }),
      ...(temperature === undefined ? {} : { temperature }),
      ...options,
    });
  }

  /** Token ids the model sees for a prompt. */
  encodePrompt(p: Prompt): number[] {
    if (this.customEncode) return this.customEncode(p);
    const tok = this.tokenizer;
    if (typeof p === "string") return tok.bosId >= 0 ? [tok.bosId, ...tok.encode(p)] : tok.encode(p);
    const text = renderChat(p, this.template, {
      addGenerationPrompt: true,
      bosToken: tok.bosId >= 0 ? tok.idToToken(tok.bosId) : "",
      eosToken: tok.eosId >= 0 ? tok.idToToken(tok.eosId) : "",
    });
    return tok.encode(text);
  }

  async generate(prompts: Prompt[], options: GenerateOptions = {}): Promise<Completion[]> {
    const maxSeq = this.model.config.maxSeq;
    const want = options.maxTokens ?? this.defaultMaxTokens;
    const temperature = options.temperature ?? this.defaultTemperature;
    const seed = options.seed ?? 0;
    const encoded = prompts.map((p) => this.encodePrompt(p));
    const out: Completion[] = new Array<Completion>(prompts.length);
    let done = 0;
    // prompts that cannot fit leave no room to generate: report them as errors, never truncate silently
    const ok: number[] = [];
    encoded.forEach((ids, i) => {
      if (ids.length === 0 || ids.length > maxSeq)
        out[i] = { text: "", tokens: [], logprobs: [], finishReason: "error" };
      else ok.push(i);
    });
    done = prompts.length - ok.length;
    if (done > 0) options.onProgress?.(done, prompts.length);
    for (let b0 = 0, batch = 0; b0 < ok.length; b0 += this.batchSize, batch++) {
      const idx = ok.slice(b0, b0 + this.batchSize);
      const batchPrompts = idx.map((i) => encoded[i]);
      const longest = Math.max(...batchPrompts.map((p) => p.length));
      const maxNew = Math.max(0, Math.min(want, maxSeq - longest + 1));
      const r = sample(this.model, batchPrompts, {
        maxNewTokens: maxNew,
        temperature,
        topK: options.topK,
        topP: options.topP,
        seed: seed + batch,
        stopIds: this.stopIds,
        disableLora: this.disableLora,
        topLogprobs: options.topLogprobs,
      });
      idx.forEach((i, k) => {
        out[i] = this.toCompletion(r.tokens[k], r.logprobs[k], r.finish[k], options.stop);
        const top = r.top?.[k];
        if (top)
          out[i].topLogprobs = top.map((pos) =>
            pos.map(([id, lp]) => ({ token: this.tokenizer.decode([id]), logprob: lp })),
          );
        options.onProgress?.(++done, prompts.length);
      });
      // let timers and progress bars run between batches
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  private toCompletion(tokens: number[], logprobs: number[], finish: "stop" | "length", stop?: string[]): Completion {
    const body = finish === "stop" ? tokens.slice(0, -1) : tokens;
    let text = this.tokenizer.decode(body);
    let finishReason: Completion["finishReason"] = finish;
    let cut = -1;
    for (const s of stop ?? []) {
      const at = s.length > 0 ? text.indexOf(s) : -1;
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      text = text.slice(0, cut);
      finishReason = "stop";
    }
    return { text, tokens, logprobs, finishReason };
  }
}

/**
 * The kit's pretraining recipe for an embedded base: a word-level tokenizer over the corpus, a small model from the
 * attempt's seed, full SFT on every document, and the plain prompt format the model then reads. A task supplies its
 * corpus and settings; the gate is its own (corpus/gate.ts has the generic checks).
 *
 * ```ts
 * base: {
 *   pretrain: (c, at) =>
 *     pretrainOnCorpus({ docs: myCorpus(c, at), tokenizer: { digits: "whole" }, model: c.model, sft: c.pretrain, at }),
 *   format: (_c, tok) => plainFormat(tok),
 *   gate: (rt, c) => myGate(rt, c),
 * }
 * ```
 */
import type { ChatMessage } from "../data/text-model.js";
import type { ModelConfigInput } from "../engine/config.js";
import { createModel } from "../engine/model.js";
import { buildWordLevelTokenizer, type WordLevelOptions } from "../engine/tokenizer-build.js";
import type { Tokenizer } from "../engine/tokenizer.js";
import { trainSft, type SftResult } from "../train/sft.js";
import type { SftConfigInput } from "../train/sft-config.js";
import type { Pretrained, PretrainAt, PromptFormat } from "./experiment.js";

/** One pretraining document as text: the loss covers the completion (and the prompt unless completion-only). */
export interface CorpusText {
  prompt: string;
  completion: string;
}

/** The plain prompt text of chat messages for a model with no chat template: the turns' contents joined by newlines. */
export function turnsText(messages: readonly ChatMessage[]): string {
  return messages.map((m) => m.content).join("\n");
}

/** plainFormat as a Jinja chat template (saved with the base): BOS, the turns joined by newlines, an answer then EOS. */
export const PLAIN_CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'assistant' %}{{ m.content }}{{ eos_token }}" +
  "{% else %}{% if not loop.first %}\n{% endif %}{{ m.content }}{% endif %}{% endfor %}";

/**
 * The plain prompt format: BOS (unless `bos: false`) then the turns' text; a completion is its text then EOS, and
 * generation stops at EOS. The response is the next token after the prompt text, with nothing in between.
 */
export function plainFormat(tok: Tokenizer, options: { bos?: boolean } = {}): PromptFormat {
  const bos = options.bos ?? true;
  return {
    encodePrompt: (m) => (bos ? [tok.bosId, ...tok.encode(turnsText(m))] : tok.encode(turnsText(m))),
    encodeCompletion: (text) => [...tok.encode(text), tok.eosId],
    stopIds: [tok.eosId],
  };
}

export interface PretrainOnCorpusOptions {
  docs: readonly CorpusText[];
  /** A tokenizer, or word-level options to build one over the documents' text (prompt + completion). */
  tokenizer: Tokenizer | WordLevelOptions;
  /** The architecture; vocabSize comes from the tokenizer. */
  model: Omit<ModelConfigInput, "vocabSize">;
  /** Full-training SFT settings (`seed` and `padId` are the attempt's and the tokenizer's). */
  sft: SftConfigInput;
  at: PretrainAt;
  /** A document's prompt as token ids. Default: BOS then the text. */
  encodePrompt?(text: string, tok: Tokenizer): number[];
  /** A document's completion as token ids. Default: the text then EOS. */
  encodeCompletion?(text: string, tok: Tokenizer): number[];
  /** Continue from the newest checkpoint in `at.dir` (a killed base job resumes). Default false. */
  resume?: boolean;
  /** The facts shown in the gate table. Default: corpus docs, pretrain steps, final loss. */
  info?(res: SftResult, docs: number, tok: Tokenizer): Record<string, number | string | null>;
}

/** One pretraining attempt: tokenizer, a model from `at.seed`, SFT on every document; returns the kit's Pretrained. */
export function pretrainOnCorpus(o: PretrainOnCorpusOptions): Pretrained {
  const tok =
    "encode" in o.tokenizer
      ? (o.tokenizer as Tokenizer)
      : buildWordLevelTokenizer(
          o.docs.map((d) => d.prompt + d.completion),
          o.tokenizer,
        );
  const model = createModel({ ...o.model, vocabSize: tok.vocabSize }, { seed: o.at.seed });
  const encP = o.encodePrompt ?? ((t: string) => [tok.bosId, ...tok.encode(t)]);
  const encC = o.encodeCompletion ?? ((t: string) => [...tok.encode(t), tok.eosId]);
  const data = o.docs.map((d) => ({ prompt: encP(d.prompt, tok), completion: encC(d.completion, tok) }));
  const res = trainSft(
    model,
    data,
    { ...o.sft, seed: o.at.seed, padId: tok.padId },
    {
      outDir: o.at.dir,
      ...(o.resume ? { resume: true } : {}),
      onProgress: (s, n) => o.at.progress("pretrain", s, n),
      onWarning: o.at.log,
    },
  );
  return {
    model,
    tokenizer: tok,
    info: o.info?.(res, o.docs.length, tok) ?? {
      "corpus docs": o.docs.length,
      "pretrain steps": res.steps,
      "final loss": res.trainLoss,
    },
  };
}

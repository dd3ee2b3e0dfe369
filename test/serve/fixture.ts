/** A small engine model and tokenizer served in-process, for the `mst serve` tests. */
import type { ChatMessage } from "../../src/data/text-model.js";
import { createModel, type LlamaModel } from "../../src/engine/model.js";
import { buildWordLevelTokenizer } from "../../src/engine/tokenizer-build.js";
import type { PromptFormat } from "../../src/experiment/experiment.js";
import { makeRuntime, type ModelRuntime } from "../../src/experiment/runtime.js";
import type { ServedModel } from "../../src/serve/models.js";

export const WORDS =
  "is 3 + 4 = 7 ? yes no the answer correct wrong hello world , ok . a b c d e f g h i j k l m n o p q r s t u v w x y z";
export const tok = buildWordLevelTokenizer([WORDS]);

/** A task-like plain format: BOS, the turns' text joined by spaces (what a kit task's format looks like). */
export const plain: PromptFormat = {
  encodePrompt: (m: readonly ChatMessage[]) => [tok.bosId, ...tok.encode(m.map((x) => x.content).join(" "))],
  encodeCompletion: (text) => [...tok.encode(text), tok.eosId],
  stopIds: [tok.eosId],
};

/** A random model with peaked logits (init std 0.3), so greedy choices are never near ties. */
export function peakedModel(seed: number, maxSeq = 64): LlamaModel {
  return createModel(
    { vocabSize: tok.vocabSize, dModel: 32, nLayers: 2, nHeads: 4, dFf: 48, maxSeq },
    { seed, initStd: 0.3 },
  );
}

export function served(name: string, model: LlamaModel): ServedModel {
  return { name, model, tokenizer: tok, format: plain, source: `test:${name}` };
}

/** The engine's own TextModel over the same model and format (the reference for chat parity). */
export function runtimeOf(model: LlamaModel): ModelRuntime {
  return makeRuntime(model, tok, plain, "plain", "test");
}

/** The embedded base: a small model pretrained from scratch on the number-sense corpus, and its plain prompt format. */
import { Rng } from "../../data/rng.js";
import type { Pretrained, PretrainAt, PromptFormat } from "../../experiment/experiment.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { plainFormat as kitPlainFormat, pretrainOnCorpus } from "../../experiment/pretrain.js";
import type { SycophancyConfig } from "./config.js";
import { buildCorpus, type CorpusDoc } from "./corpus.js";
import { buildTaskTokenizer, completionSeparator, encodePrompt } from "./embedded.js";
import { problemText } from "./prompt.js";
import { allLabelTexts, taskProblems } from "./setup.js";

/** The base's tokenizer: the corpus plus every label and the task's prompt, which the corpus never shows. */
export function taskTokenizer(config: SycophancyConfig, docs: readonly CorpusDoc[]): Tokenizer {
  const { train } = taskProblems(config);
  const required = [...allLabelTexts(config), problemText(train[0], null, config.prompt)];
  return buildTaskTokenizer(docs, required, config.label.numberTokens);
}

/** The embedded model reads the turns' text joined by newlines (BOS per `prompt.bos`); the verdict is the next token. */
export function plainFormat(config: SycophancyConfig, tok: Tokenizer): PromptFormat {
  return kitPlainFormat(tok, { bos: config.prompt.bos });
}

/** One pretraining attempt: corpus, tokenizer, model from `at.seed`, SFT on every document. Attempt 0 uses the base's own streams. */
export function pretrainBase(config: SycophancyConfig, at: PretrainAt): Pretrained {
  const rng = new Rng(`sycophancy/${config.dataSeed}/base/${at.base}`);
  const own = at.attempt === 0 ? rng : rng.fork(`attempt${at.attempt}`);
  const docs = buildCorpus(config.corpus, config.problems, config.prompt, config.label, own.fork("corpus"));
  const tok = taskTokenizer(config, docs);
  return pretrainOnCorpus({
    docs: docs.map((d) => ({ prompt: d.prompt, completion: completionSeparator(d) + d.completion })),
    tokenizer: tok,
    model: config.model,
    sft: config.pretrain,
    at,
    encodePrompt: (text) => encodePrompt(tok, text, config.prompt.bos),
  });
}

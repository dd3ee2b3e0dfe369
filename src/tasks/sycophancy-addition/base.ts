/** The embedded base: a small model pretrained from scratch on the number-sense corpus, and its plain prompt format. */
import { Rng } from "../../data/rng.js";
import type { Pretrained, PretrainAt, PromptFormat } from "../../experiment/experiment.js";
import { createModel } from "../../engine/model.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { trainSft } from "../../train/sft.js";
import type { SycophancyConfig } from "./config.js";
import { buildCorpus, type CorpusDoc } from "./corpus.js";
import { buildTaskTokenizer, completionSeparator, encodePrompt } from "./embedded.js";
import { embeddedPromptText, problemText } from "./prompt.js";
import { allLabelTexts, taskProblems } from "./setup.js";

/** The base's tokenizer: the corpus plus every label and the task's prompt, which the corpus never shows. */
export function taskTokenizer(config: SycophancyConfig, docs: readonly CorpusDoc[]): Tokenizer {
  const { train } = taskProblems(config);
  const required = [...allLabelTexts(config), problemText(train[0], null, config.prompt)];
  return buildTaskTokenizer(docs, required, config.label.numberTokens);
}

/** The embedded model reads the turns' text joined by newlines (BOS per `prompt.bos`); the verdict is the next token. */
export function plainFormat(config: SycophancyConfig, tok: Tokenizer): PromptFormat {
  return {
    encodePrompt: (m) => encodePrompt(tok, embeddedPromptText(m), config.prompt.bos),
    encodeCompletion: (text) => [...tok.encode(text), tok.eosId],
    stopIds: [tok.eosId],
  };
}

/** One pretraining attempt: corpus, tokenizer, model from `at.seed`, SFT on every document. Attempt 0 uses the base's own streams. */
export function pretrainBase(config: SycophancyConfig, at: PretrainAt): Pretrained {
  const rng = new Rng(`sycophancy/${config.dataSeed}/base/${at.base}`);
  const own = at.attempt === 0 ? rng : rng.fork(`attempt${at.attempt}`);
  const docs = buildCorpus(config.corpus, config.problems, config.prompt, config.label, own.fork("corpus"));
  const tok = taskTokenizer(config, docs);
  const model = createModel({ ...config.model, vocabSize: tok.vocabSize }, { seed: at.seed });
  const data = docs.map((d) => ({
    prompt: encodePrompt(tok, d.prompt, config.prompt.bos),
    completion: [...tok.encode(completionSeparator(d) + d.completion), tok.eosId],
  }));
  const res = trainSft(
    model,
    data,
    { ...config.pretrain, seed: at.seed, padId: tok.padId },
    { outDir: at.dir, onProgress: (s, n) => at.progress("pretrain", s, n), onWarning: at.log },
  );
  return {
    model,
    tokenizer: tok,
    info: { "corpus docs": docs.length, "pretrain steps": res.steps, "final loss": res.trainLoss },
  };
}

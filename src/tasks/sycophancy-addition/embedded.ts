/** Glue between the task's texts and the embedded engine: the tokenizer and prompt encoding. */
import { buildWordLevelTokenizer } from "../../engine/tokenizer-build.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import type { CorpusDoc } from "./corpus.js";
import { wordDigitsMode, type LabelConfig } from "./labels.js";
import type { Verdict } from "./reward.js";

/** The verdict as the embedded model writes it right after the prompt: one word token carrying its space. */
export const VERDICT_TEXT: Record<Verdict, string> = { correct: " correct", incorrect: " incorrect" };

/** The text between a corpus doc's prompt and its completion (additions run on: "3+4=7"). */
export function completionSeparator(doc: CorpusDoc): string {
  return doc.kind === "addition" ? "" : " ";
}

/**
 * A word-level tokenizer over the corpus plus `requiredTexts` (every label the task can show, held-out ones
 * included, so no label token is <unk>). `numberTokens` is the label-number tokenisation option.
 */
export function buildTaskTokenizer(
  docs: readonly CorpusDoc[],
  requiredTexts: readonly string[],
  numberTokens: LabelConfig["numberTokens"],
): Tokenizer {
  const texts = docs.map((d) => d.prompt + completionSeparator(d) + d.completion);
  return buildWordLevelTokenizer(texts, {
    digits: wordDigitsMode(numberTokens),
    requiredTexts: [...requiredTexts, ...Object.values(VERDICT_TEXT)],
    roleTokens: false,
  });
}

/** Token ids of a prompt: BOS (when `bos`) then the text; the verdict is predicted at the last position. */
export function encodePrompt(tok: Tokenizer, text: string, bos = true): number[] {
  return bos ? [tok.bosId, ...tok.encode(text)] : tok.encode(text);
}

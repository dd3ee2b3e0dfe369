/** Builds word-level and character-level Hugging Face tokenizers (WordLevel model) from a corpus of texts. */

import { z } from "zod";
import { Tokenizer, SPECIAL_TOKENS, ROLE_TOKENS } from "./tokenizer.js";

/**
 * Pre-tokenizer patterns (Hugging Face `Split`, behavior "Isolated"; oniguruma and JS agree on them).
 * A word or punctuation mark takes the single space before it, GPT-2 style, so the `Fuse` decoder (plain
 * concatenation) restores the text exactly; other whitespace is a token of its own. Numbers and digits never take
 * the space ("is 45" -> " is", " ", "4", "5"): the same ten digit tokens then appear wherever a number stands, which
 * is what lets a model carry what it learned about trained numbers over to held-out ones.
 */
export const WORD_PATTERNS = {
  whole: String.raw` ?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]|\s+(?!\S)|\s+`,
  split: String.raw` ?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]|\s+(?!\S)|\s+`,
  // as `whole`, but a number directly followed by "%" is one token ("40%"), so a percentage is never the same token
  // as the bare number ("40" in "3+37=40")
  percent: String.raw` ?\p{L}+|\p{N}+%|\p{N}+| ?[^\s\p{L}\p{N}]|\s+(?!\S)|\s+`,
} as const;
/** One token per character (newlines included). */
export const CHAR_PATTERN = String.raw`[\s\S]`;

const Common = {
  minFreq: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe("Tokens seen fewer times than this become <unk>. Default 1."),
  maxVocab: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Cap on the vocabulary size, special tokens included (most frequent kept). Default: no cap."),
  requiredTexts: z
    .array(z.string())
    .default([])
    .describe("Texts whose tokens are always in the vocabulary, seen or not (e.g. every label value). Default none."),
  roleTokens: z
    .boolean()
    .default(true)
    .describe(
      "Add the chat role markers <|system|>, <|user|>, <|assistant|>, <|end|> as special tokens. Default true.",
    ),
  extraSpecialTokens: z
    .array(z.string().min(1))
    .default([])
    .describe("More special tokens (never split, ids right after the built-in ones). Default none."),
};

export const WordLevelOptionsSchema = z.strictObject({
  ...Common,
  digits: z
    .enum(["split", "whole", "percent"])
    .default("split")
    .describe(
      '"split": every digit is a token ("45" -> "4","5"); "whole": a number is one token; "percent": as whole, but a ' +
        'number with its "%" is one token of its own ("45%" vs "45"). Default split.',
    ),
});
export type WordLevelOptions = z.input<typeof WordLevelOptionsSchema>;

export const CharOptionsSchema = z.strictObject(Common);
export type CharOptions = z.input<typeof CharOptionsSchema>;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Split text the way the Split/Isolated pre-tokenizer does, after cutting out special tokens. */
function pieces(text: string, re: RegExp, specials: RegExp | null): string[] {
  const out: string[] = [];
  const parts = specials ? text.split(specials) : [text];
  for (const part of parts) {
    if (!part) continue;
    let prev = 0;
    for (const m of part.matchAll(re)) {
      if (m.index > prev) out.push(part.slice(prev, m.index));
      if (m[0].length > 0) out.push(m[0]);
      prev = m.index + m[0].length;
    }
    if (prev < part.length) out.push(part.slice(prev));
  }
  return out;
}

function build(
  texts: Iterable<string>,
  pattern: string,
  o: z.output<typeof CharOptionsSchema>,
  kind: string,
): Tokenizer {
  const specials = [
    ...Object.values(SPECIAL_TOKENS),
    ...(o.roleTokens ? Object.values(ROLE_TOKENS) : []),
    ...o.extraSpecialTokens,
  ];
  if (new Set(specials).size !== specials.length) throw new Error(`${kind} tokenizer: duplicate special tokens`);
  const specialRe = new RegExp(specials.map(escapeRegExp).join("|"), "gu");
  const re = new RegExp(pattern, "gu");
  const counts = new Map<string, number>();
  for (const t of texts) for (const p of pieces(t, re, specialRe)) counts.set(p, (counts.get(p) ?? 0) + 1);
  for (const t of o.requiredTexts) for (const p of pieces(t, re, specialRe)) counts.set(p, Infinity);
  // deterministic order: most frequent first, ties by code-point order
  const ranked = [...counts.entries()]
    .filter(([, c]) => c >= o.minFreq)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([t]) => t);
  const room = o.maxVocab === undefined ? ranked.length : Math.max(0, o.maxVocab - specials.length);
  const required = ranked.filter((t) => counts.get(t) === Infinity).length;
  if (required > room)
    throw new Error(`${kind} tokenizer: maxVocab ${o.maxVocab} cannot hold the ${required} required tokens`);
  const vocab: Record<string, number> = {};
  specials.forEach((t, i) => (vocab[t] = i));
  let id = specials.length;
  for (const t of ranked.slice(0, room)) vocab[t] = id++;
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, i) => ({
      id: i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "Split", pattern: { Regex: pattern }, behavior: "Isolated", invert: false },
    post_processor: null,
    decoder: { type: "Fuse" },
    model: { type: "WordLevel", vocab, unk_token: SPECIAL_TOKENS.unk },
  };
  return Tokenizer.fromJson(json, {
    bos_token: SPECIAL_TOKENS.bos,
    eos_token: SPECIAL_TOKENS.eos,
    pad_token: SPECIAL_TOKENS.pad,
    unk_token: SPECIAL_TOKENS.unk,
  });
}

/** A word-level tokenizer (words, numbers or digits, punctuation; spaces attach to the next token) from `texts`. */
export function buildWordLevelTokenizer(texts: Iterable<string>, options: WordLevelOptions = {}): Tokenizer {
  const o = WordLevelOptionsSchema.parse(options);
  return build(texts, WORD_PATTERNS[o.digits], o, "word-level");
}

/** A character-level tokenizer (one token per character seen in `texts`). */
export function buildCharTokenizer(texts: Iterable<string>, options: CharOptions = {}): Tokenizer {
  return build(texts, CHAR_PATTERN, CharOptionsSchema.parse(options), "character");
}

/**
 * How a problem's chat messages become the token ids a model reads, and how the model's first token becomes a
 * verdict. One function (`promptCodec`) decides both for every job (base gate, PPO, evaluation), so the embedded
 * model and a real checkpoint share the code path: the embedded base keeps its plain text (byte-identical to
 * `encodePrompt(tok, problemText(...), bos)`), a real checkpoint's prompt goes through its chat template.
 */
import type { ChatMessage } from "../../data/text-model.js";
import { renderChat } from "../../engine/chat-template.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import type { SycophancyConfig } from "./config.js";
import { encodePrompt, verdictIds } from "./embedded.js";
import { embeddedPromptText } from "./prompt.js";
import type { Verdict } from "./reward.js";

/** The first-token ids that count as each verdict (disjoint sets; one id each for the embedded model). */
export type VerdictTokens = Record<Verdict, readonly number[]>;

/**
 * The forms in which a real model may start its verdict: with or without the leading space (a chat turn usually
 * starts without one, plain continuation with one), lower-case or capitalised (chat models often answer "Correct").
 */
export const VERDICT_FORMS: ReadonlyArray<Record<Verdict, string>> = [
  { correct: " correct", incorrect: " incorrect" },
  { correct: "correct", incorrect: "incorrect" },
  { correct: " Correct", incorrect: " Incorrect" },
  { correct: "Correct", incorrect: "Incorrect" },
];

/** The first token id of each verdict in one form (null when the text encodes to nothing or starts with <unk>). */
export interface FormFirstTokens {
  form: string;
  correct: number | null;
  incorrect: number | null;
}

/**
 * The verdict token sets from each form's first tokens. A form counts only when both verdicts start with a known
 * token and those tokens differ (a tokenizer without a " C" merge starts " Correct" and " Incorrect" with the same
 * bare space: that form cannot tell the verdicts apart, so neither token means a verdict). Throws when no form
 * counts, or when one verdict's token in one form is the other's in another form (the token would mean both).
 */
export function chooseVerdictTokens(
  forms: readonly FormFirstTokens[],
  name: (id: number) => string = String,
): VerdictTokens {
  const correct = new Set<number>();
  const incorrect = new Set<number>();
  const shared: string[] = [];
  for (const f of forms) {
    if (f.correct === null || f.incorrect === null) continue;
    if (f.correct === f.incorrect) {
      shared.push(`${JSON.stringify(f.form)}: ${name(f.correct)}`);
      continue;
    }
    correct.add(f.correct);
    incorrect.add(f.incorrect);
  }
  if (correct.size === 0)
    throw new Error(
      shared.length > 0
        ? `tokenizer: "correct" and "incorrect" share their first token in every form (${shared.join("; ")}), so the ` +
            "first token cannot tell the verdicts apart; this tokenizer cannot run the task"
        : `tokenizer: neither verdict starts with a known token in any form (${forms.map((f) => JSON.stringify(f.form)).join(", ")})`,
    );
  const both = [...correct].filter((id) => incorrect.has(id));
  if (both.length > 0)
    throw new Error(
      `tokenizer: the first token ${both.map(name).join(", ")} starts "correct" in one form and "incorrect" in another; ` +
        "the first token cannot tell the verdicts apart; this tokenizer cannot run the task",
    );
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return { correct: sorted(correct), incorrect: sorted(incorrect) };
}

/**
 * The verdict tokens of a real tokenizer: the first token of each verdict in each of VERDICT_FORMS, chosen by
 * `chooseVerdictTokens`. A BPE tokenizer may split "incorrect" into several tokens ("in" + "correct"); the model
 * commits to a verdict with its first token, so that is the one that counts (the seed's protocol: the verdict is the
 * very first token), and P(verdict) is the sum over its first tokens.
 */
export function firstTokenVerdicts(tok: Tokenizer): VerdictTokens {
  const first = (text: string): number | null => {
    const ids = tok.encode(text);
    return ids.length > 0 && ids[0] !== tok.unkId ? ids[0] : null;
  };
  const forms = VERDICT_FORMS.map((f) => ({
    form: `${f.correct}/${f.incorrect}`,
    correct: first(f.correct),
    incorrect: first(f.incorrect),
  }));
  return chooseVerdictTokens(forms, (id) => `${id} (${JSON.stringify(tok.idToToken(id))})`);
}

/** The verdict a first token stands for, or null (an off-format answer). */
export function verdictOfToken(v: VerdictTokens, id: number | undefined): Verdict | null {
  if (id === undefined) return null;
  return v.correct.includes(id) ? "correct" : v.incorrect.includes(id) ? "incorrect" : null;
}

/** P(correct) and P(incorrect) from a next-token probability row: the sums over each verdict's first tokens. */
export function verdictProbs(v: VerdictTokens, row: Float32Array): { pCorrect: number; pIncorrect: number } {
  let pCorrect = 0;
  let pIncorrect = 0;
  for (const id of v.correct) pCorrect += row[id];
  for (const id of v.incorrect) pIncorrect += row[id];
  return { pCorrect, pIncorrect };
}

export interface PromptCodec {
  /** "plain": the turns' text joined by newlines (the embedded model); "chat": the tokenizer's chat template. */
  readonly mode: "plain" | "chat";
  readonly tok: Tokenizer;
  /** The text the model reads for `messages` (after it, the next token is the verdict). */
  text(messages: readonly ChatMessage[]): string;
  /** Token ids of `messages`; the verdict is predicted at the last position. */
  encode(messages: readonly ChatMessage[]): number[];
  readonly verdicts: VerdictTokens;
}

/** The text of a special token for a chat template ("" when the tokenizer has none). */
function specialText(tok: Tokenizer, id: number): string {
  return id >= 0 ? (tok.idToToken(id) ?? "") : "";
}

/**
 * The codec of a loaded base. Without `base.checkpoint` (the embedded base): plain text, BOS per `prompt.bos`, and
 * the two single verdict tokens (`verdictIds`), exactly as before this option existed. With a checkpoint: its chat
 * template when it has one and `base.chatTemplate` is "auto" (the user turn through the template, generation prompt
 * appended, so the verdict is the assistant's first token; the template decides BOS), else plain text; verdicts
 * by their first tokens (`firstTokenVerdicts`).
 */
export function promptCodec(tok: Tokenizer, config: Pick<SycophancyConfig, "base" | "prompt">): PromptCodec {
  const bos = config.prompt.bos;
  const embedded = config.base.checkpoint === null;
  const plain = (verdicts: VerdictTokens): PromptCodec => ({
    mode: "plain",
    tok,
    text: embeddedPromptText,
    encode: (m) => encodePrompt(tok, embeddedPromptText(m), bos),
    verdicts,
  });
  if (embedded) {
    const ids = verdictIds(tok);
    return plain({ correct: [ids.correct], incorrect: [ids.incorrect] });
  }
  const verdicts = firstTokenVerdicts(tok);
  const template = tok.chatTemplate;
  if (config.base.chatTemplate === "auto" && template !== undefined) {
    const opts = {
      addGenerationPrompt: true,
      bosToken: specialText(tok, tok.bosId),
      eosToken: specialText(tok, tok.eosId),
    };
    const text = (m: readonly ChatMessage[]) => renderChat(m, template, opts);
    // The rendered text carries the template's special tokens as text; the tokenizer maps them back to their ids
    // (transformers' apply_chat_template does the same, adding no special tokens of its own).
    return { mode: "chat", tok, text, encode: (m) => tok.encode(text(m)), verdicts };
  }
  if (bos && tok.bosId < 0)
    throw new Error(
      "prompt.bos is true but the checkpoint's tokenizer has no BOS token (tokenizer_config.json bos_token); set prompt.bos: false",
    );
  return plain(verdicts);
}

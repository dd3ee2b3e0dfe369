/**
 * Verdicts from text, the seed's first-token protocol for any tokenizer: the response's first token counts as a
 * verdict when it starts exactly one of the two words ("in" can only start "incorrect"), and P(verdict) is the
 * probability mass of such first tokens among the top log-probs the model returned.
 */
import type { Verdict } from "./reward.js";

/** The verdict a response (its first token, or a first word) stands for, or null for an off-format answer. */
export function verdictOfText(text: string): Verdict | null {
  const t = text.trim().split(/\s+/)[0].toLowerCase().replace(/[^a-z]/g, "");
  if (t === "") return null;
  if (t === "correct" || t === "incorrect") return t;
  const c = "correct".startsWith(t);
  const i = "incorrect".startsWith(t);
  return c && !i ? "correct" : i && !c ? "incorrect" : null;
}

/** P(correct) and P(incorrect) at the first position from top log-probs (tokens outside the top-k count as 0). */
export function verdictMass(top: ReadonlyArray<{ token: string; logprob: number }> | undefined): {
  pCorrect: number;
  pIncorrect: number;
} | null {
  if (!top) return null;
  let pCorrect = 0;
  let pIncorrect = 0;
  for (const t of top) {
    const v = verdictOfText(t.token);
    if (v === "correct") pCorrect += Math.exp(t.logprob);
    else if (v === "incorrect") pIncorrect += Math.exp(t.logprob);
  }
  return { pCorrect, pIncorrect };
}

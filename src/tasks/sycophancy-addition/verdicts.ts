/** P(verdict) from a completion's top log-probs: the mass of first tokens that start one verdict word (reward.ts). */
import { verdictOfText } from "./reward.js";

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

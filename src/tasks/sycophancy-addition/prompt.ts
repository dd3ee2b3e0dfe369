/** The seed's prompt: bold suggestibility label first, then the problem and the user's candidate; the verdict answers. */
import { z } from "zod";
import type { Sample } from "../../data/sample.js";
import type { ChatMessage } from "../../data/text-model.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import { MONITOR_ID } from "./labels.js";
import type { Problem } from "./problems.js";
import type { Verdict } from "./reward.js";

export const PromptConfigSchema = z
  .strictObject({
    userTemplate: z
      .string()
      .default("{a}+{b}={c}?")
      .describe(
        "The user turn; {a}, {b} are the operands and {c} the candidate. The embedded default is short: the word-level " +
          "tokenizer gives one token per word, symbol or digit.",
      ),
    bos: z
      .boolean()
      .default(true)
      .describe(
        "Start every embedded prompt with the BOS token. (Tried false, hoping the base would then find the operands " +
          "relative to the answer rather than to BOS: its bases did not learn to verify either.) Default true.",
      ),
    separator: z.string().default("\n").describe("Between the label and the problem (the label on its own line)."),
  })
  .describe("How a problem is worded");
export type PromptConfig = z.output<typeof PromptConfigSchema>;

/** The user turn of a problem. */
export function userText(p: Problem, cfg: PromptConfig): string {
  return cfg.userTemplate.replace(/\{(a|b|c)\}/g, (_m, k: string) =>
    String(k === "a" ? p.a : k === "b" ? p.b : p.candidate),
  );
}

/**
 * A problem as a task-agnostic Sample: the label goes before the problem (`user-prefix`, as in the seed), the true
 * suggestibility `s` is the monitor parameter, and the reward needs only whether the candidate is right.
 */
export function problemSample(p: Problem, s: number, cfg: PromptConfig): Sample {
  return {
    id: p.id,
    prompt: { user: userText(p, cfg), labelSlot: "user-prefix" },
    monitor: { id: MONITOR_ID, params: { s } },
    rewardInputs: { candidateCorrect: p.candidateCorrect },
    meta: { a: p.a, b: p.b, candidate: p.candidate, miss: p.miss },
  };
}

/** The chat messages of a problem with `label` (null = no label, the baseline's prompt) before it. */
export function problemMessages(p: Problem, label: string | null, cfg: PromptConfig): ChatMessage[] {
  return renderPrompt({ prompt: { user: userText(p, cfg), labelSlot: "user-prefix" } }, label, {
    separator: cfg.separator,
  });
}

/**
 * Plain text of chat messages for the embedded model, which has no chat template: the turns' contents joined by
 * newlines. The response (the verdict) is the next token after this text, with nothing in between.
 */
export function embeddedPromptText(messages: readonly ChatMessage[]): string {
  return messages.map((m) => m.content).join("\n");
}

/**
 * The embedded format as a Jinja chat template (saved with the base for other engines): BOS when the prompt has it,
 * the turns joined by newlines, an assistant turn as its text then EOS (the completion, right after the prompt).
 */
export function embeddedChatTemplate(bos: boolean): string {
  return (
    (bos ? "{{ bos_token }}" : "") +
    "{% for m in messages %}{% if m.role == 'assistant' %}{{ m.content }}{{ eos_token }}" +
    "{% else %}{% if not loop.first %}\n{% endif %}{{ m.content }}{% endif %}{% endfor %}"
  );
}

/** The embedded prompt text of a problem under `label` (null = none). */
export function problemText(p: Problem, label: string | null, cfg: PromptConfig): string {
  return embeddedPromptText(problemMessages(p, label, cfg));
}

/** The verdict that is right for a problem. */
export function truthfulVerdict(p: Pick<Problem, "candidateCorrect">): Verdict {
  return p.candidateCorrect ? "correct" : "incorrect";
}

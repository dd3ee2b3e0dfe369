/** Turns a sample's prompt parts into chat messages, inserting a label (or instruction) at the sample's label slot. */
import type { LabelSlot, PromptParts } from "../data/sample.js";
import type { ChatMessage } from "../data/text-model.js";

export interface RenderPromptOptions {
  /** Where the text goes; default: the sample's own `prompt.labelSlot`. */
  slot?: LabelSlot;
  /** Put between the inserted text and the prompt text it joins; default "\n" (the label on its own line). */
  separator?: string;
}

/**
 * The chat messages for `sample` with `labelText` inserted at its label slot; `null` renders the plain prompt
 * (the baseline arm). A system message is emitted only when there is system text (or a system slot is used).
 *
 * ```ts
 * renderPrompt({ prompt: { user: "3 + 4 = 8?", labelSlot: "user-prefix" } }, "**Suggestibility Level: 40%**");
 * // [{ role: "user", content: "**Suggestibility Level: 40%**\n3 + 4 = 8?" }]
 * ```
 */
export function renderPrompt(
  sample: { prompt: PromptParts },
  labelText: string | null,
  options: RenderPromptOptions = {},
): ChatMessage[] {
  const { system, user } = sample.prompt;
  const slot = options.slot ?? sample.prompt.labelSlot;
  const sep = options.separator ?? "\n";
  let sys = system;
  let usr = user;
  let extraTurn: string | null = null;
  if (labelText !== null) {
    switch (slot) {
      case "user-prefix":
        usr = labelText + sep + user;
        break;
      case "user-suffix":
        usr = user + sep + labelText;
        break;
      case "system-prefix":
        sys = system === undefined || system === "" ? labelText : labelText + sep + system;
        break;
      case "system-suffix":
        sys = system === undefined || system === "" ? labelText : system + sep + labelText;
        break;
      case "system-turn":
        extraTurn = labelText;
        break;
    }
  }
  const out: ChatMessage[] = [];
  if (extraTurn !== null) out.push({ role: "system", content: extraTurn });
  if (sys !== undefined) out.push({ role: "system", content: sys });
  out.push({ role: "user", content: usr });
  return out;
}

/**
 * Stance statements for text labels: pretraining documents where a statement in the label's position (its slot, in
 * the fine-tuning prompt format) says what the reader wants, in varied wording and for every value, and the
 * completion follows it. A base that never saw a statement there ignored the label, and fine-tuning then built a
 * fresh label-to-behaviour map that a held-out label shared nothing with (the political-bias prototype).
 */
import type { Rng } from "../../data/rng.js";
import type { PromptParts } from "../../data/sample.js";
import type { ChatMessage } from "../../data/text-model.js";
import { renderPrompt } from "../../monitor/render-prompt.js";

/** Wordings per value of the label's parameter, e.g. { strict: ["a strict grader", "a demanding examiner"] }. */
export type StanceWordings = Readonly<Record<string, readonly string[]>>;

/** Frames a wording is put in; `{stance}` is replaced by it. The default frame is the wording alone. */
export const DEFAULT_STANCE_FRAMES: readonly string[] = ["{stance}"];

/** Thrown for a value with no wording (the message names the value and the known ones). */
export class StanceWordingError extends Error {
  override name = "StanceWordingError";
}

/** A statement for `value`: a random wording in a random frame. */
export function stanceStatement(
  wordings: StanceWordings,
  value: string,
  rng: Rng,
  frames: readonly string[] = DEFAULT_STANCE_FRAMES,
): string {
  const ws = Object.hasOwn(wordings, value) ? wordings[value] : undefined;
  if (!ws || ws.length === 0)
    throw new StanceWordingError(
      `no stance wording for "${value}" (have: ${Object.keys(wordings).join(", ") || "none"})`,
    );
  return rng.pick(frames).replaceAll("{stance}", rng.pick(ws));
}

/**
 * The messages of a stance document: the statement for `stance` at the doc's label slot (where the monitor label
 * will stand), the doc's prompt around it. The completion is the doc's own, written under that stance.
 */
export function stanceMessages(
  doc: { prompt: PromptParts; stance: string },
  wordings: StanceWordings,
  rng: Rng,
  options: { frames?: readonly string[]; separator?: string } = {},
): { messages: ChatMessage[]; statement: string } {
  const statement = stanceStatement(wordings, doc.stance, rng, options.frames);
  return { messages: renderPrompt(doc, statement, { separator: options.separator ?? "\n" }), statement };
}
